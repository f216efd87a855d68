"""MISSFormer: a hierarchical transformer with an enhanced transformer context bridge.

Follows Huang et al., "MISSFormer: An Effective Transformer for 2D Medical Image
Segmentation" (IEEE TMI 2022), at its published size: 224x224 input; a MiT-style encoder
(overlapping patch embeddings 7x7/4 then 3x3/2, dims 64/128/320/512, two blocks per stage,
heads 1/2/5/8, spatial-reduction attention with ratios 8/4/2/1) built from Enhanced
Transformer Blocks, whose feed-forward is the enhanced Mix-FFN (linear, depth-wise 3x3 conv
with a skip, LayerNorm, GELU, linear); an Enhanced Transformer Context Bridge that flattens
the four scales into one token sequence of width 64, attends over it with keys and values
reduced to the coarsest grid (strided convs on the three finer scales), and refines every
scale with its own Mix-FFN (four bridge layers); and a decoder of patch-expanding stages,
each fusing the bridge's skip through concatenation + linear and two enhanced transformer
blocks, ending with a x4 patch expand to 64 channels at full resolution and a 1x1 conv to
the classes.

Departures from the reference code. (1) There the deepest decoder stage builds two
transformer blocks and a concat linear layer but only patch-expands; here its two blocks
run on the deepest bridge output before the expand, so every parameter is used and gets a
gradient (a change in computation; the blocks are counted in the paper's 42.46 M either
way). (2) Modules the reference builds and never calls are left out: that stage's concat
linear layer and two extra LayerNorms per Mix-FFN, 0.66 M together. The base preset thus has
41.80 M parameters with 7 classes and one input channel (1.6% under 42.46 M).
"""
from __future__ import annotations

from typing import List, Sequence

import torch
from torch import Tensor, nn

from .common import FinalPatchExpand4, PatchExpand, init_transformer_weights


class OverlapPatchEmbed(nn.Module):
    """Strided conv with overlap, then LayerNorm: [B, C, H, W] -> tokens [B, H'W', D]."""

    def __init__(self, cin: int, dim: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(cin, dim, kernel, stride=stride, padding=kernel // 2)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(self.proj(x).flatten(2).transpose(1, 2))


def to_map(x: Tensor, h: int, w: int) -> Tensor:
    """[B, HW, C] -> [B, C, H, W]."""
    return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], h, w)


def attend(q: Tensor, kv: Tensor, heads: int) -> Tensor:
    """q: [B, N, C], kv: [B, M, 2C] -> [B, N, C]."""
    b, n, c = q.shape
    m = kv.shape[1]
    qh = q.reshape(b, n, heads, c // heads).transpose(1, 2)
    kvh = kv.reshape(b, m, 2, heads, c // heads).permute(2, 0, 3, 1, 4)
    y = torch.nn.functional.scaled_dot_product_attention(qh, kvh[0], kvh[1])
    return y.transpose(1, 2).reshape(b, n, c)


class EfficientAttention(nn.Module):
    """Self-attention whose keys and values come from a grid reduced by a strided conv (ratio r)."""

    def __init__(self, dim: int, heads: int, reduction: int) -> None:
        super().__init__()
        self.heads = heads
        self.reduction = reduction
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)
        if reduction > 1:
            self.sr: nn.Module = nn.Conv2d(dim, dim, reduction, stride=reduction)
            self.norm: nn.Module = nn.LayerNorm(dim)
        else:
            self.sr = nn.Identity()
            self.norm = nn.Identity()

    def forward(self, x: Tensor, h: int, w: int) -> Tensor:
        src = x
        if self.reduction > 1:
            src = self.norm(self.sr(to_map(x, h, w)).flatten(2).transpose(1, 2))
        return self.proj(attend(self.q(x), self.kv(src), self.heads))


class MixFFN(nn.Module):
    """Enhanced Mix-FFN: fc1, depth-wise 3x3 conv plus skip, LayerNorm, GELU, fc2."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.dwconv = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden)
        self.norm = nn.LayerNorm(hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor, h: int, w: int) -> Tensor:
        y = self.fc1(x)
        y = self.dwconv(to_map(y, h, w)).flatten(2).transpose(1, 2) + y
        return self.fc2(self.act(self.norm(y)))


class TransformerBlock(nn.Module):
    """Enhanced transformer block: x + attn(norm x), then + MixFFN(norm x)."""

    def __init__(self, dim: int, heads: int, reduction: int, mlp_ratio: int = 4) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = EfficientAttention(dim, heads, reduction)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MixFFN(dim, dim * mlp_ratio)

    def forward(self, x: Tensor, h: int, w: int) -> Tensor:
        x = x + self.attn(self.norm1(x), h, w)
        return x + self.mlp(self.norm2(x), h, w)


class EncoderStage(nn.Module):
    def __init__(self, cin: int, dim: int, kernel: int, stride: int, depth: int, heads: int, reduction: int) -> None:
        super().__init__()
        self.stride = stride
        self.embed = OverlapPatchEmbed(cin, dim, kernel, stride)
        self.blocks = nn.ModuleList([TransformerBlock(dim, heads, reduction) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: Tensor) -> Tensor:
        h = (x.shape[2] - 1) // self.stride + 1
        w = (x.shape[3] - 1) // self.stride + 1
        t = self.embed(x)
        for blk in self.blocks:
            t = blk(t, h, w)
        return to_map(self.norm(t), h, w)


class BridgeLayer(nn.Module):
    """One layer of the context bridge over the concatenated multi-scale tokens [B, sum N_i, c].

    Scale i (channels dims[i] = k_i * c, grid H_i x W_i) occupies H_i * W_i * k_i tokens of width c.
    """

    def __init__(self, dims: Sequence[int], heads: int, reductions: Sequence[int], mlp_ratio: int = 4) -> None:
        super().__init__()
        c = int(dims[0])
        self.c = c
        self.heads = heads
        self.dims = [int(d) for d in dims]
        self.norm1 = nn.LayerNorm(c)
        self.q = nn.Linear(c, c)
        self.kv = nn.Linear(c, 2 * c)
        self.proj = nn.Linear(c, c)
        # keys / values: each finer scale reduced to the coarsest grid by a strided conv, the coarsest as is
        self.sr = nn.ModuleList(
            [nn.Conv2d(int(d), int(d), int(r), stride=int(r)) if int(r) > 1 else nn.Identity() for d, r in zip(dims, reductions)]
        )
        self.sr_norm = nn.LayerNorm(c)
        self.norm2 = nn.LayerNorm(c)
        self.mixffn = nn.ModuleList([MixFFN(int(d), int(d) * mlp_ratio) for d in dims])

    def forward(self, x: Tensor, sizes: List[int]) -> Tensor:
        """sizes: [H_0, W_0, H_1, W_1, ...]."""
        b = x.shape[0]
        c = self.c
        y = self.norm1(x)
        reduced: List[Tensor] = []
        start = 0
        for i, sr in enumerate(self.sr):
            h, w, d = sizes[2 * i], sizes[2 * i + 1], self.dims[i]
            n = h * w * d // c
            part = y[:, start : start + n].reshape(b, h * w, d)
            reduced.append(sr(to_map(part, h, w)).flatten(2).transpose(1, 2).reshape(b, -1, c))
            start += n
        kv = self.kv(self.sr_norm(torch.cat(reduced, dim=1)))
        x = x + self.proj(attend(self.q(y), kv, self.heads))

        y = self.norm2(x)
        refined: List[Tensor] = []
        start = 0
        for i, ffn in enumerate(self.mixffn):
            h, w, d = sizes[2 * i], sizes[2 * i + 1], self.dims[i]
            n = h * w * d // c
            part = y[:, start : start + n].reshape(b, h * w, d)
            refined.append(ffn(part, h, w).reshape(b, n, c))
            start += n
        return x + torch.cat(refined, dim=1)


class ContextBridge(nn.Module):
    def __init__(self, dims: Sequence[int], heads: int, layers: int) -> None:
        super().__init__()
        n = len(dims)
        self.c = int(dims[0])
        self.dims = [int(d) for d in dims]
        reductions = [2 ** (n - 1 - i) for i in range(n)]  # every scale reduced to the coarsest grid
        self.layers = nn.ModuleList([BridgeLayer(dims, heads, reductions) for _ in range(layers)])

    def forward(self, feats: List[Tensor]) -> List[Tensor]:
        b = feats[0].shape[0]
        sizes: List[int] = []
        tokens: List[Tensor] = []
        for f in feats:
            sizes.append(f.shape[2])
            sizes.append(f.shape[3])
            tokens.append(f.flatten(2).transpose(1, 2).reshape(b, -1, self.c))
        x = torch.cat(tokens, dim=1)
        for layer in self.layers:
            x = layer(x, sizes)
        out: List[Tensor] = []
        start = 0
        for i in range(len(feats)):
            h, w, d = sizes[2 * i], sizes[2 * i + 1], self.dims[i]
            n = h * w * d // self.c
            out.append(x[:, start : start + n].reshape(b, h, w, d))  # channel-last
            start += n
        return out


class DecoderStage(nn.Module):
    """[B, H, W, Cin] (+ skip [B, H, W, dim]) -> blocks at dim -> patch expand (x2, or x4 at the last stage)."""

    def __init__(self, cin: int, dim: int, heads: int, reduction: int, depth: int, fuse: bool, last: bool) -> None:
        super().__init__()
        self.fuse = fuse
        self.concat_linear = nn.Linear(cin + dim, dim) if fuse else nn.Identity()
        self.blocks = nn.ModuleList([TransformerBlock(dim, heads, reduction) for _ in range(depth)])
        self.expand = FinalPatchExpand4(dim) if last else PatchExpand(dim)

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        b, h, w, _ = skip.shape
        if self.fuse:
            t = self.concat_linear(torch.cat([x, skip], dim=-1)).reshape(b, h * w, -1)
        else:
            t = skip.reshape(b, h * w, -1)
        for blk in self.blocks:
            t = blk(t, h, w)
        return self.expand(t.reshape(b, h, w, -1))


class MISSFormer(nn.Module):
    """forward(x: [B, 1, H, W]) -> logits [B, classes, H, W]; H, W multiples of 32 (224 by default)."""

    def __init__(
        self,
        classes: int,
        in_channels: int = 1,
        img_size: int = 224,
        dims: Sequence[int] = (64, 128, 320, 512),
        depths: Sequence[int] = (2, 2, 2, 2),
        heads: Sequence[int] = (1, 2, 5, 8),
        reductions: Sequence[int] = (8, 4, 2, 1),
        bridge_layers: int = 4,
        bridge_heads: int = 1,
        decoder_depth: int = 2,
    ) -> None:
        super().__init__()
        n = len(dims)
        if n != 4 or len(depths) != 4 or len(heads) != 4 or len(reductions) != 4:
            raise ValueError("MISSFormer has four stages")
        dims = [int(d) for d in dims]
        for d in dims:
            if d % dims[0] != 0 or d % 2 != 0:
                raise ValueError("MISSFormer: every stage width must be an even multiple of the first (the bridge width)")
        self.img_size = img_size
        self.multiple = 32
        cins = [in_channels] + dims[:-1]
        self.encoder = nn.ModuleList(
            [
                EncoderStage(cins[i], dims[i], 7 if i == 0 else 3, 4 if i == 0 else 2, int(depths[i]), int(heads[i]), int(reductions[i]))
                for i in range(n)
            ]
        )
        self.bridge = ContextBridge(dims, bridge_heads, bridge_layers)
        decoder: List[nn.Module] = []
        for i in range(n - 1, -1, -1):  # deepest first
            cin = dims[i + 1] // 2 if i < n - 1 else 0
            decoder.append(DecoderStage(cin, dims[i], int(heads[i]), int(reductions[i]), decoder_depth, i < n - 1, i == 0))
        self.decoder = nn.ModuleList(decoder)
        self.output = nn.Conv2d(dims[0], classes, 1)
        init_transformer_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4:
            raise RuntimeError("MISSFormer expects [B, C, H, W]")
        if x.shape[2] % self.multiple != 0 or x.shape[3] % self.multiple != 0:
            raise RuntimeError("MISSFormer: H and W must be multiples of 32")
        feats: List[Tensor] = []
        t = x
        for stage in self.encoder:
            t = stage(t)
            feats.append(t)
        skips = self.bridge(feats)
        y = skips[-1]  # unused by the deepest stage (it has no fusion)
        n = len(skips)
        for j, stage in enumerate(self.decoder):
            y = stage(y, skips[n - 1 - j])
        return self.output(y.permute(0, 3, 1, 2))
