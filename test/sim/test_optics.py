"""The simulated cameras' physics (sim/optics.py) against what the scene's ground truth says it must do."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from depthai_ros_bridge.core.controls import CameraControlSpec
from depthai_ros_bridge.sim.optics import (
    IMX378,
    MID_GREY,
    OV9282,
    SCENE_KELVIN,
    CameraOptics,
    lens_dioptres,
    white_balance_gains,
)
from depthai_ros_bridge.sim.render import Renderer
from depthai_ros_bridge.sim.scene import FLOOR_Y, ObjectTrack, Scene

MANUAL = CameraControlSpec(auto_exposure=False, exposure_time_us=20000, iso=100)


def _centre(image: np.ndarray, share: float = 0.2) -> np.ndarray:
    h, w = image.shape[:2]
    dy, dx = int(h * share / 2), int(w * share / 2)
    return image[h // 2 - dy:h // 2 + dy, w // 2 - dx:w // 2 + dx]


def test_halving_the_exposure_time_halves_a_grey_unsaturated_region(views):
    rendered = views["rgb"]
    region = rendered.mask == -1            # the room: grey, and at ISO 400 noisy
    means = []
    for time_us in (5000, 2500):
        optics = CameraOptics(IMX378, 1280, 30.0, 1, CameraControlSpec(
            auto_exposure=False, exposure_time_us=time_us, iso=400, auto_white_balance=False, kelvin=5500))
        image = optics.apply(rendered.image, rendered.depth, 0)
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        assert np.count_nonzero(grey[region] == 255) < 0.001 * region.sum(), "region saturated"
        means.append(float(grey[region].mean()))
    assert means[1] / means[0] == pytest.approx(0.5, rel=0.05)


def test_exposure_saturates_at_full_scale(views):
    optics = CameraOptics(OV9282, 640, 30.0, 1, CameraControlSpec(auto_exposure=False, exposure_time_us=33000,
                                                                   iso=1600))
    image = optics.apply(views["left"].image, None, 0)
    assert image.max() == 255 and np.mean(image == 255) > 0.9


def test_noise_is_none_at_iso_100_grows_with_iso_and_repeats_per_seed_and_frame(views):
    radiance = views["left"].image
    spread = {}
    for iso in (100, 400, 1600):
        time_us = 20000 * 100 // iso        # the same mean, more gain
        control = CameraControlSpec(auto_exposure=False, exposure_time_us=time_us, iso=iso)
        make = lambda seed, c=control: CameraOptics(OV9282, 640, 30.0, seed, c)  # noqa: E731
        a, b = make(3).apply(radiance, None, 10), make(3).apply(radiance, None, 11)
        assert np.array_equal(a, make(3).apply(radiance, None, 10)), "not deterministic per seed and frame"
        diff = a.astype(np.float32) - b.astype(np.float32)
        spread[iso] = float(diff.std() / np.sqrt(2))        # one frame's temporal noise
        assert abs(float(a.mean()) - float(radiance.mean())) < 1.0      # noise has no bias
    assert spread[100] == 0.0
    assert 0.3 < spread[400] < spread[1600]
    assert spread[1600] > 2.0


def test_auto_exposure_converges_on_mid_grey_within_ten_frames_after_a_change(views):
    radiance = views["left"].image
    optics = CameraOptics(OV9282, 640, 30.0, 1, CameraControlSpec(auto_exposure=False, exposure_time_us=2000))
    dark = optics.apply(radiance, None, 0)
    assert dark.mean() < 20
    optics.control = CameraControlSpec()          # auto again
    means = [float(optics.apply(radiance, None, seq).mean()) for seq in range(1, 11)]
    assert means[-1] == pytest.approx(MID_GREY, rel=0.05)
    optics.control = CameraControlSpec(compensation=-3)      # one EV down
    means = [float(optics.apply(radiance, None, seq).mean()) for seq in range(11, 21)]
    assert means[-1] == pytest.approx(MID_GREY / 2, rel=0.05)


def test_auto_exposure_leaves_the_default_scene_as_rendered(views):
    """The renderer's image is the reference exposure: the default output is what it was."""
    for name, sensor in (("rgb", IMX378), ("left", OV9282)):
        rendered = views[name]
        optics = CameraOptics(sensor, rendered.image.shape[1], 30.0, 1, CameraControlSpec())
        for seq in range(5):
            image = optics.apply(rendered.image, rendered.depth if sensor.colour else None, seq)
            assert np.array_equal(image, rendered.image), (name, seq)


def test_white_balance_low_kelvin_is_bluer_high_kelvin_redder(views):
    rendered = views["rgb"]
    ratios = {}
    for kelvin in (2500, SCENE_KELVIN, 10000):
        optics = CameraOptics(IMX378, 1280, 30.0, 1, CameraControlSpec(auto_white_balance=False, kelvin=kelvin))
        b, _, r = optics.apply(rendered.image, rendered.depth, 0).reshape(-1, 3).mean(0)
        ratios[kelvin] = b / r
    b, _, r = rendered.image.reshape(-1, 3).mean(0)
    assert ratios[SCENE_KELVIN] == pytest.approx(b / r, rel=0.01)
    assert ratios[2500] > 1.3 * ratios[SCENE_KELVIN] > 1.3 * 1.1 * ratios[10000]
    assert np.allclose(white_balance_gains(4000, 4000), 1.0)


def _near_object_scene() -> Scene:
    """A tall box 0.6 m straight ahead: it fills the colour camera's centre region."""
    box = ObjectTrack(class_index=0, size=(0.3, 2 * FLOOR_Y, 0.1), anchor=(0.0, 0.65), radial_amplitude=0.0,
                      lateral_amplitude=0.0, period_s=10.0, phase=0.0, yaw0=0.0, yaw_rate=0.0)
    return Scene(0, 0.0, tracks=[box])


def _sharpness(image: np.ndarray, mask: np.ndarray) -> float:
    """Variance of the 3x3-aperture Laplacian over the object's pixels (its outline included)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F, ksize=3)[mask].var())


def test_autofocus_on_a_near_object_is_sharper_than_focus_at_infinity(rig):
    rendered = Renderer(_near_object_scene()).render(rig.rgb, 0.0)
    mask = rendered.mask == 0
    assert mask[rig.rgb.height // 2, rig.rgb.width // 2], "the object is not at the centre"
    infinity = CameraOptics(IMX378, rig.rgb.width, 30.0, 1, CameraControlSpec(focus_mode="manual", focus_position=0))
    blurred = infinity.apply(rendered.image, rendered.depth, 0)
    auto = CameraOptics(IMX378, rig.rgb.width, 30.0, 1, CameraControlSpec(focus_mode="auto"))
    auto.apply(rendered.image, rendered.depth, 0)
    assert auto.lens == 0.0, "auto mode moved the lens without a trigger"
    auto.trigger_autofocus()
    for seq in range(1, 12):
        focused = auto.apply(rendered.image, rendered.depth, seq)
    distance = float(np.median(rendered.depth[mask]))
    assert 1 / lens_dioptres(auto.lens) == pytest.approx(distance, rel=0.05)
    assert _sharpness(focused, mask) > 2 * _sharpness(blurred, mask)
    # its outline against the (now blurred) wall keeps it a little under the all-sharp render's
    assert _sharpness(focused, mask) > 0.7 * _sharpness(rendered.image, mask)


def test_manual_focus_blurs_by_the_thin_lens_disc(rig):
    """Focused at 0.6 m (the box's front), the back wall (6 m) is out of focus; the box stays sharp."""
    rendered = Renderer(_near_object_scene()).render(rig.rgb, 0.0)
    optics = CameraOptics(IMX378, rig.rgb.width, 30.0, 1, CameraControlSpec(focus_mode="manual", focus_position=
                                                                             round(255 / 10 / 0.6)))
    image = optics.apply(rendered.image, rendered.depth, 0)
    wall = (rendered.mask == -1) & (rendered.depth > 5.0)
    # disc for the wall: (f / N) f |1/6 - 1/0.65| / pitch
    disc = 4.81e-3 / 2.0 * 4.81e-3 * abs(1 / 6.0 - 1 / 0.6) / (4056 * 1.55e-6 / rig.rgb.width)
    assert disc > 3.0
    wall_kept = _sharpness(image, wall) / _sharpness(rendered.image, wall)
    box_kept = _sharpness(image, rendered.mask == 0) / _sharpness(rendered.image, rendered.mask == 0)
    assert wall_kept < 0.5
    assert box_kept > 1.5 * wall_kept


def test_edof_and_manual_modes_ignore_autofocus_triggers(rig):
    rendered = Renderer(_near_object_scene()).render(rig.rgb, 0.0)
    optics = CameraOptics(IMX378, rig.rgb.width, 30.0, 1, CameraControlSpec(focus_mode="edof"))
    optics.trigger_autofocus()
    for seq in range(5):
        optics.apply(rendered.image, rendered.depth, seq)
    # parked at the hyperfocal distance f^2 / (N c), c = 2 pixels (9.8 um at 1280 wide): 1.18 m
    assert optics.focus_distance_m == pytest.approx(4.81 ** 2 / (2.0 * 2 * 6.2868 / 1280) / 1000, rel=0.02)


def test_projected_dots_sit_on_the_surface_seen_by_both_mono_cameras(rig):
    """On the plain wall 2 m ahead the right camera sees the left camera's dots shifted by the true
    disparity f B / Z: the dots are on the wall, not on the image."""
    from depthai_ros_bridge.sim.projector import Illuminator
    from depthai_ros_bridge.sim.scene import make_scene
    renderer = Renderer(make_scene("plain_wall", 0))
    views = {}
    for name in ("left", "right"):
        camera = getattr(rig, name)
        rendered = renderer.render(camera, 0.0, mono=True)
        assert rendered.image.std() < 1.0                      # textureless without the projector
        views[name] = Illuminator(camera).apply(rendered.image, rendered.depth, 1.0, 0.0).astype(np.float32)
    truth = rig.right.fx * (rig.right.position[0] - rig.left.position[0]) / 2.0
    band = (slice(150, 250), slice(200, 440))
    rows, cols = band
    left = views["left"][rows, cols].ravel()
    scores = {d: float(np.corrcoef(left, views["right"][rows, cols.start - d:cols.stop - d].ravel())[0, 1])
              for d in range(0, 40)}
    best = max(scores, key=scores.get)
    assert abs(best - truth) <= 1.0 and scores[best] > 0.8
    assert views["left"].std() > 10                             # the dots are bright and dense
