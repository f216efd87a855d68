"""The model zoo: UNesT (3D teacher), DeepLabv3, Swin-Unet and MISSFormer (2D students)."""
from .registry import ARCHS, PRESETS, REFERENCE_PARAMS, Preset, arch_names, build_model, preset

__all__ = ["ARCHS", "PRESETS", "REFERENCE_PARAMS", "Preset", "arch_names", "build_model", "preset"]
