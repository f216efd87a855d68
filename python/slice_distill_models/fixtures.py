"""Small TorchScript modules and PyTorch reference values for the Node test suite.

    python -m slice_distill_models.fixtures --out DIR

writes scripted / traced modules and `reference.json`, which holds inputs, outputs in train
and eval mode, optimizer trajectories and loss values computed here by PyTorch itself, so the
tests can check the TypeScript side against them.
"""
from __future__ import annotations

import argparse
import json
import os
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import dist_reference

SEED = 1234


class ConvNet(nn.Module):
    """conv -> BatchNorm -> ReLU -> Dropout -> 1x1 conv: behaves differently in train and eval."""

    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.drop = nn.Dropout(0.3)
        self.head = nn.Conv2d(6, classes, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.drop(F.relu(self.bn(self.conv1(x)))))


class PlainNet(nn.Module):
    """conv -> ReLU -> 1x1 conv, no BatchNorm or dropout: training is deterministic, so data-parallel
    steps can be compared with one process's exactly."""

    def __init__(self, classes: int = 7) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.head = nn.Conv2d(8, classes, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(F.relu(self.conv1(x)))


class Pointwise3d(nn.Module):
    """A 1x1x1 convolution: its sliding-window result must equal its whole-volume result."""

    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv3d(1, classes, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


class DepthRecorder(nn.Module):
    """A stand-in 3D teacher that reports how deep its input was: channel 0 of the logits is the
    number of axial slices of the window with content (zero padding has none), the rest 0."""

    def __init__(self, classes: int = 7) -> None:
        super().__init__()
        self.classes = classes

    def forward(self, x: Tensor) -> Tensor:
        b, _, d, h, w = x.shape
        depth = (x.abs().amax(dim=(1, 3, 4)) > 0).sum(dim=1).to(x.dtype)  # [B]
        out = x.new_zeros([b, self.classes, d, h, w])
        out[:, 0] = depth.view(b, 1, 1, 1)
        return out


class MeanScore(nn.Module):
    """A stand-in slice-score regressor: each slice's score is 10 x its mean intensity, [N, 1]."""

    def forward(self, x: Tensor) -> Tensor:
        return x.mean(dim=(1, 2, 3)).unsqueeze(1) * 10.0


class MultiOutput(nn.Module):
    """Exercises argument and result conversion: optional / scalar / list inputs, tuple and dict outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.arange(4, dtype=torch.float32))

    def forward(
        self, x: Tensor, scale: float = 1.0, repeat: int = 1, bias: Optional[Tensor] = None
    ) -> Tuple[Tensor, Dict[str, Tensor]]:
        y = x * self.weight * scale
        if bias is not None:
            y = y + bias
        return y, {"sum": y.sum().repeat(repeat), "max": y.max()}

    @torch.jit.export
    def pieces(self, xs: List[Tensor], tag: str) -> List[Tensor]:
        out: List[Tensor] = []
        for x in xs:
            out.append(x + float(len(tag)))
        return out


def dice_reference(logits: Tensor, labels: Tensor, smooth: float, squared: bool, include_background: bool) -> Tensor:
    """Soft Dice of the Swin-Unet recipe: per class over the whole batch, mean over classes."""
    c = logits.shape[1]
    p = logits.softmax(1)
    y = F.one_hot(labels, c).movedim(-1, 1).to(p.dtype)
    dims = [0] + list(range(2, logits.dim()))
    inter = (p * y).sum(dims)
    den = (p * p).sum(dims) + (y * y).sum(dims) if squared else p.sum(dims) + y.sum(dims)
    per_class = 1 - (2 * inter + smooth) / (den + smooth)
    if not include_background:
        per_class = per_class[1:]
    return per_class.mean()


def flat(t: Tensor) -> List[float]:
    return t.detach().double().flatten().tolist()


def save_scripted(module: torch.jit.ScriptModule, path: str, metadata: Dict[str, object]) -> None:
    torch.jit.save(module, path, _extra_files={"metadata.json": json.dumps(metadata)})


def batch() -> Tuple[Tensor, Tensor]:
    g = torch.Generator().manual_seed(SEED)
    x = torch.rand(4, 1, 12, 12, generator=g)
    labels = (x[:, 0] > 0.4).long() + (x[:, 0] > 0.75).long()
    return x, labels


def optimizer_trajectory(path: str, make, steps: int) -> Dict[str, object]:
    model = torch.jit.load(path)
    model.eval()  # deterministic: BatchNorm uses its running statistics, no Dropout
    x, labels = batch()
    opt = make(list(model.parameters()))
    losses: List[float] = []
    params: List[List[float]] = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        params.append(flat(torch.cat([p.detach().flatten() for p in model.parameters()])))
    return {"losses": losses, "params": params}


def loss_cases() -> List[Dict[str, object]]:
    g = torch.Generator().manual_seed(SEED + 1)
    cases = []
    for shape in ([2, 4, 5, 6], [2, 4, 3, 4, 5]):
        logits = torch.randn(*shape, generator=g, dtype=torch.float64, requires_grad=True)
        labels = torch.randint(0, shape[1], [shape[0]] + shape[2:], generator=g)
        ignored = labels.clone()
        ignored.view(-1)[::7] = 255
        weight = torch.tensor([0.5, 1.0, 2.0, 1.5], dtype=torch.float64)
        ce = F.cross_entropy(logits, labels)
        ce_w = F.cross_entropy(logits, ignored, weight=weight, ignore_index=255)
        dice = dice_reference(logits, labels, 1e-5, True, True)
        (grad,) = torch.autograd.grad(0.4 * ce + 0.6 * dice, logits)
        cases.append(
            {
                "shape": shape,
                "logits": flat(logits),
                "labels": labels.flatten().tolist(),
                "ignoredLabels": ignored.flatten().tolist(),
                "classWeights": weight.tolist(),
                "crossEntropy": ce.item(),
                "crossEntropyWeightedIgnore": ce_w.item(),
                "dice": dice.item(),
                "diceLinearNoBackground": dice_reference(logits, labels, 1.0, False, False).item(),
                "segGrad": flat(grad),
            }
        )
    return cases


def dist_cases() -> List[Dict[str, object]]:
    """Loss and gradient of dist_reference on inputs with absent and unseen classes, 1, 2 and 3+
    present classes per sample, an ignore index, both channel sets, 2D and 3D."""
    g = torch.Generator().manual_seed(SEED + 2)
    cases = []
    settings = (
        ([3, 5, 6, 7], 1.0, None, "present", None),
        ([3, 5, 6, 7], 1.0, None, "all", None),
        ([4, 5, 6, 7], 2.0, None, "present", [True, True, False, True, True]),
        ([2, 5, 3, 4, 5], 2.0, 255, "present", None),
        ([2, 5, 3, 4, 5], 0.5, 255, "all", [True, False, True, True, True]),
    )
    for shape, tau, ignore, channels, mask in settings:
        logits = torch.randn(*shape, generator=g, dtype=torch.float64, requires_grad=True)
        labels = torch.randint(0, 4, [shape[0]] + shape[2:], generator=g)  # class 4 never appears
        labels[0].zero_()  # sample 0: background only (one present class: no L_intra)
        if shape[0] >= 4:
            labels[1].zero_()
            labels[1].view(-1)[::2] = 2  # sample 1: two classes (no L_intra), one of them unseen
        if ignore is not None:
            labels.view(-1)[::5] = ignore
        teacher = torch.randn(5, 5, generator=g, dtype=torch.float64) * 3
        loss = dist_reference.proto_dist_loss(logits, labels, teacher, tau, 1.0, 0.5, ignore, channels, mask)
        (grad,) = torch.autograd.grad(loss, logits)
        cases.append({"shape": shape, "tau": tau, "ignoreIndex": ignore, "interWeight": 1.0, "intraWeight": 0.5,
                      "channels": channels, "teacherMask": mask,
                      "logits": flat(logits), "labels": labels.flatten().tolist(), "teacher": flat(teacher),
                      "loss": loss.item(), "grad": flat(grad)})
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder to write the fixtures into")
    out = parser.parse_args().out
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)

    torch.manual_seed(SEED)
    net = ConvNet()
    scripted = torch.jit.script(net)
    conv_path = os.path.join(out, "convnet.pt")
    save_scripted(scripted, conv_path, {"arch": "convnet", "classes": 3, "spatialDims": 2, "inChannels": 1})
    traced = torch.jit.trace(ConvNet().eval(), torch.rand(1, 1, 8, 8))
    traced.save(os.path.join(out, "convnet_traced.pt"))
    save_scripted(torch.jit.script(MultiOutput()), os.path.join(out, "multi.pt"), {"arch": "multi"})
    save_scripted(torch.jit.script(MeanScore()), os.path.join(out, "mean_score.pt"), {"arch": "mean_score"})
    torch.manual_seed(SEED)
    save_scripted(torch.jit.script(PlainNet()), os.path.join(out, "plain.pt"),
                  {"arch": "plain", "classes": 7, "spatialDims": 2, "inChannels": 1})
    save_scripted(torch.jit.script(Pointwise3d()), os.path.join(out, "pointwise3d.pt"), {"arch": "pointwise3d", "spatialDims": 3})
    save_scripted(torch.jit.script(DepthRecorder()), os.path.join(out, "depth_recorder.pt"),
                  {"arch": "depth_recorder", "classes": 7, "spatialDims": 3, "inChannels": 1})

    x, labels = batch()
    model = torch.jit.load(conv_path)
    model.eval()
    eval_out = model(x)
    model.train()
    torch.manual_seed(99)
    train_out = model(x)  # batch statistics and a dropout mask drawn after manual_seed(99)
    running_mean = model.bn.running_mean.clone()

    steps = 5
    trajectories = {
        "sgd": optimizer_trajectory(
            conv_path, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4), steps
        ),
        "sgdPlain": optimizer_trajectory(conv_path, lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.1), steps),
        "adam": optimizer_trajectory(conv_path, lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=1e-4), steps),
        "adamw": optimizer_trajectory(conv_path, lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.05), steps),
    }

    reference = {
        "torchVersion": torch.__version__,
        "input": {"shape": list(x.shape), "data": flat(x)},
        "labels": labels.flatten().tolist(),
        "eval": flat(eval_out),
        "train": {"seed": 99, "out": flat(train_out), "runningMean": flat(running_mean)},
        "optimizers": trajectories,
        "losses": loss_cases(),
        "dist": dist_cases(),
    }
    tmp = os.path.join(out, "reference.json.tmp")
    with open(tmp, "w") as f:
        json.dump(reference, f)
    os.replace(tmp, os.path.join(out, "reference.json"))


if __name__ == "__main__":
    main()
