"""UNesT: a 3D hierarchical nested transformer encoder with a convolutional decoder.

Follows Yu et al., "UNesT: Local spatial representation learning with hierarchical
transformer for efficient medical segmentation" (MedIA 2023), base configuration:
96^3 input, 4^3 patches, three nested levels with embed dims 128/256/512, depths 2/2/8,
heads 4/8/16. Each level splits its token grid into non-overlapping 3D blocks (64, 8 and
1 block of 6^3 tokens at 96^3) and runs self-attention only inside a block; between levels
a conv + LayerNorm + 3x3x3 max-pool (stride 2) aggregates the blocks. The decoder is the
UNETR-style convolutional path of the paper: residual conv blocks with instance norm and
LeakyReLU, transposed-conv upsampling, skips from the input image, the patch embedding
(through a x2 transposed conv and a 1x1x1 transposed conv), level 0, level 1 (each through a
residual block) and level 2 (as it is), a strided conv + PReLU + instance norm bottleneck on
the normed last level, ending with 32 channels at full resolution and a 1x1x1 conv to the
classes.

The sub-blocks and tensor shapes are those of MONAI's model-zoo bundle
renalStructures_UNEST_segmentation (scripts/networks/unest.py), LayerNorm eps 1e-6 included,
so that its checkpoint loads tensor for tensor through the `monai-unest` mapping of
weight_maps.py; the names here are this module's own.
"""
from __future__ import annotations

from typing import List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .common import DropPath, Mlp, drop_path_rates, init_transformer_weights

# the NesT encoder's LayerNorms (blocks, aggregation, final norm) use eps 1e-6, as published
LN_EPS = 1e-6


def blockify(x: Tensor, block: int) -> Tensor:
    """[B, D, H, W, C] -> [B, T, N, C]: T blocks of N = block^3 tokens each."""
    b, d, h, w, c = x.shape
    gd, gh, gw = d // block, h // block, w // block
    x = x.reshape(b, gd, block, gh, block, gw, block, c)
    x = x.permute(0, 1, 3, 5, 2, 4, 6, 7)
    return x.reshape(b, gd * gh * gw, block * block * block, c)


def deblockify(x: Tensor, block: int, grid: int) -> Tensor:
    """Inverse of blockify for a cubic grid of `grid`^3 blocks."""
    b, _, _, c = x.shape
    x = x.reshape(b, grid, grid, grid, block, block, block, c)
    x = x.permute(0, 1, 4, 2, 5, 3, 6, 7)
    return x.reshape(b, grid * block, grid * block, grid * block, c)


class BlockAttention(nn.Module):
    """Multi-head self-attention applied independently inside every block of [B, T, N, C]."""

    def __init__(self, dim: int, heads: int, qkv_bias: bool = True) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        b, t, n, c = x.shape
        qkv = self.qkv(x).reshape(b * t, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])  # [B*T, heads, N, hd]
        y = y.transpose(1, 2).reshape(b, t, n, c)
        return self.proj(y)


class NestBlock(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: float, qkv_bias: bool, drop_path: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=LN_EPS)
        self.attn = BlockAttention(dim, heads, qkv_bias)
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim, eps=LN_EPS)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class ConvPool3d(nn.Module):
    """Block aggregation between levels: 3^3 conv, channel LayerNorm, 3^3 max-pool with stride 2."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.conv = nn.Conv3d(in_dim, out_dim, 3, padding=1)
        self.norm = nn.LayerNorm(out_dim, eps=LN_EPS)
        self.pool = nn.MaxPool3d(3, stride=2, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        x = self.norm(x.permute(0, 2, 3, 4, 1)).permute(0, 4, 1, 2, 3)
        return self.pool(x)


class NestLevel(nn.Module):
    """One level: optional aggregation from the previous level, then transformer blocks on blocks."""

    def __init__(
        self,
        in_dim: int,
        dim: int,
        grid: int,
        block: int,
        depth: int,
        heads: int,
        mlp_ratio: float,
        qkv_bias: bool,
        drop_paths: List[float],
        first: bool,
    ) -> None:
        super().__init__()
        self.grid = grid
        self.block = block
        self.pool = nn.Identity() if first else ConvPool3d(in_dim, dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, grid**3, block**3, dim))
        self.blocks = nn.ModuleList([NestBlock(dim, heads, mlp_ratio, qkv_bias, drop_paths[i]) for i in range(depth)])

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool(x)  # [B, C, S, S, S]
        if x.shape[2] != self.grid * self.block or x.shape[3] != self.grid * self.block or x.shape[4] != self.grid * self.block:
            raise RuntimeError("UNesT: the token grid does not match the preset's input size")
        t = blockify(x.permute(0, 2, 3, 4, 1), self.block) + self.pos_embed
        for blk in self.blocks:
            t = blk(t)
        return deblockify(t, self.block, self.grid).permute(0, 4, 1, 2, 3)


class ConvNormAct(nn.Module):
    def __init__(self, cin: int, cout: int, k: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv3d(cin, cout, k, padding=k // 2, bias=False)
        self.norm = nn.InstanceNorm3d(cout)
        self.act = nn.LeakyReLU(0.01)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.norm(self.conv(x)))


class ResBlock(nn.Module):
    """Two 3^3 conv + instance norm layers with a residual (a 1^3 conv + norm, conv3 / norm3,
    only where the channel count changes); convs without bias, norms without affine terms."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv3d(cin, cout, 3, padding=1, bias=False)
        self.norm1 = nn.InstanceNorm3d(cout)
        self.conv2 = nn.Conv3d(cout, cout, 3, padding=1, bias=False)
        self.norm2 = nn.InstanceNorm3d(cout)
        self.act = nn.LeakyReLU(0.01)
        self.project = cin != cout
        self.conv3 = nn.Conv3d(cin, cout, 1, bias=False) if self.project else nn.Identity()
        self.norm3 = nn.InstanceNorm3d(cout) if self.project else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        y = self.act(self.norm1(self.conv1(x)))
        y = self.norm2(self.conv2(y))
        return self.act(y + self.norm3(self.conv3(x)))


class EmbedUp(nn.Module):
    """The patch embedding's skip: x2 transposed conv, then a 1^3 transposed conv (no norm, no
    activation, no bias). The 1^3 one is kept transposed: its weight is [in, out], as published."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose3d(cin, cout, 2, stride=2, bias=False)
        self.proj = nn.ConvTranspose3d(cout, cout, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(self.up(x))


class UpBlock(nn.Module):
    """x2 transposed-conv upsampling, concatenation with the skip, residual block."""

    def __init__(self, cin: int, skip: int, cout: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose3d(cin, cout, 2, stride=2, bias=False)
        self.block = ResBlock(cout + skip, cout)

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        return self.block(torch.cat([self.up(x), skip], dim=1))


class UNesT(nn.Module):
    """forward(x: [B, 1, D, H, W]) -> logits [B, classes, D, H, W]; D = H = W = img_size."""

    def __init__(
        self,
        classes: int,
        in_channels: int = 1,
        img_size: int = 96,
        patch_size: int = 4,
        embed_dims: Sequence[int] = (128, 256, 512),
        depths: Sequence[int] = (2, 2, 8),
        heads: Sequence[int] = (4, 8, 16),
        feature_size: int = 16,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop_path_rate: float = 0.5,  # the reference implementation's stochastic depth
    ) -> None:
        super().__init__()
        levels = len(embed_dims)
        if levels != 3 or len(depths) != 3 or len(heads) != 3:
            raise ValueError("UNesT has three nested levels")
        if patch_size != 4:
            raise ValueError("the UNesT decoder expects 4^3 patches")
        tokens = img_size // patch_size
        if img_size % patch_size != 0 or tokens % 2 ** (levels - 1) != 0:
            raise ValueError(f"img_size {img_size} must give a token grid divisible by {2 ** (levels - 1)}")
        block = tokens // 2 ** (levels - 1)
        if block % 2 != 0:
            raise ValueError("the deepest level's grid must be even (it is halved once more by the bottleneck)")
        self.img_size = img_size
        e0, e1, e2 = int(embed_dims[0]), int(embed_dims[1]), int(embed_dims[2])
        fs = feature_size

        # encoder: nested transformer
        self.patch_embed = nn.Conv3d(in_channels, e0, patch_size, stride=patch_size)
        rates = drop_path_rates(drop_path_rate, [int(d) for d in depths])
        dims = [e0, e1, e2]
        self.levels = nn.ModuleList(
            [
                NestLevel(
                    dims[max(i - 1, 0)],
                    dims[i],
                    2 ** (levels - 1 - i),
                    block,
                    int(depths[i]),
                    int(heads[i]),
                    mlp_ratio,
                    qkv_bias,
                    rates[i],
                    i == 0,
                )
                for i in range(levels)
            ]
        )
        self.norm = nn.LayerNorm(e2, eps=LN_EPS)

        # decoder: convolutional, skips at full, 1/2, 1/4, 1/8, 1/16 resolution
        self.encoder1 = ResBlock(in_channels, 2 * fs)  # image, full resolution
        self.encoder2 = EmbedUp(e0, 4 * fs)  # patch embedding -> 1/2
        self.encoder3 = ResBlock(e0, 8 * fs)  # level 0, 1/4
        self.encoder4 = ResBlock(e1, 16 * fs)  # level 1, 1/8
        self.bottleneck = nn.Conv3d(e2, 64 * fs, 3, stride=2, padding=1)  # normed level 2 -> 1/32
        self.bottleneck_act = nn.PReLU()
        self.bottleneck_norm = nn.InstanceNorm3d(64 * fs)
        self.decoder5 = UpBlock(64 * fs, e2, 32 * fs)  # with level 2 (1/16)
        self.decoder4 = UpBlock(32 * fs, 16 * fs, 16 * fs)
        self.decoder3 = UpBlock(16 * fs, 8 * fs, 8 * fs)
        self.decoder2 = UpBlock(8 * fs, 4 * fs, 4 * fs)
        self.decoder1 = UpBlock(4 * fs, 2 * fs, 2 * fs)
        self.head = nn.Conv3d(2 * fs, classes, 1)

        init_transformer_weights(self)
        for lvl in self.levels:
            nn.init.trunc_normal_(lvl.pos_embed, std=0.02)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 5:
            raise RuntimeError("UNesT expects [B, C, D, H, W]")
        if x.shape[2] != self.img_size or x.shape[3] != self.img_size or x.shape[4] != self.img_size:
            raise RuntimeError("UNesT: input size differs from the preset's img_size")
        t = self.patch_embed(x)
        hidden: List[Tensor] = [t]
        for lvl in self.levels:
            t = lvl(t)
            hidden.append(t)
        top = self.norm(t.permute(0, 2, 3, 4, 1)).permute(0, 4, 1, 2, 3)

        enc0 = self.encoder1(x)
        enc1 = self.encoder2(hidden[0])
        enc2 = self.encoder3(hidden[1])
        enc3 = self.encoder4(hidden[2])
        enc4 = hidden[3]
        b = self.bottleneck_norm(self.bottleneck_act(self.bottleneck(top)))
        d = self.decoder5(b, enc4)
        d = self.decoder4(d, enc3)
        d = self.decoder3(d, enc2)
        d = self.decoder2(d, enc1)
        d = self.decoder1(d, enc0)
        return self.head(d)
