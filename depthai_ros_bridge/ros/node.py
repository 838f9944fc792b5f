"""The lifecycle camera node: parameters -> pipeline spec -> device -> topics."""
from __future__ import annotations

import threading
import time
from pathlib import Path

from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import SetParametersResult
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn

from ..core.malloc import trim
from ..core.package_paths import resolve_package_path
from ..core.spec import PARAMETERS, ConfigError, PipelineSpec, check_value, parse_spec
from ..core.tf_frames import default_tf_prefix
from ..device import Device, DeviceError, open_device
from ..nn.deployment import DeployError
from ..nn.model_source import upload_suffix
from ..nn.model_store import ModelError, ModelStore
from .camera_controls import AutofocusService
from .diagnostics import diagnostics_msg
from .nn_services import NNServices
from .nn_stream import NNStream
from .outputs import Outputs
from .params import LIVE_HANDLERS, REBUILD_NOTE, current_values, declare_all, typed, unknown_override_warnings
from .request_guard import guard_parameter_services
from .still import StillService
from .supervisor import Supervisor

SUCCESS, FAILURE, ERROR = (TransitionCallbackReturn.SUCCESS, TransitionCallbackReturn.FAILURE,
                           TransitionCallbackReturn.ERROR)


class CameraNode(LifecycleNode):
    def __init__(self, node_name: str = "oak", **kwargs):
        super().__init__(node_name, **kwargs)
        declare_all(self)
        for warning in unknown_override_warnings(self):   # ignored, so configure still works
            self.get_logger().warning(warning)
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
        self._fault_applied = self.create_guard_condition(lambda: self._show("sim.fault", ""))
        # The node's own updates of `<camera>.nn.*` (showing what runs) skip validation; they are
        # marked per thread, so a client's set_parameters arriving meanwhile is always validated.
        self._own_update = threading.local()
        self._state_lock = threading.Lock()    # outputs/device as the NN services see them
        self.frame_errors = 0                  # frame sets whose publishing raised
        self.add_on_set_parameters_callback(self._on_set_parameters)
        # Until configure reads nn.*: uploads arriving before it are kept under the defaults.
        self.model_store = ModelStore.default()
        guard_parameter_services(self)
        self._nn_services = NNServices(self)
        self._autofocus_service = AutofocusService(self)     # ~/rgb/trigger_autofocus, answers in every state
        self._still_service = StillService(self)      # ~/rgb/capture_still, answers in every state
        self.supervisor = Supervisor(self)

    @property
    def default_tf_prefix(self) -> str:
        """`tf_prefix` when the parameter is empty: namespace + name ('/cam1/oak' -> 'cam1_oak')."""
        return default_tf_prefix(self.get_fully_qualified_name())

    @property
    def frame_prefix(self) -> str:
        """The TF prefix in use (or that configure will use): it also keys this node's /diagnostics."""
        if self.spec is not None:
            return self.spec.tf_prefix
        value = self.get_parameter("tf_prefix").value
        return value if isinstance(value, str) and value else self.default_tf_prefix

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
            self.get_logger().warning(f"autostart: configure failed, the node stays unconfigured; fix the parameter "
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
            spec = parse_spec(current_values(self), self.default_tf_prefix)
        except ConfigError as e:
            return self._fail(f"configure failed: invalid parameters: {e}")
        try:
            device = open_device(spec)
        except DeviceError as e:
            return self._fail(f"configure failed: {e}")
        except Exception as e:  # noqa: BLE001 - rclpy would swallow it without a trace
            return self._fail(f"configure failed opening the {spec.device.type} device: {e!r}")
        self.spec, self.device, self._failure = spec, device, None
        self.model_store = ModelStore.default(spec.models.max_model_bytes, spec.models.allowed_dirs)
        try:
            clock_offset = self.get_clock().now().nanoseconds * 1e-9 - time.monotonic()
            self.outputs = Outputs(self, spec, device, clock_offset)
            if self.outputs.imu is not None:      # only then: a device without an IMU takes two callbacks
                device.start(self._on_frames, self.device_failed, self._on_imu)
            else:
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
        self.supervisor.activated()
        for nn in self.outputs.nn.values():
            nn.publish_label_info()
        self.get_logger().info("activated: publishing")
        return result

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._active, self._state_label = False, "inactive"
        result = super().on_deactivate(state)
        if not self._failure:
            self.get_logger().info("deactivated: the device keeps running, nothing is published")
        return ERROR if self._failure else result

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        self.get_logger().info(f"cleaned up: device closed; next: ros2 lifecycle set "
                               f"{self.get_fully_qualified_name()} configure")
        return SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        self._state_label = "finalized"
        self.get_logger().info("shut down: device closed")
        return SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.get_logger().error(f"error processing ({self._failure!r}); device released, node unconfigured")
        self._release()
        return SUCCESS

    def _release(self) -> None:
        with self._state_lock:      # from here on, NN requests are answered with the node's state
            outputs, device = self.outputs, self.device
            self.device = self.outputs = self.spec = None
            self._active, self._state_label = False, "unconfigured"
        self._close(device, outputs)
        trim()                      # what the device and its networks freed goes back to the system

    def _close(self, device, outputs) -> None:
        if outputs is not None:      # a deploy still running sees its stream closed and undoes itself
            for nn in outputs.nn.values():
                nn.close_for_release()
        if device is not None:
            try:
                device.close()        # joins the device threads: nothing publishes after this
            except Exception as e:  # noqa: BLE001
                self.get_logger().warning(f"closing the device: {e!r}")
        if outputs is not None:
            try:   # raising here would send rclpy to on_error without telling anyone why
                outputs.destroy()
            except Exception as e:  # noqa: BLE001
                self.get_logger().error(f"releasing the node's topics: {e!r}")

    # -- device ----------------------------------------------------------------------------
    def _on_frames(self, frames) -> None:
        outputs = self.outputs
        if not self._active or outputs is None:
            return
        try:
            outputs.publish(frames)
        except Exception as e:  # noqa: BLE001 - one bad frame must not stop the stream
            self.frame_errors += 1
            self.get_logger().error(f"publishing frame {frames.seq}: {e!r}", throttle_duration_sec=5.0)

    def _on_imu(self, data) -> None:
        outputs = self.outputs
        if not self._active or outputs is None or outputs.imu is None:
            return
        try:
            outputs.imu.publish(data)
        except Exception as e:  # noqa: BLE001 - one bad batch must not stop the IMU
            self.frame_errors += 1
            self.get_logger().error(f"publishing IMU data: {e!r}", throttle_duration_sec=5.0)

    def device_failed(self, error: Exception) -> None:
        """Called by a device (from its thread) when it stops working."""
        self.get_logger().error(f"device failure: {error}")
        self._failure = error
        self._failure_signal.trigger()

    def _handle_failure(self) -> None:
        spec, was_active = self.spec, self._active
        if self.lifecycle_state == "active":
            self.trigger_deactivate()   # on_deactivate returns ERROR -> on_error -> unconfigured
        elif self.lifecycle_state == "inactive":
            self.trigger_cleanup()
        else:
            return                      # already released (a second report of the same failure)
        if spec is not None and self.lifecycle_state == "unconfigured":
            self.supervisor.device_lost(was_active, spec.device.reconnect)

    # -- networks --------------------------------------------------------------------------
    def configured_nn(self, stream: str) -> NNStream:
        """The stream's network holder, or DeployError naming why there is none (state, disabled stream)."""
        with self._state_lock:
            if self.outputs is None:
                raise DeployError(f"node is {self.lifecycle_state}: networks can be deployed once it is configured "
                                  f"(ros2 lifecycle set {self.get_fully_qualified_name()} configure)")
            nn = self.outputs.nn.get(stream)
            if nn is None:
                raise DeployError(f"the {stream} stream is disabled ({stream}.enabled is false)")
            return nn

    def store_upload(self, data: bytes) -> Path:
        """Uploaded model bytes kept in the model cache; the path a later configure deploys again."""
        try:
            return self.model_store.store_upload(data, upload_suffix(bytes(memoryview(data)[:512])),
                                                 keep=self.running_models())
        except ModelError as e:
            raise DeployError(str(e)) from None

    def running_models(self) -> list[str]:
        """What runs on each stream (kept when the upload cache is pruned)."""
        outputs = self.outputs
        return [nn.running.deployment.source for nn in (outputs.nn.values() if outputs else ())
                if nn.running is not None]

    # -- parameters ------------------------------------------------------------------------
    def show_nn_parameters(self, stream: str, model: str, config: str, labels, resize_mode: str) -> None:
        """After a deploy or remove, `<stream>.nn.*` show what runs (`ros2 param get`)."""
        self._show(**{f"{stream}.nn.model": model, f"{stream}.nn.config": config,
                      f"{stream}.nn.labels": list(labels), f"{stream}.nn.resize_mode": resize_mode})

    def _show(self, name: str | None = None, value=None, **values) -> None:
        """Set parameters to what the node does, bypassing validation for this thread only."""
        if name is not None:
            values[name] = value
        self._own_update.active = True
        try:
            self.set_parameters([typed(k, v) for k, v in values.items()])
        finally:
            self._own_update.active = False

    def _on_set_parameters(self, params) -> SetParametersResult:
        if getattr(self._own_update, "active", False):
            return SetParametersResult(successful=True)
        for p in params:
            if p.name not in PARAMETERS:
                continue
            why = check_value(p.name, p.value)
            if why:
                return SetParametersResult(successful=False, reason=f"{p.name}: {why}")
            if self.device is not None and not PARAMETERS[p.name].runtime:
                return SetParametersResult(successful=False, reason=f"{p.name}: {REBUILD_NOTE}")
            # What this device cannot do (no IR, a fixed-focus lens, the stereo pair's shared exposure).
            why = self.device.control_problem(p.name, p.value) if self.device is not None else None
            if why:
                return SetParametersResult(successful=False, reason=f"{p.name}: {why}")
            if p.name == "sim.fault" and p.value and not hasattr(self.device, "inject"):
                return SetParametersResult(successful=False, reason="sim.fault: faults are injected into a running "
                                           "simulated device (device.type sim, configured)")
        for p in params:
            self._apply_live(p.name, p.value)
            if p.name == "sim.fault" and p.value:
                self._fault_applied.trigger()       # shown as "" again once this set has completed
        return SetParametersResult(successful=True)

    def _apply_live(self, name: str, value) -> None:
        with self._state_lock:
            outputs, device = self.outputs, self.device
        handler = LIVE_HANDLERS.get(name)
        if handler is not None and outputs is not None:
            handler(outputs, device, value)

    # -- diagnostics -----------------------------------------------------------------------
    def _publish_diagnostics(self) -> None:
        msg = diagnostics_msg(self.frame_prefix, self._state_label, self.spec, self.device, self.outputs,
                              self._failure or self.last_error, time.monotonic(), self.supervisor)
        msg.header.stamp = self.get_clock().now().to_msg()
        self._diagnostics.publish(msg)

