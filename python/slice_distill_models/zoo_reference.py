"""Reference outputs of the model zoo for the Node tests: a Python-trained model's journey.

    python -m slice_distill_models.zoo_reference --arch deeplabv3 --out DIR

builds the tiny preset (seed 7) in eager PyTorch, saves its state_dict as a Python user
would, exports it through `export --weights`, and writes, as raw little-endian float32:
  input.bin   a seeded input batch [2, 1, *input]
  eager.bin   the eager module's eval-mode output (the weights round trip)
  train.bin   the exported module's train-mode output in Python after manual_seed(5)
plus reference.json with the shapes.
"""
from __future__ import annotations

import argparse
import json
import os

import torch

from .export import export_model
from .models.registry import build_model, preset


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--classes", type=int, default=4)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    p = preset(args.arch, "tiny")

    torch.manual_seed(7)
    model = build_model(args.arch, "tiny", args.classes)
    weights = os.path.join(args.out, "weights.pth")
    torch.save({"state_dict": model.state_dict()}, weights)
    exported = os.path.join(args.out, "model.pt")
    export_model(args.arch, "tiny", args.classes, exported, weights=weights, seed=123)  # seed 123: must not matter

    x = torch.rand(2, 1, *p.input_size, generator=torch.Generator().manual_seed(11))
    model.eval()
    with torch.no_grad():
        eager = model(x)
    scripted = torch.jit.load(exported)
    scripted.train()
    torch.manual_seed(5)
    with torch.no_grad():
        train = scripted(x)
    for name, t in (("input", x), ("eager", eager), ("train", train)):
        t.contiguous().numpy().astype("<f4").tofile(os.path.join(args.out, f"{name}.bin"))
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump({"arch": args.arch, "input": list(x.shape), "output": list(eager.shape), "classes": args.classes,
                   "trainDiffers": bool((train - eager).abs().max() > 1e-3)}, f)


if __name__ == "__main__":
    main()
