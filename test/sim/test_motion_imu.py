"""The moving rig (sim.camera_motion) and the simulated BMI270: exact derivatives, images that move with the
rig, and IMU readings against the trajectory's ground truth (issue 11)."""
from __future__ import annotations

import numpy as np
import pytest

from depthai_ros_bridge.core.imu import GRAVITY, covariances
from depthai_ros_bridge.sim.imu import SimImu, oakd_imu
from depthai_ros_bridge.sim.motion import RigMotion, exp_rotation, rotation_vector
from depthai_ros_bridge.sim.render import Renderer
from depthai_ros_bridge.sim.rig import oakd_rig
from depthai_ros_bridge.sim.scene import Scene

RATE = 200.0


@pytest.mark.parametrize("mode", ["handheld", "orbit"])
def test_derivatives_are_exact(mode):
    """Angular velocity and accelerations agree with central differences of the pose to rounding."""
    motion, h = RigMotion(mode), 1e-5
    for t in (0.0, 0.7, 3.1, 11.0):
        k, kp, km = motion.kinematics(t), motion.kinematics(t + h), motion.kinematics(t - h)
        assert np.allclose((kp.R - km.R) / (2 * h), k.R_dot, atol=1e-8)
        assert np.allclose((kp.R_dot - km.R_dot) / (2 * h), k.R_ddot, atol=1e-7)
        assert np.allclose((kp.p - km.p) / (2 * h), k.p_dot, atol=1e-8)
        assert np.allclose((kp.p_dot - km.p_dot) / (2 * h), k.p_ddot, atol=1e-7)
        # omega in the rig's axes: R(t + h) ~ R(t) exp(omega h)
        assert np.allclose(rotation_vector(k.R.T @ kp.R) / h, k.omega, atol=1e-4)
        assert np.linalg.det(k.R) == pytest.approx(1.0)


def test_static_is_the_identity_and_unknown_modes_are_refused():
    R, p = RigMotion("static").pose(5.0)
    assert np.array_equal(R, np.eye(3)) and np.array_equal(p, np.zeros(3))
    with pytest.raises(ValueError, match="static, handheld, orbit"):
        RigMotion("shaky")


def test_rendering_at_the_rest_pose_matches_the_cached_room():
    rig, renderer = oakd_rig((1280, 720), (640, 400)), Renderer(Scene(0))
    for camera, mono in ((rig.left, True), (rig.rgb, False)):
        cached = renderer.render(camera, 1.0, mono=mono)
        traced = renderer.render(camera, 1.0, mono=mono, rig_pose=(np.eye(3), np.zeros(3)))
        assert np.allclose(cached.depth, traced.depth, rtol=1e-4)
        assert np.array_equal(cached.mask, traced.mask)
        # only the supersampling of the cached room differs
        assert np.abs(cached.image.astype(int) - traced.image).mean() < 6


@pytest.mark.parametrize("mode", ["handheld", "orbit"])
def test_the_images_move_with_the_rig(mode):
    """Each object's centre projects, through the posed camera, onto that object's pixels; and the view
    differs from the rest pose's."""
    rig, renderer, motion = oakd_rig((1280, 720), (640, 400)), Renderer(Scene(0)), RigMotion(mode)
    t = 2.0
    moved = renderer.render(rig.left, t, mono=True, rig_pose=motion.pose(t))
    rest = renderer.render(rig.left, t, mono=True)
    assert (moved.mask != rest.mask).mean() > 0.005
    for obj in moved.objects:
        u, v = np.round(moved.camera.project(moved.camera.to_camera(np.array(obj.centre)))).astype(int)
        assert 0 <= u < 640 and 0 <= v < 400 and moved.mask[v, u] == obj.index, obj.label
        # its depth there: in front of the centre, within the object's bounding sphere
        z = moved.camera.to_camera(np.array(obj.centre))[2]
        assert z - np.linalg.norm(obj.size) / 2 <= moved.depth[v, u] <= z


def test_static_imu_measures_gravity_and_no_rotation():
    rig = oakd_rig((1280, 720), (640, 400))
    imu = SimImu(RigMotion("static"), oakd_imu(rig.left.position, RATE), seed=0)
    _, accel, gyro = imu.read(int(5 * RATE))
    assert np.linalg.norm(accel.mean(0)) == pytest.approx(GRAVITY, abs=0.05)
    assert np.linalg.norm(accel, axis=1).mean() == pytest.approx(GRAVITY, abs=0.05)
    assert np.abs(gyro.mean(0)).max() < 0.005                      # rad/s: the bias only
    # gravity points up in the IMU's axes: minus the world's +y (down) turned into them
    up_in_imu = imu.info.R.T @ np.array([0.0, -1.0, 0.0])
    assert accel.mean(0) / GRAVITY == pytest.approx(up_in_imu, abs=0.01)
    # the white noise has the density the covariance says
    accel_var, gyro_var = covariances(imu.info.noise, RATE)
    assert np.diff(accel, axis=0).var(0).mean() / 2 == pytest.approx(accel_var, rel=0.2)
    assert np.diff(gyro, axis=0).var(0).mean() / 2 == pytest.approx(gyro_var, rel=0.35)


@pytest.mark.parametrize("start", [0.0, 1.5, 4.0])
def test_handheld_gyro_integrated_over_2_s_is_the_true_rotation(start):
    rig = oakd_rig((1280, 720), (640, 400))
    motion = RigMotion("handheld")
    imu = SimImu(motion, oakd_imu(rig.left.position, RATE), seed=3)
    first = int(start * RATE)
    imu.read(first)
    times, _, gyro = imu.read(first + int(2 * RATE) + 1)
    integrated = np.eye(3)
    for w in gyro[:-1]:                 # sample i holds over [t_i, t_i + dt)
        integrated = integrated @ exp_rotation(w / RATE)
    # the true rotation of the IMU frame: R_imu^T (R0^T R1) R_imu
    R_imu = imu.info.R
    truth = R_imu.T @ motion.pose(times[0])[0].T @ motion.pose(times[-1])[0] @ R_imu
    angle = np.linalg.norm(rotation_vector(truth))
    assert angle > 0.05                 # a real motion, not noise
    assert np.linalg.norm(rotation_vector(truth.T @ integrated)) < 0.02 * angle


def test_handheld_accelerometer_is_specific_force_at_the_imu():
    """Averaged over 20 samples the readings match the trajectory's specific force (lever arm included)."""
    rig = oakd_rig((1280, 720), (640, 400))
    motion = RigMotion("handheld")
    imu = SimImu(motion, oakd_imu(rig.left.position, RATE), seed=1)
    times, accel, _ = imu.read(int(3 * RATE))
    truth = np.array([imu.truth(float(t))[0] for t in times])
    assert np.abs((accel - truth)[:20].mean(0)).max() < 0.05
    assert np.abs(np.linalg.norm(truth, axis=1) - GRAVITY).max() > 0.01      # it does accelerate


def test_readings_do_not_depend_on_batching():
    rig = oakd_rig((1280, 720), (640, 400))
    info = oakd_imu(rig.left.position, RATE)
    whole = SimImu(RigMotion("orbit"), info, seed=7).read(100)
    parts = SimImu(RigMotion("orbit"), info, seed=7)
    pieces = [parts.read(n) for n in (1, 13, 14, 60, 100)]
    for i in range(3):       # the same draws; only the bias walk's sums round differently
        assert np.allclose(whole[i], np.concatenate([p[i] for p in pieces]), rtol=0, atol=1e-12)
    other = SimImu(RigMotion("orbit"), info, seed=8).read(100)
    assert not np.array_equal(whole[1], other[1])
