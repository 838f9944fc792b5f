"""The seeded scene: one object of each class on the floor, in view, moving smoothly."""
from __future__ import annotations

import math

import numpy as np
import pytest

from depthai_ros_bridge.sim.classes import CLASSES
from depthai_ros_bridge.sim.scene import FLOOR_Y, Scene

SEEDS = range(20)
TIMES = np.linspace(0.0, 30.0, 61)


def test_every_class_appears_once_and_stands_on_the_floor():
    for seed in SEEDS:
        objects = Scene(seed).objects_at(3.0)
        assert sorted(o.class_index for o in objects) == list(range(len(CLASSES)))
        for o in objects:
            assert o.label == CLASSES[o.class_index].label
            assert o.shape == CLASSES[o.class_index].shape
            assert o.centre[1] + o.size[1] / 2 == pytest.approx(FLOOR_Y)


def test_objects_stay_between_1_and_4_m_and_never_overlap():
    for seed in SEEDS:
        scene = Scene(seed)
        for t in TIMES:
            objects = scene.objects_at(t)
            for o in objects:
                assert 1.0 <= math.hypot(o.centre[0], o.centre[2]) <= 4.0
            for i, a in enumerate(objects):
                for b in objects[i + 1:]:
                    gap = math.hypot(a.centre[0] - b.centre[0], a.centre[2] - b.centre[2])
                    reach = (math.hypot(a.size[0], a.size[2])
                             + math.hypot(b.size[0], b.size[2])) / 2
                    assert gap > reach


def test_same_seed_gives_the_same_world_and_other_seeds_other_worlds():
    assert Scene(3).objects_at(2.5) == Scene(3).objects_at(2.5)
    assert Scene(3).objects_at(2.5) != Scene(4).objects_at(2.5)


def test_motion_is_smooth_and_motion_speed_zero_is_static():
    scene = Scene(5)
    dt = 1 / 30
    for t in TIMES:
        for a, b in zip(scene.objects_at(t), scene.objects_at(t + dt)):
            step = np.subtract(b.centre, a.centre)
            assert 0 < np.linalg.norm(step) < 0.01       # < 30 cm/s
            assert abs(b.yaw - a.yaw) < 0.02
    static = Scene(5, motion_speed=0.0)
    assert static.objects_at(0.0) == static.objects_at(17.0)
    faster = Scene(5, motion_speed=2.0)
    assert faster.objects_at(1.0) == scene.objects_at(2.0)
