"""NN archives inspected as a stream: caps on size, members and headers; nothing echoed."""
from __future__ import annotations

import io
import json
import lzma
import subprocess
import sys
import tarfile
import textwrap
import time
import zlib
from pathlib import Path

import pytest

from depthai_ros_bridge.nn.model_source import identify, inspect_archive, load_package, upload_suffix
from depthai_ros_bridge.nn.model_store import ModelError, ModelLimits, ModelStore

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
MiB = 1024 * 1024


def tar_bytes(members: dict[str, bytes], fmt=tarfile.GNU_FORMAT, compression: str = "") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=f"w:{compression}", format=fmt) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def inspect(data: bytes, **limits):
    return inspect_archive(io.BytesIO(data), "test.tar", ModelLimits(**limits))


def demo_members() -> dict[str, bytes]:
    with tarfile.open(MODELS / "demo-colour-ssd.tar.xz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}


@pytest.fixture
def store(tmp_path):
    (tmp_path / "models").mkdir()
    return ModelStore([tmp_path / "models", MODELS], tmp_path / "cache", max_model_bytes=8 * MiB)


@pytest.mark.parametrize("compression", ["", "gz", "xz"])
def test_an_archive_streams_to_its_config_and_model(compression):
    members = demo_members()
    config_bytes, config, model_file, model = inspect(tar_bytes(members, compression=compression))
    assert config == json.loads(members["config.json"]) and config_bytes == members["config.json"]
    assert model_file == config["model"]["metadata"]["path"]
    assert model == members[model_file]


def test_load_package_hands_depthai_a_plain_tar_of_config_and_model(store, tmp_path):
    package = load_package(store, MODELS / "demo-colour-ssd.tar.xz", tmp_path)
    members = demo_members()
    assert package.format == "onnx" and package.archive is not None
    assert package.model == members[package.name]
    with tarfile.open(tmp_path / "model.tar") as tar:
        assert sorted(tar.getnames()) == sorted(["config.json", package.name])
    assert package.archive.getInputWidth() == json.loads(members["config.json"])["model"]["inputs"][0]["shape"][3]


def test_too_many_members_are_refused_without_listing_them():
    members = {f"home/user/.ssh/id_rsa_{i}": b"k" for i in range(1001)}
    with pytest.raises(ModelError) as e:
        inspect(tar_bytes(members))
    assert "more than 1000 members" in str(e.value) and "id_rsa" not in str(e.value)


def test_member_names_never_appear_in_errors():
    data = tar_bytes({"etc/shadow": b"root:x", "home/u/.ssh/id_rsa": b"KEY"})
    with pytest.raises(ModelError) as e:
        inspect(data)
    assert str(e.value) == "archive 'test.tar' has no config.json"


@pytest.mark.parametrize("kind", ["traversal", "absolute", "symlink", "fifo"])
def test_members_leading_outside_or_special_are_refused(kind):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo({"traversal": "../evil.onnx", "absolute": "/etc/evil.onnx"}.get(kind, "m.onnx"))
        if kind == "symlink":
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/shadow"
        if kind == "fifo":
            info.type = tarfile.FIFOTYPE
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(ModelError) as e:
        inspect(buf.getvalue())
    assert "evil" not in str(e.value) and "shadow" not in str(e.value)
    assert ("outside the archive" if kind in ("traversal", "absolute") else "link or special file") in str(e.value)


def test_total_uncompressed_size_is_capped_from_the_headers():
    data = tar_bytes({"a.bin": b"\0" * 600_000, "b.bin": b"\0" * 600_000}, compression="gz")
    with pytest.raises(ModelError, match=r"unpacks to more than nn.max_model_bytes \(1000000 bytes\)"):
        inspect(data, max_model_bytes=1_000_000)


@pytest.mark.parametrize("fmt", ["gnu", "pax"])
def test_oversized_long_name_and_pax_headers_are_refused(fmt):
    long = "d/" * 40_000 + "model.onnx"       # 80 kB of name
    data = tar_bytes({long: b"\x08"}, fmt=tarfile.GNU_FORMAT if fmt == "gnu" else tarfile.PAX_FORMAT)
    with pytest.raises(ModelError, match="extended .long-name or pax. header is over 65536 bytes") as e:
        inspect(data)
    assert "d/d/" not in str(e.value)


def test_a_header_claiming_gigabytes_is_refused_before_it_is_read():
    header = tarfile.TarInfo("././@LongLink")
    header.type, header.size = tarfile.GNUTYPE_LONGNAME, 1_500_000_000
    data = header.tobuf(tarfile.GNU_FORMAT) + b"x" * 4096       # the rest is never there
    with pytest.raises(ModelError, match="header is over 65536 bytes"):
        inspect(data)


def test_sparse_members_are_refused():
    info = tarfile.TarInfo("model.onnx")
    info.type = tarfile.GNUTYPE_SPARSE
    data = info.tobuf(tarfile.GNU_FORMAT) + b"\0" * 1024
    with pytest.raises(ModelError, match="sparse"):
        inspect(data)


def test_an_xz_stream_needing_a_huge_dictionary_is_refused():
    data = lzma.compress(tar_bytes({"config.json": b"{}"}), format=lzma.FORMAT_XZ,
                         filters=[{"id": lzma.FILTER_LZMA2, "dict_size": 1536 * MiB}])
    with pytest.raises(ModelError, match="needs more than 192 MiB to decompress"):
        inspect(data)


def test_corrupt_truncated_and_bzip2_archives():
    good = tar_bytes(demo_members(), compression="gz")
    with pytest.raises(ModelError, match="truncated"):
        inspect(good[: len(good) // 2])
    with pytest.raises(ModelError, match="corrupt"):
        inspect(good[:20] + b"\xff" * 200 + good[220:])
    with pytest.raises(ModelError, match="bzip2 is not supported"):
        inspect(tar_bytes({"config.json": b"{}"}, compression="bz2"))


def test_config_json_must_be_strict_and_small():
    with pytest.raises(ModelError, match="NaN is not a number JSON allows"):
        inspect(tar_bytes({"config.json": b'{"model": {"metadata": {"path": "m.onnx"}}, "x": NaN}',
                           "m.onnx": b"\x08"}))
    with pytest.raises(ModelError, match="config.json is over 1024 bytes"):
        inspect(tar_bytes({"config.json": b" " * 2000}), max_config_bytes=1024)
    with pytest.raises(ModelError, match="names model 'nope.onnx', which the archive lacks"):
        inspect(tar_bytes({"config.json": b'{"model": {"metadata": {"path": "nope.onnx"}}}'}))


def test_inflating_has_a_deadline():
    data = tar_bytes(demo_members(), compression="xz")
    with pytest.raises(ModelError, match="took longer than"):
        inspect_archive(io.BytesIO(data), "slow.tar.xz", ModelLimits(), deadline=time.monotonic() - 1)


def test_identify_names_the_problem_without_echoing_bytes():
    with pytest.raises(ModelError) as e:
        identify("net.onnx", b"\xde\xad\xbe\xef" * 200)
    assert "deadbeef" not in str(e.value) and "not one" in str(e.value)
    with pytest.raises(ModelError) as e:
        upload_suffix(b"\xde\xad\xbe\xef" * 200)
    assert "deadbeef" not in str(e.value)
    assert upload_suffix(lzma.compress(b"x")) == "tar.xz"
    assert upload_suffix(zlib.compress(b"x", wbits=31)) == "tar.gz"
    assert upload_suffix(tar_bytes({"a": b""})) == "tar"
    assert upload_suffix(b"\x08\x07rest") == "onnx"


_RSS_PROBE = textwrap.dedent("""
    import sys, time
    from depthai_ros_bridge.nn.model_store import ModelStore, ModelError
    from depthai_ros_bridge.nn.model_source import load_package

    def hwm_kb():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

    store = ModelStore([sys.argv[1]], sys.argv[1] + "/cache")
    before = hwm_kb()
    started = time.monotonic()
    try:
        load_package(store, sys.argv[2], sys.argv[1])
        print("accepted")
    except ModelError as e:
        print("refused", (hwm_kb() - before) * 1024, round(time.monotonic() - started, 2), e)
""")


def _zeros_bomb(path: Path, names: list[str], member_bytes: int) -> None:
    """A .tar.gz of members full of zeros, written a MiB at a time (never held in memory)."""
    gz = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * MiB
    with open(path, "wb") as out:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = member_bytes
            out.write(gz.compress(info.tobuf(tarfile.GNU_FORMAT)))
            for _ in range(member_bytes // MiB):
                out.write(gz.compress(zeros))
        out.write(gz.compress(b"\0" * 1024) + gz.flush())


@pytest.mark.parametrize("names", ["junk", "models"])
def test_a_zeros_bomb_is_refused_with_bounded_memory(tmp_path, names):
    """10 x 200 MB of zeros in a ~2 MB .tar.gz, against the default 256 MB cap: refused, and the
    process's peak RSS grows by at most ~2x the cap (measured in a fresh interpreter; members
    named like models are kept until the cap is hit, junk is skipped)."""
    bomb = tmp_path / "bomb.tar.gz"
    # (the refusal comes at the second header: two members do for the kept kind, and write faster)
    _zeros_bomb(bomb, [f"junk{i}.bin" for i in range(10)] if names == "junk" else ["m0.onnx", "m1.onnx"],
                200 * MiB)
    assert bomb.stat().st_size < 3 * MiB
    run = subprocess.run([sys.executable, "-c", _RSS_PROBE, str(tmp_path), str(bomb)],
                         capture_output=True, text=True, timeout=300, cwd=REPO)
    assert run.returncode == 0, run.stderr[-2000:]
    verdict, growth, seconds, reason = run.stdout.strip().splitlines()[-1].split(" ", 3)
    print(f"bomb ({names}): RSS peak +{int(growth) / MiB:.0f} MiB in {seconds} s: {reason.strip()}")
    assert verdict == "refused" and "unpacks to more than nn.max_model_bytes" in reason
    assert int(growth) < 2 * 256 * MiB
    if names == "junk":
        assert int(growth) < 64 * MiB      # nothing of a skipped member is kept
