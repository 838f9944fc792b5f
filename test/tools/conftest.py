"""The demo-model tests share test/nn's scenes and ONNX session fixtures."""
import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location("nn_fixtures", Path(__file__).parents[1] / "nn" / "conftest.py")
_fixtures = sys.modules["nn_fixtures"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)
model_dir, sessions, helpers = _fixtures.model_dir, _fixtures.sessions, _fixtures.helpers
