"""A deployed network running on the host: the simulated device's NN engine.

Every detector runs as an NN archive, so depthai's own DetectionParser decodes it
(via `runtime.OnnxDetector`). A bare `.onnx` with a Robopipe nn_config is given
the archive config.json it would ship with, built from the model's inputs and
outputs and the nn_config. Generic networks skip decoding: their output tensors
travel as a `dai.NNData`.
"""
from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import cv2
import depthai as dai
import numpy as np
import onnxruntime as ort

from . import archive
from .decode import DecodeError
from .deployment import DeployError, Deployment
from .mapping import InputMapping
from .results import NNResult
from .runtime import OnnxDetector, onnx_session

DEVICE_FORMATS = "ONNX models (.onnx, or an NN archive holding one)"


def _dims(shape) -> list[int]:
    return [d if isinstance(d, int) and d > 0 else 1 for d in shape]


def _yolo_head(config, outputs, in_h: int, metadata: dict[str, Any]) -> dict[str, Any]:
    names = [o.name for o in outputs]
    if not all("yolo" in n for n in names):
        raise DeployError(f"YOLO output names must contain 'yolo' (DepthAI's parser selects outputs by it), "
                          f"got {names}")
    shapes = [_dims(o.shape) for o in outputs]
    if any(len(s) != 4 for s in shapes):
        raise DeployError(f"YOLO outputs must be [1, C, H, W], got {shapes}")
    per_cell = 5 + config.num_classes
    strides = [in_h // s[2] for s in shapes]
    if config.anchors:
        anchors_per_output = [s[1] // per_cell for s in shapes]
        if any(s[1] % per_cell for s in shapes) or sum(anchors_per_output) * 2 != len(config.anchors):
            raise DeployError(f"nn_config.nn_config.anchors has {len(config.anchors) // 2} (w, h) pairs, but "
                              f"outputs with channels {[s[1] for s in shapes]} and {config.num_classes} classes "
                              f"need {sum(anchors_per_output)} ({anchors_per_output} per output)")
        pairs = np.reshape(config.anchors, (-1, 2))
        anchors = [p.tolist() for p in np.split(pairs, np.cumsum(anchors_per_output)[:-1])]
        return archive.yolo_head("head0", names, metadata, "yolov5", strides, anchors)
    if any(s[1] != per_cell for s in shapes):
        raise DeployError(f"anchor-free YOLO outputs need {per_cell} channels (4 box + score + "
                          f"{config.num_classes} classes), got {[s[1] for s in shapes]}; give anchors "
                          "for an anchor-based network")
    return archive.yolo_head("head0", names, metadata, "yolov6r2", strides)


def _session(model: bytes) -> ort.InferenceSession:
    try:
        return onnx_session(model)
    except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise DeployError(f"not a loadable ONNX model: {e}") from None


def archive_for_onnx(deployment: Deployment, workdir: Path) -> Path:
    """Write the NN archive a bare ONNX model would come in, from its I/O and the nn_config."""
    config, model = deployment.config, deployment.package.model
    session = _session(model)
    inp, outputs = session.get_inputs()[0], session.get_outputs()
    shape = _dims(inp.shape)
    if len(shape) != 4 or 3 not in (shape[1], shape[3]):
        raise DeployError(f"the model's input {inp.name!r} must be a 3-channel image [1,3,H,W] or [1,H,W,3], "
                          f"got {inp.shape}")
    layout = "NCHW" if shape[1] == 3 else "NHWC"
    in_h = shape[2] if layout == "NCHW" else shape[1]
    classes = list(deployment.labels) or [str(i) for i in range(config.num_classes or 0)]
    meta = archive.head_metadata(classes, config.confidence_threshold, config.iou_threshold)
    heads = []
    if config.type == "MobileNet":
        out = outputs[0]
        if _dims(out.shape)[-1] != 7:
            raise DeployError(f"a MobileNet network's output must be rows of 7 "
                              f"[image_id, label, conf, xmin, ymin, xmax, ymax], but {out.name!r} is {out.shape}")
        heads = [archive.ssd_head("head0", out.name, meta)]
    elif config.type == "YOLO":
        heads = [_yolo_head(config, outputs, in_h, meta)]
    content = archive.archive_config(
        Path(deployment.package.name).stem, "model.onnx", inp.name, shape,
        input_dtype="uint8" if inp.type == "tensor(uint8)" else "float32", layout=layout,
        outputs=[(o.name, _dims(o.shape)) for o in outputs], heads=heads)
    return archive.write_archive(Path(workdir) / "generated.tar", content, model)


class HostNetwork:
    """A deployment, loaded and checked, ready to run on frames of one stream."""

    def __init__(self, deployment: Deployment, frame_width: int, frame_height: int, workdir: Path):
        package = deployment.package
        if package.format != "onnx":
            raise DeployError(f"the simulated device runs {DEVICE_FORMATS}; {package.name!r} is a "
                              f"{package.format} model, which runs on a real OAK (RVC2)")
        self.deployment = deployment
        self.is_detector = deployment.config.type != "Generic"
        # num_inference_threads is how many inferences an OAK runs at once (setNumInferenceThreads);
        # here one frame is inferred at a time, on one onnxruntime thread (runtime.onnx_session):
        # the colour branch is not what a frame set waits for.
        self._detector: OnnxDetector | None = None
        try:
            if self.is_detector:
                archive_path = package.archive or archive_for_onnx(deployment, workdir)
                self._detector = OnnxDetector(archive_path, conf_threshold=deployment.config.confidence_threshold)
                width, height = self._detector.input_size
            else:
                self._session = _session(package.model)
                self._input = self._session.get_inputs()[0]
                shape = _dims(self._input.shape)
                self._planar = len(shape) == 4 and shape[1] == 3
                height, width = shape[2:4] if self._planar else shape[1:3]
        except (ValueError, RuntimeError) as e:
            raise DeployError(f"model {package.name!r} does not match its configuration: {e}") from None
        self.mapping = InputMapping.fit(frame_width, frame_height, width, height, deployment.resize_mode)
        try:   # a dry run: outputs that don't fit the declared type fail here, not on the first frame
            self.run(np.zeros((frame_height, frame_width, 3), np.uint8), 0, 0.0)
        except (DecodeError, ValueError, RuntimeError) as e:
            self.close()
            raise DeployError(f"model {package.name!r} outputs don't match its declared type "
                              f"{deployment.config.type}: {e}") from None

    def run(self, frame: np.ndarray, seq: int, timestamp: float) -> NNResult:
        if frame.ndim == 2:   # a mono stream feeds a colour network as grey BGR, as an OAK's ImageManip does
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        image = self.mapping.prepare(frame)
        stamp = datetime.timedelta(seconds=timestamp)
        if self._detector is not None:
            return NNResult(self._detector.detect(image, seq, stamp), None, self.mapping, self.deployment)
        tensor = image.transpose(2, 0, 1) if self._planar else image
        dtype = np.uint8 if self._input.type == "tensor(uint8)" else np.float32
        outputs = self._session.run(None, {self._input.name: np.ascontiguousarray(tensor[None], dtype)})
        tensors = dai.NNData()
        for spec, value in zip(self._session.get_outputs(), outputs):
            tensors.addTensor(spec.name, np.ascontiguousarray(value, np.float32))
        tensors.setSequenceNum(seq)
        tensors.setTimestamp(stamp)
        return NNResult(None, tensors, self.mapping, self.deployment)

    def close(self) -> None:
        if self._detector is not None:
            self._detector.close()
