"""The lifecycle camera node: parameters -> pipeline spec -> device -> topics."""
from __future__ import annotations

import time
from dataclasses import replace

from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import SetParametersResult
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.parameter import Parameter

from ..core.package_paths import resolve_package_path
from ..core.spec import PARAMETERS, ConfigError, PipelineSpec, check_value, parse_spec
from ..device import Device, DeviceError, open_device
from .diagnostics import diagnostics_msg
from ..nn.deployment import DeployError
from .params import REBUILD_NOTE, current_values, declare_all
from .outputs import Outputs

SUCCESS, FAILURE, ERROR = (TransitionCallbackReturn.SUCCESS, TransitionCallbackReturn.FAILURE,
                           TransitionCallbackReturn.ERROR)


class CameraNode(LifecycleNode):
    def __init__(self, node_name: str = "oak", **kwargs):
        super().__init__(node_name, **kwargs)
        declare_all(self)
        self.spec: PipelineSpec | None = None
        self.device: Device | None = None
        self.outputs: Outputs | None = None
        self._active = False
        self._state_label = "unconfigured"
        self._failure: Exception | None = None
        self.last_error = ""                  # why the last transition failed, also on /diagnostics
        self._diagnostics = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._diagnostics_timer = self.create_timer(1.0, self._publish_diagnostics)
        # Device threads report failures; the transition itself must run on the executor.
        self._failure_signal = self.create_guard_condition(self._handle_failure)
        self._updating_parameters = False      # the node itself is showing what runs
        self._nn_group = ReentrantCallbackGroup()   # a long deploy must not block lifecycle services
        self.add_on_set_parameters_callback(self._on_set_parameters)

    @property
    def is_active(self) -> bool:
        return self._active

    @property
    def lifecycle_state(self) -> str:
        """rcl's label of the current state: unconfigured, inactive, active, finalized, or a transition's."""
        return self._state_machine.current_state[1]

    # -- lifecycle -------------------------------------------------------------------------
    def autostart(self) -> None:
        """Configure, and activate only if that worked (rcl has no activate from unconfigured)."""
        self.trigger_configure()
        if self.lifecycle_state == "inactive":
            self.trigger_activate()
        else:
            self.get_logger().warn(f"autostart: configure failed, the node stays unconfigured; fix the parameter "
                                   f"named above, then: ros2 lifecycle set {self.get_fully_qualified_name()} configure")

    def finish(self) -> None:
        """Leave for process exit (SIGINT/SIGTERM): the shutdown transition from a primary state; the
        device is closed and its threads joined whatever the state machine allows."""
        if self.lifecycle_state in ("unconfigured", "inactive", "active"):
            self.trigger_shutdown()
        self._release()

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.last_error = ""
        try:
            spec = parse_spec(current_values(self), self.get_name())
        except ConfigError as e:
            return self._fail(f"configure failed: invalid parameters: {e}")
        try:
            device = open_device(spec)
        except DeviceError as e:
            return self._fail(f"configure failed: {e}")
        except Exception as e:  # noqa: BLE001 - rclpy would swallow it without a trace
            return self._fail(f"configure failed opening the {spec.device.type} device: {e!r}")
        self.spec, self.device, self._failure = spec, device, None
        try:
            clock_offset = self.get_clock().now().nanoseconds * 1e-9 - time.monotonic()
            self.outputs = Outputs(self, spec, device, clock_offset, self._nn_group)
            device.start(self._on_frames, self.device_failed)
        except Exception as e:  # noqa: BLE001
            self._release()
            return self._fail(f"configure failed starting the device: {e!r}")
        error = self._deploy_startup_networks(spec)
        if error:
            self._release()
            return self._fail(error)
        self._state_label = "inactive"
        self.get_logger().info(f"configured {device.info.kind} device {device.info.id} ({device.info.name}); "
                               f"topics: {', '.join(self.outputs.topics)}")
        return SUCCESS

    def _fail(self, reason: str) -> TransitionCallbackReturn:
        self.last_error = reason
        self.get_logger().error(reason)
        return FAILURE

    def _deploy_startup_networks(self, spec: PipelineSpec) -> str:
        """Deploy the networks named by `<stream>.nn.model`; the reason of the first failure, if any."""
        for stream, nn in self.outputs.nn.items():
            wanted = spec.streams[stream].nn
            if wanted.model:
                try:
                    # a preset's `models/...` is the package's, from the source tree or installed
                    nn.deploy({"model": resolve_package_path(wanted.model), "nn_config": wanted.config,
                               "labels": list(wanted.labels)})
                except DeployError as e:
                    return f"configure failed: {stream}.nn.model: {e}"
        return ""

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            result = super().on_activate(state)
            self.outputs.publish_static_tf()
        except Exception as e:  # noqa: BLE001
            return self._fail(f"activate failed: {e!r}")
        self._active, self._state_label = True, "active"
        for nn in self.outputs.nn.values():
            nn.publish_label_info()
        return result

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._active, self._state_label = False, "inactive"
        result = super().on_deactivate(state)
        return ERROR if self._failure else result

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        return SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        self._state_label = "finalized"
        return SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.get_logger().error(f"error processing ({self._failure!r}); device released, node unconfigured")
        self._release()
        return SUCCESS

    def _release(self) -> None:
        self._active, self._state_label = False, "unconfigured"
        if self.device is not None:
            try:
                self.device.close()   # joins the device threads: nothing publishes after this
            except Exception as e:  # noqa: BLE001
                self.get_logger().warn(f"closing the device: {e!r}")
        if self.outputs is not None:
            try:   # raising here would send rclpy to on_error without telling anyone why
                self.outputs.destroy()
            except Exception as e:  # noqa: BLE001
                self.get_logger().error(f"releasing the node's topics and services: {e!r}")
        self.device = self.outputs = self.spec = None

    # -- device ----------------------------------------------------------------------------
    def _on_frames(self, frames) -> None:
        if not self._active:
            return
        try:
            self.outputs.publish(frames)
        except Exception as e:  # noqa: BLE001 - one bad frame must not stop the stream
            self.get_logger().error(f"publishing frame {frames.seq}: {e!r}", throttle_duration_sec=5.0)

    def device_failed(self, error: Exception) -> None:
        """Called by a device (from its thread) when it stops working."""
        self.get_logger().error(f"device failure: {error}")
        self._failure = error
        self._failure_signal.trigger()

    def _handle_failure(self) -> None:
        if self._active:
            self.trigger_deactivate()   # on_deactivate returns ERROR -> on_error -> unconfigured
        elif self.device is not None:
            self.trigger_cleanup()

    # -- parameters ------------------------------------------------------------------------
    def show_nn_parameters(self, stream: str, model: str, config: str, labels, resize_mode: str) -> None:
        """After a deploy or remove, `<stream>.nn.*` show what runs (`ros2 param get`)."""
        self._updating_parameters = True
        try:
            self.set_parameters([Parameter(f"{stream}.nn.model", value=model),
                                 Parameter(f"{stream}.nn.config", value=config),
                                 Parameter(f"{stream}.nn.labels", value=list(labels)),
                                 Parameter(f"{stream}.nn.resize_mode", value=resize_mode)])
        finally:
            self._updating_parameters = False

    def _on_set_parameters(self, params) -> SetParametersResult:
        if self._updating_parameters:
            return SetParametersResult(successful=True)
        for p in params:
            if p.name not in PARAMETERS:
                continue
            why = check_value(p.name, p.value)
            if why:
                return SetParametersResult(successful=False, reason=f"{p.name}: {why}")
            if self.device is not None and not PARAMETERS[p.name].runtime:
                return SetParametersResult(successful=False, reason=f"{p.name}: {REBUILD_NOTE}")
        for p in params:
            self._apply_live(p.name, p.value)
        return SetParametersResult(successful=True)

    def _apply_live(self, name: str, value) -> None:
        if self.device is None:
            return
        stream, _, key = name.partition(".")
        if key == "max_fps":
            self.outputs.limiters[stream].max_fps = float(value)
        elif key.startswith("nn.spatial.") and stream in self.outputs.nn:
            nn = self.outputs.nn[stream]
            nn.spatial_config = replace(nn.spatial_config, **{key.rsplit(".", 1)[1]: float(value)})
        elif name == "stereo.depth_limit_m":
            self.outputs.depth_limit_m = float(value)
        elif stream == "compressed":
            self.outputs.compression = replace(self.outputs.compression, **{key: int(value)})
        elif name == "stereo.confidence_threshold":
            self.device.set_confidence_threshold(int(value))

    # -- diagnostics -----------------------------------------------------------------------
    def _publish_diagnostics(self) -> None:
        msg = diagnostics_msg(self.get_name(), self._state_label, self.spec, self.device, self.outputs,
                              self._failure or self.last_error, time.monotonic())
        msg.header.stamp = self.get_clock().now().to_msg()
        self._diagnostics.publish(msg)
