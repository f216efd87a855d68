#!/usr/bin/env bash
# Packs what the GPU machine lacks for scripts/gpu/check.sh: Node.js (this machine's binary,
# which needs only glibc and libstdc++), its headers without OpenSSL's (for node-gyp, where that
# machine has no cmake) and the node_modules the tests and benchmarks run with, without the lint
# and type-check tools, as .tar.xz files in .gpu-carry/ (git-ignored), kept under the device
# tool's carry limit. Then, with the device tool:
#   run(command="bash scripts/gpu/check.sh", carry=[".gpu-carry"], timeout_s=570)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -d node_modules ] || { echo "pack.sh: node_modules missing: run npm ci first" >&2; exit 2; }
out=.gpu-carry
rm -rf "$out"
mkdir -p "$out"
node_bin=$(readlink -f "$(command -v node)")
tar -C "$(dirname "$node_bin")" -cf - "$(basename "$node_bin")" | xz -T0 -6 >"$out/node.tar.xz"
headers=$(dirname "$(dirname "$node_bin")")/include/node # node-gyp's --nodedir takes the folder above include/
[ -f "$headers/node_api.h" ] || headers=$(npm config get nodedir)/include/node
[ -f "$headers/node_api.h" ] || { echo "pack.sh: Node's headers not found (looked in $headers)" >&2; exit 2; }
tar -C "$(dirname "$(dirname "$headers")")" --exclude=include/node/openssl -cf - include/node | xz -T0 -6 >"$out/node-headers.tar.xz"
dev_only=(typescript eslint @eslint @typescript-eslint prettier playwright-core clang-format dependency-cruiser @types)
tar -cf - "${dev_only[@]/#/--exclude=node_modules/}" node_modules | xz -T0 -6 >"$out/node_modules.tar.xz"
bytes=$(du -cb "$out"/*.tar.xz | tail -n 1 | cut -f1)
limit=$((60 * 1024 * 1024)) # 64 MiB in all, with the working tree's own files
echo "pack.sh: $out holds $((bytes / 1024 / 1024)) MiB"
[ "$bytes" -le "$limit" ] || { echo "pack.sh: over $((limit / 1024 / 1024)) MiB: prune more of node_modules" >&2; exit 1; }
