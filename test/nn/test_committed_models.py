"""The demo models committed under models/ are what the generator makes today."""
from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

import demo_models

MODELS = Path(__file__).resolve().parents[2] / "models"
REGENERATE = "run: python tools/demo_models.py models"


@pytest.mark.parametrize("kind", demo_models.MODEL_KINDS)
def test_committed_model_matches_generator(kind, model_dir):
    spec = demo_models.default_spec(kind)
    committed = MODELS / f"{spec.name}.onnx"
    assert committed.exists(), REGENERATE
    assert committed.read_bytes() == (model_dir / committed.name).read_bytes(), REGENERATE

    def members(path):
        with tarfile.open(path) as tf:
            return {m.name: tf.extractfile(m).read() for m in tf.getmembers()}

    archive = MODELS / f"{spec.name}.tar.xz"
    assert members(archive) == members(model_dir / archive.name), REGENERATE
