"""Frame conventions of the static TF (REP-103): axes and the optical rotation. ROS-free."""
from __future__ import annotations

import numpy as np

# REP-103: rotation from a camera body frame (x forward, y left, z up) to its
# optical frame (z forward, x right, y down), as a quaternion x, y, z, w.
OPTICAL_ROTATION = (-0.5, 0.5, -0.5, 0.5)


def quaternion_matrix(quat_xyzw) -> np.ndarray:
    """The rotation matrix of a unit quaternion (x, y, z, w)."""
    x, y, z, w = quat_xyzw
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def rig_to_body(position_rig) -> tuple[float, float, float]:
    """A position in the rig optical frame (x right, y down, z fwd) in REP-103 axes (x fwd, y left, z up)."""
    x, y, z = position_rig
    return (z, -x, -y)


def default_tf_prefix(fully_qualified_name: str) -> str:
    """The node's namespace and name as one frame-name prefix: '/cam1/oak' -> 'cam1_oak', '/oak' -> 'oak'.

    Two cameras in different namespaces then publish different TF frames and diagnostics by default.
    """
    return "_".join(part for part in fully_qualified_name.split("/") if part)
