"""Times the fused prototype / DIST op (native/ops as a torch extension) against the ATen
one-hot composition, forward + backward, on CPU or CUDA; prints a JSON line.

    PYTHONPATH=python python -m slice_distill_models.bench_ops --device cuda

Bandwidth is the bytes the fused op must move (logits read, gradient written, labels read,
compact labels written and read) over its time; compare with the device's peak.
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from .native_ops import load


def timed(fn, device: str, reps: int) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(reps):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2] * 1e3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--shape", default="8,7,224,224")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ext = load()
    b, c, h, w = (int(v) for v in args.shape.split(","))
    dev = args.device
    x = torch.randn(b, c, h, w, device=dev)
    y = torch.where(torch.rand(b, h, w, device=dev) < 0.7, 0, torch.randint(1, c, (b, h, w), device=dev))
    t = torch.randn(c, c, device=dev) * 3

    def run(reference: bool):
        def step():
            xi = x.detach().requires_grad_()
            ext.proto_dist_loss(xi, y, t, check_labels=False, reference=reference).backward()
        return step

    out = {"device": dev, "torch": torch.__version__, "shape": [b, c, h, w]}
    if dev == "cuda":
        out["gpu"] = torch.cuda.get_device_name()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    out["fusedMs"] = timed(run(False), dev, args.reps)
    if dev == "cuda":
        out["fusedPeakMiB"] = (torch.cuda.max_memory_allocated() - base) / 2**20
        torch.cuda.reset_peak_memory_stats()
    out["referenceMs"] = timed(run(True), dev, args.reps)
    if dev == "cuda":
        out["referencePeakMiB"] = (torch.cuda.max_memory_allocated() - base) / 2**20
    out["ratio"] = out["referenceMs"] / out["fusedMs"]
    moved = x.numel() * x.element_size() * 2 + y.numel() * (8 + 2)
    out["fusedGBps"] = moved / (out["fusedMs"] / 1e3) / 1e9
    print(json.dumps(out))


if __name__ == "__main__":
    main()
