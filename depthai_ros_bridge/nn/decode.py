"""Decode detection-network outputs on the host with depthai's own DetectionParser.

On the simulated device a network runs in onnxruntime; its raw outputs are turned
into ``dai.ImgDetections`` by the same code an OAK uses: ``dai.node.DetectionParser``,
configured from the model's NN archive and running on the host in a host-only
pipeline (``dai.Pipeline(False)``). The detections therefore carry exactly the
conventions of the real device (label, labelName, confidence, normalised
``xmin..ymax``, the frame's ``ImgTransformation``, sequence number, timestamps).

How the parser is driven (depthai 3.12, measured):

* ``parser.setNNArchive(archive)`` reads family (``SSD``/``YOLO``), subtype,
  classes, thresholds, anchors and strides from the archive's head;
  ``setRunOnHost(True)`` is required (otherwise ``start()`` asks for a device) and
  ``setInputImageSize(w, h)``. Input: ``parser.input.createInputQueue()``;
  output: ``parser.out.createOutputQueue()``; then ``pipeline.start()``.
* YOLO decoding reads the image size from ``NNData.transformation`` -- a message
  without one would dereference an empty optional in C++, so every message gets one
  (by default ``ImgTransformation(w, h)`` of the network input).
* ``NNData.addTensor(name, ndarray)`` stores xtensor strides, which are 0 for
  axes of length 1: a ``[1, C, H, W]`` tensor gets stride 0 on N, and the YOLO
  decoder's tensor viewer rejects it ("Tensor strides should not be set to zero")
  and stops the node. YOLO outputs are therefore added as ``[C, H, W]`` (``CHW``,
  FP32). Passing a ``StorageOrder`` to ``addTensor`` silently stores FP16; passing
  none keeps FP32.
* An exception inside the parser's thread stops the node and closes its queues
  (it does not abort the interpreter in 3.12, but the decoder is dead then). So
  outputs are validated here (names, shapes, dtype, finite) before they are sent.

Nothing here needs ROS, and nothing decodes on its own: every format the demo models
produce is decodable by DetectionParser, so the bridge always uses the parser (the
tests keep an independent numpy reference decoder).
"""
from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import depthai as dai
import numpy as np

from .host_pipeline import HostPipeline

_PARSER_NAMES = {"SSD": "ssd", "MOBILENET": "ssd", "YOLO": "yolo", "YOLOExtendedParser": "yolo"}


class DecodeError(RuntimeError):
    """The outputs could not be decoded (bad tensors, or the parser stopped)."""


@dataclass(frozen=True)
class OutputSpec:
    name: str
    shape: tuple[int, ...] | None


@dataclass(frozen=True)
class DetectionModelInfo:
    """What the bridge needs to know about a detection model, read from its NN archive."""

    name: str
    family: str                     # "ssd" | "yolo"
    subtype: str                    # YOLO subtype ("yolov5", "yolov6r2", ...), "" for SSD
    input_name: str
    input_width: int
    input_height: int
    input_dtype: str                # "uint8", "float32", ...
    input_layout: str               # "NCHW" | "NHWC"
    dai_type: str | None            # e.g. "BGR888p"
    outputs: tuple[OutputSpec, ...]  # the outputs the detection head reads
    classes: tuple[str, ...]
    conf_threshold: float | None
    iou_threshold: float | None

    @classmethod
    def from_archive(cls, archive: dai.NNArchive) -> DetectionModelInfo:
        cfg = archive.getConfigV1()
        model = cfg.model
        heads = [h for h in (model.heads or []) if h.parser in _PARSER_NAMES]
        if not heads:
            raise ValueError("NN archive has no SSD or YOLO detection head")
        head = heads[0]
        family = _PARSER_NAMES[head.parser]
        if len(model.inputs) != 1:
            raise ValueError(f"detection models need exactly one input, archive has {len(model.inputs)}")
        inp = model.inputs[0]
        size = archive.getInputSize()
        if size is None:
            raise ValueError("NN archive input has no NCHW/NHWC shape; cannot tell the input size")
        by_name = {o.name: o for o in model.outputs}
        if family == "yolo":
            names = list(head.metadata.yoloOutputs or head.outputs or by_name)
        else:
            names = list(head.outputs or by_name)[:1]
        missing = [n for n in names if n not in by_name]
        if missing:
            raise ValueError(f"head reads outputs {missing} that the archive does not declare")
        shapes = [(n, by_name[n].shape) for n in names]
        outputs = tuple(OutputSpec(n, tuple(shape) if shape else None) for n, shape in shapes)
        md = head.metadata
        classes = tuple(md.classes or ())
        return cls(
            name=model.metadata.name,
            family=family,
            subtype=(md.subtype or "") if family == "yolo" else "",
            input_name=inp.name,
            input_width=int(size[0]),
            input_height=int(size[1]),
            input_dtype=str(inp.dtype).rsplit(".", 1)[-1].lower(),
            input_layout=inp.layout or "NCHW",
            dai_type=inp.preprocessing.daiType,
            outputs=outputs,
            classes=classes,
            conf_threshold=md.confThreshold,
            iou_threshold=md.iouThreshold,
        )


class HostDecoder(HostPipeline):
    """depthai's DetectionParser on the host: raw network outputs in, ``dai.ImgDetections`` out.

    ``decode()`` is synchronous (send, then wait for the parser's answer) and
    thread-safe. Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, archive: dai.NNArchive | str | Path, *, timeout_s: float = 2.0,
                 conf_threshold: float | None = None):
        if not isinstance(archive, dai.NNArchive):
            archive = dai.NNArchive(Path(archive))
        self.info = DetectionModelInfo.from_archive(archive)
        self._timeout = datetime.timedelta(seconds=timeout_s)
        super().__init__()
        parser = self._pipeline.create(dai.node.DetectionParser)
        parser.setNNArchive(archive)
        parser.setRunOnHost(True)
        parser.setInputImageSize(self.info.input_width, self.info.input_height)
        if conf_threshold is not None:
            parser.setConfidenceThreshold(float(conf_threshold))
        self.parser = parser
        self._in = parser.input.createInputQueue()
        self._out = parser.out.createOutputQueue()
        self._start()

    @property
    def input_size(self) -> tuple[int, int]:
        return self.info.input_width, self.info.input_height

    def make_nndata(self, outputs: Mapping[str, np.ndarray] | Sequence[np.ndarray],
                    transformation: dai.ImgTransformation | None = None,
                    sequence_num: int | None = None,
                    timestamp: datetime.timedelta | None = None) -> dai.NNData:
        """Validate the outputs and pack them as the parser expects (see module doc)."""
        tensors = self._validated(outputs)
        nn = dai.NNData()
        for name, arr in tensors.items():
            if self.info.family == "yolo":
                nn.addTensor(name, np.ascontiguousarray(arr.reshape(arr.shape[-3:])))
            else:
                nn.addTensor(name, np.ascontiguousarray(arr.reshape(-1, 7)))
        if transformation is None:
            transformation = dai.ImgTransformation(*self.input_size)
        elif tuple(transformation.getSize()) != self.input_size:
            raise ValueError(f"transformation size {transformation.getSize()} is not the network "
                             f"input size {self.input_size}")
        nn.setTransformation(transformation)
        if sequence_num is not None:
            nn.setSequenceNum(int(sequence_num))
        if timestamp is not None:
            nn.setTimestamp(timestamp)
        return nn

    def decode(self, outputs: Mapping[str, np.ndarray] | Sequence[np.ndarray],
               transformation: dai.ImgTransformation | None = None,
               sequence_num: int | None = None,
               timestamp: datetime.timedelta | None = None) -> dai.ImgDetections:
        """Decode one inference's outputs (dict by name, or a list in archive order)."""
        nn = self.make_nndata(outputs, transformation, sequence_num, timestamp)
        with self._lock:
            self._check_usable("decoder", DecodeError)
            result = self._exchange([(self._in, nn)], "DetectionParser", DecodeError)
        if self.info.family == "ssd" and self.info.classes:
            # depthai's MobileNet decoding leaves labelName empty (its YOLO decoding fills
            # it from the archive's classes); fill it the same way so both families match.
            names = self.info.classes
            for det in result.detections:
                if not det.labelName and 0 <= det.label < len(names):
                    det.labelName = names[det.label]
        return result

    def _validated(self, outputs) -> dict[str, np.ndarray]:
        specs = self.info.outputs
        if not isinstance(outputs, Mapping):
            outputs = list(outputs)
            if len(outputs) != len(specs):
                raise DecodeError(f"expected {len(specs)} outputs, got {len(outputs)}")
            outputs = {s.name: a for s, a in zip(specs, outputs)}
        tensors = {}
        for s in specs:
            if s.name not in outputs:
                raise DecodeError(f"missing output {s.name!r}")
            arr = np.asarray(outputs[s.name], dtype=np.float32)
            if s.shape is not None and tuple(arr.shape) != s.shape:
                raise DecodeError(f"output {s.name!r} has shape {arr.shape}, archive says {s.shape}")
            if self.info.family == "yolo" and (arr.ndim < 3 or int(np.prod(arr.shape[:-3])) != 1):
                raise DecodeError(f"YOLO output {s.name!r} must be [1,]C,H,W, got {arr.shape}")
            if self.info.family == "ssd" and arr.size % 7:
                raise DecodeError(f"SSD output {s.name!r} must hold rows of 7, got {arr.shape}")
            if not np.all(np.isfinite(arr)):
                raise DecodeError(f"output {s.name!r} has non-finite values")
            tensors[s.name] = arr
        return tensors

