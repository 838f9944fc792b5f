"""The simulated rig's own motion (sim.camera_motion): a smooth, deterministic trajectory with exact derivatives.

The world frame is the scene's (sim/scene.py: the rig optical frame at rest: x right, y down, z forward, gravity
along +y). pose(t) = (R, p): the rig's axes (columns of R) and origin p in the world, so p_world = R p_rig + p.
Rotation is R = Rz(c) Ry(b) Rx(a) with each angle, and each coordinate of p, a sum of sinusoids: the angular
velocity and every acceleration follow by differentiating those terms exactly (no finite differences).

- static: the identity, always.
- handheld: a few centimetres and degrees of slow sway (0.2-0.9 Hz), as a camera held in a hand.
- orbit: the rig swings +-20 degrees along an arc around a point 2.8 m ahead, keeping it in view (9 s a swing).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.imu_spec import CAMERA_MOTIONS

ORBIT_CENTRE_Z = 2.8          # m ahead of the rest pose: the point the orbiting rig looks at
ORBIT_SWING_RAD = math.radians(20.0)
ORBIT_PERIOD_S = 9.0


@dataclass(frozen=True)
class Wave:
    """A sum of sinusoids sum_i A_i sin(w_i t + phi_i): its value and first two derivatives."""

    terms: tuple[tuple[float, float, float], ...] = ()    # (amplitude, angular frequency rad/s, phase)

    def at(self, t):
        """Value, first and second derivative at t (a float, or an array of times)."""
        v, d, dd = 0.0 * t, 0.0 * t, 0.0 * t      # three arrays, not one shared
        for a, w, phi in self.terms:
            s, c = np.sin(w * t + phi), np.cos(w * t + phi)
            v = v + a * s
            d = d + a * w * c
            dd = dd - a * w * w * s
        return v, d, dd


def _axis_rotation(axis: int, angle) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rotation about a coordinate axis and its first and second derivatives with respect to the angle
    (for an array of angles: (n, 3, 3) stacks)."""
    angle = np.asarray(angle, float)
    c, s = np.cos(angle), np.sin(angle)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    m, d, dd = (np.zeros(angle.shape + (3, 3)) for _ in range(3))
    m[..., axis, axis] = 1.0
    m[..., i, i] = m[..., j, j] = c
    m[..., i, j], m[..., j, i] = -s, s
    d[..., i, i] = d[..., j, j] = -s
    d[..., i, j], d[..., j, i] = -c, c
    dd[..., i, i] = dd[..., j, j] = -c
    dd[..., i, j], dd[..., j, i] = s, -s
    return m, d, dd


def _scaled(k, m):
    """k * m for a scalar or per-time k (n,) and m (3, 3) or (n, 3, 3)."""
    return np.asarray(k)[..., None, None] * m


@dataclass(frozen=True)
class Kinematics:
    """The rig at one instant (world frame unless said)."""

    R: np.ndarray              # rig axes in the world
    p: np.ndarray              # rig origin
    omega: np.ndarray          # angular velocity in the rig's own axes, rad/s
    R_dot: np.ndarray
    R_ddot: np.ndarray
    p_dot: np.ndarray
    p_ddot: np.ndarray

    def point_acceleration(self, r_rig) -> np.ndarray:
        """World acceleration of a point fixed in the rig at r_rig: d2/dt2 (R r + p)."""
        return self.R_ddot @ np.asarray(r_rig, float) + self.p_ddot


class RigMotion:
    """pose(t) and its derivatives for one of CAMERA_MOTIONS."""

    def __init__(self, mode: str = "static"):
        if mode not in CAMERA_MOTIONS:
            raise ValueError(f"camera motion must be one of {', '.join(CAMERA_MOTIONS)}, got {mode!r}")
        self.mode = mode
        self._angles = (Wave(), Wave(), Wave())        # a (about x), b (about y), c (about z)
        self._position = (Wave(), Wave(), Wave())
        if mode == "handheld":
            # Incommensurate frequencies: the sway never repeats exactly, as a hand's does not.
            self._angles = (Wave(((0.05, 2 * math.pi * 0.31, 0.3), (0.015, 2 * math.pi * 0.83, 1.1))),
                            Wave(((0.09, 2 * math.pi * 0.23, 2.0), (0.02, 2 * math.pi * 0.71, 0.4))),
                            Wave(((0.04, 2 * math.pi * 0.37, 4.1), (0.01, 2 * math.pi * 0.89, 2.6))))
            self._position = (Wave(((0.03, 2 * math.pi * 0.27, 0.9),)),
                              Wave(((0.02, 2 * math.pi * 0.41, 3.3),)),
                              Wave(((0.025, 2 * math.pi * 0.19, 5.2),)))

    @property
    def moving(self) -> bool:
        return self.mode != "static"

    def kinematics(self, t) -> Kinematics:
        """The rig at scene time t; for an array of n times every field gains a leading axis of n."""
        if self.mode == "orbit":
            return self._orbit(t)
        t = np.asarray(t, float)
        (a, da, dda), (b, db, ddb), (c, dc, ddc) = (w.at(t) for w in self._angles)
        x, y, z = _axis_rotation(0, a), _axis_rotation(1, b), _axis_rotation(2, c)
        # R = Z Y X, each factor a function of one angle: the product rule, twice.
        Z, Y, X = z[0], y[0], x[0]
        Zd, Yd, Xd = _scaled(dc, z[1]), _scaled(db, y[1]), _scaled(da, x[1])
        Zdd = _scaled(ddc, z[1]) + _scaled(dc * dc, z[2])
        Ydd = _scaled(ddb, y[1]) + _scaled(db * db, y[2])
        Xdd = _scaled(dda, x[1]) + _scaled(da * da, x[2])
        R = Z @ Y @ X
        R_dot = Zd @ Y @ X + Z @ Yd @ X + Z @ Y @ Xd
        R_ddot = (Zdd @ Y @ X + Z @ Ydd @ X + Z @ Y @ Xdd
                  + 2 * (Zd @ Yd @ X + Zd @ Y @ Xd + Z @ Yd @ Xd))
        pos = [w.at(t) for w in self._position]
        p, p_dot, p_ddot = (np.stack([np.asarray(v[k], float) + 0 * t for v in pos], -1) for k in range(3))
        return Kinematics(R, p, _vee(np.swapaxes(R, -1, -2) @ R_dot), R_dot, R_ddot, p_dot, p_ddot)

    def _orbit(self, t) -> Kinematics:
        """On a circle of radius ORBIT_CENTRE_Z about (0, 0, ORBIT_CENTRE_Z), turned by -theta about y to face it."""
        t = np.asarray(t, float)
        w = 2 * math.pi / ORBIT_PERIOD_S
        theta, dtheta, ddtheta = Wave(((ORBIT_SWING_RAD, w, 0.0),)).at(t)
        r = ORBIT_CENTRE_Z
        s, c = np.sin(theta), np.cos(theta)
        zero = 0 * t
        p = np.stack([r * s, zero, r * (1 - c)], -1)
        p_dot = np.stack([r * c * dtheta, zero, r * s * dtheta], -1)
        p_ddot = np.stack([r * (c * ddtheta - s * dtheta ** 2), zero, r * (s * ddtheta + c * dtheta ** 2)], -1)
        m, d, dd = _axis_rotation(1, -theta)
        R_dot = _scaled(-dtheta, d)
        R_ddot = _scaled(-ddtheta, d) + _scaled(dtheta ** 2, dd)
        return Kinematics(m, p, _vee(np.swapaxes(m, -1, -2) @ R_dot), R_dot, R_ddot, p_dot, p_ddot)

    def pose(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """(R, p): the rig's axes and origin in the world at scene time t."""
        if not self.moving:
            return np.eye(3), np.zeros(3)
        k = self.kinematics(t)
        return k.R, k.p


def _vee(skew: np.ndarray) -> np.ndarray:
    """The vector w of a skew-symmetric [w]x (averaging the two halves against rounding); stacks too."""
    return np.stack([skew[..., 2, 1] - skew[..., 1, 2], skew[..., 0, 2] - skew[..., 2, 0],
                     skew[..., 1, 0] - skew[..., 0, 1]], -1) / 2


def rotation_angle(R: np.ndarray) -> float:
    """The angle of a rotation matrix, rad."""
    return math.acos(max(-1.0, min(1.0, (np.trace(R) - 1) / 2)))


def rotation_vector(R: np.ndarray) -> np.ndarray:
    """log(R) as a rotation vector (axis * angle), for angles below pi."""
    angle = rotation_angle(R)
    # _vee(R - R^T) = 2 sin(angle) * axis
    if angle < 1e-9:
        return _vee(R - R.T) / 2
    return _vee(R - R.T) * angle / (2 * math.sin(angle))


def exp_rotation(w: np.ndarray) -> np.ndarray:
    """exp([w]x): Rodrigues' formula."""
    angle = float(np.linalg.norm(w))
    if angle < 1e-12:
        return np.eye(3)
    k = np.asarray(w, float) / angle
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(angle) * K + (1 - math.cos(angle)) * K @ K
