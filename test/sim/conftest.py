"""Shared simulator fixtures: the OAK-D rig at 720p colour / 400p mono, one seeded scene."""
from __future__ import annotations

import pytest

from depthai_ros_bridge.sim.render import Renderer, RenderResult
from depthai_ros_bridge.sim.rig import Rig, oakd_rig
from depthai_ros_bridge.sim.scene import Scene

SEED = 7
T = 1.5


@pytest.fixture(scope="session")
def rig() -> Rig:
    return oakd_rig((1280, 720), (640, 400))


@pytest.fixture(scope="session")
def scene() -> Scene:
    return Scene(SEED)


@pytest.fixture(scope="session")
def view_time() -> float:
    return T


@pytest.fixture(scope="session")
def views(rig: Rig, scene: Scene, view_time: float) -> dict[str, RenderResult]:
    """The scene at view_time from the colour camera and both mono cameras."""
    renderer = Renderer(scene)
    return {"rgb": renderer.render(rig.rgb, view_time),
            "left": renderer.render(rig.left, view_time, mono=True),
            "right": renderer.render(rig.right, view_time, mono=True)}
