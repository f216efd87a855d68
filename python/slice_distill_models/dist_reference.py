"""The prototype / DIST-loss semantics of docs/design.md in plain PyTorch (autograd does the backward).

Written sample by sample and class by class, as the definitions read, so that it checks the
native fused ops (and their vectorised ATen reference) from an independent angle.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import torch
from torch import Tensor

EPS = 1e-8


def pearson(a: Tensor, b: Tensor, eps: float = EPS) -> Tensor:
    """cos(a - mean(a), b - mean(b)) with eps added to the product of the norms."""
    ac = a - a.mean()
    bc = b - b.mean()
    return (ac * bc).sum() / (ac.norm() * bc.norm() + eps)


def class_prototypes(logits: Tensor, labels: Tensor, num_classes: int, ignore_index: Optional[int] = None) -> Tuple[Tensor, Tensor]:
    """Per sample and class, the mean logit vector over the class's pixels: ([B, K, CH], [B, K])."""
    b, ch = logits.shape[:2]
    x = logits.reshape(b, ch, -1)
    y = labels.reshape(b, -1)
    protos = []
    counts = torch.zeros(b, num_classes, dtype=torch.long)
    for s in range(b):
        rows = []
        for k in range(num_classes):
            mask = y[s] == k
            if ignore_index is not None and k == ignore_index:
                mask = torch.zeros_like(mask)
            n = int(mask.sum())
            counts[s, k] = n
            rows.append(x[s][:, mask].mean(1) if n > 0 else x.new_zeros(ch))
        protos.append(torch.stack(rows))
    return torch.stack(protos), counts


def dist_loss(
    protos: Tensor,
    counts: Tensor,
    teacher: Tensor,
    tau: float = 1.0,
    inter_weight: float = 1.0,
    intra_weight: float = 1.0,
    channels: str = "present",
    teacher_mask: Optional[List[bool]] = None,
) -> Tensor:
    """L_DIST = tau^2 (w_inter mean_b L_inter_b + w_intra mean_b L_intra_b) over the samples having each term.

    L_inter_b (rows, eq. 2): 1 - mean over present classes k of rho(S[k, :], T[k, :]), needs one present class.
    L_intra_b (columns, eq. 3): 1 - mean over the present classes' channels j of rho(S[K_b, j], T[K_b, j]),
    needs three present classes; channels="all" takes every channel and needs two (the first definition).
    A class with teacher_mask False (never seen by the teacher) is absent in every sample.
    """
    if channels not in ("present", "all"):
        raise ValueError("channels: expected 'present' or 'all'")
    t = (teacher.to(protos.dtype) / tau).softmax(-1)
    seen = teacher_mask if teacher_mask is not None else [True] * protos.shape[1]
    inter: List[Tensor] = []
    intra: List[Tensor] = []
    for s in range(protos.shape[0]):
        present = [k for k in range(protos.shape[1]) if counts[s, k] > 0 and seen[k]]
        if not present:
            continue
        S = (protos[s, present] / tau).softmax(-1)  # [m, CH]
        T = t[present]
        inter.append(1 - torch.stack([pearson(S[i], T[i]) for i in range(len(present))]).mean())
        cols = list(range(S.shape[1])) if channels == "all" else present
        if len(present) >= (2 if channels == "all" else 3):
            intra.append(1 - torch.stack([pearson(S[:, j], T[:, j]) for j in cols]).mean())
    zero = protos.new_zeros(())
    inter_mean = torch.stack(inter).mean() if inter else zero
    intra_mean = torch.stack(intra).mean() if intra else zero
    return tau * tau * (inter_weight * inter_mean + intra_weight * intra_mean)


def proto_dist_loss(logits: Tensor, labels: Tensor, teacher: Tensor, tau: float = 1.0, inter_weight: float = 1.0,
                    intra_weight: float = 1.0, ignore_index: Optional[int] = None, channels: str = "present",
                    teacher_mask: Optional[List[bool]] = None) -> Tensor:
    protos, counts = class_prototypes(logits, labels, teacher.shape[0], ignore_index)
    return dist_loss(protos, counts, teacher, tau, inter_weight, intra_weight, channels, teacher_mask)


def teacher_prototype(logits: Tensor, labels: Tensor, num_classes: int, mode: str = "slice-mean") -> Tuple[Tensor, Tensor]:
    """Teacher prototype from 3D logits [B, CH, D, H, W]: class means per axial slice, then averaged."""
    b, ch, d = logits.shape[:3]
    slices = logits.permute(0, 2, 1, 3, 4).reshape(b * d, ch, -1).double()
    y = labels.reshape(b * d, -1)
    total = torch.zeros(num_classes, ch, dtype=torch.float64)
    count = torch.zeros(num_classes, dtype=torch.float64)
    for s in range(b * d):
        for k in range(num_classes):
            mask = y[s] == k
            n = int(mask.sum())
            if n == 0:
                continue
            if mode == "slice-mean":
                total[k] += slices[s][:, mask].mean(1)
                count[k] += 1
            else:
                total[k] += slices[s][:, mask].sum(1)
                count[k] += n
    return total / count.clamp_min(1).unsqueeze(1), count


def proto_dist_loss_onehot(logits: Tensor, labels: Tensor, teacher: Tensor, tau: float = 1.0, inter_weight: float = 1.0,
                           intra_weight: float = 1.0) -> Tensor:
    """The same loss (channels "present", every class seen) as a Python user would vectorise it
    (one-hot einsum, masked Pearson): the Python baseline of the benchmarks. Labels in [0, K)."""
    b, ch = logits.shape[:2]
    k = teacher.shape[0]
    x = logits.reshape(b, ch, -1)
    onehot = torch.nn.functional.one_hot(labels.reshape(b, -1), k).to(x.dtype)  # [B, N, K]
    counts = onehot.sum(1)  # [B, K]
    protos = torch.einsum("bcn,bnk->bkc", x, onehot) / counts.clamp_min(1).unsqueeze(-1)
    s = (protos / tau).softmax(-1)
    t = (teacher.to(x.dtype) / tau).softmax(-1)
    present = (counts > 0).to(x.dtype)
    m = present.sum(1)

    def norm(v: Tensor, dim: int) -> Tensor:
        return (v * v).sum(dim).clamp_min(1e-300).sqrt()

    sc, tc = s - s.mean(-1, keepdim=True), t - t.mean(-1, keepdim=True)
    rho = (sc * tc).sum(-1) / (norm(sc, -1) * norm(tc, -1) + EPS)
    inter = 1 - (rho * present).sum(1) / m.clamp_min(1)
    mask = present.unsqueeze(-1)
    tb = t.unsqueeze(0).expand_as(s)
    denom = m.clamp_min(1).view(-1, 1, 1)
    sc2 = (s - (s * mask).sum(1, keepdim=True) / denom) * mask
    tc2 = (tb - (tb * mask).sum(1, keepdim=True) / denom) * mask
    rho2 = (sc2 * tc2).sum(1) / (norm(sc2, 1) * norm(tc2, 1) + EPS)
    intra = 1 - (rho2 * present).sum(-1) / m.clamp_min(1)
    has_inter, has_intra = (m >= 1).to(x.dtype), (m >= 3).to(x.dtype)
    inter_mean = (inter * has_inter).sum() / has_inter.sum().clamp_min(1)
    intra_mean = (intra * has_intra).sum() / has_intra.sum().clamp_min(1)
    return tau * tau * (inter_weight * inter_mean + intra_weight * intra_mean)
