"""sim.fault strings -> fault values; malformed ones name the allowed forms."""
from __future__ import annotations

import pytest

from depthai_ros_bridge.core.faults import FORMS, Corrupt, Crash, Disconnect, Drop, SlowNN, Stall, parse_fault


@pytest.mark.parametrize("text, fault", [
    ("disconnect:3", Disconnect(3.0)),
    ("disconnect:0.5", Disconnect(0.5)),
    ("stall:rgb:2.5", Stall("rgb", 2.5)),
    ("stall:stereo:1", Stall("stereo", 1.0)),
    ("drop:left:5", Drop("left", 5)),
    ("corrupt:right:2", Corrupt("right", 2)),
    ("crash", Crash()),
    ("slow_nn:150", SlowNN(150.0)),
    ("slow_nn:0", SlowNN(0.0)),
    (" drop:rgb:1 ", Drop("rgb", 1)),
])
def test_each_form_parses(text, fault):
    assert parse_fault(text) == fault


@pytest.mark.parametrize("text, why", [
    ("", "unknown fault"),
    ("explode", "unknown fault"),
    ("disconnect", "disconnect takes 1 argument"),
    ("disconnect:nan", "seconds must be finite"),
    ("disconnect:inf", "seconds must be finite"),
    ("disconnect:-1", "seconds must be finite"),
    ("disconnect:1e9", "seconds must be finite"),
    ("disconnect:soon", "seconds must be a number"),
    ("stall:depth:1", "stream must be one of rgb, left, right, stereo"),
    ("stall:rgb", "stall takes 2 argument"),
    ("drop:rgb:0", "count must be an integer in [1, 10000]"),
    ("drop:rgb:2.5", "count must be an integer"),
    ("drop:rgb:-3", "count must be an integer"),
    ("corrupt:rgb:100000", "count must be an integer in [1, 10000]"),
    ("crash:now", "crash takes 0 argument"),
    ("slow_nn:nan", "milliseconds must be finite"),
    ("slow_nn:20000", "milliseconds must be finite, in [0, 10000]"),
])
def test_malformed_strings_name_the_allowed_forms(text, why):
    with pytest.raises(ValueError) as e:
        parse_fault(text)
    assert why in str(e.value)
    assert all(form in str(e.value) for form in FORMS)
    assert len(str(e.value)) < 1000


def test_a_long_string_is_not_echoed_whole():
    with pytest.raises(ValueError) as e:
        parse_fault("x" * 100_000)
    assert len(str(e.value)) < 1000


def test_faults_are_frozen():
    import dataclasses
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_fault("crash").__setattr__("x", 1)
    with pytest.raises(ValueError):
        parse_fault(42)
