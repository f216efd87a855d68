"""The Python process of `npm run bench`: JSON commands on stdin, one JSON answer per line on
stdout, so the TypeScript driver can alternate with it repetition by repetition.

    {"cmd": "config", "threads": 2, "device": "cpu"}       -> {"python", "torch", "cuda", "gpu", "pid"}
    {"cmd": "setup", "case": "train_step", ...}           -> {"sides": [...], "skipped": {side: why}}
    {"cmd": "run", "side": "onehot", "reps": 1}           -> {"ms": [...]}
    {"cmd": "memory"}                                      -> {"peakRssMiB", "cudaPeakAllocatedMiB"}
    {"cmd": "quit"}

The cases are in bench_cases.py. A setup resets the peak-memory marks, so `memory` reports
the peak of the current case.
"""
from __future__ import annotations

import gc
import json
import os
import platform
import sys

import torch

from .bench_cases import CASES, timed

STATE: dict = {"device": "cpu", "sides": {}}


def reset_peaks() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:  # Linux: resets VmHWM to the current RSS
            f.write("5")
    except OSError:
        pass
    if STATE["device"].startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()


def peak_rss_mib() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def config(msg: dict) -> dict:
    torch.set_num_threads(int(msg.get("threads", 1)))
    STATE["device"] = msg.get("device", "cpu")
    cuda = torch.cuda.is_available()
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cuda": cuda,
        "gpu": torch.cuda.get_device_name() if cuda else None,
        "pid": os.getpid(),
    }


def setup(msg: dict) -> dict:
    STATE["sides"] = {}  # the previous case's tensors and modules go first
    gc.collect()
    if STATE["device"].startswith("cuda"):
        torch.cuda.empty_cache()
    reset_peaks()
    sides, skipped = CASES[msg["case"]](msg, STATE["device"])
    STATE["sides"] = sides
    return {"sides": sorted(sides), "skipped": skipped}


def run(msg: dict) -> dict:
    fn = STATE["sides"][msg["side"]]
    return {"ms": [timed(fn, STATE["device"]) for _ in range(int(msg.get("reps", 1)))]}


def memory(_: dict) -> dict:
    out = {"peakRssMiB": peak_rss_mib()}
    if STATE["device"].startswith("cuda"):
        out["cudaPeakAllocatedMiB"] = torch.cuda.max_memory_allocated() / 2**20
    return out


COMMANDS = {"config": config, "setup": setup, "run": run, "memory": memory}


def main() -> None:
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["cmd"] == "quit":
            break
        try:
            reply = COMMANDS[msg["cmd"]](msg)
        except Exception as e:  # reported to the driver, which fails the case with it
            reply = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
