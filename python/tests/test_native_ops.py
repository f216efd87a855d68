"""native/ops built as a PyTorch extension against the Python reference of the DIST semantics.

    PYTHONPATH=python python -m unittest python/tests/test_native_ops.py

On a machine with CUDA the same checks run on the GPU kernels too.
"""
from __future__ import annotations

import unittest

import torch

from slice_distill_models import dist_reference as ref
from slice_distill_models.native_ops import load

EXT = load()


def case(device: str, dtype: torch.dtype, shape, seed: int = 0, ignore=None):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, generator=g, dtype=torch.float64)
    y = torch.randint(0, shape[1] - 1, [shape[0]] + list(shape[2:]), generator=g)  # the last class is absent
    y[0].zero_()  # a background-only sample
    if ignore is not None:
        y.view(-1)[::4] = ignore
    t = torch.randn(shape[1], shape[1], generator=g, dtype=torch.float64) * 3
    return x.to(device, dtype).requires_grad_(), y.to(device), t.to(device)


class NativeOpsAgainstReference(unittest.TestCase):
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() and hasattr(EXT, "proto_dist_loss") else [])

    def check(self, device: str, dtype: torch.dtype, shape, tol: float, ignore=None, tau: float = 1.0,
              channels: str = "present", mask=None) -> None:
        x, y, t = case(device, dtype, shape, ignore=ignore)
        loss = EXT.proto_dist_loss(x, y, t, tau=tau, inter_weight=1.0, intra_weight=0.5, ignore_index=ignore,
                                   channels=channels, teacher_mask=mask or [])
        (grad,) = torch.autograd.grad(loss, x)
        xr = x.detach().cpu().double().requires_grad_()
        want = ref.proto_dist_loss(xr, y.cpu(), t.cpu(), tau, 1.0, 0.5, ignore, channels, mask)
        (want_grad,) = torch.autograd.grad(want, xr)
        self.assertLessEqual(abs(loss.item() - want.item()), tol * abs(want.item()))
        scale = want_grad.abs().max().item()
        self.assertLessEqual((grad.cpu().double() - want_grad).abs().max().item(), tol * scale)

    def test_float64_2d_and_3d(self) -> None:
        for device in self.devices:
            self.check(device, torch.float64, [3, 5, 6, 7], 1e-6)
            self.check(device, torch.float64, [2, 5, 3, 4, 5], 1e-6, ignore=255, tau=2.0)

    def test_channels_and_unseen_classes(self) -> None:
        for device in self.devices:
            self.check(device, torch.float64, [3, 5, 6, 7], 1e-6, channels="all")
            self.check(device, torch.float64, [3, 5, 6, 7], 1e-6, mask=[True, False, True, True, True])
            self.check(device, torch.float64, [2, 5, 3, 4, 5], 1e-6, ignore=255, channels="all", mask=[False, True, True, True, True])

    def test_float32(self) -> None:
        for device in self.devices:
            self.check(device, torch.float32, [4, 7, 16, 16], 1e-4)

    def test_fused_equals_aten_reference(self) -> None:
        for device in self.devices:
            x, y, t = case(device, torch.float64, [2, 6, 8, 8], seed=3)
            a = EXT.proto_dist_loss(x, y, t)
            b = EXT.proto_dist_loss(x, y, t, reference=True)
            ga, = torch.autograd.grad(a, x)
            gb, = torch.autograd.grad(b, x)
            self.assertAlmostEqual(a.item(), b.item(), places=12)
            self.assertLess((ga - gb).abs().max().item(), 1e-12)

    def test_prototypes_and_counts(self) -> None:
        for device in self.devices:
            x, y, _ = case(device, torch.float64, [2, 5, 4, 4], seed=5)
            p, n = EXT.class_prototypes(x, y, 5)
            pr, nr = ref.class_prototypes(x.detach().cpu(), y.cpu(), 5)
            self.assertTrue(torch.equal(n.cpu(), nr))
            self.assertLess((p.detach().cpu() - pr).abs().max().item(), 1e-12)

    def test_errors(self) -> None:
        x, y, t = case("cpu", torch.float32, [2, 5, 4, 4])
        with self.assertRaisesRegex(IndexError, "outside"):  # std::out_of_range -> IndexError
            EXT.proto_dist_loss(x, y + 10, t)
        with self.assertRaises((ValueError, TypeError)):  # std::invalid_argument
            EXT.proto_dist_loss(x, y.float(), t)


if __name__ == "__main__":
    unittest.main()
