#!/usr/bin/env bash
# The benchmarks on a GPU machine, in one go (a few minutes; the first run also compiles the
# addon and native/ops as a torch extension with nvcc):
#   PYTHON=/path/to/python-with-cuda-torch bench/cuda.sh [extra bench options, e.g. --reps 5]
# Needs node_modules (npm ci), a Python whose torch has CUDA, and nvcc on the PATH. Rebuilds the
# addon against that torch where the current build has no CUDA, then runs every case on the
# GPU (base presets included) and writes bench/results/all-cuda.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"

fail() { echo "bench/cuda.sh: $*" >&2; exit 2; }
[ -d node_modules ] || fail "node_modules missing: run npm ci first"
"$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null \
  || fail "$PY has no torch with a visible CUDA device (set PYTHON)"
command -v nvcc >/dev/null || echo "bench/cuda.sh: nvcc not found: the Python extension sides will be skipped" >&2
"$PY" -c 'import torch; print("python torch", torch.__version__, "on", torch.cuda.get_device_name())'

addon_cuda() {
  node --import tsx -e "import('./lib/index.ts').then(m => process.exit(m.buildInfo().cudaBuild && m.cuda.isAvailable() ? 0 : 1))"
}
if ! addon_cuda; then
  echo "== rebuilding the addon against $PY's torch (CUDA)"
  rm -f .libtorch.json
  PYTHON="$PY" node scripts/build-addon.mjs
  addon_cuda || fail "the rebuilt addon still has no CUDA (is nvcc on the PATH for CMake's find_package(Torch)?)"
fi

export PYTHON="$PY"
echo "== native/ops alone in Python (fused vs reference, B = 8, 224 x 224)"
PYTHONPATH=python "$PY" -m slice_distill_models.bench_ops --device cuda || echo "(bench_ops failed; continuing)"
echo "== npm run bench -- --device cuda"
exec node --import tsx bench/index.ts --device cuda "$@"
