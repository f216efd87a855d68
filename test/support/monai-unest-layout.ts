// A state_dict with the names of MONAI's renalStructures_UNEST_segmentation UNesT (the names
// python/tests/test_weight_maps.py derives from the bundle's source) in the shapes of this
// zoo's tiny UNesT, random values: what teacher.init with format monai-unest reads.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { projectPython, projectRoot } from './python.js';

const SCRIPT = [
  'import sys, json, torch',
  'from slice_distill_models.models import build_model',
  'from slice_distill_models.weight_maps import WEIGHT_MAPS, _target_keys',
  'from test_weight_maps import monai_unest_shapes',
  'torch.manual_seed(5)',
  'ours = build_model("unest", "tiny", 7).state_dict()',
  // the tiny preset's levels; feature_size 2 only so that the published formula for the decoder holds
  'names = monai_unest_shapes(7, embed_dims=(16, 32, 64), depths=(1, 1, 2), feature_size=2, img_size=64)',
  'rules = WEIGHT_MAPS["monai-unest"].rules',
  'target = {n: _target_keys(rules, n)[0] for n in names}',
  // a residual block of the tiny decoder changes channels where feature_size 2 does not (a 1x1x1
  // conv3 more): name it as the bundle names the same layer of another block
  'for key in [k for k in ours if k not in target.values()]:',
  '    block, rest = key.split(".", 1)',
  '    n, t = next((n, t) for n, t in target.items() if t.split(".", 1)[1] == rest)',
  '    target[n.replace(t.split(".", 1)[0], block, 1)] = key',
  'sd = {n: torch.randn(ours[t].shape) for n, t in target.items()}',
  'torch.save(sd, sys.argv[1])',
  'patch = "nestViT.patch_embed.proj.weight"',
  'print(json.dumps({"keys": len(sd), "target": _target_keys(rules, patch)[0], "patch": sd[patch].flatten().tolist()}))',
].join('\n');

/** Writes the file; returns its tensor count, the zoo's name of the patch embedding and its values (flat). */
export function writeMonaiUnestWeights(file: string): { keys: number; target: string; patch: number[] } {
  const env = { ...process.env, PYTHONPATH: [path.join(projectRoot, 'python'), path.join(projectRoot, 'python', 'tests')].join(path.delimiter) };
  return JSON.parse(execFileSync(projectPython()!, ['-c', SCRIPT, file], { env, encoding: 'utf8' })) as { keys: number; target: string; patch: number[] };
}
