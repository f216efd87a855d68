"""Published checkpoints through weight_maps.py, against the libraries that define them.

torchvision is an optional test dependency (built with weights=None: nothing is downloaded); the
tests skip where it cannot be imported (the local index's torchvision needs a CUDA torch). The
MONAI UNesT tests need torch only: their files are built from the published key names and
shapes (monai_unest_shapes below), without MONAI, and always run:

    PYTHONPATH=python:EXTRA python -m unittest python/tests/test_weight_maps.py
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unittest
from typing import Dict, List, Sequence, Tuple

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


def monai_unest_shapes(
    classes: int,
    embed_dims: Sequence[int] = (128, 256, 512),
    depths: Sequence[int] = (2, 2, 8),
    feature_size: int = 16,
    img_size: int = 96,
    patch_size: int = 4,
    in_channels: int = 1,
    mlp_ratio: float = 4.0,
) -> Dict[str, Tuple[int, ...]]:
    """The state_dict names and shapes of MONAI's renalStructures_UNEST_segmentation UNesT
    (scripts/networks/unest.py), as read from its source; the defaults are the bundle's (it fixes
    the NesT encoder at these values, out_channels 4). The decoder's channels are written as the
    bundle derives them, which only adds up where embed_dims[2] == 32 * feature_size."""
    e0, e1, e2 = embed_dims
    fs = feature_size
    if e2 != 32 * fs:
        raise ValueError("the published decoder needs embed_dims[2] == 32 * feature_size")
    block = img_size // patch_size // 4  # three levels: 4^3, 2^3 and 1 block(s) of block^3 tokens
    out: Dict[str, Tuple[int, ...]] = {}
    k = patch_size
    out["nestViT.patch_embed.proj.weight"] = (e0, in_channels, k, k, k)
    out["nestViT.patch_embed.proj.bias"] = (e0,)
    prev = None
    for i, (dim, depth) in enumerate(zip(embed_dims, depths)):
        level = f"nestViT.levels.{i}"
        out[f"{level}.pos_embed"] = (1, 8 ** (2 - i), block**3, dim)
        if prev is not None:  # ConvPool: conv, LayerNorm, max-pool
            out[f"{level}.pool.conv.weight"] = (dim, prev, 3, 3, 3)
            out[f"{level}.pool.conv.bias"] = (dim,)
            out[f"{level}.pool.norm.weight"] = (dim,)
            out[f"{level}.pool.norm.bias"] = (dim,)
        hidden = int(dim * mlp_ratio)
        for j in range(depth):
            layer = f"{level}.transformer_encoder.{j}"
            for name, shape in (
                ("norm1", (dim,)), ("attn.qkv", (3 * dim, dim)), ("attn.proj", (dim, dim)),
                ("norm2", (dim,)), ("mlp.fc1", (hidden, dim)), ("mlp.fc2", (dim, hidden)),
            ):
                out[f"{layer}.{name}.weight"] = shape
                out[f"{layer}.{name}.bias"] = (shape[0],)
        prev = dim
    out["nestViT.norm.weight"] = (e2,)
    out["nestViT.norm.bias"] = (e2,)

    def res_block(prefix: str, cin: int, cout: int) -> None:  # MONAI UnetResBlock, bias-free convs
        out[f"{prefix}.conv1.conv.weight"] = (cout, cin, 3, 3, 3)
        out[f"{prefix}.conv2.conv.weight"] = (cout, cout, 3, 3, 3)
        if cin != cout:
            out[f"{prefix}.conv3.conv.weight"] = (cout, cin, 1, 1, 1)

    res_block("encoder1.layer", in_channels, 2 * fs)
    out["encoder2.transp_conv_init.conv.weight"] = (e0, 4 * fs, 2, 2, 2)  # transposed: [in, out, ...]
    out["encoder2.blocks.0.conv.weight"] = (4 * fs, 4 * fs, 1, 1, 1)
    res_block("encoder3.layer", e0, 8 * fs)
    res_block("encoder4.layer", e1, 16 * fs)
    for name, cin, cout in (
        ("decoder5", 2 * e2, 32 * fs), ("decoder4", e2, 16 * fs), ("decoder3", 16 * fs, 8 * fs),
        ("decoder2", 8 * fs, 4 * fs), ("decoder1", 4 * fs, 2 * fs),
    ):
        out[f"{name}.transp_conv.conv.weight"] = (cin, cout, 2, 2, 2)
        res_block(f"{name}.conv_block", 2 * cout, cout)
    out["encoder10.conv.weight"] = (64 * fs, 32 * fs, 3, 3, 3)  # Convolution, stride 2, with bias
    out["encoder10.conv.bias"] = (64 * fs,)
    out["encoder10.adn.A.weight"] = (1,)  # PReLU
    out["out.conv.conv.weight"] = (classes, 2 * fs, 1, 1, 1)
    out["out.conv.conv.bias"] = (classes,)
    return out


# the tiny preset's NesT with the one feature size the published decoder adds up with
SMALL = dict(embed_dims=(16, 32, 64), depths=(1, 1, 2), feature_size=2, img_size=64)
SMALL_OVERRIDES = dict(feature_size=2)


def random_state(shapes: Dict[str, Tuple[int, ...]], seed: int) -> Dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {k: torch.randn(*s, generator=g) for k, s in shapes.items()}


class MonaiUnestMap(unittest.TestCase):
    """Needs torch only: never skipped."""

    def test_the_bundles_checkpoint_has_a_place_of_its_shape_for_every_tensor(self) -> None:
        shapes = monai_unest_shapes(4)
        self.assertEqual(len(shapes), 193)
        published = sum(torch.Size(s).numel() for s in shapes.values())
        with torch.device("meta"):  # shapes only: nothing is allocated
            model = build_model("unest", "base", 4)
            state = {k: torch.empty(s) for k, s in shapes.items()}
        self.assertEqual(sum(p.numel() for p in model.parameters()), published)
        self.assertEqual(len(model.state_dict()), len(shapes))
        report = map_state_dict(model, state, "monai-unest", strict=True)
        self.assertEqual(len(report.mapped), 193)
        self.assertEqual((report.missing, report.unexpected, report.mismatched, report.dropped, report.reinitialised), ([], [], [], [], []))
        # the contract's seven classes: all but the 4-class head
        with torch.device("meta"):
            model7 = build_model("unest", "base", 7)
        report = map_state_dict(model7, state, "monai-unest", strict=True)
        self.assertEqual(len(report.mapped), 191)
        self.assertEqual(sorted(report.dropped), ["out.conv.conv.bias", "out.conv.conv.weight"])
        self.assertEqual(report.reinitialised, ["head.weight", "head.bias"])

    def test_a_small_published_file_loads_strictly_tensor_for_tensor(self) -> None:
        state = random_state(monai_unest_shapes(4, **SMALL), seed=3)
        torch.manual_seed(0)
        model = build_model("unest", "tiny", 4, **SMALL_OVERRIDES)
        report = map_state_dict(model, state, "monai-unest", strict=True)
        self.assertEqual(len(report.mapped), len(state))
        self.assertEqual((report.missing, report.unexpected, report.mismatched, report.dropped, report.reinitialised), ([], [], [], [], []))
        self.assertEqual(report.uncovered, 0)
        self.assertIn(f"{len(state)} tensors mapped", report.describe())
        # spot checks of where the tensors went
        for theirs, ours in (
            ("nestViT.patch_embed.proj.weight", model.patch_embed.weight),
            ("nestViT.levels.0.pos_embed", model.levels[0].pos_embed),
            ("nestViT.levels.2.transformer_encoder.1.attn.qkv.weight", model.levels[2].blocks[1].attn.qkv.weight),
            ("nestViT.levels.1.pool.norm.bias", model.levels[1].pool.norm.bias),
            ("encoder2.blocks.0.conv.weight", model.encoder2.proj.weight),
            ("encoder1.layer.conv3.conv.weight", model.encoder1.conv3.weight),
            ("encoder4.layer.conv2.conv.weight", model.encoder4.conv2.weight),
            ("decoder5.conv_block.conv3.conv.weight", model.decoder5.block.conv3.weight),
            ("encoder10.adn.A.weight", model.bottleneck_act.weight),
            ("out.conv.conv.bias", model.head.bias),
        ):
            self.assertTrue(torch.equal(ours, state[theirs]), theirs)
        # and every tensor of the model is exactly one of the file's
        remaining: List[torch.Tensor] = list(state.values())
        for name, t in model.state_dict().items():
            hits = [i for i, v in enumerate(remaining) if v.shape == t.shape and torch.equal(v, t)]
            self.assertEqual(len(hits), 1, name)
            remaining.pop(hits[0])
        self.assertEqual(remaining, [])
        x = torch.rand(1, 1, 64, 64, 64)
        with torch.no_grad():
            self.assertEqual(list(torch.jit.script(model.eval())(x).shape), [1, 4, 64, 64, 64])

    def test_another_class_count_reinitialises_the_head_and_loads_the_rest(self) -> None:
        state = random_state(monai_unest_shapes(4, **SMALL), seed=4)
        torch.manual_seed(0)
        model = build_model("unest", "tiny", 7, **SMALL_OVERRIDES)
        head_before = (model.head.weight.clone(), model.head.bias.clone())
        report = map_state_dict(model, state, "monai-unest", strict=True)
        self.assertEqual(len(report.mapped), len(state) - 2)
        self.assertEqual((report.missing, report.unexpected, report.mismatched), ([], [], []))
        self.assertEqual(sorted(report.dropped), ["out.conv.conv.bias", "out.conv.conv.weight"])
        self.assertEqual(report.reinitialised, ["head.weight", "head.bias"])
        self.assertIn("out.conv.conv.weight -> head.weight: file [4, 4, 1, 1, 1] vs model [7, 4, 1, 1, 1]", report.head_reinitialised)
        self.assertIn("re-initialised: head.weight, head.bias", report.describe())
        self.assertEqual(report.as_dict()["reinitialised"], ["head.weight", "head.bias"])
        self.assertTrue(torch.equal(model.head.weight, head_before[0]))
        self.assertTrue(torch.equal(model.head.bias, head_before[1]))
        self.assertTrue(torch.equal(model.levels[0].blocks[0].attn.qkv.weight, state["nestViT.levels.0.transformer_encoder.0.attn.qkv.weight"]))
        self.assertTrue(torch.equal(model.decoder1.block.conv1.weight, state["decoder1.conv_block.conv1.conv.weight"]))

    def test_a_head_is_reinitialised_whole_even_where_one_tensor_fits(self) -> None:
        shapes = monai_unest_shapes(4, **SMALL)
        shapes["out.conv.conv.weight"] = (4, 4, 3, 3, 3)  # the bias still fits
        model = build_model("unest", "tiny", 4, **SMALL_OVERRIDES)
        before = model.head.bias.clone()
        report = map_state_dict(model, random_state(shapes, seed=5), "monai-unest", strict=True)
        self.assertEqual(sorted(report.reinitialised), ["head.bias", "head.weight"])
        self.assertEqual(sorted(report.dropped), ["out.conv.conv.bias", "out.conv.conv.weight"])
        self.assertTrue(torch.equal(model.head.bias, before))

    def test_a_wrong_file_is_reported_by_name_and_refused_when_strict(self) -> None:
        # another embed dim at level 0, one tensor left out, one foreign, and another net's keys
        state = random_state(monai_unest_shapes(4, **{**SMALL, "embed_dims": (24, 32, 64)}), seed=6)
        del state["decoder3.conv_block.conv2.conv.weight"]
        state["nestViT.head.weight"] = torch.zeros(4, 64)
        state.update(build_model("deeplabv3", "tiny", 4).state_dict())
        model = build_model("unest", "tiny", 4, **SMALL_OVERRIDES)
        report = map_state_dict(model, state, "monai-unest")
        self.assertIn("decoder3.block.conv2.weight", report.missing)
        self.assertIn("nestViT.head.weight", report.unexpected)
        self.assertIn("backbone.stem.0.weight", report.unexpected)
        self.assertIn("nestViT.patch_embed.proj.weight -> patch_embed.weight: file [24, 1, 4, 4, 4] vs model [16, 1, 4, 4, 4]", report.mismatched)
        self.assertTrue(any(m.startswith("nestViT.levels.0.transformer_encoder.0.attn.qkv.weight -> levels.0.blocks.0.attn.qkv.weight: file [72, 24]") for m in report.mismatched))
        self.assertEqual(report.reinitialised, [])
        with self.assertRaises(MappingError) as e:
            map_state_dict(build_model("unest", "tiny", 4, **SMALL_OVERRIDES), state, "monai-unest", strict=True)
        for title in ("missing", "unexpected", "shape mismatches"):
            self.assertIn(title, str(e.exception))
        # this zoo's own names are no MONAI file: nothing maps
        own = build_model("unest", "tiny", 4, **SMALL_OVERRIDES).state_dict()
        report = map_state_dict(build_model("unest", "tiny", 4, **SMALL_OVERRIDES), own, "monai-unest")
        self.assertEqual(report.mapped, [])
        self.assertEqual(len(report.unexpected), len(own))
        self.assertEqual(len(report.missing), len(own))


class MapsWithoutTorchvision(unittest.TestCase):
    def test_an_unknown_format_is_refused(self) -> None:
        with self.assertRaises(MappingError):
            map_state_dict(build_model("deeplabv3", "tiny", 7), {}, "imagenet-whatever")


if __name__ == "__main__":
    unittest.main()
