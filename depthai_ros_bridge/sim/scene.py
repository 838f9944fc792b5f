"""The simulated world: a textured room and moving objects, in the rig optical frame.

Coordinates are metres in the rig frame (x right, y down, z forward, origin at the rig
centre). Everything is a pure function of the seed and the time, so any frame can be
reproduced and ground truth is exact.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from depthai_ros_bridge.core.sensors import RGB_HFOV_DEG, RGB_RESOLUTIONS
from depthai_ros_bridge.sim.classes import CLASSES

FLOOR_Y = 0.6          # the rig is mounted 60 cm above the floor
CEILING_Y = -2.4
BACK_WALL_Z = 6.0
SIDE_WALL_X = 3.0


@dataclass(frozen=True)
class Plane:
    """An infinite axis-aligned plane {p : p[axis] == offset} of the room."""

    name: str
    axis: int
    offset: float
    bgr: tuple[int, int, int]
    textured: bool = True


# Low-saturation surfaces, so that colour alone separates objects from the room.
ROOM: tuple[Plane, ...] = (
    Plane("floor", 1, FLOOR_Y, (118, 128, 140)),
    Plane("ceiling", 1, CEILING_Y, (200, 200, 196)),
    Plane("back_wall", 2, BACK_WALL_Z, (168, 176, 180)),
    Plane("left_wall", 0, -SIDE_WALL_X, (170, 162, 158)),
    Plane("right_wall", 0, SIDE_WALL_X, (158, 166, 170)),
)
# sim.scene plain_wall: one uniform, textureless wall 2 m ahead filling every view, where stereo
# matching has nothing to match unless the IR dot projector gives it texture.
PLAIN_WALL: tuple[Plane, ...] = (Plane("plain_wall", 2, 2.0, (150, 150, 150), textured=False),)


@dataclass(frozen=True)
class SceneObject:
    """One object at one instant. The object-to-rig rotation is a yaw about the rig's y
    axis: p_rig = centre + R_y(yaw) @ p_object, R_y = [[c, 0, s], [0, 1, 0], [-s, 0, c]]."""

    index: int
    class_index: int
    label: str
    centre: tuple[float, float, float]
    size: tuple[float, float, float]    # full extents along the object's x, y, z
    yaw: float

    @property
    def shape(self) -> str:
        return CLASSES[self.class_index].shape


@dataclass(frozen=True)
class ObjectTrack:
    """An object standing on the floor, moving on an ellipse around an anchor point:
    one semi-axis along the line of sight from the rig, one across it."""

    class_index: int
    size: tuple[float, float, float]
    anchor: tuple[float, float]          # (x, z) on the floor
    radial_amplitude: float
    lateral_amplitude: float
    period_s: float
    phase: float
    yaw0: float
    yaw_rate: float                      # rad/s

    def pose_at(self, t: float) -> tuple[tuple[float, float, float], float]:
        """Centre (rig frame) and yaw at time t seconds."""
        ax, az = self.anchor
        r = math.hypot(ax, az)
        ux, uz = ax / r, az / r      # along the line of sight
        theta = 2 * math.pi * t / self.period_s + self.phase
        radial = self.radial_amplitude * math.sin(theta)
        lateral = self.lateral_amplitude * math.cos(theta)
        x = ax + radial * ux + lateral * uz
        z = az + radial * uz - lateral * ux
        return (x, FLOOR_Y - self.size[1] / 2, z), self.yaw0 + self.yaw_rate * t


def _footprint_radius(size: tuple[float, float, float]) -> float:
    return math.hypot(size[0], size[2]) / 2


def _random_size(rng: np.random.Generator, shape: str) -> tuple[float, float, float]:
    if shape == "box":
        w, h, d = rng.uniform((0.28, 0.25, 0.28), (0.4, 0.4, 0.4))
        return (float(w), float(h), float(d))
    if shape == "sphere":
        d = float(rng.uniform(0.24, 0.34))
        return (d, d, d)
    d = float(rng.uniform(0.22, 0.3))
    h = float(rng.uniform(0.35, 0.5) if shape == "cylinder" else rng.uniform(0.3, 0.45))
    return (d, h, d)


# Layout limits. Objects keep inside the narrowest view (the 16:9 colour camera) with a
# margin, and far enough that their base is in its view (the floor is 60 cm down).
_HALF_HFOV = math.radians(RGB_HFOV_DEG / 2)
_RGB_W, _RGB_H = RGB_RESOLUTIONS["1080p"]
_HALF_VFOV_TAN = math.tan(_HALF_HFOV) * _RGB_H / _RGB_W
_MAX_AZIMUTH = _HALF_HFOV - math.radians(3.0)
_MIN_Z = FLOOR_Y / _HALF_VFOV_TAN + 0.1
_MAX_RANGE = 4.0
_PARALLAX_M = 0.04     # how far a camera sits from the rig centre (plus a little)


def random_tracks(seed: int) -> tuple[ObjectTrack, ...]:
    """One object of each class, left to right in random order, each in its own sector of
    azimuth (as seen from any camera, over its whole path) so none occludes another."""
    rng = np.random.default_rng(seed)
    while (tracks := _sample_layout(rng)) is None:
        pass
    return tracks


def _sample_layout(rng: np.random.Generator) -> tuple[ObjectTrack, ...] | None:
    order = rng.permutation(len(CLASSES))
    sizes = [_random_size(rng, CLASSES[i].shape) for i in order]
    radial_amp = rng.uniform(0.15, 0.3, len(order))
    lateral_amp = rng.uniform(0.03, 0.06, len(order))
    ranges = rng.uniform(2.3, 3.4, len(order))
    # Half-width of each object's sector, at its closest approach.
    reach = np.array([_footprint_radius(s) for s in sizes]) + lateral_amp + _PARALLAX_M
    half = np.arcsin(reach / (ranges - radial_amp))
    slack = 2 * _MAX_AZIMUTH - 2 * half.sum()
    if slack <= 0:
        return None
    gaps = rng.dirichlet(np.ones(len(order) + 1)) * slack
    azimuth = -_MAX_AZIMUTH + np.cumsum(gaps[:-1] + 2 * half) - half

    tracks = []
    for k, cls in enumerate(order):
        # Push off-centre objects back so their base stays in view; a larger range only
        # narrows the sector, so the layout stays occlusion-free.
        near = (_MIN_Z + reach[k]) / math.cos(azimuth[k]) + radial_amp[k]
        r = float(min(max(ranges[k], near), _MAX_RANGE - radial_amp[k]))
        tracks.append(ObjectTrack(
            class_index=int(cls), size=sizes[k],
            anchor=(r * math.sin(azimuth[k]), r * math.cos(azimuth[k])),
            radial_amplitude=float(radial_amp[k]), lateral_amplitude=float(lateral_amp[k]),
            period_s=float(rng.uniform(6.0, 12.0)), phase=float(rng.uniform(0, 2 * math.pi)),
            yaw0=float(rng.uniform(-math.pi, math.pi)),
            yaw_rate=float(rng.choice([-1, 1]) * rng.uniform(0.1, 0.4))))
    return tuple(tracks)


class Scene:
    """A room with objects on deterministic paths; motion_speed scales time (0 = static)."""

    def __init__(self, seed: int, motion_speed: float = 1.0,
                 tracks: Sequence[ObjectTrack] | None = None):
        self.seed = seed
        self.motion_speed = motion_speed
        self.tracks = tuple(tracks) if tracks is not None else random_tracks(seed)
        self.planes = ROOM

    def objects_at(self, t: float) -> list[SceneObject]:
        objects = []
        for i, track in enumerate(self.tracks):
            centre, yaw = track.pose_at(t * self.motion_speed)
            objects.append(SceneObject(i, track.class_index, CLASSES[track.class_index].label,
                                       centre, track.size, yaw))
        return objects


def make_scene(kind: str, seed: int, motion_speed: float = 1.0) -> Scene:
    """The scene `sim.scene` names: "room" (the textured room with its objects) or "plain_wall"."""
    if kind == "plain_wall":
        scene = Scene(seed, motion_speed, tracks=())
        scene.planes = PLAIN_WALL
        return scene
    if kind != "room":
        raise ValueError(f"unknown scene {kind!r}; scenes are room, plain_wall")
    return Scene(seed, motion_speed)
