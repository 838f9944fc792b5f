"""Writing NN archives: the DepthAI v3 format (luxonis-ml NNArchive config 1.0) for detection models.

An archive is a tar of ``config.json`` and the model file; ``dai.NNArchive(path)`` reads it
and ``dai.node.DetectionParser.setNNArchive`` takes the decoding settings from its head.
The one writer for both the archives the simulated device generates for bare ONNX models
(``host_network``) and the demo models (``tools/demo_models.py``). No ROS, no inference engine.
"""
from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

Compression = Literal["xz", "gz", ""]
ARCHIVE_SUFFIXES: dict[str, str] = {"xz": ".tar.xz", "gz": ".tar.gz", "": ".tar"}


def head_metadata(classes: Sequence[str], conf_threshold: float | None, iou_threshold: float | None,
                  max_det: int = 100) -> dict[str, Any]:
    """The metadata every detection head carries."""
    return {"classes": list(classes), "n_classes": len(classes), "iou_threshold": iou_threshold,
            "conf_threshold": conf_threshold, "max_det": max_det}


def ssd_head(name: str, output: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """A MobileNet-SSD head: one output of rows [image_id, label, conf, xmin, ymin, xmax, ymax]."""
    return {"name": name, "parser": "SSD", "outputs": [output],
            "metadata": {**metadata, "boxes_outputs": output, "scores_outputs": output}}


def yolo_head(name: str, outputs: Sequence[str], metadata: dict[str, Any], subtype: str,
              strides: Sequence[int], anchors: Sequence[Sequence[Sequence[float]]] | None = None) -> dict[str, Any]:
    """A YOLO head; ``anchors`` (per output, (w, h) pairs in input pixels) for anchor-based subtypes."""
    meta = {**metadata, "subtype": subtype, "yolo_outputs": list(outputs), "strides": list(strides)}
    if anchors is not None:
        meta["anchors"] = [[list(pair) for pair in layer] for layer in anchors]
    return {"name": name, "parser": "YOLO", "outputs": list(outputs), "metadata": meta}


def archive_config(name: str, model_file: str, input_name: str, input_shape: Sequence[int], *,
                   input_dtype: str = "uint8", layout: str = "NCHW",
                   outputs: Sequence[tuple[str, Sequence[int]]], output_layout: str | None = None,
                   heads: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """``config.json`` of a model with one BGR image input, fed as an OAK feeds it by default
    (BGR888p for NCHW, BGR888i for NHWC; no mean, no scale)."""
    output_extra = {"layout": output_layout} if output_layout else {}
    return {
        "config_version": "1.0",
        "model": {
            "metadata": {"name": name, "path": model_file, "precision": "float32"},
            "inputs": [{
                "name": input_name,
                "dtype": input_dtype,
                "input_type": "image",
                "shape": list(input_shape),
                "layout": layout,
                "preprocessing": {
                    "mean": [0.0, 0.0, 0.0],
                    "scale": [1.0, 1.0, 1.0],
                    "reverse_channels": False,
                    "interleaved_to_planar": False,
                    "dai_type": "BGR888p" if layout == "NCHW" else "BGR888i",
                },
            }],
            "outputs": [{"name": out, "dtype": "float32", "shape": list(shape), **output_extra}
                        for out, shape in outputs],
            "heads": list(heads),
        },
    }


def write_archive(path: str | Path, config: dict[str, Any], model: bytes, compression: Compression = "") -> Path:
    """Write ``config.json`` + the model (named by ``config``'s model path) as a tar at ``path``.

    Byte-for-byte reproducible: fixed member times and modes, and no time in the gzip header.
    """
    members = {"config.json": json.dumps(config, indent=2).encode(), config["model"]["metadata"]["path"]: model}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz" if compression == "xz" else "w",
                      format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    path = Path(path)
    path.write_bytes(gzip.compress(buf.getvalue(), mtime=0) if compression == "gz" else buf.getvalue())
    return path
