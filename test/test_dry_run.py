"""The dry run: each preset against its model's calibration and sensors, the refusals the node
would give, and CameraInfo/TF geometry in the printed JSON (issue 9)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from depthai_ros_bridge.dry_run import main
from test.device.oak_models import MODELS, RGB_DISTORTION, RGB_TILT_DEG, write

CONFIG = Path(__file__).resolve().parents[1] / "config"


def run(capsys, preset: str | None, model: str, tmp_path: Path, *extra: str) -> tuple[int, dict | None, str]:
    calib, cameras = write(MODELS[model], tmp_path)
    args = ["--calibration", str(calib), "--cameras", str(cameras), *extra]
    if preset:
        args = ["--params-file", str(CONFIG / f"{preset}.yaml"), *args]
    status = main(args)
    out, err = capsys.readouterr()
    return status, (json.loads(out) if status == 0 else None), err


@pytest.mark.parametrize("model", list(MODELS))
def test_each_preset_fits_its_model_and_its_link(capsys, tmp_path, model):
    status, result, err = run(capsys, model, model, tmp_path)
    assert status == 0, err
    assert result["warnings"] == [] and result["bandwidth_mbps"] <= result["device"]["link_mbps"]
    m = MODELS[model]
    assert result["device"]["link"] == "usb3"      # the preset's device.id is empty: --link sets PoE
    topics = result["topics"]
    if m.mono is None:
        assert set(topics) == {"~/rgb/image_raw"} and "stereo" not in result["pipeline"]["nodes"]
        assert [t["child"] for t in result["tf"]] == ["oak_rgb_camera_frame", "oak_rgb_camera_optical_frame"]
        return
    assert set(topics) == {f"~/{s}/image_raw" for s in ("rgb", "left", "right", "stereo")}
    rgb, depth = topics["~/rgb/image_raw"]["camera_info"], topics["~/stereo/image_raw"]["camera_info"]
    assert topics["~/stereo/image_raw"]["frame_id"] == topics["~/rgb/image_raw"]["frame_id"]
    assert rgb["width"] / rgb["height"] == pytest.approx(depth["width"] / depth["height"], rel=0.01)
    assert rgb["distortion_model"] == "plumb_bob" and rgb["d"] == [0.0] * 5      # undistorted: depth aligned
    assert result["pipeline"]["nodes"]["camera_rgb"]["outputs"]["rgb"]["undistorted"] is True
    assert ["camera_rgb.align", "stereo.inputAlignTo"] in result["pipeline"]["links"]
    right = topics["~/right/image_raw"]["camera_info"]
    assert right["p"][3] == pytest.approx(-right["k"][0] * 0.075, rel=1e-6)


def test_poe_preset_on_a_poe_link_fits_and_1080p30_would_not_raw(capsys, tmp_path):
    status, result, _ = run(capsys, "oak_d_poe", "oak_d_poe", tmp_path, "--link", "poe")
    assert status == 0 and result["warnings"] == [] and result["bandwidth_mbps"] < 110
    status, result, _ = run(capsys, "oak_d_poe", "oak_d_poe", tmp_path, "--link", "poe",
                            "-p", "rgb.resolution:=1080p", "-p", "rgb.fps:=30.0")
    assert status == 0 and result["warnings"] == []           # the preset's rgb.link_format mjpeg: ~40 MB/s
    status, result, _ = run(capsys, "oak_d_poe", "oak_d_poe", tmp_path, "--link", "poe", "-p", "rgb.link_format:=raw",
                            "-p", "rgb.resolution:=1080p", "-p", "rgb.fps:=30.0")
    assert status == 0 and "over a poe link's ~110 MB/s" in result["warnings"][0]


def test_oak_1_refuses_stereo_naming_the_parameter(capsys, tmp_path):
    status, _, err = run(capsys, "oak_1", "oak_1", tmp_path, "-p", "stereo.enabled:=true",
                         "-p", "left.enabled:=true", "-p", "right.enabled:=true")
    assert status == 2
    assert err.startswith("configure failed: stereo.enabled: this device has no stereo pair")


def test_oak_d_lite_refuses_800p_naming_the_sensor(capsys, tmp_path):
    status, _, err = run(capsys, "oak_d_lite", "oak_d_lite", tmp_path, "-p", "left.resolution:=800p",
                         "-p", "right.resolution:=800p")
    assert status == 2 and "left.resolution: 800p (1280x800) is larger than the OV7251 on CAM_B" in err


def test_an_invalid_parameter_is_the_nodes_message(capsys, tmp_path):
    status, _, err = run(capsys, "oak_d", "oak_d", tmp_path, "-p", "stereo.median_filter:=9x9")
    assert status == 2
    assert err.strip() == ("configure failed: invalid parameters: "
                           "stereo.median_filter: '9x9' is not one of off, 3x3, 5x5, 7x7")


def test_raw_colour_carries_the_calibrations_distortion_and_tf_its_rotation(capsys, tmp_path):
    status, result, _ = run(capsys, "oak_d", "oak_d", tmp_path, "-p", "stereo.align:=right")
    assert status == 0
    rgb = result["topics"]["~/rgb/image_raw"]["camera_info"]
    assert rgb["distortion_model"] == "rational_polynomial"
    np.testing.assert_allclose(rgb["d"], RGB_DISTORTION, rtol=1e-6)
    assert rgb["r"] == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    body = next(t for t in result["tf"] if t["child"] == "oak_rgb_camera_frame")
    # The calibration's 0.8 deg pan of the colour camera, as a yaw about the body z axis.
    half = np.radians(RGB_TILT_DEG) / 2
    np.testing.assert_allclose(np.abs(body["rotation"]), [0.0, 0.0, np.sin(half), np.cos(half)], atol=1e-6)
    depth = result["topics"]["~/stereo/image_raw"]
    assert depth["frame_id"] == "oak_right_camera_optical_frame" and depth["camera_info"]["d"] == [0.0] * 5


def test_bad_inputs_exit_2_with_a_reason(capsys, tmp_path):
    calib, cameras = write(MODELS["oak_d"], tmp_path)
    bad = [{"socket": "CAM_Z", "sensor": "X", "width": 1, "height": 1, "types": ["COLOR"]}]
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    assert main(["--calibration", str(calib), "--cameras", str(tmp_path / "bad.json")]) == 2
    assert "socket 'CAM_Z' is not a camera socket" in capsys.readouterr().err
    assert main(["--calibration", str(tmp_path / "missing.json"), "--cameras", str(cameras)]) == 2
    assert "is not a readable file" in capsys.readouterr().err


def test_the_module_and_its_pipeline_description_from_the_command_line(tmp_path):
    calib, cameras = write(MODELS["oak_d"], tmp_path)
    done = subprocess.run([sys.executable, "-m", "depthai_ros_bridge.dry_run", "--params-file",
                           str(CONFIG / "oak_d.yaml"), "--calibration", str(calib), "--cameras", str(cameras)],
                          capture_output=True, text=True, timeout=120, env={"DEPTHAI_TELEMETRY": "0", "PATH": ""})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    stereo = result["pipeline"]["nodes"]["stereo"]
    assert stereo["config"]["confidence_threshold"] == 55 and stereo["config"]["hole_filling"] is False
    assert result["pipeline"]["host_queues"]["depth"] == "stereo.depth"
    assert result["bandwidth_mbps"] == pytest.approx(229.0, abs=1.0)
