"""Each runtime parameter has its handler beside its declaration, and only runtime ones do."""
from depthai_ros_bridge.core.spec import PARAMETERS
from depthai_ros_bridge.ros.params import LIVE_HANDLERS


def test_every_runtime_parameter_has_a_live_handler_and_no_other():
    runtime = {name for name, rule in PARAMETERS.items() if rule.runtime}
    assert set(LIVE_HANDLERS) == runtime
