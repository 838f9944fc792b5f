"""README lists what the node declares: every parameter, topic and service, and nothing it doesn't."""
import re
from pathlib import Path

from depthai_ros_bridge.core.spec import CAMERA_STREAMS, PARAMETERS, STREAMS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _pattern(name: str) -> str:
    head, _, rest = name.partition(".")
    if head in CAMERA_STREAMS and (rest in ("resolution", "fps", "frame_id", "link_format")
                                   or rest.startswith(("nn.", "exposure."))):
        return f"<camera>.{rest}"
    if head in STREAMS and rest in ("enabled", "max_fps", "qos.reliability", "qos.depth"):
        return f"<stream>.{rest}"
    return name


def test_every_parameter_is_documented_and_no_other():
    first_cells = re.findall(r"^\| `([^`]+)` \|", README, re.M)
    documented = {cell for cell in first_cells if not cell.startswith(("~/", "/"))}   # topics and services aside
    declared = {_pattern(name) for name in PARAMETERS}
    assert declared - documented == set(), "undocumented parameters"
    assert documented - declared == set(), "README lists parameters the node does not have"


def test_quick_start_is_exactly_two_make_commands():
    block = README.split("## Quick start")[1].split("```bash")[1].split("```")[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make run", "make test"]


def test_documented_services_and_topics_exist_in_the_code():
    package = Path(__file__).resolve().parents[1] / "depthai_ros_bridge"
    source = "\n".join(p.read_text() for p in package.rglob("*.py"))
    for name in ("nn/deploy", "nn/remove", "image_raw", "camera_info", "disparity_color", "/tf_static",
                 "/diagnostics"):
        assert name in README, name
        assert name in source, name
    for name in ("detections", "spatial_detections", "label_info", "tracks", "tensors", "overlay"):
        assert f"~/<camera>/nn/{name}" in README, name
        assert f'"{name}"' in source or f"{name}=" in source, name
