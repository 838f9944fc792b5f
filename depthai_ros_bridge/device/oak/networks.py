"""Networks on the OAK: what a deployment needs from the device, and its preprocessing (pure parts)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import depthai as dai

from ...nn.deployment import DeployError, Deployment, build_deployment
from ...nn.mapping import InputMapping
from ...nn.nnconfig import NNConfig
from ..frames import T

DEVICE_FORMATS = "MyriadX blobs (.blob or .superblob, or an NN archive holding one)"
# A superblob holds the network compiled for 1..16 SHAVEs; depthai takes 8 unless told
# (depthai-core src/pipeline/node/NeuralNetwork.cpp, DEFAULT_SUPERBLOB_NUM_SHAVES and setModelPath).
SUPERBLOB_SHAVES = 8
# Input types ImageManip can produce for a network (the archive's preprocessing.dai_type).
INPUT_TYPES = {"BGR888P": T.BGR888p, "RGB888P": T.RGB888p, "BGR888I": T.BGR888i, "RGB888I": T.RGB888i}


@dataclass(frozen=True)
class DeviceNetwork:
    deployment: Deployment
    mapping: InputMapping                    # stream frame -> network input, as the device's ImageManip does
    frame_type: dai.ImgFrame.Type            # the network's input type (ImageManip output)
    blob: dai.OpenVINO.Blob | None           # a bare blob or superblob (an archive carries its own)

    @property
    def planar(self) -> bool:
        return self.frame_type in (T.BGR888p, T.RGB888p)


def archive_input_type(config: dict) -> dai.ImgFrame.Type:
    """The first input's frame type: `preprocessing.dai_type` when given (what the host path
    honours too, nn/runtime.py), else BGR, planar unless the layout is NHWC."""
    inp = config["model"]["inputs"][0]
    dai_type = str((inp.get("preprocessing") or {}).get("dai_type") or "").upper()
    if dai_type:
        if dai_type not in INPUT_TYPES:
            raise DeployError(f"the archive's input preprocessing.dai_type {dai_type!r} is not one the OAK's "
                              f"ImageManip makes for a network ({', '.join(INPUT_TYPES)})")
        return INPUT_TYPES[dai_type]
    return T.BGR888i if str(inp.get("layout", "NCHW")).upper() == "NHWC" else T.BGR888p


def _bare_blob(package) -> dai.OpenVINO.Blob:
    data = package.model
    if package.name.lower().endswith(".superblob"):
        # dai.OpenVINO.Blob rejects a superblob; SuperBlob unpacks the build for a SHAVE count.
        # Bytes go in as a VectorUInt8: pybind11 would take a bytes object for the path overload.
        return dai.OpenVINO.SuperBlob(dai.VectorUInt8(data)).getBlobWithNumShaves(SUPERBLOB_SHAVES)
    return dai.OpenVINO.Blob(data)


def device_network(deployment: Deployment, frame_size: tuple[int, int]) -> DeviceNetwork:
    """Check that the device can run the deployment (DeployError if not) and work out its input."""
    package = deployment.package
    if package.format != "blob":
        raise DeployError(f"an OAK (RVC2) runs {DEVICE_FORMATS}; {package.name!r} is a {package.format} "
                          "model, which runs on the simulated device (device.type sim)")
    blob = None
    if package.archive is not None:
        # None when the input's layout is missing or not NCHW/NHWC (depthai-core NNArchive::getInputSize).
        size = package.archive.getInputSize()
        if size is None:
            raise DeployError(f"{package.name!r}: the archive's input has no NCHW/NHWC shape, so its size "
                              "is unknown")
        width, height = size
        assert package.archive_config is not None, "an archive's package carries its config.json"
        frame_type = archive_input_type(package.archive_config)
    else:
        kind = "superblob" if package.name.lower().endswith(".superblob") else "MyriadX blob"
        try:
            blob = _bare_blob(package)
            tensor = next(iter(blob.networkInputs.values()))
            width, height = tensor.getWidth(), tensor.getHeight()
        except (RuntimeError, ValueError, StopIteration) as e:
            raise DeployError(f"{package.name!r} is not a usable {kind}: {e}") from None
        planar = tensor.order not in (dai.TensorInfo.StorageOrder.NHWC, dai.TensorInfo.StorageOrder.HWC)
        frame_type = T.BGR888p if planar else T.BGR888i
    mapping = InputMapping.fit(frame_size[0], frame_size[1], width, height, deployment.resize_mode)
    return DeviceNetwork(deployment, mapping, frame_type, blob)


def preprocess_config(mapping: InputMapping, frame_type: dai.ImgFrame.Type,
                      cfg: dai.ImageManipConfig | None = None) -> dai.ImageManipConfig:
    """ImageManip operations that turn a stream frame into the network input `mapping` describes."""
    cfg = dai.ImageManipConfig() if cfg is None else cfg
    resize = dai.ImageManipConfig.ResizeMode
    if mapping.mode == "crop":
        x0, y0, x1, y1 = mapping.crop
        cfg.addCrop(x0, y0, x1 - x0, y1 - y0)      # the crop has the input's aspect: stretch == exact scale
    cfg.setOutputSize(mapping.nn_w, mapping.nn_h, resize.LETTERBOX if mapping.mode == "letterbox" else resize.STRETCH)
    cfg.setFrameType(frame_type)
    return cfg


def add_preprocessing(pipeline: dai.Pipeline, mapping: InputMapping, frame_type: dai.ImgFrame.Type, mono: bool):
    """ImageManip(s) from a stream frame to the network input: (their input, their output).

    ImageManip cannot turn GRAY8 into BGR, but GRAY8 -> NV12 -> BGR it can: a mono stream
    goes through two (the first does the geometry). The first manip's input is non-blocking
    with one slot: it shares the camera output with the stream, and a blocking input (the
    default: 3 slots) would hold the stream back whenever the manip or the network is slower;
    the newest frame wins instead."""
    size = mapping.nn_w * mapping.nn_h * 3
    manips = [pipeline.create(dai.node.ImageManip) for _ in range(2 if mono else 1)]
    preprocess_config(mapping, T.NV12 if mono else frame_type, manips[0].initialConfig)
    if mono:
        manips[1].initialConfig.setFrameType(frame_type)
        manips[0].out.link(manips[1].inputImage)
    for manip in manips:
        manip.setMaxOutputFrameSize(size)
    manips[0].inputImage.setBlocking(False)
    manips[0].inputImage.setMaxSize(1)
    return manips[0].inputImage, manips[-1].out


def configure_parser(parser: dai.node.DetectionParser, config: NNConfig) -> None:
    """Decoding of a bare blob's detections from its Robopipe nn_config (an archive brings its own)."""
    if config.type == "YOLO":
        assert config.num_classes is not None, "a YOLO nn_config requires num_classes (parse_nn_config)"
        parser.setNNFamily(dai.DetectionNetworkType.YOLO)
        parser.setNumClasses(config.num_classes)
        parser.setCoordinateSize(config.coordinate_size)
        parser.setAnchors(list(config.anchors))
        parser.setAnchorMasks({k: list(v) for k, v in config.anchor_masks.items()})
        parser.setIouThreshold(config.iou_threshold)
    else:
        parser.setNNFamily(dai.DetectionNetworkType.MOBILENET)
    parser.setConfidenceThreshold(config.confidence_threshold)


def network_summary(network: DeviceNetwork) -> dict:
    """What the dry run shows of a network on the device."""
    d, m = network.deployment, network.mapping
    return {"model": d.source, "type": d.config.type, "input": [m.nn_w, m.nn_h], "input_type": network.frame_type.name,
            "resize_mode": m.mode, "inference_threads": d.config.num_inference_threads}


def startup_networks(spec, plan, workdir: Path) -> tuple[dict[str, DeviceNetwork], dict[str, str]]:
    """The networks `<stream>.nn.model` names, built for the first pipeline (so configuring with
    one boots the device once): (networks by stream, why each that failed did, by parameter)."""
    networks, problems = {}, {}
    for stream, s in spec.streams.items():
        if s.nn is None or not s.nn.model or not s.enabled:
            continue
        where = Path(workdir) / stream
        where.mkdir(parents=True, exist_ok=True)
        try:
            deployment = build_deployment(stream, {"model": s.nn.model, "nn_config": s.nn.config,
                                                   "labels": list(s.nn.labels)}, where, s.nn.resize_mode)
            networks[stream] = device_network(deployment, plan.frame_size(stream))
        except DeployError as e:
            problems[f"{stream}.nn.model"] = str(e)
    return networks, problems
