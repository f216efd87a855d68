"""Key mappings from published checkpoints to this zoo's state_dict names.

Each mapping is a declared table of (pattern, replacement) rules over the source's keys, a set of
source keys left out on purpose (heads the zoo replaces), the output head kept from the source
only where its shape fits (another class count re-initialises it), and the transforms some
tensors need (an RGB stem collapsed to the one CT channel). `map_state_dict` applies one and
reports, by name, what the target model misses, what the source holds that nothing maps, what
does not fit in shape, and what was re-initialised; `strict` turns any of the first three into
an error.

Sources:
  torchvision-resnet50   torchvision.models.resnet50 (ImageNet), keys conv1 / bn1 / layerN / fc
  torchvision-deeplabv3  torchvision.models.segmentation.deeplabv3_resnet50 (COCO-VOC), keys
                         backbone.* / classifier.0 (ASPP) / classifier.1-4 / aux_classifier.*
  timm-swin              timm's swin_tiny_patch4_window7_224 (timm >= 0.9 names: the patch
                         merging at the start of stages 1-3), into the Swin-Unet encoder; each
                         encoder stage's blocks also start the decoder stage that mirrors it, as
                         Swin-Unet's own loading of Swin-T does
  monai-unest            the UNesT of MONAI's model-zoo bundle renalStructures_UNEST_segmentation
                         (models/model.pt; scripts/networks/unest.py, nest_transformer_3D.py,
                         unest_block.py), keys nestViT.* (the NesT encoder) / encoder1-4 /
                         encoder10 (bottleneck) / decoder1-5 / out, into the whole UNesT (base
                         preset: every tensor has its place); its 4-class head (background and
                         three renal structures) is re-initialised for another class count
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn


def collapse_rgb(w: Tensor) -> Tensor:
    """A conv weight [out, 3, ...] for RGB input as one for a single channel: the sum over the
    input channels, so one-channel x gives what x repeated to three channels gave."""
    return w.sum(dim=1, keepdim=True) if w.dim() >= 3 and w.shape[1] == 3 else w


# A rule's replacement: a re.sub template, or a function of the match giving one or more target
# keys (the first is the key's own place; further ones are copies, e.g. into the decoder).
Replacement = Union[str, Callable[["re.Match[str]"], List[str]]]


@dataclass(frozen=True)
class WeightMap:
    name: str
    arch: str
    source: str
    rules: Sequence[Tuple[str, Replacement]]
    # source keys that are dropped on purpose (a classification head, an auxiliary head)
    dropped: Sequence[str] = ()
    # target keys that are re-initialised on purpose (e.g. the last classifier layer)
    reinitialised: Sequence[str] = ()
    # target keys of the output head: loaded where the source's shape fits, re-initialised (and
    # reported as such, not as a mismatch) where it does not, i.e. for another class count
    head: Sequence[str] = ()
    # the part of the target the source covers (regex); the rest keeps its initialisation
    covers: str = r".*"
    transforms: Dict[str, Callable[[Tensor], Tensor]] = field(default_factory=dict)


_RESNET_BODY = [
    (r"^conv1\.(.*)$", r"backbone.stem.0.\1"),
    (r"^bn1\.(.*)$", r"backbone.stem.1.\1"),
    (r"^(layer[1-4]\..*)$", r"backbone.\1"),
]

def _swin_block(m: "re.Match[str]") -> List[str]:
    stage, rest = int(m.group(1)), m.group(2)
    out = [f"layers.{stage}.blocks.{rest}"]
    if stage <= 2:  # decoder stage j mirrors encoder stage 2 - j (the deepest has no decoder twin)
        out.append(f"layers_up.{2 - stage}.blocks.{rest}")
    return out


_SWIN_RULES: List[Tuple[str, Replacement]] = [
    (r"^patch_embed\.proj\.(.*)$", r"patch_embed.\1"),
    (r"^patch_embed\.norm\.(.*)$", r"patch_norm.\1"),
    # timm merges at the start of stage i (1-3); this encoder at the end of stage i - 1
    (r"^layers\.([1-3])\.downsample\.(.*)$", lambda m: [f"layers.{int(m.group(1)) - 1}.downsample.{m.group(2)}"]),
    (r"^layers\.([0-3])\.blocks\.(.*)$", _swin_block),
    (r"^norm\.(.*)$", r"norm.\1"),
]

# MONAI's UNesT: the NesT encoder sits under nestViT; MONAI's Convolution wraps every decoder
# conv in a `.conv` child and UNesTConvBlock its residual block in `.layer`, neither of which
# this zoo has. conv1-3 are the residual blocks' two 3^3 convs and the 1^3 projection.
_MONAI_UNEST_RULES: List[Tuple[str, Replacement]] = [
    (r"^nestViT\.patch_embed\.proj\.(.*)$", r"patch_embed.\1"),
    (r"^nestViT\.levels\.(\d+)\.transformer_encoder\.(.*)$", r"levels.\1.blocks.\2"),
    (r"^nestViT\.(levels\.\d+\.(?:pos_embed|pool\..*)|norm\..*)$", r"\1"),
    (r"^(encoder[134])\.layer\.(conv[1-3])\.conv\.(.*)$", r"\1.\2.\3"),
    (r"^encoder2\.transp_conv_init\.conv\.(.*)$", r"encoder2.up.\1"),
    (r"^encoder2\.blocks\.0\.conv\.(.*)$", r"encoder2.proj.\1"),
    (r"^(decoder[1-5])\.transp_conv\.conv\.(.*)$", r"\1.up.\2"),
    (r"^(decoder[1-5])\.conv_block\.(conv[1-3])\.conv\.(.*)$", r"\1.block.\2.\3"),
    (r"^encoder10\.conv\.(.*)$", r"bottleneck.\1"),
    (r"^encoder10\.adn\.A\.(.*)$", r"bottleneck_act.\1"),  # PReLU (ADN order: act, dropout, norm)
    (r"^out\.conv\.conv\.(.*)$", r"head.\1"),
]

WEIGHT_MAPS: Dict[str, WeightMap] = {
    m.name: m
    for m in [
        WeightMap(
            name="torchvision-resnet50",
            arch="deeplabv3",
            source="torchvision.models.resnet50 state_dict (ImageNet)",
            rules=_RESNET_BODY,
            dropped=[r"^fc\."],
            covers=r"^backbone\.",
            transforms={"backbone.stem.0.weight": collapse_rgb},
        ),
        WeightMap(
            name="torchvision-deeplabv3",
            arch="deeplabv3",
            source="torchvision.models.segmentation.deeplabv3_resnet50 state_dict",
            rules=[
                *[(r"^backbone\." + a[1:], b) for a, b in _RESNET_BODY],
                # ASPP: four conv branches (conv, bn), image pooling (pool, conv, bn), projection
                (r"^classifier\.0\.convs\.([0-3])\.([01])\.(.*)$", r"aspp.branches.\1.\2.\3"),
                (r"^classifier\.0\.convs\.4\.1\.(.*)$", r"aspp.branches.4.conv.0.\1"),
                (r"^classifier\.0\.convs\.4\.2\.(.*)$", r"aspp.branches.4.conv.1.\1"),
                (r"^classifier\.0\.project\.([01])\.(.*)$", r"aspp.project.0.\1.\2"),
                (r"^classifier\.1\.(.*)$", r"head.0.\1"),
                (r"^classifier\.2\.(.*)$", r"head.1.\1"),
            ],
            dropped=[r"^aux_classifier\.", r"^classifier\.4\."],
            reinitialised=["classifier.weight", "classifier.bias"],
            transforms={"backbone.stem.0.weight": collapse_rgb},
        ),
        WeightMap(
            name="timm-swin",
            arch="swin_unet",
            source="timm swin_tiny_patch4_window7_224 state_dict",
            rules=_SWIN_RULES,
            # Swin-Unet's stages are 2/2/2/2 blocks deep: Swin-T's third stage has six, the first
            # two are taken; the classification head is not used
            dropped=[r"^head\.", r"^layers\.2\.blocks\.[2-5]\."],
            covers=r"^(patch_embed\.|patch_norm\.|layers\.|norm\.|layers_up\.\d+\.blocks\.)",
            transforms={"patch_embed.weight": collapse_rgb},
        ),
        WeightMap(
            name="monai-unest",
            arch="unest",
            source="MONAI model-zoo renalStructures_UNEST_segmentation models/model.pt",
            rules=_MONAI_UNEST_RULES,
            head=["head.weight", "head.bias"],
        ),
    ]
}


class MappingError(Exception):
    """A checkpoint that does not fit the architecture under a mapping (strict), or an unknown mapping."""


@dataclass
class MappingReport:
    mapping: str
    mapped: List[str]
    missing: List[str]
    unexpected: List[str]
    mismatched: List[str]
    dropped: List[str]
    reinitialised: List[str]
    uncovered: int = 0  # target tensors outside the source's part, left as initialised
    # the head keys among `reinitialised` whose source tensor was of another shape (another
    # class count), as "source -> target: file [...] vs model [...]"; their source keys are in `dropped`
    head_reinitialised: List[str] = field(default_factory=list)

    def problems(self) -> bool:
        return bool(self.missing or self.unexpected or self.mismatched)

    def as_dict(self) -> Dict[str, object]:
        return {
            "mapping": self.mapping,
            "mapped": len(self.mapped),
            "missing": self.missing,
            "unexpected": self.unexpected,
            "mismatched": self.mismatched,
            "dropped": len(self.dropped),
            "reinitialised": self.reinitialised,
            "uncovered": self.uncovered,
        }

    def describe(self) -> str:
        lines = [
            f"{self.mapping}: {len(self.mapped)} tensors mapped, {len(self.dropped)} dropped on purpose, "
            f"{self.uncovered} of the model outside the checkpoint's part (initialised as usual)"
        ]
        for title, items in (("missing", self.missing), ("unexpected", self.unexpected), ("shape mismatches", self.mismatched)):
            if items:
                shown = ", ".join(items[:20]) + (f", ... and {len(items) - 20} more" if len(items) > 20 else "")
                lines.append(f"  {title} ({len(items)}): {shown}")
        if self.reinitialised:
            lines.append(f"  re-initialised: {', '.join(self.reinitialised)}")
        if self.head_reinitialised:
            lines.append(f"  head of another shape, re-initialised: {'; '.join(self.head_reinitialised)}")
        return "\n".join(lines)


def _target_keys(rules: Sequence[Tuple[str, Replacement]], key: str) -> Optional[List[str]]:
    for pattern, replacement in rules:
        m = re.match(pattern, key)
        if m:
            return [m.expand(replacement)] if isinstance(replacement, str) else replacement(m)
    return None


def map_state_dict(model: nn.Module, state: Dict[str, Tensor], mapping: str, strict: bool = False) -> MappingReport:
    """Loads `state` (the source's names) into `model` through `mapping`; what maps and fits is
    loaded, the rest keeps the model's initialisation. A `head` tensor of another shape is no
    mismatch: its source key counts as dropped, its target as re-initialised. Raises MappingError
    under `strict` when anything is missing, unexpected or of another shape."""
    if mapping not in WEIGHT_MAPS:
        raise MappingError(f"unknown weights format '{mapping}'; known: {', '.join(sorted(WEIGHT_MAPS))}")
    m = WEIGHT_MAPS[mapping]
    expected = model.state_dict()
    loaded: Dict[str, Tensor] = {}
    mapped: List[str] = []
    unexpected: List[str] = []
    dropped: List[str] = []
    mismatched: List[str] = []
    head_reinit: List[str] = []  # head tensors of another shape, described for the report
    head_sources: Dict[str, str] = {}  # every head key met: target -> source key
    for key, value in state.items():
        if any(re.match(p, key) for p in m.dropped):
            dropped.append(key)
            continue
        targets = _target_keys(m.rules, key)
        if targets is None or targets[0] not in expected:
            unexpected.append(key if targets is None else f"{key} (-> {targets[0]}, not in the model)")
            continue
        fitted = False
        for i, target in enumerate(targets):
            if target not in expected:
                continue  # a copy the model has no place for (e.g. a shallower decoder stage)
            tensor = m.transforms.get(target, lambda t: t)(value)
            head = i == 0 and target in m.head
            if head:
                head_sources[target] = key
            if tuple(tensor.shape) != tuple(expected[target].shape):
                if i == 0:
                    what = f"{key} -> {target}: file {list(tensor.shape)} vs model {list(expected[target].shape)}"
                    (head_reinit if head else mismatched).append(what)
                continue
            loaded[target] = tensor
            fitted = fitted or i == 0
        if fitted:
            mapped.append(key)
    # another class count: the head keeps its initialisation as a whole (no bias kept beside a
    # new weight), its source keys count as dropped
    head_targets = [t for t in m.head if t in head_sources] if head_reinit else []
    for target in head_targets:
        key = head_sources[target]
        loaded.pop(target, None)
        if key in mapped:
            mapped.remove(key)
        dropped.append(key)
    # BatchNorm's num_batches_tracked is absent from some older files: not worth a complaint
    covered = [k for k in expected if re.match(m.covers, k)]
    skipped = set(m.reinitialised) | set(head_targets)
    missing = [k for k in covered if k not in loaded and k not in skipped and not k.endswith("num_batches_tracked")]
    reinit = [k for k in m.reinitialised if k in expected] + [k for k in head_targets if k not in m.reinitialised]
    report = MappingReport(
        mapping, mapped, missing, unexpected, mismatched, dropped, reinit, len(expected) - len(covered), head_reinit
    )
    if strict and report.problems():
        raise MappingError(f"weights do not fit {m.arch} under {mapping} (--strict):\n{report.describe()}")
    with torch.no_grad():
        for k, v in loaded.items():
            expected[k].copy_(v.to(expected[k].dtype))
    return report


def formats_for(arch: str) -> List[str]:
    return sorted(n for n, m in WEIGHT_MAPS.items() if m.arch == arch)
