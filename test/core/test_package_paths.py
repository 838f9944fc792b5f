"""The package's own files are found from any working directory, in the source tree or installed."""
from pathlib import Path

from depthai_ros_bridge.core import package_paths
from depthai_ros_bridge.core.package_paths import models_dir, resolve_package_path

ROOT = Path(__file__).resolve().parents[2]


def test_a_preset_model_name_resolves_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    resolved = Path(resolve_package_path("models/demo-colour-ssd.tar.xz"))
    assert resolved.is_absolute() and resolved.samefile(ROOT / "models" / "demo-colour-ssd.tar.xz")
    assert models_dir().samefile(ROOT / "models")


def test_installed_share_dir_is_searched(tmp_path, monkeypatch):
    share = tmp_path / "install" / "share" / "depthai_ros_bridge"
    (share / "models").mkdir(parents=True)
    (share / "models" / "only-installed.onnx").write_bytes(b"x")
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(tmp_path / "install"))
    monkeypatch.chdir(tmp_path)
    assert resolve_package_path("models/only-installed.onnx") == str(share / "models" / "only-installed.onnx")


def test_a_path_that_exists_or_is_absolute_is_kept_and_a_missing_one_is_left_for_the_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "demo-colour-ssd.tar.xz").write_bytes(b"mine")
    # made absolute: the model store resolves relative paths against its allowed dirs, not the cwd
    assert resolve_package_path("models/demo-colour-ssd.tar.xz") == str(tmp_path / "models" / "demo-colour-ssd.tar.xz")
    assert resolve_package_path("/nowhere/net.onnx") == "/nowhere/net.onnx"
    assert resolve_package_path("nowhere/net.onnx") == "nowhere/net.onnx"
    assert resolve_package_path("") == ""
    assert package_paths.package_dirs()[0] == ROOT
