#!/usr/bin/env bash
# On the GPU machine, from the repository root, after scripts/gpu/pack.sh here: unpacks Node.js
# and node_modules, builds the addon against that machine's CUDA torch, runs the device tests
# and the CUDA benchmarks. Each stage has its own time limit, so a hang still leaves the logs;
# everything lands in $OUT (summary.txt first).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
summary="$OUT/summary.txt"
stage() { # stage NAME SECONDS COMMAND...: runs it, logs to $OUT/NAME.log, records its status
  local name=$1 limit=$2 started=$SECONDS status
  shift 2
  timeout "$limit" "$@" >"$OUT/$name.log" 2>&1
  status=$?
  echo "$name: exit $status in $((SECONDS - started)) s" | tee -a "$summary"
  return "$status"
}

tools=$(mktemp -d)
mkdir -p "$tools/node-dir"
{ tar -C "$tools" -xJf .gpu-carry/node.tar.xz && tar -C "$tools/node-dir" -xJf .gpu-carry/node-headers.tar.xz \
  && tar -xJf .gpu-carry/node_modules.tar.xz; } \
  || { echo "unpack failed: run scripts/gpu/pack.sh and carry .gpu-carry" | tee -a "$summary"; exit 2; }
# nothing can be installed there: no .venv, no header download (node-gyp reads npm_config_nodedir)
export PATH="$tools:$PATH" PYTHON="${PYTHON:-$(command -v python3)}" SLICE_DISTILL_NO_VENV=1 npm_config_nodedir="$tools/node-dir"
{
  node --version
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  for tool in nvcc cmake make g++; do echo "$tool: $(command -v $tool) $($tool --version 2>&1 | grep -m1 -iE 'release|version|[0-9]+\.[0-9]+')"; done
  "$PYTHON" -c 'import torch; print("torch", torch.__version__, torch.version.cuda)'
} >"$OUT/machine.txt" 2>&1

# cmake-js where there is a cmake, node-gyp otherwise (SD_CHECK_BUILDER=gyp|cmake chooses)
builder=${SD_CHECK_BUILDER:-$(command -v cmake >/dev/null && echo cmake || echo gyp)}
echo "builder: $builder" >>"$OUT/machine.txt"
if [ "$builder" = gyp ]; then
  stage build 300 node scripts/build-addon.mjs --gyp || exit 1
  export SLICE_DISTILL_ADDON="$PWD/build/Release/slice_distill.node"
else
  stage build 240 node scripts/build-addon.mjs || exit 1
fi
node --import tsx -e "import('./lib/index.ts').then(m => console.log(JSON.stringify({...m.buildInfo(), cudaAvailable: m.cuda.isAvailable(), devices: m.cuda.deviceCount()}, null, 1)))" >"$OUT/build-info.json" 2>&1
mocha=(node --import=tsx/esm --expose-gc node_modules/mocha/lib/cli/cli.js --no-config --no-package --timeout 120000)
stage tests 120 "${mocha[@]}" test/integration/devices.test.ts test/unit/ops/prototypes.test.ts test/unit/train/train-step.test.ts
stage bench 200 bench/cuda.sh --reps 3 --base dist-op train
cp bench/results/*cuda*.json "$OUT"/ 2>/dev/null
exit 0 # the summary is in $OUT/summary.txt, each stage's log beside it
