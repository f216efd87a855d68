"""Swin-Unet: a U-shaped pure Swin Transformer for 2D segmentation.

Follows Cao et al., "Swin-Unet: Unet-like Pure Transformer for Medical Image Segmentation"
(ECCV Workshops 2022), at its published size: 224x224 input, 4x4 patches, embed dim 96,
encoder depths 2/2/2/2 with heads 3/6/12/24 and window 7 (shifted windows in every second
block), patch merging between stages; a symmetric decoder of patch-expanding layers with
two Swin blocks per stage and linear fusion of the encoder skips; a final x4 patch expand
to 96 channels at full resolution and a 1x1 conv (no bias) to the classes.

Decoder depths: the reference implementation takes a `depths_decoder` argument
(default 1/2/2/2) but builds its three block-carrying decoder stages with the encoder's
depths (2/2/2), behind a first patch expand without blocks; that is what gives the
published 27.2 M parameters, and it is the default here (`decoder_depths`, deepest first).

Tokens are kept channel-last, [B, H, W, C]. A stage whose grid is larger than the window
uses it, shifted in every second block; a grid no larger than the window is one window,
never shifted (as the original). Inputs other than the preset size work when H and W are multiples of 32:
feature maps are zero-padded to a multiple of the window, as Swin's dense-prediction code.
"""
from __future__ import annotations

from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .common import DropPath, FinalPatchExpand4, Mlp, PatchExpand, drop_path_rates, init_transformer_weights


def window_partition(x: Tensor, ws: int) -> Tensor:
    """[B, H, W, C] -> [B * nW, ws * ws, C]."""
    b, h, w, c = x.shape
    x = x.reshape(b, h // ws, ws, w // ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, ws * ws, c)


def window_reverse(x: Tensor, ws: int, h: int, w: int) -> Tensor:
    """[B * nW, ws * ws, C] -> [B, H, W, C]."""
    c = x.shape[-1]
    x = x.reshape(-1, h // ws, w // ws, ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, h, w, c)


def shifted_window_mask(h: int, w: int, ws: int, shift: int, device: torch.device, dtype: torch.dtype) -> Tensor:
    """Additive mask [nW, N, N]: -100 between tokens that the cyclic shift brought from different regions."""
    rows = torch.zeros(h, dtype=torch.long, device=device)
    rows[h - ws : h - shift] = 1
    rows[h - shift :] = 2
    cols = torch.zeros(w, dtype=torch.long, device=device)
    cols[w - ws : w - shift] = 1
    cols[w - shift :] = 2
    region = (rows.unsqueeze(1) * 3 + cols.unsqueeze(0)).reshape(h // ws, ws, w // ws, ws)
    region = region.permute(0, 2, 1, 3).reshape(-1, ws * ws)
    different = region.unsqueeze(1) != region.unsqueeze(2)
    return different.to(dtype) * -100.0


class WindowAttention(nn.Module):
    """Multi-head self-attention inside a window, with a learned relative position bias."""

    def __init__(self, dim: int, ws: int, heads: int) -> None:
        super().__init__()
        self.ws = ws
        self.heads = heads
        self.scale = float((dim // heads) ** -0.5)
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * ws - 1) ** 2, heads))
        coords = torch.stack(torch.meshgrid(torch.arange(ws), torch.arange(ws), indexing="ij")).flatten(1)  # [2, N]
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (ws - 1)  # [N, N, 2], >= 0
        self.register_buffer("relative_position_index", rel[..., 0] * (2 * ws - 1) + rel[..., 1], persistent=False)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def forward(self, x: Tensor, mask: Optional[Tensor]) -> Tensor:
        bw, n, c = x.shape
        qkv = self.qkv(x).reshape(bw, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        attn = q @ k.transpose(-2, -1)  # [B*nW, heads, N, N]
        bias = self.relative_position_bias_table[self.relative_position_index.reshape(-1)]
        attn = attn + bias.reshape(n, n, self.heads).permute(2, 0, 1).unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = attn.reshape(bw // nw, nw, self.heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.reshape(bw, self.heads, n, n)
        y = attn.softmax(dim=-1) @ v
        return self.proj(y.transpose(1, 2).reshape(bw, n, c))


class SwinBlock(nn.Module):
    def __init__(self, dim: int, heads: int, ws: int, shift: int, mlp_ratio: float, drop_path: float) -> None:
        super().__init__()
        self.ws = ws
        self.shift = shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, ws, heads)
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: Tensor) -> Tensor:
        b, h, w, c = x.shape
        ws = self.ws
        y = self.norm1(x)
        pad_h = (ws - h % ws) % ws
        pad_w = (ws - w % ws) % ws
        if pad_h > 0 or pad_w > 0:
            y = F.pad(y, [0, 0, 0, pad_w, 0, pad_h])
        hp, wp = h + pad_h, w + pad_w
        mask: Optional[Tensor] = None
        if self.shift > 0:
            y = torch.roll(y, shifts=[-self.shift, -self.shift], dims=[1, 2])
            mask = shifted_window_mask(hp, wp, ws, self.shift, x.device, y.dtype)
        y = window_reverse(self.attn(window_partition(y, ws), mask), ws, hp, wp)
        if self.shift > 0:
            y = torch.roll(y, shifts=[self.shift, self.shift], dims=[1, 2])
        if pad_h > 0 or pad_w > 0:
            y = y[:, :h, :w, :].contiguous()
        x = x + self.drop_path(y)
        return x + self.drop_path(self.mlp(self.norm2(x)))


def make_blocks(dim: int, depth: int, heads: int, window: int, grid: int, mlp_ratio: float, rates: List[float]) -> nn.ModuleList:
    ws = window if grid > window else grid
    shift = 0 if grid <= window else window // 2
    def rate(i: int) -> float:  # a decoder stage may be deeper than its encoder stage
        return rates[min(i, len(rates) - 1)] if rates else 0.0

    return nn.ModuleList([SwinBlock(dim, heads, ws, 0 if i % 2 == 0 else shift, mlp_ratio, rate(i)) for i in range(depth)])


class PatchMerging(nn.Module):
    """[B, H, W, C] -> [B, H/2, W/2, 2C]."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], dim=-1)
        return self.reduction(self.norm(x))


class EncoderStage(nn.Module):
    def __init__(self, blocks: nn.ModuleList, merge: bool, dim: int) -> None:
        super().__init__()
        self.blocks = blocks
        self.downsample = PatchMerging(dim) if merge else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        for blk in self.blocks:
            x = blk(x)
        return self.downsample(x)


class DecoderStage(nn.Module):
    """Fuse the skip (concat + linear), Swin blocks, then patch expand (except the last stage)."""

    def __init__(self, dim: int, blocks: nn.ModuleList, expand: bool) -> None:
        super().__init__()
        self.concat_back_dim = nn.Linear(2 * dim, dim)
        self.blocks = blocks
        self.upsample = PatchExpand(dim) if expand else nn.Identity()

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        x = self.concat_back_dim(torch.cat([x, skip], dim=-1))
        for blk in self.blocks:
            x = blk(x)
        return self.upsample(x)


class SwinUnet(nn.Module):
    """forward(x: [B, 1, H, W]) -> logits [B, classes, H, W]; H, W multiples of 32 (224 by default)."""

    def __init__(
        self,
        classes: int,
        in_channels: int = 1,
        img_size: int = 224,
        patch_size: int = 4,
        embed_dim: int = 96,
        depths: Sequence[int] = (2, 2, 2, 2),
        heads: Sequence[int] = (3, 6, 12, 24),
        window: int = 7,
        decoder_depths: Sequence[int] = (2, 2, 2),
        mlp_ratio: float = 4.0,
        drop_path_rate: float = 0.1,
    ) -> None:
        super().__init__()
        stages = len(depths)
        if patch_size != 4:
            raise ValueError("Swin-Unet's final expand is x4: patch_size must be 4")
        if len(heads) != stages or len(decoder_depths) != stages - 1:
            raise ValueError("Swin-Unet: heads per encoder stage and decoder_depths per decoder stage (stages - 1)")
        self.patch_size = patch_size
        self.multiple = patch_size * 2 ** (stages - 1)
        grid0 = img_size // patch_size
        dims = [embed_dim * 2**i for i in range(stages)]
        grids = [grid0 // 2**i for i in range(stages)]

        self.patch_embed = nn.Conv2d(in_channels, embed_dim, patch_size, stride=patch_size)
        self.patch_norm = nn.LayerNorm(embed_dim)
        rates = drop_path_rates(drop_path_rate, [int(d) for d in depths])
        self.layers = nn.ModuleList(
            [
                EncoderStage(
                    make_blocks(dims[i], int(depths[i]), int(heads[i]), window, grids[i], mlp_ratio, rates[i]),
                    i < stages - 1,
                    dims[i],
                )
                for i in range(stages)
            ]
        )
        self.norm = nn.LayerNorm(dims[-1])

        self.first_expand = PatchExpand(dims[-1])
        decoder: List[nn.Module] = []
        for j in range(stages - 1):  # j = 0 is the deepest decoder stage after the first expand
            i = stages - 2 - j  # matching encoder stage
            decoder.append(
                DecoderStage(
                    dims[i],
                    make_blocks(dims[i], int(decoder_depths[j]), int(heads[i]), window, grids[i], mlp_ratio, rates[i]),
                    i > 0,
                )
            )
        self.layers_up = nn.ModuleList(decoder)
        self.norm_up = nn.LayerNorm(embed_dim)
        self.final_expand = FinalPatchExpand4(embed_dim)
        self.output = nn.Conv2d(embed_dim, classes, 1, bias=False)
        init_transformer_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4:
            raise RuntimeError("SwinUnet expects [B, C, H, W]")
        if x.shape[2] % self.multiple != 0 or x.shape[3] % self.multiple != 0:
            raise RuntimeError("SwinUnet: H and W must be multiples of patch_size * 2^(stages - 1) (32)")
        t = self.patch_norm(self.patch_embed(x).permute(0, 2, 3, 1))  # [B, H/4, W/4, C]
        skips: List[Tensor] = []
        for layer in self.layers:
            skips.append(t)
            t = layer(t)
        t = self.first_expand(self.norm(t))
        n = len(skips)
        for j, stage in enumerate(self.layers_up):
            t = stage(t, skips[n - 2 - j])
        t = self.final_expand(self.norm_up(t))  # [B, H, W, C]
        return self.output(t.permute(0, 3, 1, 2))
