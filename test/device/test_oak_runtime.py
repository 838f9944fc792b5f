"""The oak backend's run-time parts, offline (issue 9, defects 6-12): networks' input type and
superblobs, the non-blocking network input, a device restart in the frame grouping, finding a
device by MXID or IP, stereo post-processing, link bandwidth, the reading loop with closed queues."""
from __future__ import annotations

import datetime
import threading

import depthai as dai
import numpy as np
import pytest

from depthai_ros_bridge.core.spec import ConfigError, parse_spec
from depthai_ros_bridge.device.base import DeviceError
from depthai_ros_bridge.device.frames import T, make_frame
from depthai_ros_bridge.device.oak import (
    FrameAssembler,
    add_preprocessing,
    device_network,
    find_device,
    plan_pipeline,
    pump,
    same_network,
    stereo_config,
)
from depthai_ros_bridge.device.oak.networks import archive_input_type
from depthai_ros_bridge.device.oak.sensors import bandwidth_check, link_kind
from depthai_ros_bridge.nn.deployment import DeployError
from depthai_ros_bridge.nn.mapping import InputMapping
from test.device.test_oak_offline import YOLO_CONFIG, bare_deployment

P = dai.XLinkPlatform


# -- defect 6: network input ------------------------------------------------------------------------
@pytest.mark.parametrize("dai_type, layout, expected", [
    ("RGB888p", "NCHW", T.RGB888p), ("BGR888i", "NCHW", T.BGR888i), ("rgb888i", "NHWC", T.RGB888i),
    (None, "NHWC", T.BGR888i), (None, "NCHW", T.BGR888p)])
def test_archive_dai_type_decides_the_device_input(dai_type, layout, expected):
    pre = {"dai_type": dai_type} if dai_type else {}
    assert archive_input_type({"model": {"inputs": [{"layout": layout, "preprocessing": pre}]}}) == expected


def test_an_input_type_image_manip_cannot_make_is_refused():
    with pytest.raises(DeployError, match=r"dai_type 'GRAY8'.*BGR888P, RGB888P"):
        archive_input_type({"model": {"inputs": [{"preprocessing": {"dai_type": "GRAY8"}}]}})


def test_rgb_input_reaches_the_network_in_rgb_order():
    """A blue frame through the device's ImageManip (depthai's own, run on the host) with an RGB888p
    input: the first plane is red (0), the last blue (255)."""
    pipeline = dai.Pipeline(False)
    mapping = InputMapping.fit(64, 48, 32, 24, "stretch")
    manip_in, manip_out = add_preprocessing(pipeline, mapping, T.RGB888p, mono=False)
    for node in pipeline.getAllNodes():
        node.setRunOnHost(True)
    inq, outq = manip_in.createInputQueue(), manip_out.createOutputQueue()
    pipeline.start()
    try:
        blue = np.zeros((48, 64, 3), np.uint8)
        blue[..., 0] = 255
        inq.send(make_frame(blue, T.BGR888i, 1, 0.5))
        out = outq.get(datetime.timedelta(seconds=10))
    finally:
        pipeline.stop()
        pipeline.wait()
    assert (out.getType(), out.getWidth(), out.getHeight()) == (T.RGB888p, 32, 24)
    planes = np.asarray(out.getData())[: 3 * 32 * 24].reshape(3, 24, 32)
    assert planes[0].max() == 0 and planes[2].min() == 255


def test_the_network_manip_input_is_non_blocking_and_keeps_the_newest_frame():
    pipeline = dai.Pipeline(False)
    manip_in, _ = add_preprocessing(pipeline, InputMapping.fit(640, 400, 320, 320, "letterbox"), T.BGR888p, True)
    assert (manip_in.getBlocking(), manip_in.getMaxSize()) == (False, 1)


def test_a_bare_superblob_is_read_as_a_superblob():
    deployment = bare_deployment("rgb", "net.superblob", b"\x00" * 4096, YOLO_CONFIG)
    with pytest.raises(DeployError, match=r"'net.superblob' is not a usable superblob: Invalid superblob data"):
        device_network(deployment, (1920, 1080))
    deployment = bare_deployment("rgb", "net.blob", b"\x00" * 4096, YOLO_CONFIG)
    with pytest.raises(DeployError, match="not a usable MyriadX blob"):
        device_network(deployment, (1920, 1080))


# -- defect 7: a startup network is not deployed twice ----------------------------------------------
def test_the_same_network_again_is_recognised_so_no_reboot_is_needed():
    a = bare_deployment("rgb", "a.blob", b"\x01" * 64, YOLO_CONFIG)
    assert same_network(a, bare_deployment("rgb", "a.blob", b"\x01" * 64, YOLO_CONFIG))
    assert not same_network(a, bare_deployment("rgb", "a.blob", b"\x02" * 64, YOLO_CONFIG))
    assert not same_network(a, bare_deployment("rgb", "a.blob", b"\x01" * 64, YOLO_CONFIG.replace("0.4", "0.5")))


# -- defect 8: the device restarted its numbering -----------------------------------------------------
def _gray(seq):
    return make_frame(np.zeros((4, 4), np.uint8), T.GRAY8, seq, seq / 30)


def test_sequence_numbers_going_back_reset_the_grouping_and_reapply_live_settings():
    restarts = []
    a = FrameAssembler(["left", "right"], {}, on_restart=lambda: restarts.append(1))
    for seq in (500, 501):
        a.add("left", _gray(seq))
        [done] = a.add("right", _gray(seq))
        assert done.seq == seq and set(done.frames) == {"left", "right"}
    assert a.add("left", _gray(0)) == []                # after a reconnect: waits for its partner
    assert restarts == [1]
    [again] = a.add("right", _gray(0))
    assert (again.seq, set(again.frames)) == (0, {"left", "right"})      # grouped, not released alone
    a.add("left", _gray(1))
    assert [s.seq for s in a.add("right", _gray(1))] == [1] and restarts == [1]


# -- defect 9: finding the device ---------------------------------------------------------------------
def _info(mxid, platform=P.X_LINK_MYRIAD_X, name="1.2"):
    return dai.DeviceInfo(name, mxid, dai.XLinkDeviceState.X_LINK_UNBOOTED, dai.XLinkProtocol.X_LINK_USB_VSC,
                          platform, dai.XLinkError_t.X_LINK_SUCCESS)


def test_mxid_matches_in_any_case_and_an_rvc4_is_skipped_with_a_note():
    rvc4, oak = _info("2422ABCD", P.X_LINK_RVC4), _info("1844301011B546F500")
    info, notes = find_device("1844301011b546f500", [rvc4, oak])
    assert info.getDeviceId() == "1844301011B546F500" and notes == []
    info, notes = find_device("", [rvc4, oak])
    assert info.getDeviceId() == "1844301011B546F500"
    assert notes == ["OAK 2422ABCD (1.2) is X_LINK_RVC4; the oak backend drives RVC2 (Myriad X) OAKs only: skipped"]
    with pytest.raises(DeviceError, match="2422ABCD .* RVC2"):
        find_device("2422abcd", [rvc4, oak])
    with pytest.raises(DeviceError, match=r"no OAK found for any RVC2 OAK.*2422ABCD \(1.2, X_LINK_RVC4\)"):
        find_device("", [rvc4])


def test_an_ip_outside_discovery_is_opened_directly():
    info, notes = find_device("192.168.50.7", [_info("1844301011B546F500")])
    assert (info.name, info.protocol) == ("192.168.50.7", dai.XLinkProtocol.X_LINK_TCP_IP)
    assert "opening it by IP directly" in notes[0]
    with pytest.raises(DeviceError, match="no OAK found for device.id='not-an-ip'"):
        find_device("not-an-ip", [])


# -- defect 10: stereo post-processing ----------------------------------------------------------------
def test_every_post_processing_filter_is_off_unless_asked():
    fresh = dai.StereoDepthConfig().postProcessing
    assert fresh.holeFilling.enable and fresh.adaptiveMedianFilter.enable      # depthai 3.12's defaults
    p = stereo_config(parse_spec({}).stereo, 200).postProcessing
    assert not p.holeFilling.enable and not p.adaptiveMedianFilter.enable
    assert not (p.speckleFilter.enable or p.temporalFilter.enable or p.spatialFilter.enable)
    assert p.decimationFilter.decimationFactor == 1
    assert (p.thresholdFilter.minRange, p.thresholdFilter.maxRange) == (0, 65535)


def test_post_processing_parameters_reach_the_config():
    spec = parse_spec({"stereo.speckle_filter.enabled": True, "stereo.speckle_filter.range": 30,
                       "stereo.temporal_filter.enabled": True, "stereo.temporal_filter.alpha": 0.2,
                       "stereo.spatial_filter.enabled": True, "stereo.spatial_filter.iterations": 2,
                       "stereo.spatial_filter.hole_filling_radius": 4, "stereo.threshold_filter.min_mm": 200,
                       "stereo.threshold_filter.max_mm": 8000, "stereo.decimation_factor": 2})
    p = stereo_config(spec.stereo, 200).postProcessing
    assert (p.speckleFilter.enable, p.speckleFilter.speckleRange) == (True, 30)
    assert p.temporalFilter.enable and p.temporalFilter.alpha == pytest.approx(0.2)
    assert (p.spatialFilter.enable, p.spatialFilter.numIterations, p.spatialFilter.holeFillingRadius) == (True, 2, 4)
    assert (p.thresholdFilter.minRange, p.thresholdFilter.maxRange) == (200, 8000)
    assert p.decimationFilter.decimationFactor == 2
    assert plan_pipeline(spec).depth_size == (320, 200)


def test_decimation_with_depth_aligned_to_colour_is_refused():
    with pytest.raises(ConfigError, match="stereo.decimation_factor: must be 1 with stereo.align rgb"):
        parse_spec({"stereo.decimation_factor": 2, "stereo.align": "rgb"})


# -- defect 11: bandwidth -----------------------------------------------------------------------------
def test_raw_1080p30_overloads_usb2_and_poe_but_fits_usb3():
    plan = plan_pipeline(parse_spec({"stereo.enabled": False, "left.enabled": False, "right.enabled": False}))
    mbps, warning = plan.bandwidth("usb3")
    assert mbps == pytest.approx(1920 * 1080 * 3 * 30 / 1e6) and warning is None       # ~186.6 MB/s
    for link, capacity in (("usb2", 40), ("poe", 110)):
        _, warning = plan.bandwidth(link)
        assert f"~187 MB/s of raw frames, over a {link} link's ~{capacity} MB/s" in warning
    four_k, warning = bandwidth_check({"rgb": ((3840, 2160), 30.0)}, "usb3")
    assert four_k > 700 and "usb3" in warning


def test_link_kind_from_the_spec_and_the_device():
    assert link_kind(parse_spec({"device.id": "10.0.0.9"})) == "poe"
    assert link_kind(parse_spec({"device.usb2_mode": True})) == "usb2"
    assert link_kind(parse_spec({}), "X_LINK_TCP_IP") == "poe"
    assert link_kind(parse_spec({}), "X_LINK_USB_VSC") == "usb3"


# -- defect 12: the reading loop ----------------------------------------------------------------------
def test_pump_never_waits_on_a_closed_queue(monkeypatch):
    queues = {k: dai.MessageQueue(k, 8, False) for k in ("rgb", "left")}
    queues["left"].close()                    # one queue closed, the other still delivering
    waited, got, stop = [], [], threading.Event()
    real = dai.MessageQueue.getAny

    def get_any(qs, timeout):
        waited.append(sorted(qs))
        return real(qs, timeout)

    monkeypatch.setattr(dai.MessageQueue, "getAny", staticmethod(get_any))
    for seq in range(3):
        queues["rgb"].send(make_frame(np.zeros((4, 4, 3), np.uint8), T.BGR888i, seq, seq / 30))

    def on_frames(frames):
        got.append(frames.seq)
        if len(got) == 3:
            stop.set()

    pump(queues, FrameAssembler(["rgb"], {}), on_frames, stop, lambda: True)
    assert got == [0, 1, 2] and waited and all(w == ["rgb"] for w in waited)
    queues["rgb"].close()
    stop.clear()
    with pytest.raises(DeviceError, match=r"stopped sending frames .*closed queues: left, rgb"):
        pump(queues, FrameAssembler(["rgb"], {}), on_frames, stop, lambda: True)


# -- defect 8: a lost device reaches the node's recovery once -----------------------------------------
def test_a_failed_reconnect_is_reported_at_once_and_only_once():
    from depthai_ros_bridge.device.oak.device import OakDevice
    device = OakDevice.__new__(OakDevice)          # no OAK: only the reporting state is needed
    errors = []
    device._id, device._callbacks = "1844301011B546F500", (lambda frames: None, errors.append)
    device._stop, device._lost_lock, device._lost_reported = threading.Event(), threading.Lock(), False
    device._reconnection(dai.Device.ReconnectionStatus.RECONNECTING)
    assert errors == []
    device._reconnection(dai.Device.ReconnectionStatus.RECONNECT_FAILED)
    device._report_lost(DeviceError("the OAK stopped sending frames"))      # the reading loop, a moment later
    assert len(errors) == 1 and isinstance(errors[0], DeviceError)
    assert str(errors[0]) == "OAK 1844301011B546F500 was lost: depthai's reconnect failed"
