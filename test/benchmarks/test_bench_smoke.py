"""`python benchmarks/bench.py --quick` runs the conversion-cost table end to end.

Checks the table's shape only: no test asserts on speed.
"""
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench import CONVERSION_COLUMNS, FRAME_CASES, N_DETECTIONS  # noqa: E402


def _table_rows(text: str, title_prefix: str) -> dict[str, list[str]]:
    """label -> cells of the text table whose title starts with `title_prefix`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("## " + title_prefix))
    rows = {}
    for line in lines[start + 3:]:
        if not line or line.startswith("  "):
            break
        cells = line.split("  ")
        label, values = cells[0].strip(), [c.strip() for c in cells[1:] if c.strip()]
        rows[label] = values
    return rows


def test_quick_bench_prints_every_conversion_row():
    env = dict(os.environ, ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST", DEPTHAI_TELEMETRY="0")
    env.pop("BENCH_ROS_DOMAIN_ID", None)    # the bench picks its own domain from its pid
    run = subprocess.run([sys.executable, "benchmarks/bench.py", "--quick"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = _table_rows(run.stdout, "1. Bridge cost per frame")

    for case in FRAME_CASES:
        assert case.label in rows
        assert len(rows[case.label]) == len(CONVERSION_COLUMNS) - 1
    try:
        import vision_msgs.msg  # noqa: F401
    except ImportError:
        assert "Detection2DArray / Detection3DArray rows skipped" in run.stdout
    else:
        for kind in ("Detection2DArray", "Detection3DArray"):
            assert f"{kind} x{N_DETECTIONS}" in rows
    assert "| 640x400 16UC1 depth |" in run.stdout       # the Markdown copy
