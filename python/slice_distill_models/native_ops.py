"""Builds native/ops (the Node addon's math sources) as a PyTorch C++/CUDA extension.

    from slice_distill_models.native_ops import load
    ext = load()            # compiled once, cached under ~/.cache/slice-distill/torch-ext
    loss = ext.proto_dist_loss(logits, labels, teacher)

The CUDA kernels (native/ops/proto_kernels.cu) are included where torch has CUDA and nvcc
is found, so the same code can be tested and timed against Python on a GPU machine that
has no Node.
"""
from __future__ import annotations

import glob
import os
import shutil

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NATIVE = os.path.join(ROOT, "native")


def with_cuda() -> bool:
    return torch.version.cuda is not None and shutil.which(os.environ.get("NVCC", "nvcc")) is not None


def openmp_runtime() -> str:
    """LibTorch's own OpenMP runtime where torch parallelises with OpenMP (else ''): linked
    instead of the compiler's, so that one runtime serves the process. The addon's build asks
    scripts/libtorch.mjs (openmpRuntime) the same; this side runs where there is no Node."""
    if not torch.backends.openmp.is_available():
        return ""
    lib = os.path.join(os.path.dirname(torch.__file__), "lib")
    bundled = sorted(f for f in os.listdir(lib) if f.startswith(("libgomp", "libiomp5")) and ".so" in f)
    return os.path.join(lib, bundled[0]) if bundled else "-fopenmp"


def load(verbose: bool = False):
    from torch.utils.cpp_extension import load as build

    cuda = with_cuda()
    sources = sorted(glob.glob(os.path.join(NATIVE, "ops", "*.cc")))
    sources.append(os.path.join(os.path.dirname(__file__), "csrc", "extension.cc"))
    flags = ["-O3"]
    ldflags = []
    runtime = openmp_runtime()
    if runtime:  # as the addon: at::parallel_for splits work only in code compiled with OpenMP
        flags.append("-fopenmp")
        ldflags.append(runtime)
    if cuda:
        sources.append(os.path.join(NATIVE, "ops", "proto_kernels.cu"))
        flags.append("-DSD_WITH_CUDA=1")
    name = "slice_distill_ops_cuda" if cuda else "slice_distill_ops_cpu"
    build_dir = os.environ.get("SLICE_DISTILL_EXT_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "slice-distill", "torch-ext", name + "-" + torch.__version__.replace("+", "_")
    )
    os.makedirs(build_dir, exist_ok=True)
    return build(
        name=name,
        sources=sources,
        extra_include_paths=[NATIVE],
        extra_cflags=flags,
        extra_ldflags=ldflags,
        extra_cuda_cflags=["-O3", "--expt-relaxed-constexpr", "-DSD_WITH_CUDA=1"],
        build_directory=build_dir,
        verbose=verbose,
    )
