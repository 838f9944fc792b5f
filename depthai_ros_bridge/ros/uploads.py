"""`~/nn/upload`: model bytes sent over DDS for a later deploy by `model: sha256:<hex>`.

A deploy request's `model_data` is a `byte[]`, which rclpy turns into one Python object per byte
before any callback can look at its size (~60x the upload in memory). This topic carries a
`std_msgs/UInt8MultiArray` instead, taken serialized (`raw=True`): its size is checked before it
is deserialized, and deserialized it is one `array.array` byte per byte, so an upload costs
about twice its size while it is stored. The sender names the content's digest in
`layout.dim[0].label` (`sha256:<64 hex>`); the node checks it, keeps the bytes in the model
cache, and a deploy naming that digest waits for it (`oak_nn deploy --upload` does all this).
"""
from __future__ import annotations

import hashlib
import re
import struct
import threading
from collections import OrderedDict
from pathlib import Path

from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message
from std_msgs.msg import UInt8MultiArray

from ..nn.deployment import DeployError

TOPIC = "~/nn/upload"
QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
DIGEST = re.compile(r"^sha256:([0-9a-f]{64})$")
CDR_OVERHEAD = 4096          # message bytes besides the model's: header, layout, label
REMEMBERED = 16              # outcomes of recent uploads kept for deploys that ask


def digest_label(raw: bytes) -> str:
    """`layout.dim[0].label` of a serialized UInt8MultiArray, read without deserializing the data.

    CDR: 4-byte encapsulation header, then the dim sequence (uint32 count; each dim starts with
    its label as uint32 length incl. NUL + chars), all little-endian (0x0001) or big (0x0000)."""
    if len(raw) < 12:
        return ""
    order = "<" if raw[1] == 1 else ">"
    (count,) = struct.unpack_from(order + "I", raw, 4)
    if count < 1:
        return ""
    (length,) = struct.unpack_from(order + "I", raw, 8)
    if not 1 <= length <= 80 or 12 + length > len(raw):
        return ""
    return raw[12:12 + length - 1].decode("ascii", "replace")


class UploadReceiver:
    def __init__(self, node, callback_group):
        self._node = node
        self._cond = threading.Condition()
        self._outcomes: OrderedDict[str, Path | str] = OrderedDict()    # digest -> stored path | why refused
        self._sub = node.create_subscription(UInt8MultiArray, TOPIC, self._on_upload, QOS, raw=True,
                                             callback_group=callback_group)

    def _record(self, digest: str, outcome: Path | str) -> None:
        with self._cond:
            self._outcomes[digest] = outcome
            while len(self._outcomes) > REMEMBERED:
                self._outcomes.popitem(last=False)
            self._cond.notify_all()

    def _on_upload(self, raw: bytes) -> None:
        try:
            match = DIGEST.match(digest_label(raw))
            if match is None:
                self._node.get_logger().warning(f"{TOPIC}: upload without a 'sha256:<hex>' layout.dim[0].label ignored")
                return
            digest = match.group(1)
            limit = self._node.model_store.max_model_bytes
            if len(raw) > limit + CDR_OVERHEAD:
                self._record(digest, f"the upload is {len(raw)} bytes, over nn.max_model_bytes ({limit})")
                return
            data = deserialize_message(raw, UInt8MultiArray).data
            del raw
            if hashlib.sha256(data).hexdigest() != digest:
                self._record(digest, "the upload's bytes do not match its sha256 label")
                return
            self._record(digest, self._node.store_upload(data))
        except DeployError as e:
            if "digest" in locals():
                self._record(digest, str(e))
        except Exception as e:  # noqa: BLE001 - nothing an upload does may reach the executor
            self._node.get_logger().error(f"{TOPIC}: upload failed: {e!r}")

    def wait(self, digest: str, timeout_s: float) -> Path:
        """The stored upload with this digest, waiting up to `timeout_s` for it; DeployError if refused."""
        cached = sorted(self._node.model_store.cache_dir.glob(f"{digest}.*"))
        if cached:                      # uploaded before (possibly by an earlier run of the node)
            return cached[0]
        with self._cond:
            if not self._cond.wait_for(lambda: digest in self._outcomes, timeout_s):
                raise DeployError(f"no upload with sha256 {digest[:16]}... arrived on {TOPIC} within {timeout_s:g} s")
            outcome = self._outcomes[digest]
        if isinstance(outcome, str):
            raise DeployError(f"upload sha256 {digest[:16]}... refused: {outcome}")
        return outcome
