"""Demo detection networks for the simulated scene: write their .onnx files and NN archives.

    python tools/demo_models.py OUTDIR [--kinds ssd yolov5 yolov6r2] [--compression xz gz none]

What the networks compute is described in ``demo_graph.py``; which networks there are in
``demo_spec.py`` (both re-exported here). The archives are written by the package's own
writer (``depthai_ros_bridge.nn.archive``), the one the simulated device uses for bare ONNX
models. Output is deterministic: the files under ``models/`` are this script's output.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import onnx

from demo_graph import build_model
from demo_spec import MODEL_KINDS, YOLO_STRIDES, ColourParams, DemoModelSpec, ModelKind, default_spec
from depthai_ros_bridge.nn import archive

__all__ = ["MODEL_KINDS", "YOLO_STRIDES", "ColourParams", "DemoModelSpec", "ModelKind", "default_spec",
           "build_model", "archive_config", "write_archive", "generate", "main"]


def archive_config(spec: DemoModelSpec, model_file: str | None = None) -> dict[str, Any]:
    """The DepthAI v3 NN archive ``config.json`` (luxonis-ml NNArchive config 1.0)."""
    meta = archive.head_metadata(spec.classes, spec.conf_threshold, spec.iou_threshold, spec.max_det)
    name = f"{spec.kind}_head"
    if spec.kind == "ssd":
        head = archive.ssd_head(name, spec.output_names[0], meta)
    else:
        head = archive.yolo_head(name, spec.output_names, meta, spec.kind, YOLO_STRIDES,
                                 spec.anchors if spec.kind == "yolov5" else None)
    return archive.archive_config(
        spec.name, model_file or f"{spec.name}.onnx", spec.input_name,
        [1, 3, spec.input_height, spec.input_width],
        outputs=list(zip(spec.output_names, spec.output_shapes)), output_layout="NCHW", heads=[head])


def write_archive(spec: DemoModelSpec, path: Path, model: onnx.ModelProto | None = None,
                  compression: archive.Compression = "xz") -> Path:
    """Write an NN archive (``config.json`` + the .onnx) to ``path``."""
    model = model if model is not None else build_model(spec)
    return archive.write_archive(path, archive_config(spec), model.SerializeToString(), compression)


def generate(outdir: Path, kinds: Sequence[ModelKind] = MODEL_KINDS,
             compressions: Sequence[archive.Compression] = ("xz",)) -> list[Path]:
    """Write ``<name>.onnx`` and ``<name>.tar.xz`` (and other compressions) for each kind."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in kinds:
        spec = default_spec(kind)
        model = build_model(spec)
        onnx_path = outdir / f"{spec.name}.onnx"
        onnx_path.write_bytes(model.SerializeToString())
        written.append(onnx_path)
        for comp in compressions:
            written.append(write_archive(spec, outdir / f"{spec.archive_stem}{archive.ARCHIVE_SUFFIXES[comp]}",
                                         model, comp))
    return written


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--kinds", nargs="+", choices=MODEL_KINDS, default=list(MODEL_KINDS))
    ap.add_argument("--compression", nargs="+", choices=["xz", "gz", "none"], default=["xz"])
    args = ap.parse_args(argv)
    comps = ["" if c == "none" else c for c in args.compression]
    for path in generate(args.outdir, args.kinds, comps):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
