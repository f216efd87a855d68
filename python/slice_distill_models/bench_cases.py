"""The Python sides of `npm run bench`: for each case, the same work as the TypeScript side,
written as a PyTorch user would write it, on the same TorchScript module and the same data
(arrays the driver wrote to files). Each setup returns its sides: name -> one repetition.
"""
from __future__ import annotations

import math
import time
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from . import dist_reference
from .fixtures import dice_reference

Sides = Dict[str, Callable[[], object]]
DTYPES = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "uint8": np.uint8}


def read(desc: dict, device: str) -> Tensor:
    """A tensor the driver shared: {file, dtype, shape}."""
    a = np.fromfile(desc["file"], dtype=DTYPES[desc["dtype"]]).reshape(desc["shape"])
    return torch.from_numpy(a).to(device)


def extension():
    """native/ops as a torch extension (built once, cached), or the reason it is missing."""
    from .native_ops import load, with_cuda

    if torch.cuda.is_available() and not with_cuda():
        raise RuntimeError("nvcc not found: the extension would have no CUDA kernels")
    return load()


def timed(fn: Callable[[], object], device: str) -> float:
    """Milliseconds of one call; on CUDA the queued kernels are waited for."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) * 1e3


def with_extension(sides: Sides, skipped: Dict[str, str], names: Sequence[str], make: Callable[[object], Sides]) -> None:
    """Adds the sides that need the extension, or notes why they are left out."""
    try:
        sides.update(make(extension()))
    except Exception as e:  # noqa: BLE001 - a missing compiler must not sink the other sides
        for n in names:
            skipped[n] = f"{type(e).__name__}: {e}"


def train_step(msg: dict, device: str) -> Tuple[Sides, Dict[str, str]]:
    """Forward, 0.4 CE + 0.6 Dice + beta L_DIST, backward, SGD step; L_DIST one-hot or the extension."""
    model = torch.jit.load(msg["model"], map_location=device)
    model.train()
    x, y, t = (read(msg[k], device) for k in ("input", "target", "teacher"))
    opt = torch.optim.SGD(model.parameters(), lr=float(msg.get("lr", 0.01)), momentum=0.9, weight_decay=1e-4)
    beta = float(msg.get("beta", 0.5))

    def step(dist: Callable[[Tensor], Tensor]) -> Callable[[], float]:
        def run() -> float:
            opt.zero_grad(set_to_none=True)
            logits = model(x)
            loss = 0.4 * F.cross_entropy(logits, y) + 0.6 * dice_reference(logits, y, 1e-5, True, True) + beta * dist(logits)
            loss.backward()
            opt.step()
            return loss.item()  # the TypeScript step returns the loss as a number too

        return run

    sides: Sides = {"onehot": step(lambda l: dist_reference.proto_dist_loss_onehot(l, y, t))}
    skipped: Dict[str, str] = {}
    with_extension(sides, skipped, ["extension"], lambda ext: {"extension": step(lambda l: ext.proto_dist_loss(l, y, t, check_labels=False))})
    return sides, skipped


def dist_op(msg: dict, device: str) -> Tuple[Sides, Dict[str, str]]:
    return dist_op_sides(*(read(msg[k], device) for k in ("logits", "labels", "teacher")))


def dist_op_sides(x: Tensor, y: Tensor, t: Tensor) -> Tuple[Sides, Dict[str, str]]:
    """protoDistLoss forward + backward: one-hot composition in Python, the extension fused and reference."""

    def run(loss: Callable[[Tensor], Tensor]) -> Callable[[], None]:
        return lambda: loss(x.detach().requires_grad_()).backward()

    sides: Sides = {"onehot": run(lambda xi: dist_reference.proto_dist_loss_onehot(xi, y, t))}
    skipped: Dict[str, str] = {}
    with_extension(
        sides,
        skipped,
        ["fused", "reference"],
        lambda ext: {
            "fused": run(lambda xi: ext.proto_dist_loss(xi, y, t, check_labels=False)),
            "reference": run(lambda xi: ext.proto_dist_loss(xi, y, t, check_labels=False, reference=True)),
        },
    )
    return sides, skipped


class Accumulator:
    """The teacher's slice-mean prototype in float64, vectorised with scatter_add (the faster of
    the usual Python formulations; one-hot einsum is about twice as slow)."""

    def __init__(self, classes: int) -> None:
        self.classes = classes
        self.sum = torch.zeros(0, dtype=torch.float64)
        self.count = torch.zeros(classes, dtype=torch.float64)

    def add(self, logits: Tensor, labels: Tensor) -> None:
        b, ch, d = logits.shape[:3]
        x = logits.permute(0, 2, 1, 3, 4).reshape(b * d, ch, -1).double()  # one sample per axial slice
        y = labels.reshape(b * d, 1, -1).expand(-1, ch, -1)
        sums = x.new_zeros(b * d, ch, self.classes).scatter_add_(2, y, x)
        counts = x.new_zeros(b * d, self.classes).scatter_add_(1, y[:, 0], torch.ones_like(y[:, 0], dtype=x.dtype))
        present = counts > 0
        means = sums / counts.clamp_min(1).unsqueeze(1)
        total = (means * present.unsqueeze(1)).sum(0).T.cpu()  # [K, CH]
        self.sum = total if self.sum.numel() == 0 else self.sum + total
        self.count += present.sum(0).double().cpu()

    def result(self) -> Tensor:
        return self.sum / self.count.clamp_min(1).unsqueeze(1)


def accumulate(msg: dict, device: str) -> Tuple[Sides, Dict[str, str]]:
    x, y = read(msg["logits"], device), read(msg["labels"], device)
    return {"scatter": lambda: Accumulator(int(msg["classes"])).add(x, y)}, {}


def window_starts(size: int, roi: int, overlap: float) -> List[int]:
    if size <= roi:
        return [0]
    step = max(1, int(math.floor(roi * (1 - overlap))))
    starts = list(range(0, size - roi, step))
    return starts + [size - roi]


def gaussian(roi: Sequence[int], scale: float, device: str) -> Tensor:
    axes = []
    for n in roi:
        i = torch.arange(n, dtype=torch.float32, device=device)
        sigma = max(n * scale, 1e-3)
        axes.append(torch.exp(-((i - (n - 1) / 2) ** 2) / (2 * sigma * sigma)))
    w = axes[0]
    for a in axes[1:]:
        w = w.unsqueeze(-1) * a
    return w.clamp_min(1e-6)


def sliding_window(model, x: Tensor, roi: Sequence[int], overlap: float) -> Tensor:
    """Gaussian-weighted sliding windows, as lib/infer/sliding-window.ts (and MONAI) do."""
    spatial = list(x.shape[2:])
    padded = [max(s, r) for s, r in zip(spatial, roi)]
    if padded != spatial:
        x = F.pad(x, [p for s, q in reversed(list(zip(spatial, padded))) for p in (0, q - s)])
    w = gaussian(roi, 0.125, x.device.type)
    out, norm = None, torch.zeros(padded, device=x.device)
    grids = [window_starts(p, r, overlap) for p, r in zip(padded, roi)]
    for z in grids[0]:
        for yy in grids[1]:
            for xx in grids[2]:
                sl = (slice(z, z + roi[0]), slice(yy, yy + roi[1]), slice(xx, xx + roi[2]))
                logits = model(x[(slice(None), slice(None)) + sl])
                if out is None:
                    out = x.new_zeros([x.shape[0], logits.shape[1]] + padded)
                out[(slice(None), slice(None)) + sl] += logits * w
                norm[sl] += w
    out = out / norm
    return out[(slice(None), slice(None)) + tuple(slice(0, s) for s in spatial)]


def prototype(msg: dict, device: str) -> Tuple[Sides, Dict[str, str]]:
    """The teacher over a volume set: sliding-window inference, then the prototype accumulation."""
    model = torch.jit.load(msg["model"], map_location=device)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    volumes = [(read(v["image"], device), read(v["label"], device).long()) for v in msg["volumes"]]
    roi, overlap = [int(r) for r in msg["roi"]], float(msg["overlap"])

    def run() -> Tensor:
        acc = Accumulator(int(msg["classes"]))
        with torch.no_grad():  # as forwardAsync runs
            for image, label in volumes:
                acc.add(sliding_window(model, image, roi, overlap), label)
        return acc.result()

    return {"python": run}, {}


def inference(msg: dict, device: str) -> Tuple[Sides, Dict[str, str]]:
    model = torch.jit.load(msg["model"], map_location=device)
    model.eval()
    x = read(msg["input"], device)

    def run() -> None:
        with torch.no_grad():  # as forwardAsync runs
            model(x)

    return {"python": run}, {}


CASES = {"train_step": train_step, "dist_op": dist_op, "accumulate": accumulate, "prototype": prototype, "inference": inference}
