"""Model zoo tests: parameter counts, TorchScript, the model contract, export and weights.

    PYTHONPATH=python .venv/bin/python -m unittest discover -s python/tests
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unittest
import warnings

import torch

from slice_distill_models.export import FORMAT, WeightsError, export_model, extract_state_dict, load_weights, parameter_count
from slice_distill_models.models import PRESETS, REFERENCE_PARAMS, build_model

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARCHS = sorted(PRESETS)
CLASSES = 7
warnings.filterwarnings("ignore", message=r"`torch\.jit\.", category=DeprecationWarning)


def tiny_input(arch: str, batch: int = 2, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 1, *PRESETS[arch]["tiny"].input_size, generator=g)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": PYTHON_DIR + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "slice_distill_models.export", *args], env=env, capture_output=True, text=True, timeout=300
    )


def load_with_metadata(path: str):
    extra = {"metadata.json": ""}
    module = torch.jit.load(path, _extra_files=extra)
    return module, json.loads(extra["metadata.json"])


class BasePresetSizes(unittest.TestCase):
    def test_parameter_counts_match_the_papers_without_allocating(self) -> None:
        for arch in ARCHS:
            with self.subTest(arch=arch):
                with torch.device("meta"):
                    model = build_model(arch, "base", CLASSES)
                params = list(model.parameters())
                self.assertTrue(all(p.is_meta for p in params), "base presets must stay on the meta device")
                n = sum(p.numel() for p in params)
                ref = REFERENCE_PARAMS[arch]
                self.assertLess(abs(n - ref) / ref, 0.03, f"{arch}: {n} parameters vs {ref:.0f}")
                self.assertEqual(parameter_count(arch, "base", CLASSES), n)

    def test_reference_figures(self) -> None:
        self.assertEqual(REFERENCE_PARAMS, {"unest": 87.2e6, "swin_unet": 27.2e6, "missformer": 42.5e6, "deeplabv3": 39.6e6})

    def test_presets_declare_input_size_and_spatial_dims(self) -> None:
        self.assertEqual(PRESETS["unest"]["base"].input_size, (96, 96, 96))
        for arch in ("deeplabv3", "swin_unet", "missformer"):
            self.assertEqual(PRESETS[arch]["base"].input_size, (224, 224))
        for arch in ARCHS:
            for name, p in PRESETS[arch].items():
                self.assertEqual(p.spatial_dims, 3 if arch == "unest" else 2, f"{arch}/{name}")


class TinyPresets(unittest.TestCase):
    def test_script_contract_and_eager_agreement(self) -> None:
        for arch in ARCHS:
            with self.subTest(arch=arch):
                torch.manual_seed(0)
                model = build_model(arch, "tiny", CLASSES).eval()
                scripted = torch.jit.script(model)
                self.assertIsInstance(scripted, torch.jit.ScriptModule)
                x = tiny_input(arch)
                with torch.no_grad():
                    eager_out = model(x)
                    script_out = scripted(x)
                self.assertEqual(list(script_out.shape), [2, CLASSES, *x.shape[2:]])
                torch.testing.assert_close(script_out, eager_out, rtol=1e-5, atol=1e-5)
                self.assertTrue(torch.isfinite(script_out).all())

    def test_scripted_models_train(self) -> None:
        for arch in ARCHS:
            with self.subTest(arch=arch):
                torch.manual_seed(0)
                scripted = torch.jit.script(build_model(arch, "tiny", CLASSES))
                scripted.train()
                out = scripted(tiny_input(arch))
                out.logsumexp(1).mean().backward()
                missing = [n for n, p in scripted.named_parameters() if p.grad is None]
                self.assertEqual(missing, [], f"{arch}: parameters without gradient")

    def test_deeplab_batchnorm_follows_train_and_eval(self) -> None:
        torch.manual_seed(0)
        scripted = torch.jit.script(build_model("deeplabv3", "tiny", CLASSES))
        self.assertTrue(any(isinstance(m, torch.nn.BatchNorm2d) for m in build_model("deeplabv3", "tiny", 2).modules()))
        x = tiny_input("deeplabv3")
        scripted.eval()
        with torch.no_grad():
            a = scripted(x)
        scripted.train()
        torch.manual_seed(1)
        with torch.no_grad():
            b = scripted(x)
        self.assertFalse(torch.allclose(a, b), "train and eval modes should differ (BatchNorm, Dropout)")

    def test_other_input_sizes(self) -> None:
        # 2D students accept any multiple of 32 (Swin pads to its windows); UNesT is tied to its size.
        for arch in ("deeplabv3", "swin_unet", "missformer"):
            with self.subTest(arch=arch):
                scripted = torch.jit.script(build_model(arch, "tiny", 3).eval())
                with torch.no_grad():
                    y = scripted(torch.rand(1, 1, 96, 64))
                self.assertEqual(list(y.shape), [1, 3, 96, 64])
        scripted = torch.jit.script(build_model("unest", "tiny", 3).eval())
        with self.assertRaises(torch.jit.Error):
            scripted(torch.rand(1, 1, 32, 32, 32))


class Export(unittest.TestCase):
    def setUp(self) -> None:
        self._dir = tempfile.TemporaryDirectory()
        self.dir = self._dir.name

    def tearDown(self) -> None:
        self._dir.cleanup()

    def test_tiny_presets_export_with_metadata(self) -> None:
        for arch in ARCHS:
            with self.subTest(arch=arch):
                path = os.path.join(self.dir, f"{arch}.pt")
                meta = export_model(arch, "tiny", CLASSES, path, seed=3)
                # tiny stays small for tests; UNesT's (feature_size 4, its decoder
                # wide enough to separate seven classes) is the largest, about 11 MiB
                self.assertLess(os.path.getsize(path), 16 << 20)
                module, stored = load_with_metadata(path)
                self.assertEqual(stored, meta)
                size = list(PRESETS[arch]["tiny"].input_size)
                self.assertEqual(stored["format"], FORMAT)
                self.assertEqual(
                    {k: stored[k] for k in ("arch", "preset", "classes", "inputSize", "spatialDims", "inChannels")},
                    {"arch": arch, "preset": "tiny", "classes": CLASSES, "inputSize": size, "spatialDims": len(size), "inChannels": 1},
                )
                self.assertEqual(stored["torchVersion"], torch.__version__)
                self.assertFalse(module.training, "exported in eval mode")
                self.assertEqual([f for f in os.listdir(self.dir) if f.endswith(".tmp")], [])

    def test_weights_round_trip_in_process(self) -> None:
        for arch in ARCHS:
            with self.subTest(arch=arch):
                torch.manual_seed(11)
                trained = build_model(arch, "tiny", CLASSES)
                with torch.no_grad():  # perturb BatchNorm statistics too, as training would
                    for name, b in trained.named_buffers():
                        if b.is_floating_point():
                            b.add_(0.25)
                weights = os.path.join(self.dir, f"{arch}.pth")
                # a checkpoint dict with a DataParallel prefix, as training scripts often save
                torch.save({"epoch": 3, "state_dict": {"module." + k: v for k, v in trained.state_dict().items()}}, weights)
                out = os.path.join(self.dir, f"{arch}.pt")
                meta = export_model(arch, "tiny", CLASSES, out, weights=weights, seed=99)
                self.assertEqual(meta["weights"], f"{arch}.pth")
                module, _ = load_with_metadata(out)
                got = module.state_dict()
                for k, v in trained.state_dict().items():
                    torch.testing.assert_close(got[k], v, rtol=0, atol=0, msg=f"{arch}: {k}")
                x = tiny_input(arch)
                with torch.no_grad():
                    torch.testing.assert_close(module(x), trained.eval()(x), rtol=1e-5, atol=1e-5)

    def test_mismatched_weights_are_listed(self) -> None:
        model = build_model("deeplabv3", "tiny", CLASSES)
        state = dict(build_model("deeplabv3", "tiny", 3).state_dict())
        del state["backbone.stem.1.running_var"]
        state["extra.weight"] = torch.zeros(1)
        with self.assertRaises(WeightsError) as ctx:
            load_weights(model, extract_state_dict(state), "w.pt")
        msg = str(ctx.exception)
        self.assertIn("missing keys (1): backbone.stem.1.running_var", msg)
        self.assertIn("unexpected keys (1): extra.weight", msg)
        self.assertIn("classifier.weight: file [3, 16, 1, 1] vs model [7, 16, 1, 1]", msg)
        with self.assertRaises(WeightsError):
            extract_state_dict({"epoch": 1, "optimizer": {"lr": 0.1}})

    def test_cli_round_trip_and_errors(self) -> None:
        torch.manual_seed(5)
        trained = build_model("missformer", "tiny", CLASSES)
        weights = os.path.join(self.dir, "trained.pt")
        torch.save(trained.state_dict(), weights)
        out = os.path.join(self.dir, "sub", "model.pt")
        r = run_cli("--arch", "missformer", "--preset", "tiny", "--classes", "7", "--out", out, "--weights", weights, "--seed", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        result = json.loads(r.stdout.strip().splitlines()[-1])
        self.assertEqual(result["path"], out)
        module, meta = load_with_metadata(out)
        self.assertEqual(result["metadata"], meta)
        x = tiny_input("missformer")
        with torch.no_grad():
            torch.testing.assert_close(module(x), trained.eval()(x), rtol=1e-5, atol=1e-5)

        # the exported archive itself is accepted as --weights (re-export)
        again = os.path.join(self.dir, "again.pt")
        r = run_cli("--arch", "missformer", "--preset", "tiny", "--out", again, "--weights", out, "--no-check")
        self.assertEqual(r.returncode, 0, r.stderr)

        bad = run_cli("--arch", "missformer", "--preset", "tiny", "--classes", "4", "--out", os.path.join(self.dir, "bad.pt"), "--weights", weights)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("shape mismatches", bad.stderr)
        self.assertIn("output.weight: file [7, 8, 1, 1] vs model [4, 8, 1, 1]", bad.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "bad.pt")))

        r = run_cli("--arch", "unest", "--preset", "base", "--print-params")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["parameters"], parameter_count("unest", "base", 7))


if __name__ == "__main__":
    unittest.main()
