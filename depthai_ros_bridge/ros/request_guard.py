"""Parameter service requests from any participant on the domain cannot take the node down.

rclpy's own parameter services turn a request's values into Python with
`Parameter.from_parameter_msg`, which raises on a value type it does not know (e.g. 42); the
exception leaves the service callback and ends the executor thread. We check each request's
shape first and answer a malformed one with a reason, and no exception from these services
reaches the executor.
"""
from __future__ import annotations

from rcl_interfaces.msg import ParameterType, SetParametersResult
from rcl_interfaces.srv import SetParameters, SetParametersAtomically
from rclpy.parameter_service import ParameterService

_KNOWN_TYPES = {getattr(ParameterType, name) for name in dir(ParameterType) if name.startswith("PARAMETER_")}
MAX_PARAMETERS_PER_REQUEST = 1000


def request_problem(parameters) -> str:
    """Why a set-parameters request cannot be processed, or '' if its shape is fine."""
    if len(parameters) > MAX_PARAMETERS_PER_REQUEST:
        return f"at most {MAX_PARAMETERS_PER_REQUEST} parameters per request, got {len(parameters)}"
    for p in parameters:
        if p.value.type not in _KNOWN_TYPES:
            return (f"{p.name[:64]}: unknown parameter type {p.value.type} "
                    f"(rcl_interfaces/ParameterType: {min(_KNOWN_TYPES)}..{max(_KNOWN_TYPES)})")
    return ""


def _guarded(srv, logger):
    inner = srv.callback

    def callback(request, response):
        is_set = srv.srv_type in (SetParameters, SetParametersAtomically)
        problem = request_problem(request.parameters) if is_set else ""
        if not problem:
            try:
                return inner(request, response)
            except Exception as e:  # noqa: BLE001 - nothing a request does may reach the executor
                logger.error(f"{srv.srv_name}: request failed: {e!r}")
                problem = f"request failed: {type(e).__name__}"
        failed = SetParametersResult(successful=False, reason=problem)
        if srv.srv_type is SetParameters:
            response.results = [failed] * len(request.parameters)
        elif srv.srv_type is SetParametersAtomically:
            response.result = failed
        return response
    return callback


def guard_parameter_services(node) -> None:
    """Wrap the parameter services rclpy made for `node` (call after the node is constructed)."""
    for srv in node.services:
        if isinstance(getattr(srv.callback, "__self__", None), ParameterService):
            srv.callback = _guarded(srv, node.get_logger())
