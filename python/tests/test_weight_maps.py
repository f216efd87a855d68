"""Published checkpoints through weight_maps.py, against the libraries that define them.

torchvision is an optional test dependency (built with weights=None: nothing is downloaded); the
tests skip where it cannot be imported (the local index's torchvision needs a CUDA torch):

    PYTHONPATH=python:EXTRA python -m unittest python/tests/test_weight_maps.py
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unittest

import torch

from slice_distill_models.models import build_model
from slice_distill_models.weight_maps import MappingError, map_state_dict

try:
    import torchvision  # noqa: F401
    from torchvision.models import resnet18, resnet50
    from torchvision.models.segmentation import deeplabv3_resnet50

    HAVE_TORCHVISION = True
except Exception:  # noqa: BLE001 - absent, or a build that does not load against this torch
    HAVE_TORCHVISION = False

try:
    import timm

    HAVE_TIMM = True
except Exception:  # noqa: BLE001 - timm needs torchvision, see above
    HAVE_TIMM = False

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def randomise_batchnorm(model: torch.nn.Module, seed: int) -> None:
    """Running statistics and affine terms away from 0 / 1, so eval-mode BatchNorm is no identity."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)


def resnet_features(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
    return net.layer4(net.layer3(net.layer2(net.layer1(x))))


def close(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest difference relative to the features' scale."""
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-12))


@unittest.skipUnless(HAVE_TORCHVISION, "torchvision not importable here")
class TorchvisionMaps(unittest.TestCase):
    def setUp(self) -> None:
        torch.manual_seed(0)
        self.x = torch.rand(2, 1, 64, 64)

    def test_resnet50_maps_to_the_backbone_and_gives_torchvision_features(self) -> None:
        tv = resnet50(weights=None, replace_stride_with_dilation=[False, True, True])
        randomise_batchnorm(tv, 1)
        model = build_model("deeplabv3", "base", 7)
        report = map_state_dict(model, tv.state_dict(), "torchvision-resnet50", strict=True)
        self.assertEqual(len(report.mapped), len(tv.state_dict()) - 2)  # all but fc.weight / fc.bias
        self.assertEqual(sorted(report.dropped), ["fc.bias", "fc.weight"])
        # the one-channel stem is the sum of the RGB one
        self.assertTrue(torch.equal(model.backbone.stem[0].weight, tv.conv1.weight.sum(1, keepdim=True)))
        model.eval()
        tv.eval()
        with torch.no_grad():
            ours = model.backbone(self.x)
            theirs = resnet_features(tv, self.x.repeat(1, 3, 1, 1))
        self.assertEqual(ours.shape, theirs.shape)
        self.assertLess(close(ours, theirs), 1e-5)

    def test_deeplabv3_maps_backbone_and_aspp_and_reinitialises_the_classifier(self) -> None:
        tv = deeplabv3_resnet50(weights=None, weights_backbone=None, num_classes=21, aux_loss=True)
        randomise_batchnorm(tv, 2)
        model = build_model("deeplabv3", "base", 7)
        before = model.classifier.weight.clone()
        report = map_state_dict(model, tv.state_dict(), "torchvision-deeplabv3", strict=True)
        self.assertEqual(report.reinitialised, ["classifier.weight", "classifier.bias"])
        self.assertTrue(all(k.startswith(("aux_classifier.", "classifier.4.")) for k in report.dropped))
        self.assertTrue(torch.equal(model.classifier.weight, before))
        model.eval()
        tv.eval()
        with torch.no_grad():
            ours = model.head(model.aspp(model.backbone(self.x)))
            head = torch.nn.Sequential(*list(tv.classifier.children())[:4])  # all but the last 1x1 conv
            theirs = head(tv.backbone(self.x.repeat(1, 3, 1, 1))["out"])
        self.assertLess(close(ours, theirs), 1e-5)

    def test_a_wrong_file_is_reported_by_name_and_refused_when_strict(self) -> None:
        wrong = resnet18(weights=None).state_dict()  # basic blocks: other names and shapes
        wrong["extra.weight"] = torch.zeros(3)
        model = build_model("deeplabv3", "base", 7)
        report = map_state_dict(model, wrong, "torchvision-resnet50")
        self.assertTrue(report.missing and report.mismatched and report.unexpected)
        self.assertIn("backbone.layer1.0.conv3.weight", report.missing)
        self.assertIn("extra.weight", report.unexpected)
        self.assertTrue(any(m.startswith("layer1.0.conv1.weight -> backbone.layer1.0.conv1.weight: file [64, 64, 3, 3]") for m in report.mismatched))
        with self.assertRaises(MappingError) as e:
            map_state_dict(build_model("deeplabv3", "base", 7), wrong, "torchvision-resnet50", strict=True)
        self.assertIn("missing", str(e.exception))
        self.assertIn("shape mismatches", str(e.exception))

    def test_export_cli_takes_the_format_and_reports(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            weights = os.path.join(d, "resnet50.pth")
            torch.save(resnet50(weights=None).state_dict(), weights)
            out = os.path.join(d, "model.pt")
            env = {**os.environ, "PYTHONPATH": PYTHON_DIR + os.pathsep + os.environ.get("PYTHONPATH", "")}
            r = subprocess.run(
                [sys.executable, "-m", "slice_distill_models.export", "--arch", "deeplabv3", "--preset", "base", "--out", out,
                 "--weights", weights, "--weights-format", "torchvision-resnet50", "--strict", "--no-check"],
                env=env, capture_output=True, text=True, timeout=600,
            )
            self.assertEqual(r.returncode, 0, r.stderr)
            result = json.loads(r.stdout.strip().splitlines()[-1])
            self.assertEqual(result["metadata"]["weightsFormat"], "torchvision-resnet50")
            self.assertEqual(result["metadata"]["weightsReport"]["mapped"], 318)
            self.assertIn("318 tensors mapped", r.stderr)


@unittest.skipUnless(HAVE_TIMM, "timm not importable here")
class TimmSwinMap(unittest.TestCase):
    def encoder(self, model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        t = model.patch_norm(model.patch_embed(x).permute(0, 2, 3, 1))
        for layer in model.layers:
            t = layer(t)
        return model.norm(t)

    def test_swin_maps_to_the_encoder_and_gives_timms_features(self) -> None:
        # Swin-T with Swin-Unet's depths, so that every encoder block has a counterpart
        torch.manual_seed(1)
        ref = timm.create_model("swin_tiny_patch4_window7_224", pretrained=False, depths=(2, 2, 2, 2)).eval()
        model = build_model("swin_unet", "base", 7).eval()
        report = map_state_dict(model, ref.state_dict(), "timm-swin", strict=True)
        self.assertEqual(sorted(report.dropped), ["head.fc.bias", "head.fc.weight"])
        x = torch.rand(2, 1, 224, 224)
        with torch.no_grad():
            ours = self.encoder(model, x)
            theirs = ref.forward_features(x.repeat(1, 3, 1, 1))
        self.assertEqual(ours.shape, theirs.shape)
        self.assertLess(close(ours, theirs), 1e-5)
        # the decoder's stages start from the encoder stages they mirror
        for j in range(3):
            self.assertTrue(torch.equal(model.layers_up[j].blocks[0].attn.qkv.weight, model.layers[2 - j].blocks[0].attn.qkv.weight))

    def test_swin_tiny_maps_with_the_third_stages_extra_blocks_dropped(self) -> None:
        ref = timm.create_model("swin_tiny_patch4_window7_224", pretrained=False)
        model = build_model("swin_unet", "base", 7)
        report = map_state_dict(model, ref.state_dict(), "timm-swin", strict=True)
        extra = [k for k in report.dropped if k.startswith("layers.2.blocks.")]
        self.assertEqual(len({k.split(".")[3] for k in extra}), 4)  # blocks 2-5 of stage 3
        self.assertEqual(len(report.mapped) + len(report.dropped), len(ref.state_dict()))


class MapsWithoutTorchvision(unittest.TestCase):
    def test_an_unknown_format_is_refused(self) -> None:
        with self.assertRaises(MappingError):
            map_state_dict(build_model("deeplabv3", "tiny", 7), {}, "imagenet-whatever")


if __name__ == "__main__":
    unittest.main()
