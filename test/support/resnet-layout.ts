// A state_dict with torchvision's ResNet names and shapes (an RGB conv1, fc) for the tiny
// DeepLabv3 backbone, made with torch alone (python/tests/test_weight_maps.py checks the
// mapping against torchvision itself).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { projectPython, projectRoot } from './python.js';

const SCRIPT = [
  'import sys, json, torch',
  'from slice_distill_models.models import build_model',
  'torch.manual_seed(3)',
  'sd = {}',
  'for k, v in build_model("deeplabv3", "tiny", 7).backbone.state_dict().items():',
  '    k = k.replace("stem.0.", "conv1.").replace("stem.1.", "bn1.")',
  '    if k == "conv1.weight": v = torch.empty(v.shape[0], 3, *v.shape[2:])',
  '    sd[k] = torch.randn(v.shape) if v.is_floating_point() and "running_var" not in k else v',
  'sd["fc.weight"], sd["fc.bias"] = torch.zeros(10, 32), torch.zeros(10)',
  'torch.save(sd, sys.argv[1])',
  'print(json.dumps({"keys": len(sd), "stem": sd["conv1.weight"].sum(1).flatten().tolist()}))',
].join('\n');

/** Writes the file; returns its tensor count and conv1 summed over the RGB channels (flat). */
export function writeResnetLayoutWeights(file: string): { keys: number; stem: number[] } {
  const env = { ...process.env, PYTHONPATH: path.join(projectRoot, 'python') };
  return JSON.parse(execFileSync(projectPython()!, ['-c', SCRIPT, file], { env, encoding: 'utf8' })) as { keys: number; stem: number[] };
}
