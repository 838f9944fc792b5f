"""The rule of one node parameter (its default, range, choices, live or rebuild), shared by the spec's tables."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    default: Any
    description: str
    choices: tuple = ()
    runtime: bool = False          # applies live; otherwise read-only while configured
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False    # the value must be above `min`, not equal to it (a rate of 0 Hz)
    check: Callable[[Any], str | None] | None = None    # a further rule: why a value is refused, or None
