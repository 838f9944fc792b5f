"""Run an NN archive's ONNX detection model on host frames (the simulated device's NN).

``OnnxDetector`` = preprocessing as the archive describes it (what an OAK's
ImageManip would do: stretch to the input size, channel order and layout from
``dai_type``, dtype, mean/scale) + onnxruntime + :class:`HostDecoder`
(depthai's DetectionParser on the host). No ROS.
"""
from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path

import cv2
import depthai as dai
import numpy as np
import onnxruntime as ort

from .decode import DecodeError, DetectionModelInfo, HostDecoder

_NP_DTYPES = {"uint8": np.uint8, "int8": np.int8, "float32": np.float32, "float16": np.float16}


def onnx_session(model: bytes) -> ort.InferenceSession:
    """An onnxruntime CPU session as every network on the simulated device runs: one intra-op
    thread (the demo networks are many small ops; two threads cost ~2 ms more CPU per frame on a
    2-core machine, with no gain), no memory arena, no spinning. Raises onnxruntime's own errors."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    # Networks come and go at run time: onnxruntime's arena keeps what it grabbed after a
    # session is gone (measured: ~4 MB per deploy/remove cycle with it, none without).
    opts.enable_cpu_mem_arena = False
    # Idle intra-op threads would spin between frames, burning a core the camera needs (~15 %).
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


def _preprocessing(archive: dai.NNArchive) -> tuple[bool, bool, np.ndarray | None, np.ndarray | None]:
    """(rgb, planar, mean, scale) for the archive's first input."""
    inp = archive.getConfigV1().model.inputs[0]
    pre = inp.preprocessing
    dai_type = (pre.daiType or "").upper()
    if dai_type:
        if dai_type not in ("BGR888P", "RGB888P", "BGR888I", "RGB888I"):
            raise ValueError(f"unsupported input dai_type {pre.daiType!r} (need a 3-channel 888 type)")
        rgb = dai_type.startswith("RGB")
        planar = dai_type.endswith("P")
    else:
        rgb = bool(pre.reverseChannels)
        planar = (inp.layout or "NCHW").upper() == "NCHW"
    mean = np.asarray(pre.mean, np.float32) if pre.mean and any(pre.mean) else None
    scale = (np.asarray(pre.scale, np.float32)
             if pre.scale and any(v != 1 for v in pre.scale) else None)
    return rgb, planar, mean, scale


class OnnxDetector:
    """An NN archive whose model is ONNX, run with onnxruntime (:func:`onnx_session`) and
    decoded on the host."""

    def __init__(self, archive_path: dai.NNArchive | str | Path, conf_threshold: float | None = None):
        # An already parsed archive is taken as is: each NNArchive parse keeps ~130 kB in depthai 3.12.
        archive = archive_path if isinstance(archive_path, dai.NNArchive) else dai.NNArchive(Path(archive_path))
        model_bytes = archive.getOtherModelFormat()
        path_in_archive = archive.getConfigV1().model.metadata.path
        if not isinstance(model_bytes, bytes) or not path_in_archive.lower().endswith(".onnx"):
            raise ValueError(f"{archive_path}: the archive's model {path_in_archive!r} is not ONNX")
        self.info: DetectionModelInfo = DetectionModelInfo.from_archive(archive)
        self._rgb, self._planar, self._mean, self._scale = _preprocessing(archive)
        if self.info.input_dtype not in _NP_DTYPES:
            raise ValueError(f"unsupported input dtype {self.info.input_dtype!r}")
        self._dtype = _NP_DTYPES[self.info.input_dtype]
        self.session = onnx_session(model_bytes)
        names = [o.name for o in self.session.get_outputs()]
        missing = [o.name for o in self.info.outputs if o.name not in names]
        if missing:
            raise ValueError(f"{archive_path}: the model lacks the outputs {missing} its head reads")
        self._output_names = [o.name for o in self.info.outputs]
        self.decoder = HostDecoder(archive, conf_threshold=conf_threshold)

    @property
    def input_size(self) -> tuple[int, int]:
        return self.info.input_width, self.info.input_height

    def close(self) -> None:
        self.decoder.close()

    def __enter__(self) -> OnnxDetector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def preprocess(self, frame_bgr: np.ndarray) -> np.ndarray:
        """HxWx3 uint8 BGR frame -> the network's input tensor (batch of 1)."""
        if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3 or frame_bgr.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 BGR frame, got {frame_bgr.shape} {frame_bgr.dtype}")
        w, h = self.input_size
        img = frame_bgr
        if img.shape[:2] != (h, w):
            img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
        if self._rgb:
            img = img[..., ::-1]
        if self._mean is not None or self._scale is not None or self._dtype != np.uint8:
            img = img.astype(np.float32)
            if self._mean is not None:
                img = img - self._mean
            if self._scale is not None:
                img = img / self._scale
        img = img.transpose(2, 0, 1) if self._planar else img
        return np.ascontiguousarray(img[None].astype(self._dtype, copy=False))

    def infer(self, frame_bgr: np.ndarray) -> list[np.ndarray]:
        """Raw outputs, in the order the detection head reads them."""
        return self.session.run(self._output_names, {self.info.input_name: self.preprocess(frame_bgr)})

    def detect(self, frame_bgr: np.ndarray, sequence_num: int | None = None,
               timestamp: datetime.timedelta | None = None,
               intrinsics: Sequence[Sequence[float]] | None = None) -> dai.ImgDetections:
        """Detections for one frame. Box coordinates are normalised; since the frame is
        stretched to the input, they are normalised coordinates of the frame as well.
        The result's transformation maps the frame (with ``intrinsics`` if given) to
        the network input."""
        outputs = self.infer(frame_bgr)
        h, w = frame_bgr.shape[:2]
        t = (dai.ImgTransformation(w, h, [list(map(float, r)) for r in intrinsics])
             if intrinsics is not None else dai.ImgTransformation(w, h))
        if (w, h) != self.input_size:
            t.addScale(self.info.input_width / w, self.info.input_height / h)
        return self.decoder.decode(outputs, t, sequence_num, timestamp)


__all__ = ["OnnxDetector", "DecodeError", "onnx_session"]
