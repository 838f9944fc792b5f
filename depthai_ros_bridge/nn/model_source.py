"""A deploy request's model, read through a ModelStore and checked before anything runs it.

Formats: ONNX (`.onnx`), MyriadX blobs (`.blob`, `.superblob`), and DepthAI v3 NN archives
(`.tar.xz`, `.tar.gz`, `.tgz`, `.tar`: a model plus `config.json`).

An archive is inspected as a stream, member by member, never inflated first: our own
decompressor hands tarfile at most what it asks for (tarfile's stream mode would inflate a
whole 16 kB chunk of a bomb at once), the members' total size, their count and the size of
GNU long-name / pax headers (which tarfile reads whole) are capped before their data is read,
and only config.json and model files are kept. depthai's NNArchive then reads a plain tar we
write from those two members, not the original file. Errors name the problem, never file
bytes or member names.
"""
from __future__ import annotations

import io
import lzma
import tarfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import depthai as dai

from .model_store import ModelError, ModelLimits, ModelStore, check_deadline, shown
from .nnconfig import NNConfigError, strict_json_loads

ARCHIVE_SUFFIXES = (".tar.xz", ".tar.gz", ".tgz", ".tar")
# A .superblob (RVC2 model zoo archives) is a blob compiled for several SHAVE counts.
MODEL_SUFFIXES = {".onnx": "onnx", ".blob": "blob", ".superblob": "blob"}
_COMPRESSION = {b"\xfd7zXZ\x00": "xz", b"\x1f\x8b": "gzip"}
_UPLOAD_SUFFIX = {"xz": "tar.xz", "gzip": "tar.gz", "tar": "tar", "onnx": "onnx"}
_READ = 64 * 1024
# Headers tarfile reads whole into memory (TarInfo._proc_gnulong / _proc_pax, CPython Lib/tarfile.py).
_LONG_HEADERS = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)
_PAX_HEADERS = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE)

__all__ = ["ARCHIVE_SUFFIXES", "MODEL_SUFFIXES", "ModelError", "ModelPackage", "identify", "inspect_archive",
           "load_package", "upload_suffix"]


@dataclass(frozen=True)
class ModelPackage:
    format: str                      # the network's format: "onnx" | "blob"
    name: str                        # the model's file name, for logs and parameters
    model: bytes                     # the network itself
    archive: dai.NNArchive | None    # the parsed NN archive, when it came in one
    archive_config: dict | None      # its config.json


def compression_of(head: bytes) -> str:
    """'xz' | 'gzip' | 'tar' (uncompressed, or not an archive at all)."""
    return next((kind for magic, kind in _COMPRESSION.items() if head.startswith(magic)), "tar")


def _kind_by_magic(head: bytes) -> str | None:
    if compression_of(head) != "tar" or (len(head) >= 262 and head[257:262] == b"ustar"):
        return "archive"
    if head[:1] == b"\x08":          # ONNX ModelProto: field 1 (ir_version), varint
        return "onnx"
    return None


def _kind_by_name(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(ARCHIVE_SUFFIXES):
        return "archive"
    return MODEL_SUFFIXES.get(Path(lower).suffix)


def identify(name: str, head: bytes, filename: str | None = None) -> str:
    """'archive' | 'onnx' | 'blob', checking the file name (`filename`, default `name`, which
    errors show) against the first bytes (`head`, >= 512 bytes unless the file is shorter)."""
    if not head:
        raise ModelError(f"model {shown(name)} is empty")
    by_name = _kind_by_name(filename or name)
    if by_name is None:
        raise ModelError(f"model {shown(name)}: unsupported file type; use .onnx, .blob, .superblob or an NN "
                         f"archive ({', '.join(ARCHIVE_SUFFIXES)})")
    if by_name == "blob":
        return "blob"  # MyriadX blobs have no magic we can check on the host; the device validates them
    by_magic = _kind_by_magic(head[:512])
    if by_magic != by_name and not (by_name == "archive" and compression_of(head) == "tar"):
        # (an old v7 tar has no magic; tarfile will tell)
        raise ModelError(f"model {shown(name)}: the name says {by_name} but the content is not one")
    return by_name


def upload_suffix(head: bytes) -> str:
    """The cache suffix for uploaded bytes, from their magic (blobs must be deployed by path)."""
    kind = _kind_by_magic(head[:512])
    if kind is None:
        raise ModelError("model_data is neither an NN archive (tar, tar.gz, tar.xz) nor an ONNX model; "
                         "a .blob must be deployed by path")
    return _UPLOAD_SUFFIX[compression_of(head) if kind == "archive" else kind]


class _Inflater(io.RawIOBase):
    """The decompressed archive stream: each read inflates at most what was asked for."""

    def __init__(self, source, kind: str, name: str, limits: ModelLimits, deadline: float):
        super().__init__()
        self._src, self._kind, self._name, self._limits, self._deadline = source, kind, name, limits, deadline
        self._carry = b""          # compressed input not handed to a decompressor yet
        self._d = self._decompressor()
        self._total = 0
        # Headers and padding come on top of the members' data; the members are capped by their sizes.
        self._max_total = limits.max_model_bytes + 64 * 1024 * 1024

    def _decompressor(self):
        if self._kind == "gzip":
            return zlib.decompressobj(31)
        if self._kind == "xz":
            return lzma.LZMADecompressor(lzma.FORMAT_XZ, memlimit=self._limits.xz_memlimit_bytes)
        return None

    def readable(self) -> bool:
        return True

    def _input(self) -> bytes:
        if self._carry:
            data, self._carry = self._carry, b""
            return data
        return self._src.read(_READ) or b""

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        while True:
            check_deadline(self._deadline, self._name, self._limits)
            if self._d is None:
                data = self._input()
                out, self._carry = data[: len(view)], data[len(view):]
            else:
                inflated = self._inflate(len(view))
                if inflated is None:
                    continue
                out = inflated
            if self._total + len(out) > self._max_total:
                raise ModelError(f"archive {shown(self._name)} unpacks to more than nn.max_model_bytes "
                                 f"({self._limits.max_model_bytes} bytes)")
            self._total += len(out)
            view[: len(out)] = out
            return len(out)

    def _inflate(self, n: int) -> bytes | None:
        """Up to n bytes; b'' at the end; None: no output yet, call again."""
        d = self._d
        try:
            if d.eof:      # a stream ended: another may follow (concatenated gzip members / xz streams)
                rest = d.unused_data or self._input()
                if not rest.strip(b"\0"):
                    return b""
                self._d, self._carry = self._decompressor(), rest
                return None
            if self._kind == "gzip":
                data = d.unconsumed_tail or self._input()
                if not data:
                    raise ModelError(f"archive {shown(self._name)} is truncated")
                out = d.decompress(data, n)
            else:
                data = self._input() if d.needs_input else b""
                if d.needs_input and not data:
                    raise ModelError(f"archive {shown(self._name)} is truncated")
                out = d.decompress(data, max_length=n)
        except lzma.LZMAError as e:
            if "memory" in str(e).lower():
                raise ModelError(f"archive {shown(self._name)} needs more than "
                                 f"{self._limits.xz_memlimit_bytes >> 20} MiB to decompress") from None
            raise ModelError(f"archive {shown(self._name)} is corrupt (xz)") from None
        except zlib.error:
            raise ModelError(f"archive {shown(self._name)} is corrupt (gzip)") from None
        return out or None


def _bounded_tarinfo(name: str, limits: ModelLimits) -> type[tarfile.TarInfo]:
    """A TarInfo whose headers are checked before tarfile reads what follows them."""
    state = {"headers": 0, "chain": 0}

    class BoundedTarInfo(tarfile.TarInfo):
        def _proc_member(self, tar):
            state["headers"] += 1
            if state["headers"] > 4 * limits.max_members:
                raise ModelError(f"archive {shown(name)} has more than {limits.max_members} members")
            if self.type == tarfile.GNUTYPE_SPARSE:
                raise ModelError(f"archive {shown(name)}: sparse members are not supported")
            if self.type in _LONG_HEADERS or self.type in _PAX_HEADERS:
                state["chain"] += 1      # each extended header recurses into the next one
                if self.size > limits.max_header_bytes or state["chain"] > 8:
                    raise ModelError(f"archive {shown(name)}: an extended (long-name or pax) header is over "
                                     f"{limits.max_header_bytes} bytes")
            else:
                state["chain"] = 0
            return super()._proc_member(tar)

        # pax-declared sparse files: _proc_gnusparse_10 reads an unbounded map from the data.
        def _refuse_sparse(self, *args):
            raise ModelError(f"archive {shown(name)}: sparse members are not supported")

        _proc_gnusparse_00 = _proc_gnusparse_01 = _proc_gnusparse_10 = _refuse_sparse

    return BoundedTarInfo


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    out, f = io.BytesIO(), tar.extractfile(member)
    assert f is not None, "only regular members are read, and they have data"
    while chunk := f.read(1024 * 1024):
        out.write(chunk)
    return out.getvalue()


def inspect_archive(source, name: str, limits: ModelLimits, deadline: float | None = None
                    ) -> tuple[bytes, dict, str, bytes]:
    """(config.json bytes, config, model path in the archive, model bytes), streaming `source`
    (a readable binary file positioned at the archive's start). ModelError if anything is off."""
    deadline = time.monotonic() + limits.read_timeout_s if deadline is None else deadline
    head = source.read(6) or b""
    if head.startswith(b"BZh"):
        raise ModelError(f"archive {shown(name)}: bzip2 is not supported; use .tar.xz, .tar.gz or .tar")
    stream = _Inflater(source, compression_of(head), name, limits, deadline)
    stream._carry = head
    kept: dict[str, bytes] = {}
    members, total = 0, 0
    try:
        with tarfile.open(fileobj=io.BufferedReader(stream, _READ), mode="r|",
                          tarinfo=_bounded_tarinfo(name, limits)) as tar:
            for member in tar:
                members += 1
                if members > limits.max_members:
                    raise ModelError(f"archive {shown(name)} has more than {limits.max_members} members")
                path = PurePosixPath(member.name)
                if path.is_absolute() or ".." in path.parts:
                    raise ModelError(f"archive {shown(name)}: a member's path leads outside the archive")
                if member.isdir():
                    continue
                if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE) or member.sparse:
                    raise ModelError(f"archive {shown(name)}: a member is a link or special file")
                total += member.size
                if total > limits.max_model_bytes:
                    raise ModelError(f"archive {shown(name)} unpacks to more than nn.max_model_bytes "
                                     f"({limits.max_model_bytes} bytes)")
                key = str(path)
                wanted = key == "config.json" or Path(key).suffix.lower() in MODEL_SUFFIXES
                if not wanted:
                    continue           # its data is skipped as the stream moves on
                if key in kept:
                    raise ModelError(f"archive {shown(name)}: a member appears twice")
                if key == "config.json" and member.size > limits.max_config_bytes:
                    raise ModelError(f"archive {shown(name)}: config.json is over {limits.max_config_bytes} bytes")
                kept[key] = _read_member(tar, member)
    except ModelError:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError, RecursionError):
        raise ModelError(f"archive {shown(name)} is corrupt or truncated") from None
    if "config.json" not in kept:
        raise ModelError(f"archive {shown(name)} has no config.json")
    config_bytes = kept.pop("config.json")
    try:
        config = strict_json_loads(config_bytes, "config.json")
        model_file = config["model"]["metadata"]["path"]
        if not isinstance(model_file, str):
            raise TypeError("path is not a string")
    except NNConfigError as e:
        raise ModelError(f"archive {shown(name)}: {e}") from None
    except (KeyError, TypeError):
        raise ModelError(f"archive {shown(name)}: config.json lacks model.metadata.path") from None
    model_key = str(PurePosixPath(model_file))
    if model_key not in kept:
        raise ModelError(f"archive {shown(name)}: config.json names model {shown(model_file, 80)}, "
                         "which the archive lacks")
    return config_bytes, config, model_key, kept[model_key]


def _write_plain_archive(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w") as tar:
        for member, data in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def load_package(store: ModelStore, path: str | Path, workdir: Path, name: str | None = None) -> ModelPackage:
    """Read and check the model at `path` through `store` (allow-list, limits); an archive is
    re-written to `workdir` as a plain tar of its config and model for depthai's NNArchive.
    `name`: how errors call it (default: the path as given)."""
    name = name or str(path)
    with store.open(path) as f:
        head = f.read(512) or b""
        while len(head) < 512 and (more := f.read(512 - len(head))):
            head += more
        kind = identify(name, head, Path(path).name)
        f.rewind()
        if kind != "archive":
            data = f.read_all()
            return ModelPackage(kind, Path(path).name if name == "model_data" else Path(name).name, data,
                                None, None)
        config_bytes, config, model_file, model = inspect_archive(f, name, store.limits, f.deadline)
    fmt = MODEL_SUFFIXES.get(Path(model_file).suffix.lower())
    if fmt is None:
        raise ModelError(f"archive {shown(name)}: its model is not .onnx, .blob or .superblob")
    plain = Path(workdir) / "model.tar"
    try:
        _write_plain_archive(plain, {"config.json": config_bytes, model_file: model})
    except OSError as e:
        raise ModelError(f"cannot write the archive to the work directory: {e.strerror}") from None
    try:    # depthai's own reader validates config.json against the NN archive schema
        archive = dai.NNArchive(plain)
    except Exception as e:  # noqa: BLE001 - depthai raises plain RuntimeErrors
        raise ModelError(f"archive {shown(name)}: config.json is invalid for an NN archive: "
                         f"{shown(str(e), 300)}") from None
    return ModelPackage(fmt, model_file, model, archive, config)

