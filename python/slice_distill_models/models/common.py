"""Building blocks shared by the architectures (all TorchScript-friendly)."""
from __future__ import annotations

from typing import List

import torch
from torch import Tensor, nn


class DropPath(nn.Module):
    """Stochastic depth: drops the whole residual branch of a sample with probability p (train mode only)."""

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        self.p = float(p)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        shape: List[int] = [x.shape[0]] + [1] * (x.dim() - 1)
        mask = torch.empty(shape, dtype=x.dtype, device=x.device).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Mlp(nn.Module):
    """Token MLP: Linear -> GELU -> Linear (the feed-forward of ViT-style blocks)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(x)))


def drop_path_rates(total: float, depths: List[int]) -> List[List[float]]:
    """Stochastic-depth rates rising linearly from 0 to `total` over all blocks, split per stage."""
    n = sum(depths)
    flat = [total * i / (n - 1) if n > 1 else 0.0 for i in range(n)]
    out: List[List[float]] = []
    start = 0
    for d in depths:
        out.append(flat[start : start + d])
        start += d
    return out


def init_transformer_weights(module: nn.Module) -> None:
    """Truncated-normal (std 0.02) linear weights, zero biases, unit LayerNorms."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


class PatchExpand(nn.Module):
    """[B, H, W, C] -> [B, 2H, 2W, C/2]: a linear layer to 2C, spread over 2x2 positions, LayerNorm."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.expand = nn.Linear(dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(dim // 2)

    def forward(self, x: Tensor) -> Tensor:
        b, h, w, c = x.shape
        x = self.expand(x).reshape(b, h, w, 2, 2, c // 2)
        x = x.permute(0, 1, 3, 2, 4, 5).reshape(b, 2 * h, 2 * w, c // 2)
        return self.norm(x)


class FinalPatchExpand4(nn.Module):
    """[B, H, W, C] -> [B, 4H, 4W, C]: a linear layer to 16C, spread over 4x4 positions, LayerNorm."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.expand = nn.Linear(dim, 16 * dim, bias=False)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: Tensor) -> Tensor:
        b, h, w, c = x.shape
        x = self.expand(x).reshape(b, h, w, 4, 4, c)
        x = x.permute(0, 1, 3, 2, 4, 5).reshape(b, 4 * h, 4 * w, c)
        return self.norm(x)
