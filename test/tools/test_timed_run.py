"""The main job as `make run RUN_SECONDS=…` starts it: the node with sim.yaml, autostart and --ros-args
remaps, measured by a subscriber in another process, then stopped with SIGINT and exiting cleanly."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_timed_run_reports_every_topic_and_the_detections_then_the_node_exits_cleanly():
    out = subprocess.run(
        [sys.executable, "tools/timed_run.py", "12", "--ros-args", "--params-file", "config/sim.yaml",
         "-p", "autostart:=true", "-p", "rgb.fps:=10.0", "-p", "left.fps:=10.0", "-p", "right.fps:=10.0",
         "-r", "__ns:=/robot", "-r", "__node:=cam"],
        cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    rates = dict(re.findall(r"^(/\S+)\s+([\d.]+)\s+\d+\b", out.stdout, re.M))
    for stream in ("rgb", "left", "right", "stereo"):
        for topic in ("image_raw", "camera_info"):
            assert float(rates[f"/robot/cam/{stream}/{topic}"]) > 0, out.stdout
    for topic in ("stereo/disparity", "stereo/disparity_color", "rgb/nn/detections", "rgb/nn/spatial_detections",
                  "rgb/nn/tracks", "rgb/nn/overlay"):
        assert float(rates[f"/robot/cam/{topic}"]) > 0, out.stdout
    seen = re.search(r"^last /robot/cam/rgb/nn/spatial_detections: (.*)$", out.stdout, re.M).group(1)
    for label in ("crate", "ball", "barrel", "cone"):
        assert re.search(rf"{label} at \d+\.\d\d m", seen), seen
    # Each topic's configured rate beside the measured one; latched topics say so instead of a rate.
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^(/\S+)\s+[\d.]+\s+\d+\s*(.*)$", out.stdout, re.M)}
    assert rows["/robot/cam/rgb/image_raw"] == "configured 10.0", out.stdout
    assert rows["/robot/cam/stereo/image_raw"] == "configured 10.0", out.stdout
    assert rows["/robot/cam/rgb/nn/detections"] == "configured <= 10.0", out.stdout
    assert rows["/robot/cam/rgb/nn/label_info"].startswith("latched"), out.stdout
