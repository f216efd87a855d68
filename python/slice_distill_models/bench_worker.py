"""The Python side of `npm run bench`: a process that takes JSON commands on stdin and
answers on stdout, so the TypeScript driver can alternate with it step by step.

    {"cmd": "setup", "case": "train_step", "model": "...pt", "data": "...bin", "shape": [B, H, W],
     "classes": 7, "threads": 2, "impl": "onehot" | "extension", "beta": 0.5, "lr": 0.01}
    {"cmd": "run", "reps": 1}      -> {"ms": [..], "loss": x, "maxRssMiB": y}
    {"cmd": "quit"}
"""
from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import dist_reference
from .fixtures import dice_reference

STATE: dict = {}


def read_batch(path: str, shape, classes: int):
    b, h, w = shape
    raw = np.fromfile(path, dtype=np.uint8)
    n = b * h * w
    x = torch.from_numpy(raw[: n * 4].view(np.float32).copy()).reshape(b, 1, h, w)
    y = torch.from_numpy(raw[n * 4 : n * 12].view(np.int64).copy()).reshape(b, h, w)
    t = torch.from_numpy(raw[n * 12 : n * 12 + classes * classes * 4].view(np.float32).copy()).reshape(classes, classes)
    return x, y, t


def setup(msg: dict) -> dict:
    torch.set_num_threads(int(msg.get("threads", 1)))
    model = torch.jit.load(msg["model"])
    model.train()
    x, y, t = read_batch(msg["data"], msg["shape"], int(msg["classes"]))
    opt = torch.optim.SGD(model.parameters(), lr=float(msg.get("lr", 0.01)), momentum=0.9, weight_decay=1e-4)
    if msg.get("impl") == "extension":
        from .native_ops import load

        ext = load()

        def dist(logits):
            return ext.proto_dist_loss(logits, y, t, check_labels=False)
    else:

        def dist(logits):
            return dist_reference.proto_dist_loss_onehot(logits, y, t)

    beta = float(msg.get("beta", 0.5))

    def step() -> float:
        opt.zero_grad(set_to_none=True)
        logits = model(x)
        loss = 0.4 * F.cross_entropy(logits, y) + 0.6 * dice_reference(logits, y, 1e-5, True, True) + beta * dist(logits)
        loss.backward()
        opt.step()
        return loss.item()

    STATE.update(step=step)
    return {"ok": True}


def run(msg: dict) -> dict:
    times, loss = [], 0.0
    for _ in range(int(msg.get("reps", 1))):
        t0 = time.perf_counter()
        loss = STATE["step"]()
        times.append((time.perf_counter() - t0) * 1e3)
    return {"ms": times, "loss": loss, "maxRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    for line in sys.stdin:
        msg = json.loads(line)
        try:
            if msg["cmd"] == "quit":
                break
            reply = setup(msg) if msg["cmd"] == "setup" else run(msg)
        except Exception as e:  # reported to the driver, which fails the case with it
            reply = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
