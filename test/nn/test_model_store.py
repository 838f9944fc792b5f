"""ModelStore: the allow-list, reading from the checked descriptor only, uploads in the cache."""
from __future__ import annotations

import array
import hashlib
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from depthai_ros_bridge.nn import model_store
from depthai_ros_bridge.nn.model_store import ModelError, ModelStore, package_models_dirs

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def dirs(tmp_path):
    allowed, outside, cache = tmp_path / "allowed", tmp_path / "outside", tmp_path / "cache"
    allowed.mkdir()
    outside.mkdir()
    return allowed, outside, cache


@pytest.fixture
def store(dirs):
    allowed, _, cache = dirs
    return ModelStore([allowed], cache, max_model_bytes=1024)


def _in_thread(fn, timeout=10.0):
    """fn() on a thread, which must finish in time (a blocking open/read would hang it)."""
    result = {}

    def run():
        try:
            result["value"] = fn()
        except Exception as e:  # noqa: BLE001
            result["error"] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), "the call blocked"
    return result


def test_default_store_allows_the_package_models_and_the_cache():
    default = ModelStore.default()
    assert (REPO / "models").resolve() in default.allowed_dirs
    assert default.cache_dir == Path(os.path.realpath(Path("~/.cache/depthai_ros_bridge/models").expanduser()))
    assert default.cache_dir in default.allowed_dirs
    assert default.max_model_bytes == 256 * 1024 * 1024
    assert (REPO / "models") in package_models_dirs()


def test_paths_inside_resolve_relative_ones_from_the_allowed_dirs(store, dirs):
    allowed = dirs[0]
    (allowed / "net.onnx").write_bytes(b"\x08\x07")
    assert store.resolve(str(allowed / "net.onnx")) == allowed / "net.onnx"
    assert store.resolve("net.onnx") == allowed / "net.onnx"
    assert store.resolve(str(allowed / "sub" / ".." / "net.onnx")) == allowed / "net.onnx"
    assert store.read("net.onnx") == b"\x08\x07"


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink", "relative-dotdot", "missing"])
def test_paths_outside_are_refused_before_anything_is_opened(store, dirs, how, monkeypatch):
    allowed, outside, _ = dirs
    secret = outside / "id_rsa.onnx"
    secret.write_bytes(b"SECRET")
    (allowed / "link.onnx").symlink_to(secret)
    path = {"dotdot": str(allowed / ".." / "outside" / "id_rsa.onnx"), "absolute": str(secret),
            "symlink": str(allowed / "link.onnx"), "relative-dotdot": "../outside/id_rsa.onnx",
            "missing": str(outside / "nope.onnx")}[how]

    def no_open(*args, **kwargs):
        raise AssertionError("opened a path outside the allowed directories")
    monkeypatch.setattr(model_store.os, "open", no_open)
    with pytest.raises(ModelError) as e:
        store.read(path)
    message = str(e.value)
    assert "outside the allowed model directories" in message
    assert str(allowed) in message and str(store.cache_dir) in message
    assert "nn.allowed_model_dirs" in message
    assert "SECRET" not in message and len(message) <= 1000


def test_a_fifo_is_refused_without_blocking(store, dirs):
    fifo = dirs[0] / "model.onnx"
    os.mkfifo(fifo)        # no writer ever opens it: a blocking open or read would hang
    result = _in_thread(lambda: store.read(str(fifo)))
    assert isinstance(result.get("error"), ModelError)
    assert "not a regular file" in str(result["error"])


def test_a_device_reached_through_the_allow_list_is_refused(tmp_path):
    store = ModelStore(["/dev"], tmp_path / "cache", max_model_bytes=1024)
    result = _in_thread(lambda: store.read("/dev/zero"))
    assert "not a regular file" in str(result["error"])


def test_the_opened_descriptor_is_checked_not_the_path(store, dirs, monkeypatch):
    allowed, outside, _ = dirs
    (outside / "other.onnx").write_bytes(b"\x08\x01")
    # What a swap between resolve() and open() looks like: the path now leads elsewhere.
    monkeypatch.setattr(ModelStore, "resolve", lambda self, path: outside / "other.onnx")
    with pytest.raises(ModelError, match="outside the allowed model directories"):
        store.read(str(allowed / "net.onnx"))
    # ... or its last component became a symbolic link (O_NOFOLLOW).
    (allowed / "swapped.onnx").symlink_to(allowed / "net.onnx")
    monkeypatch.setattr(ModelStore, "resolve", lambda self, path: allowed / "swapped.onnx")
    with pytest.raises(ModelError, match="symbolic link"):
        store.read("swapped.onnx")


def test_size_is_checked_on_the_descriptor_before_reading(store, dirs, monkeypatch):
    allowed = dirs[0]
    (allowed / "ok.onnx").write_bytes(b"\x08" * 1024)
    assert len(store.read("ok.onnx")) == 1024
    sparse = allowed / "huge.onnx"
    with open(sparse, "wb") as f:
        f.truncate(2 * 1024 ** 3)          # 2 GiB, no blocks: nothing may read it
    reads = []
    monkeypatch.setattr(model_store.os, "readv", lambda *a: reads.append(a) or 0)
    with pytest.raises(ModelError, match=r"2147483648 bytes, over nn.max_model_bytes \(1024\)"):
        store.read("huge.onnx")
    assert reads == []


def test_a_file_that_grows_after_fstat_is_cut_at_the_cap(store, dirs):
    path = dirs[0] / "grows.onnx"
    path.write_bytes(b"\x08" * 1000)
    with store.open("grows.onnx") as f:
        path.write_bytes(b"\x08" * 5000)    # same inode, larger now
        with pytest.raises(ModelError, match="larger than nn.max_model_bytes"):
            f.read_all()


def test_reading_has_a_deadline(store, dirs):
    (dirs[0] / "net.onnx").write_bytes(b"\x08" * 100)
    with store.open("net.onnx", started=time.monotonic() - 60) as f:
        with pytest.raises(ModelError, match="took longer than 30 s"):
            f.read_all()


def test_empty_and_missing_files(store, dirs):
    (dirs[0] / "empty.onnx").write_bytes(b"")
    with pytest.raises(ModelError, match="is empty"):
        store.read("empty.onnx")
    with pytest.raises(ModelError, match="does not exist"):
        store.read(str(dirs[0] / "nope.onnx"))


def test_uploads_are_content_addressed_atomic_and_leave_no_temporary_files(store, dirs):
    data = b"\x08\x07" + bytes(range(200))
    path = store.store_upload(data, "onnx")
    digest = hashlib.sha256(data).hexdigest()
    assert path == store.cache_dir / f"{digest}.onnx" and path.is_absolute()
    assert path.read_bytes() == data
    assert stat.S_IMODE(store.cache_dir.stat().st_mode) == 0o700
    assert store.store_upload(array.array("B", data), ".onnx") == path      # same bytes, same file
    assert store.read(str(path)) == data                                    # the cache is allowed
    assert sorted(p.name for p in store.cache_dir.iterdir()) == [path.name]


def test_a_failed_upload_removes_its_temporary_file(store, monkeypatch):
    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(model_store.os, "replace", failing_replace)
    with pytest.raises(ModelError, match="No space left on device"):
        store.store_upload(b"\x08\x01", "onnx")
    assert list(store.cache_dir.iterdir()) == []


def test_uploads_are_capped_and_checked(store):
    with pytest.raises(ModelError, match=r"1025 bytes, over nn.max_model_bytes \(1024\)"):
        store.store_upload(b"\x08" * 1025, "onnx")
    with pytest.raises(ModelError, match="empty"):
        store.store_upload(b"", "onnx")
    with pytest.raises(ModelError, match="suffix must be one of"):
        store.store_upload(b"\x08", "sh")
    with pytest.raises(ModelError, match="byte array"):
        store.store_upload(["\x08"], "onnx")
    assert not store.cache_dir.exists() or list(store.cache_dir.iterdir()) == []


def test_the_cache_is_pruned_oldest_first_except_what_is_kept(dirs):
    allowed, _, cache = dirs
    store = ModelStore([allowed], cache, max_model_bytes=1000, max_cache_bytes=3000)
    paths = []
    for i in range(3):
        paths.append(store.store_upload(bytes([8, i]) * 500, "onnx"))
        os.utime(paths[-1], (1000 + i, 1000 + i))
    (cache / "notes.txt").write_bytes(b"x" * 5000)           # not an upload: never touched
    newest = store.store_upload(b"\x08\x09" * 500, "onnx", keep=[paths[0]])
    left = {p.name for p in cache.iterdir()}
    assert left == {paths[0].name, paths[2].name, newest.name, "notes.txt"}
