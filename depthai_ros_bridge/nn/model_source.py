"""A deploy request's model: from a path or from bytes, checked before anything runs it.

Formats: ONNX (`.onnx`), MyriadX blobs (`.blob`), and DepthAI v3 NN archives
(`.tar.xz`, `.tar.gz`, `.tar`: a model plus `config.json`). Archives are
inspected member by member before depthai's `NNArchive` reads them, so a
path-traversal, link or oversized member is refused, not unpacked.
"""
from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import depthai as dai

MAX_MEMBER_BYTES = 256 * 1024 * 1024
ARCHIVE_SUFFIXES = (".tar.xz", ".tar.gz", ".tgz", ".tar")
# A .superblob (RVC2 model zoo archives) is a blob compiled for several SHAVE counts.
MODEL_SUFFIXES = {".onnx": "onnx", ".blob": "blob", ".superblob": "blob"}
_MAGIC = {b"\xfd7zXZ\x00": "xz", b"\x1f\x8b": "gzip"}


class ModelError(ValueError):
    """The model can't be used; the message says what is wrong with it."""


@dataclass(frozen=True)
class ModelPackage:
    format: str                      # the network's format: "onnx" | "blob"
    name: str                        # the model's file name, for logs and parameters
    model: bytes                     # the network itself
    archive: dai.NNArchive | None    # the parsed NN archive, when it came in one
    archive_config: dict | None      # its config.json


def _kind_by_magic(head: bytes) -> str | None:
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return "archive"
    if len(head) > 262 and head[257:262] == b"ustar":
        return "archive"
    if head[:1] == b"\x08":          # ONNX ModelProto: field 1 (ir_version), varint
        return "onnx"
    return None


def _kind_by_name(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(ARCHIVE_SUFFIXES):
        return "archive"
    return MODEL_SUFFIXES.get(Path(lower).suffix)


def read_model(model: str, model_data: bytes) -> tuple[str, bytes]:
    """(name, bytes) of the request's model; exactly one of `model` (path) and `model_data` (bytes)."""
    if model and model_data:
        raise ModelError("give either model (a path) or model_data (the file's bytes), not both")
    if not model and not model_data:
        raise ModelError("no model: give model (a path on the node's machine) or model_data (the file's bytes)")
    if model_data:
        return "model_data", bytes(model_data)
    path = Path(model).expanduser()
    if not path.exists():
        raise ModelError(f"model file {model!r} does not exist")
    if not path.is_file():
        raise ModelError(f"model {model!r} is not a regular file")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ModelError(f"model file {model!r} cannot be read: {e.strerror}") from None
    return path.name, data


def identify(name: str, data: bytes) -> str:
    """'archive' | 'onnx' | 'blob', checking the file name against the magic bytes."""
    if not data:
        raise ModelError(f"model {name!r} is empty")
    by_magic = _kind_by_magic(data[:512])
    if name == "model_data":
        if by_magic is None:
            raise ModelError("model_data is neither an NN archive (xz/gzip/tar) nor an ONNX model "
                             f"(first bytes {data[:8].hex()}); a .blob must be deployed by path")
        return by_magic
    by_name = _kind_by_name(name)
    if by_name is None:
        raise ModelError(f"model {name!r}: unsupported file type; use .onnx, .blob, .superblob or an NN archive "
                         f"({', '.join(ARCHIVE_SUFFIXES)})")
    if by_name == "blob":
        return "blob"  # MyriadX blobs have no magic we can check on the host; the device validates them
    if by_magic != by_name:
        raise ModelError(f"model {name!r}: the name says {by_name} but the content does not look like one "
                         f"(first bytes {data[:8].hex()})")
    return by_name


def _open_archive(name: str, data: bytes) -> dict[str, bytes]:
    """The archive's regular files, after checking every member's path, type and size."""
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar:
                path = PurePosixPath(member.name)
                if path.is_absolute() or ".." in path.parts:
                    raise ModelError(f"archive {name!r}: member {member.name!r} points outside the archive")
                if member.isdir():
                    continue
                if not member.isfile():
                    raise ModelError(f"archive {name!r}: member {member.name!r} is a link or special file")
                if member.size > MAX_MEMBER_BYTES:
                    raise ModelError(f"archive {name!r}: member {member.name!r} is {member.size} bytes, "
                                     f"over the {MAX_MEMBER_BYTES} byte limit")
                files[str(path)] = tar.extractfile(member).read()
    except ModelError:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError) as e:
        raise ModelError(f"archive {name!r} is corrupt or truncated: {e}") from None
    return files


def load_package(name: str, data: bytes, workdir: Path) -> ModelPackage:
    """Check and parse a model; an archive is kept in `workdir` (depthai's NNArchive reads it from disk)."""
    kind = identify(name, data)
    if kind != "archive":
        return ModelPackage(kind, name, data, None, None)
    return read_archive(name, data, workdir)


def read_archive(name: str, data: bytes, workdir: Path) -> ModelPackage:
    files = _open_archive(name, data)
    if "config.json" not in files:
        raise ModelError(f"archive {name!r} has no config.json (members: {', '.join(sorted(files)) or 'none'})")
    try:
        config = json.loads(files["config.json"])
        model_file = config["model"]["metadata"]["path"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise ModelError(f"archive {name!r}: config.json is invalid ({type(e).__name__}: {e})") from None
    if model_file not in files:
        raise ModelError(f"archive {name!r}: config.json names model {model_file!r}, which the archive lacks")
    fmt = MODEL_SUFFIXES.get(Path(model_file).suffix.lower())
    if fmt is None:
        raise ModelError(f"archive {name!r}: model {model_file!r} is not .onnx, .blob or .superblob")
    # depthai's own reader validates config.json against the NN archive schema.
    suffix = next((s for s in ARCHIVE_SUFFIXES if name.lower().endswith(s)), ".tar")
    path = Path(workdir) / f"model{suffix}"
    path.write_bytes(data)
    try:
        archive = dai.NNArchive(str(path))
    except Exception as e:  # noqa: BLE001 - depthai raises plain RuntimeErrors
        raise ModelError(f"archive {name!r}: config.json is invalid for an NN archive: {e}") from None
    return ModelPackage(fmt, model_file, files[model_file], archive, config)
