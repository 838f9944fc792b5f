"""Where the package's own files are (models/, config/), from the source tree or installed. ROS-free.

A preset names the demo model as `models/demo-colour-ssd.tar.xz`, relative to the package:
that must work from a source checkout (`make run`) and from an install (`ros2 launch`)
whatever the working directory. ament_index locates `share/<package>` by the prefixes in
AMENT_PREFIX_PATH; we do the same lookup here so core stays free of ROS imports.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE = "depthai_ros_bridge"


def package_dirs() -> list[Path]:
    """The package's data roots, most specific first: the source tree, then each installed share dir."""
    roots = []
    source = Path(__file__).resolve().parents[2]
    if (source / "package.xml").is_file():
        roots.append(source)
    prefixes = [p for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p] + [sys.prefix]
    for prefix in prefixes:
        share = Path(prefix) / "share" / PACKAGE
        if share.is_dir() and share not in roots:
            roots.append(share)
    return roots


def models_dir() -> Path | None:
    """The package's models/ directory (the demo networks), if there is one."""
    return next((root / "models" for root in package_dirs() if (root / "models").is_dir()), None)


def resolve_package_path(path: str) -> str:
    """`path` as given if it is absolute or exists from the working directory; else the first package
    root that has it (`models/x.tar.xz` -> <share>/models/x.tar.xz); else unchanged, so the error
    that follows names what the user wrote."""
    if not path:
        return path
    given = Path(path).expanduser()
    if given.is_absolute() or given.exists():
        return str(given.absolute())
    for root in package_dirs():
        candidate = root / given
        if candidate.exists():
            return str(candidate)
    return path
