"""Where models may come from, and reading them without trusting the request or the file system.

A deploy request names a path on the node's machine or uploads bytes; either way it comes
from anyone on the DDS domain. So:
- a path is resolved (symlinks, `..`) and must lie inside one of the allowed directories
  (`nn.allowed_model_dirs`, plus the upload cache) before anything opens it;
- the file is opened non-blocking without following a final symlink, and everything after
  that looks at the opened descriptor, never the path again: it must be a regular file no
  larger than `nn.max_model_bytes`, and its real location (/proc/self/fd) must still be
  inside an allowed directory. A FIFO or device swapped in between the checks is refused,
  never read; reads have a deadline;
- uploads are stored content-addressed in the cache (`<sha256>.<suffix>`), written to a
  temporary file and renamed, so the path the node shows is exactly what ran.
Errors name the problem and never echo file contents. No ROS, no DepthAI.
"""
from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..core.package_paths import package_dirs

DEFAULT_MAX_MODEL_BYTES = 256 * 1024 * 1024
DEFAULT_CACHE_DIR = Path("~/.cache/depthai_ros_bridge/models")
UPLOAD_SUFFIXES = ("onnx", "blob", "superblob", "tar", "tar.gz", "tgz", "tar.xz")
_UPLOAD_NAME = re.compile(r"^[0-9a-f]{64}\.(?:" + "|".join(re.escape(s) for s in UPLOAD_SUFFIXES) + ")$")
_CHUNK = 4 * 1024 * 1024
MAX_ERROR_CHARS = 1000


class ModelError(ValueError):
    """The model can't be used; the message says what is wrong with it (never its contents)."""

    def __init__(self, message: str):
        super().__init__(clip(message))


def clip(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """`text` cut to `limit` characters: replies stay short whatever a request carried."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shown(value: str, limit: int = 120) -> str:
    """A request-supplied string for an error message: quoted and cut short."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


@dataclass(frozen=True)
class ModelLimits:
    """What one deploy may cost. `max_model_bytes` bounds a model file, an upload and an
    archive's total uncompressed size alike."""

    max_model_bytes: int = DEFAULT_MAX_MODEL_BYTES
    max_members: int = 1000                 # archive members (directories included)
    max_header_bytes: int = 64 * 1024       # one GNU long-name/long-link or pax header
    max_config_bytes: int = 1024 * 1024     # an archive's config.json
    read_timeout_s: float = 30.0            # reading (and inflating) one model, start to end
    xz_memlimit_bytes: int = 192 * 1024 * 1024   # xz -9 needs 65 MiB to decompress

    def __post_init__(self):
        if not (isinstance(self.max_model_bytes, int) and self.max_model_bytes > 0):
            raise ValueError(f"max_model_bytes must be a positive integer, got {self.max_model_bytes!r}")
        if not (self.read_timeout_s > 0 and self.read_timeout_s < float("inf")):
            raise ValueError(f"read_timeout_s must be positive and finite, got {self.read_timeout_s!r}")


def package_models_dirs() -> list[Path]:
    """The package's models/ directories: the source tree's, and each installed share/<package>/models."""
    found: list[Path] = []
    for root in package_dirs():
        models = root / "models"
        if models.is_dir() and models.resolve() not in {f.resolve() for f in found}:
            found.append(models)
    return found


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


class ModelFile(io.RawIOBase):
    """An opened model file: reads bounded in size and time, from the checked descriptor only."""

    def __init__(self, fd: int, name: str, size: int, limits: ModelLimits, deadline: float):
        super().__init__()
        self._fd, self.name, self.size, self._limits, self.deadline = fd, name, size, limits, deadline
        self._read_so_far = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        check_deadline(self.deadline, self.name, self._limits)
        view = memoryview(buffer).cast("B")
        # One byte more than the cap may be read, so a file that grew after fstat() is noticed.
        want = min(len(view), self._limits.max_model_bytes + 1 - self._read_so_far, _CHUNK)
        if want <= 0:
            raise ModelError(f"model {shown(self.name)} is larger than nn.max_model_bytes "
                             f"({self._limits.max_model_bytes} bytes)")
        try:
            n = os.readv(self._fd, [view[:want]])
        except BlockingIOError:
            raise ModelError(f"model {shown(self.name)} cannot be read without blocking") from None
        except OSError as e:
            raise ModelError(f"model {shown(self.name)} cannot be read: {e.strerror}") from None
        self._read_so_far += n
        return n

    def rewind(self) -> None:
        """Back to the start of the file (the same descriptor)."""
        os.lseek(self._fd, 0, os.SEEK_SET)
        self._read_so_far = 0

    def read_all(self) -> bytes:
        """The whole file (at most max_model_bytes), with one copy at most of transient memory."""
        out = io.BytesIO()
        chunk = bytearray(_CHUNK)
        while True:
            n = self.readinto(chunk)
            if n == 0:
                break
            out.write(memoryview(chunk)[:n])
        if self._read_so_far > self._limits.max_model_bytes:
            raise ModelError(f"model {shown(self.name)} is larger than nn.max_model_bytes "
                             f"({self._limits.max_model_bytes} bytes)")
        return out.getvalue()      # BytesIO hands its buffer over without a copy

    def close(self) -> None:
        if not self.closed and self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        super().close()


def check_deadline(deadline: float, name: str, limits: ModelLimits) -> None:
    if time.monotonic() > deadline:
        raise ModelError(f"reading model {shown(name)} took longer than {limits.read_timeout_s:g} s")


class ModelStore:
    """The allow-list, the upload cache and the limits every model read goes through.

    `allowed_dirs`: directories a `model` path may lie in (resolved; the cache is always allowed).
    `cache_dir`: where uploads are stored (created 0700 on the first upload).
    `max_model_bytes`: cap for a model file, an upload, and an archive's uncompressed size.
    `max_cache_bytes`: uploads beyond this total are pruned, oldest first (default 4 x max_model_bytes).
    """

    def __init__(self, allowed_dirs: Iterable[Path | str], cache_dir: Path | str,
                 max_model_bytes: int = DEFAULT_MAX_MODEL_BYTES, *, read_timeout_s: float = 30.0,
                 max_cache_bytes: int | None = None):
        self.limits = ModelLimits(max_model_bytes=max_model_bytes, read_timeout_s=read_timeout_s)
        self.cache_dir = Path(os.path.realpath(Path(cache_dir).expanduser()))
        dirs = [Path(os.path.realpath(Path(d).expanduser())) for d in allowed_dirs if str(d)]
        self.allowed_dirs: tuple[Path, ...] = tuple(dict.fromkeys(dirs + [self.cache_dir]))
        self.max_cache_bytes = 4 * max_model_bytes if max_cache_bytes is None else max_cache_bytes

    @classmethod
    def default(cls, max_model_bytes: int = DEFAULT_MAX_MODEL_BYTES,
                allowed_dirs: Iterable[Path | str] | None = None, **kwargs) -> ModelStore:
        """The node's defaults: `allowed_dirs` empty or None -> the package's models/ (+ the cache)."""
        dirs = list(allowed_dirs or []) or package_models_dirs()
        return cls(dirs, DEFAULT_CACHE_DIR, max_model_bytes, **kwargs)

    @property
    def max_model_bytes(self) -> int:
        return self.limits.max_model_bytes

    # -- paths ------------------------------------------------------------------------------
    def _refusal(self, path: str) -> ModelError:
        dirs = ", ".join(str(d) for d in self.allowed_dirs)
        return ModelError(f"model {shown(path)} is outside the allowed model directories ({dirs}); "
                          "copy it into one of them, upload it as model_data, or add its directory to "
                          "the nn.allowed_model_dirs parameter")

    def resolve(self, path: str) -> Path:
        """`path` with symlinks and `..` resolved, if it lies inside an allowed directory (else
        ModelError). A relative path is looked up in the allowed directories, in order (`models/...`
        also from a `models` directory's parent), the first that exists. Nothing
        is opened: a path outside the allow-list is refused whether it exists or not."""
        if not isinstance(path, str) or not path:
            raise ModelError("model must be a non-empty string path")
        if "\x00" in path:
            raise ModelError("model path contains a NUL character")
        given = Path(path).expanduser()
        candidates = [given]
        if not given.is_absolute():   # a preset's `models/x.tar.xz` is relative to the package root
            candidates = [d / given for d in self.allowed_dirs] + \
                [d.parent / given for d in self.allowed_dirs if d.name == "models" and given.parts[0] == "models"]
        resolved = [Path(os.path.realpath(c)) for c in candidates]
        inside = [r for r in resolved if _inside(r, self.allowed_dirs)]
        if not inside:
            raise self._refusal(path)
        return next((r for r in inside if os.path.lexists(r)), inside[0])

    # -- reading ----------------------------------------------------------------------------
    def open(self, path: str | Path, started: float | None = None) -> ModelFile:
        """The model file, opened safely (see the module doc). `started`: monotonic time the
        read deadline counts from (default now). Close it (it is a context manager)."""
        real = self.resolve(str(path))
        name = str(path)
        flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0) | \
            getattr(os, "O_NOCTTY", 0)
        try:
            fd = os.open(real, flags)
        except FileNotFoundError:
            raise ModelError(f"model file {shown(name)} does not exist") from None
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise ModelError(f"model {shown(name)} was replaced by a symbolic link while opening") from None
            raise ModelError(f"model file {shown(name)} cannot be opened: {e.strerror}") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise ModelError(f"model {shown(name)} is not a regular file")
            if st.st_size > self.limits.max_model_bytes:
                raise ModelError(f"model {shown(name)} is {st.st_size} bytes, over nn.max_model_bytes "
                                 f"({self.limits.max_model_bytes})")
            try:    # where the descriptor really points: a directory swapped for a link is caught here
                actual = Path(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:
                actual = real
            if not _inside(actual, self.allowed_dirs):
                raise self._refusal(name)
        except BaseException:
            os.close(fd)
            raise
        start = time.monotonic() if started is None else started
        return ModelFile(fd, name, st.st_size, self.limits, start + self.limits.read_timeout_s)

    def read(self, path: str | Path) -> bytes:
        """The whole model file (ModelError if it is not allowed, not a regular file, too large or slow)."""
        with self.open(path) as f:
            data = f.read_all()
        if not data:
            raise ModelError(f"model {shown(str(path))} is empty")
        return data

    # -- uploads ----------------------------------------------------------------------------
    def store_upload(self, data, suffix: str, keep: Iterable[Path | str] = ()) -> Path:
        """Store uploaded bytes as `<cache_dir>/<sha256>.<suffix>`, atomically; its real path.

        `data`: bytes-like (bytes, bytearray, memoryview, array.array('B')). `suffix`: one of
        UPLOAD_SUFFIXES. Older uploads are pruned beyond max_cache_bytes, except those in `keep`
        (the node passes what runs, so cleanup + configure can redeploy it)."""
        suffix = suffix.lstrip(".")
        if suffix not in UPLOAD_SUFFIXES:
            raise ModelError(f"upload suffix must be one of {', '.join(UPLOAD_SUFFIXES)}, got {shown(suffix)}")
        try:
            view = memoryview(data).cast("B")
        except TypeError:
            raise ModelError("model_data must be a byte array") from None
        if len(view) == 0:
            raise ModelError("model_data is empty")
        if len(view) > self.limits.max_model_bytes:
            raise ModelError(f"model_data is {len(view)} bytes, over nn.max_model_bytes "
                             f"({self.limits.max_model_bytes})")
        digest = hashlib.sha256(view).hexdigest()
        try:
            self.cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            final = self.cache_dir / f"{digest}.{suffix}"
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, prefix=".upload-", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(view)
                    f.flush()
                    os.fsync(f.fileno())   # renamed only once the bytes are on disk
                os.replace(tmp, final)
            finally:
                if os.path.lexists(tmp):
                    os.unlink(tmp)
        except OSError as e:
            raise ModelError(f"model_data cannot be stored in the model cache {self.cache_dir}: "
                             f"{e.strerror}") from None
        self.prune(keep=[final, *keep])
        return final

    def prune(self, keep: Iterable[Path | str] = ()) -> list[Path]:
        """Remove the oldest uploads (only `<sha256>.<suffix>` files) until the cache holds at most
        max_cache_bytes; never those in `keep`. The paths removed."""
        kept = {Path(os.path.realpath(p)) for p in keep}
        try:
            entries = []
            with os.scandir(self.cache_dir) as it:
                for e in it:
                    if _UPLOAD_NAME.match(e.name) and e.is_file(follow_symlinks=False):
                        st = e.stat(follow_symlinks=False)
                        entries.append((st.st_mtime, st.st_size, Path(e.path)))
        except OSError:
            return []
        total = sum(size for _, size, _ in entries)
        removed = []
        for _, size, path in sorted(entries):
            if total <= self.max_cache_bytes:
                break
            if path in kept:
                continue
            try:
                path.unlink()
                total -= size
                removed.append(path)
            except OSError:
                pass
        return removed
