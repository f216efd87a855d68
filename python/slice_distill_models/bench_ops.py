"""Times the fused prototype / DIST op (native/ops as a torch extension) against the ATen
reference and the Python one-hot composition, forward + backward, on CPU or CUDA, without Node
(for a GPU machine that has only Python); prints a JSON line. `npm run bench` runs the same
sides (bench_cases.dist_op) alternating with the TypeScript ones.

    PYTHONPATH=python python -m slice_distill_models.bench_ops --device cuda

Bandwidth is the bytes the fused op must move (logits read, gradient written, labels read,
compact labels written and read) over its time; compare with the device's peak.
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from .bench_cases import dist_op_sides, timed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--shape", default="8,7,224,224")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    b, c, h, w = (int(v) for v in args.shape.split(","))
    dev = args.device
    x = torch.randn(b, c, h, w, device=dev)
    y = torch.where(torch.rand(b, h, w, device=dev) < 0.7, 0, torch.randint(1, c, (b, h, w), device=dev))
    t = torch.randn(c, c, device=dev) * 3
    sides, skipped = dist_op_sides(x, y, t)
    if skipped:
        raise SystemExit(f"bench_ops: {skipped}")
    out = {"device": dev, "torch": torch.__version__, "shape": [b, c, h, w]}
    if dev == "cuda":
        out["gpu"] = torch.cuda.get_device_name()
    for name in ("fused", "reference", "onehot"):
        if dev == "cuda":
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
        for _ in range(3):
            sides[name]()
        out[name + "Ms"] = float(np.median([timed(sides[name], dev) for _ in range(args.reps)]))
        if dev == "cuda":
            out[name + "PeakMiB"] = (torch.cuda.max_memory_allocated() - base) / 2**20
    out["ratio"] = out["referenceMs"] / out["fusedMs"]
    out["ratioOnehot"] = out["onehotMs"] / out["fusedMs"]
    moved = x.numel() * x.element_size() * 2 + y.numel() * (8 + 2)
    out["fusedGBps"] = moved / (out["fusedMs"] / 1e3) / 1e9
    print(json.dumps(out))


if __name__ == "__main__":
    main()
