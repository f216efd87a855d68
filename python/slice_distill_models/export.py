"""Export a model of the zoo as a TorchScript archive that slice-distill loads and trains.

    python -m slice_distill_models.export --arch unest|deeplabv3|swin_unet|missformer \\
        --preset base|tiny --classes 7 --out model.pt [--weights state_dict.pt] [--seed 0]
    python -m slice_distill_models.export --arch deeplabv3 --weights resnet50.pth \
        --weights-format torchvision-resnet50 [--strict] --out model.pt
    python -m slice_distill_models.export --arch swin_unet --preset base --print-params

The model is built (seeded), optionally loaded with a Python state_dict (strictly: every key
present, none extra, same shapes; or, with --weights-format, a published checkpoint mapped to
this zoo's names by weight_maps.py, which reports what it could not map), put in eval mode, compiled with torch.jit.script (never
traced, so BatchNorm / Dropout still switch with train() / eval()), checked with one forward
on a zero input of the preset size, and written atomically with a `metadata.json` extra file
(arch, preset, classes, inputSize, spatialDims, inChannels, format, torchVersion, ...).

On success the last line of stdout is JSON: {"path": ..., "metadata": {...}}.
Exit codes: 0 ok, 2 weights that do not fit (or cannot be read) / bad arguments, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Sequence

import torch
from torch import Tensor, nn

from .models.registry import IN_CHANNELS, PRESETS, arch_names, build_model, preset
from .weight_maps import WEIGHT_MAPS, MappingError, map_state_dict

FORMAT = "slice-distill-model/1"
METADATA_FILE = "metadata.json"
_WRAPPER_KEYS = ("state_dict", "model", "model_state_dict", "net")
_PREFIXES = ("module.", "_orig_mod.")
_LIST_LIMIT = 20


class WeightsError(Exception):
    """A weights file that cannot be read, or whose tensors do not fit the architecture."""


def _read_weights_file(path: str) -> Any:
    if not os.path.isfile(path):
        raise WeightsError(f"weights file not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as first:  # noqa: BLE001 - a TorchScript archive is tried next
        try:
            return torch.jit.load(path, map_location="cpu").state_dict()
        except Exception:  # noqa: BLE001
            raise WeightsError(f"cannot read weights from {path}: {first}") from first


def extract_state_dict(obj: Any, source: str = "weights") -> Dict[str, Tensor]:
    """A flat {name: tensor} from a state_dict or a checkpoint dict holding one under a usual key;
    'module.' (DataParallel / DDP) and '_orig_mod.' (torch.compile) prefixes are removed."""
    if not isinstance(obj, Mapping):
        raise WeightsError(f"{source}: expected a state_dict (a dict of tensors), got {type(obj).__name__}")
    if not any(isinstance(v, Tensor) for v in obj.values()):
        for key in _WRAPPER_KEYS:
            if isinstance(obj.get(key), Mapping):
                obj = obj[key]
                break
        else:
            keys = ", ".join(sorted(str(k) for k in obj)[:_LIST_LIMIT])
            raise WeightsError(
                f"{source}: no tensors found; expected a state_dict or a dict with one of "
                f"{', '.join(_WRAPPER_KEYS)} (keys present: {keys})"
            )
    out: Dict[str, Tensor] = {}
    for key, value in obj.items():
        name = str(key)
        changed = True
        while changed:
            changed = False
            for prefix in _PREFIXES:
                if name.startswith(prefix):
                    name = name[len(prefix) :]
                    changed = True
        if not isinstance(value, Tensor):
            raise WeightsError(f"{source}: entry {key!r} is a {type(value).__name__}, not a tensor")
        out[name] = value
    return out


def _listing(title: str, items: List[str]) -> str:
    shown = items[:_LIST_LIMIT]
    more = f", ... and {len(items) - len(shown)} more" if len(items) > len(shown) else ""
    return f"  {title} ({len(items)}): {', '.join(shown)}{more}"


def load_weights(model: nn.Module, state: Dict[str, Tensor], source: str = "weights") -> None:
    """Strict load; raises WeightsError listing missing keys, unexpected keys and shape mismatches."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    mismatched = [
        f"{k}: file {list(state[k].shape)} vs model {list(expected[k].shape)}"
        for k in expected
        if k in state and tuple(state[k].shape) != tuple(expected[k].shape)
    ]
    if missing or unexpected or mismatched:
        lines = [f"{source} does not fit the model ({len(state)} tensors in the file, {len(expected)} expected):"]
        if missing:
            lines.append(_listing("missing keys", missing))
        if unexpected:
            lines.append(_listing("unexpected keys", unexpected))
        if mismatched:
            lines.append(_listing("shape mismatches", mismatched))
        raise WeightsError("\n".join(lines))
    model.load_state_dict(state, strict=True)


def parameter_count(arch: str, preset_name: str, classes: int) -> int:
    """Counted on the meta device: nothing is allocated, so base presets are cheap."""
    with torch.device("meta"):
        model = build_model(arch, preset_name, classes)
    return sum(p.numel() for p in model.parameters())


def metadata_for(
    arch: str, preset_name: str, classes: int, parameters: int, seed: int, weights: Optional[str], weights_format: Optional[str] = None
) -> Dict[str, Any]:
    p = preset(arch, preset_name)
    return {
        "format": FORMAT,
        "arch": arch,
        "preset": preset_name,
        "classes": classes,
        "inputSize": list(p.input_size),
        "spatialDims": p.spatial_dims,
        "inChannels": IN_CHANNELS,
        "output": "logits",
        "parameters": parameters,
        "config": {k: list(v) if isinstance(v, (tuple, list)) else v for k, v in p.config.items()},
        "seed": seed,
        "weights": os.path.basename(weights) if weights else None,
        "weightsFormat": weights_format if weights else None,
        "torchVersion": torch.__version__,
    }


def export_model(
    arch: str,
    preset_name: str,
    classes: int,
    out: str,
    weights: Optional[str] = None,
    seed: int = 0,
    check: bool = True,
    weights_format: Optional[str] = None,
    strict: bool = False,
) -> Dict[str, Any]:
    """Builds, loads, scripts, checks and saves; returns the metadata written (with the mapping's
    report under "weightsReport" where a weights format was given)."""
    p = preset(arch, preset_name)
    torch.manual_seed(seed)
    model = build_model(arch, preset_name, classes)
    report = None
    if weights and weights_format:
        if weights_format not in WEIGHT_MAPS:
            raise WeightsError(f"--weights-format: unknown '{weights_format}'; known: {', '.join(sorted(WEIGHT_MAPS))}")
        if WEIGHT_MAPS[weights_format].arch != arch:
            raise WeightsError(f"--weights-format {weights_format} maps to {WEIGHT_MAPS[weights_format].arch}, not {arch}")
        try:
            report = map_state_dict(model, extract_state_dict(_read_weights_file(weights), weights), weights_format, strict)
        except MappingError as e:
            raise WeightsError(f"{weights}: {e}") from e
        print(report.describe(), file=sys.stderr)
    elif weights:
        load_weights(model, extract_state_dict(_read_weights_file(weights), weights), weights)
    model.eval()
    scripted = torch.jit.script(model)
    scripted.eval()
    if check:
        with torch.no_grad():
            y = scripted(torch.zeros(1, IN_CHANNELS, *p.input_size))
        want = [1, classes, *p.input_size]
        if list(y.shape) != want:
            raise RuntimeError(f"{arch}/{preset_name}: output shape {list(y.shape)} != {want}")
    parameters = sum(t.numel() for t in model.parameters())
    meta = metadata_for(arch, preset_name, classes, parameters, seed, weights, weights_format)

    out = os.path.abspath(out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = os.path.join(os.path.dirname(out), f".{os.path.basename(out)}.{os.getpid()}.tmp")
    try:
        torch.jit.save(scripted, tmp, _extra_files={METADATA_FILE: json.dumps(meta)})
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return {**meta, "weightsReport": report.as_dict()} if report else meta


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m slice_distill_models.export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--arch", required=True, choices=arch_names())
    ap.add_argument("--preset", default="base", choices=sorted({n for p in PRESETS.values() for n in p}))
    ap.add_argument("--classes", type=int, default=7, help="output channels C (default 7)")
    ap.add_argument("--out", help="TorchScript file to write")
    ap.add_argument("--weights", help="a Python state_dict (.pt / .pth) to load before export")
    ap.add_argument("--weights-format", choices=sorted(WEIGHT_MAPS), help="the checkpoint's origin, mapped to this zoo's names")
    ap.add_argument("--strict", action="store_true", help="with --weights-format: fail on any missing, unexpected or mismatched key")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random initialisation (default 0)")
    ap.add_argument("--print-params", action="store_true", help="print the parameter count as JSON")
    ap.add_argument("--no-check", action="store_true", help="skip the forward on a zero input")
    return ap


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    # torch 2.13 flags torch.jit as deprecated; TorchScript is this project's format, keep stderr for real errors
    warnings.filterwarnings("ignore", message=r"`torch\.jit\.", category=DeprecationWarning)
    try:
        if args.classes < 1:
            raise WeightsError("--classes must be >= 1")
        preset(args.arch, args.preset)
        if not args.out and not args.print_params:
            raise WeightsError("--out is required (or --print-params alone)")
        if not args.out:
            n = parameter_count(args.arch, args.preset, args.classes)
            print(json.dumps({"arch": args.arch, "preset": args.preset, "classes": args.classes, "parameters": n}))
            return 0
        if args.weights_format and not args.weights:
            raise WeightsError("--weights-format needs --weights")
        meta = export_model(
            args.arch, args.preset, args.classes, args.out, args.weights, args.seed, not args.no_check, args.weights_format, args.strict
        )
        if args.print_params:
            print(json.dumps({"arch": args.arch, "preset": args.preset, "classes": args.classes, "parameters": meta["parameters"]}))
        print(json.dumps({"path": os.path.abspath(args.out), "metadata": meta}))
        return 0
    except (WeightsError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
