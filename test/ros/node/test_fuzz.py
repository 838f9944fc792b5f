"""Several clients at once: random lifecycle transitions, deploys and removes. The node ends
consistent (state, parameters, what runs) with no leaked threads, fds or publishers."""
import os
import random
import threading

import pytest
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
from rcl_interfaces.srv import SetParametersAtomically
from rclpy.parameter import Parameter
from std_srvs.srv import Trigger

from harness import FAST_SIM, TIMEOUT_S, TRANSITIONS, Harness
from test_nn import MODELS, SSD_ARCHIVE

pytestmark = pytest.mark.slow
OPS_PER_CLIENT, CLIENTS = 120, 3
ARCHIVES = [str(SSD_ARCHIVE), str(MODELS / "demo-colour-yolov5.tar.xz")]


def _own_threads() -> list:
    """Threads other than the executors' worker pools (which grow on demand up to their size)."""
    return sorted(t.name for t in threading.enumerate() if not t.name.startswith("ThreadPoolExecutor"))


def _call(client, request):
    assert client.wait_for_service(timeout_sec=TIMEOUT_S)
    done = threading.Event()
    future = client.call_async(request)
    future.add_done_callback(lambda _f: done.set())
    assert done.wait(TIMEOUT_S), f"no answer from {client.srv_name}"
    return future.result()


def _client_ops(h, seed: int, errors: list) -> None:
    rng = random.Random(seed)
    node = h.client
    change = node.create_client(ChangeState, h.topic("change_state"))
    state = node.create_client(GetState, h.topic("get_state"))
    deploys = {s: node.create_client(SetParametersAtomically, h.topic(f"{s}/nn/deploy")) for s in ("rgb", "left")}
    removes = {s: node.create_client(Trigger, h.topic(f"{s}/nn/remove")) for s in ("rgb", "left")}
    try:
        for _ in range(OPS_PER_CLIENT):
            op = rng.random()
            stream = rng.choice(("rgb", "left"))
            if op < 0.3:
                label = rng.choice(("configure", "activate", "deactivate", "cleanup"))
                _call(change, ChangeState.Request(transition=Transition(id=TRANSITIONS[label])))
            elif op < 0.65:
                request = SetParametersAtomically.Request(parameters=[
                    Parameter("model", value=rng.choice(ARCHIVES)).to_parameter_msg()])
                result = _call(deploys[stream], request).result
                if not result.successful and not any(k in result.reason for k in (
                        "node is", "being released", "cleaned up during the deploy")):
                    errors.append(f"deploy: {result.reason}")
            elif op < 0.85:
                response = _call(removes[stream], Trigger.Request())
                if not response.success and not any(k in response.message for k in (
                        "node is", "no network", "being released")):
                    errors.append(f"remove: {response.message}")
            else:
                _call(state, GetState.Request())
    except Exception as e:  # noqa: BLE001 - reported by the test
        errors.append(repr(e))


def test_random_transitions_and_deploys_from_several_clients_end_consistent(ros):
    h = Harness(**FAST_SIM)
    try:
        assert h.transition("configure") and h.transition("cleanup")     # executor threads started
        baseline_threads = _own_threads()
        baseline_fds = len(os.listdir("/proc/self/fd"))
        baseline_publishers = len(list(h.node.publishers))
        errors: list = []
        clients = [threading.Thread(target=_client_ops, args=(h, seed, errors)) for seed in range(CLIENTS)]
        for c in clients:
            c.start()
        for c in clients:
            c.join()
        assert errors == []
        state = h.state()
        assert state in ("unconfigured", "inactive", "active")
        if state != "unconfigured":
            for stream, nn in h.node.outputs.nn.items():
                shown = h.node.get_parameter(f"{stream}.nn.model").value
                running = nn.running.deployment.source if nn.running is not None else ""
                assert shown == running, (stream, shown, running)
            if state == "active":
                assert h.transition("deactivate")
            assert h.transition("cleanup")
        assert h.node.outputs is None and h.node.device is None
        assert len(list(h.node.publishers)) == baseline_publishers
        assert len(_own_threads()) <= len(baseline_threads), (_own_threads(), baseline_threads)
        assert len(os.listdir("/proc/self/fd")) <= baseline_fds + 2      # DDS may open a socket lazily
        assert h.transition("configure") and h.transition("activate")   # still usable
    finally:
        h.close()
