"""The OAK's IMU offline (issue 11): refusals naming the parameter, placement from a host-built calibration
(the OAK-D S2 board file's BMI270 extrinsics, which the simulator uses too), DepthAI's IMU node settings on an
autospec of dai.node.IMU, IMU batches routed past the frame grouping, and the dry run."""
from __future__ import annotations

import json
import threading
from unittest import mock

import depthai as dai
import numpy as np
import pytest

from depthai_ros_bridge.core.imu import rpy_matrix
from depthai_ros_bridge.core.spec import parse_spec
from depthai_ros_bridge.device.base import DeviceError
from depthai_ros_bridge.device.imu import ImuAssembler, imu_data
from depthai_ros_bridge.device.oak.graph import Graph
from depthai_ros_bridge.device.oak.grouping import FrameAssembler, pump
from depthai_ros_bridge.device.oak.imu import add_imu, check_imu, imu_info
from depthai_ros_bridge.dry_run import main
from depthai_ros_bridge.sim.imu import BMI270_FROM_LEFT_M, BMI270_RPY_DEG, oakd_imu
from depthai_ros_bridge.sim.rig import oakd_rig
from test.device.oak_models import MODELS, calibration, write

S = dai.CameraBoardSocket


def with_bmi270(calib: dai.CalibrationHandler) -> dai.CalibrationHandler:
    """The board file's BMI270 extrinsics (to CAM_B, cm), through the EEPROM JSON as a device holds them."""
    cm = [100 * v for v in BMI270_FROM_LEFT_M]
    calib.setImuExtrinsics(S.CAM_B, rpy_matrix(*BMI270_RPY_DEG).tolist(), cm, cm)
    return dai.CalibrationHandler.fromJson(calib.eepromToJson())


def spec(**values):
    return parse_spec({"imu.enabled": True, **values})


def test_a_device_without_an_imu_refuses_it_naming_the_parameter():
    for reported in ("NONE", ""):
        with pytest.raises(DeviceError, match=r"^imu\.enabled: this device has no IMU"):
            check_imu(spec(), reported)
    assert check_imu(parse_spec({}), "NONE") is None          # not asked for: nothing to check


def test_rates_are_checked_against_the_devices_imu():
    with pytest.raises(DeviceError, match=r"^imu\.rate_hz: 400 Hz is not a rate the BMI270 gives"):
        check_imu(spec(**{"imu.rate_hz": 400}), "BMI270")
    assert check_imu(spec(**{"imu.rate_hz": 400}), "BNO086") == "BNO086"
    with pytest.raises(DeviceError, match="imu.rate_hz: 250 Hz is not a rate the BNO086 gives"):
        check_imu(spec(**{"imu.rate_hz": 250}), "BNO086")


def test_the_calibration_places_the_imu_where_the_simulator_puts_it():
    calib = with_bmi270(calibration(MODELS["oak_d"]))
    info, warning = imu_info(calib, spec(), "BMI270")
    assert warning is None
    sim = oakd_imu(oakd_rig((1280, 720), (640, 400)).left.position, 200)
    assert info.position == pytest.approx(sim.position, abs=1e-6)
    assert info.R == pytest.approx(sim.R, abs=1e-6)
    assert info.rate_hz == 200 and not info.has_orientation


def test_a_calibration_without_imu_data_is_placed_at_the_base_and_said():
    info, warning = imu_info(calibration(MODELS["oak_d"]), spec(), "BMI270")
    assert info.position == (0.0, 0.0, 0.0) and info.rotation == (0.0, 0.0, 0.0, 1.0)
    assert "cannot place the BMI270" in warning and "oak_imu_frame" in warning


@pytest.mark.parametrize("model, sensors", [("BMI270", ["ACCELEROMETER_RAW", "GYROSCOPE_RAW"]),
                                            ("BNO086", ["ACCELEROMETER_RAW", "GYROSCOPE_RAW", "ROTATION_VECTOR"])])
def test_the_imu_node_is_set_for_latency(model, sensors):
    calib = with_bmi270(calibration(MODELS["oak_d"]))
    info, _ = imu_info(calib, spec(**{"imu.rate_hz": 100}), model)
    pipeline = mock.Mock()
    node = mock.create_autospec(dai.node.IMU, instance=True)
    pipeline.create.return_value = node
    graph = Graph(pipeline)
    queue = add_imu(graph, info)
    pipeline.create.assert_called_once_with(dai.node.IMU)
    node.enableIMUSensor.assert_called_once_with([getattr(dai.IMUSensor, s) for s in sensors], 100)
    node.setBatchReportThreshold.assert_called_once_with(1)
    node.setMaxBatchReports.assert_called_once_with(10)
    node.out.createOutputQueue.assert_called_once_with(50, False)
    assert queue is node.out.createOutputQueue.return_value
    assert graph.nodes["imu"]["sensors"] == sensors and graph.queues["imu"] == "imu.out"


def test_pump_hands_imu_batches_to_on_imu_and_frames_to_the_assembler():
    queues = {"imu": dai.MessageQueue("imu", 8, False)}
    stamps = 100.0 + np.arange(3) / 200
    for i in range(2):
        queues["imu"].send(imu_data(stamps, np.full((3, 3), 9.8), np.zeros((3, 3)), 3 * i))
    got, stop, assembler = [], threading.Event(), ImuAssembler()

    def on_imu(data):
        got.extend(assembler.add(data))
        if len(got) >= 3:
            stop.set()
    pump(queues, FrameAssembler([], {}), lambda f: pytest.fail("an IMU batch became a frame set"), stop,
         lambda: True, on_imu)
    assert [s.timestamp for s in got] == pytest.approx(list(stamps), abs=1e-9)


def _dry_run(capsys, tmp_path, *args):
    calib_path, cameras_path = write(MODELS["oak_d"], tmp_path)
    with_bmi270(dai.CalibrationHandler(str(calib_path))).eepromToJsonFile(str(calib_path))
    status = main(["--calibration", str(calib_path), "--cameras", str(cameras_path), *args])
    out, err = capsys.readouterr()
    return status, (json.loads(out) if status == 0 else None), err


def test_dry_run_shows_the_imu_node_topic_and_frame(capsys, tmp_path):
    status, result, err = _dry_run(capsys, tmp_path, "-p", "imu.enabled:=true", "--imu", "BMI270")
    assert status == 0, err
    assert result["pipeline"]["nodes"]["imu"]["sensors"] == ["ACCELEROMETER_RAW", "GYROSCOPE_RAW"]
    assert result["pipeline"]["host_queues"]["imu"] == "imu.out"
    topic = result["topics"]["~/imu/data"]
    assert topic["frame_id"] == "oak_imu_frame" and topic["linear_acceleration_variance"] > 0
    (imu_tf,) = [t for t in result["tf"] if t["child"] == "oak_imu_frame"]
    assert imu_tf["parent"] == "oak_base_frame"
    assert imu_tf["translation"] == pytest.approx([0.0, 0.0375 + 0.002314, 0.006935], abs=1e-6)


def test_dry_run_refuses_the_imu_on_a_device_without_one(capsys, tmp_path):
    status, _, err = _dry_run(capsys, tmp_path, "-p", "imu.enabled:=true")
    assert status == 2 and err.startswith("configure failed: imu.enabled: this device has no IMU")
