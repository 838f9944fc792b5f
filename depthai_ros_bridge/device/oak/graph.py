"""The plan -> DepthAI nodes and links; the same code describes them for the dry run.

`build_pipeline` creates the nodes in a device pipeline and records each node's settings and
each link in a `Graph`; without a pipeline (the dry run: no device) it only records, so what
the dry run prints is what the node builds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import depthai as dai

from ...core.spec import StereoSpec
from ..frames import SOCKETS
from .controls import camera_control, control_summary
from .encoders import add_encoders
from .imu import add_imu
from .networks import DeviceNetwork, add_preprocessing, configure_parser, network_summary, preprocess_config
from .plan import STEREO_OUTPUTS, PipelinePlan
from .stereo import config_summary, stereo_config

QUEUE_SIZE = 4            # host-side output queues: non-blocking, the newest frames win


@dataclass
class Port:
    name: str                 # "<node>.<port>"
    # The depthai port, a dai.Node.Output or dai.Node.Input by the port's direction (Any: one class
    # serves both ends of a link); None when only describing.
    obj: Any = None


@dataclass
class Graph:
    pipeline: dai.Pipeline | None = None                     # dai.Pipeline(device) or None
    nodes: dict[str, dict] = field(default_factory=dict)     # name -> {"type": ..., settings}
    links: list[list[str]] = field(default_factory=list)     # [output, input]
    queues: dict[str, str] = field(default_factory=dict)     # FrameSet key -> output read on the host
    control_queues: dict = field(default_factory=dict)       # camera -> its Camera node's inputControl queue
    rgb_autofocus: bool = True                               # the colour lens moves (controls.py)

    def node(self, name: str, cls, **settings):
        self.nodes[name] = {"type": cls.__name__, **settings}
        return None if self.pipeline is None else self.pipeline.create(cls)

    def link(self, out: Port, to: Port) -> None:
        self.links.append([out.name, to.name])
        if out.obj is not None:
            out.obj.link(to.obj)

    def queue(self, key: str, out: Port):
        self.queues[key] = out.name
        return out.name if out.obj is None else out.obj.createOutputQueue(QUEUE_SIZE, False)

    def describe(self) -> dict:
        return {"nodes": self.nodes, "links": self.links, "host_queues": self.queues}


def _port(node, node_name: str, attr: str) -> Port:
    return Port(f"{node_name}.{attr}", None if node is None else getattr(node, attr))


def build_pipeline(pipeline, plan: PipelinePlan, stereo_options: StereoSpec, confidence: int,
                   networks: dict[str, DeviceNetwork], graph: Graph | None = None, spec=None, imu=None):
    """Create the plan's nodes (and each network's, and the IMU node for `imu`, a core.imu.ImuInfo) in `pipeline`
    (None: describe only): (host queues by message key, StereoDepth's config input queue or None)."""
    g = graph if graph is not None else Graph(pipeline)
    out: dict[str, Port] = {}
    cams = {}
    for name, c in plan.outputs.items():       # one Camera node per sensor, an output per request
        node_name = f"camera_{c.camera}"
        if c.camera not in cams:
            cam = g.node(node_name, dai.node.Camera, socket=SOCKETS[c.camera].name, outputs={})
            cams[c.camera] = None if cam is None else cam.build(SOCKETS[c.camera])
            if spec is not None:
                add_camera_control(g, node_name, c.camera, cams[c.camera], spec)
        g.nodes[node_name]["outputs"][name] = {"size": list(c.size), "type": c.type.name if c.type else None,
                                               "fps": c.fps, "undistorted": c.undistort}
        cam = cams[c.camera]
        # enableUndistortion explicitly either way: the CameraInfo published says which it is.
        obj = None if cam is None else cam.requestOutput(c.size, c.type, fps=c.fps, enableUndistortion=c.undistort)
        out[name] = Port(f"{node_name}.{name}", obj)
    config_queue = None
    if plan.depth_size is not None:
        cfg = stereo_config(stereo_options, confidence)
        stereo = g.node("stereo", dai.node.StereoDepth, depth_size=list(plan.depth_size),
                        config=config_summary(cfg))
        if stereo is not None:        # no build(): no preset, the config is all ours
            stereo_config(stereo_options, confidence, stereo.initialConfig)
        g.link(out["left"], _port(stereo, "stereo", "left"))
        g.link(out["right"], _port(stereo, "stereo", "right"))
        if "align" in out:
            g.link(out["align"], _port(stereo, "stereo", "inputAlignTo"))
        if stereo is not None:
            config_queue = stereo.inputConfig.createInputQueue()
        out.update({f"stereo.{o}": _port(stereo, "stereo", o) for o in STEREO_OUTPUTS.values()})
    # A camera with link_format mjpeg gets no raw host queue: its MJPEG encoder's output takes the key (encoders.py).
    queues = {key: g.queue(key, out[source]) for key, source in plan.streams.items() if key not in plan.mjpeg}
    if spec is not None:        # on-device video, MJPEG and still encoders (encoders.py)
        queues.update(add_encoders(g, out, cams, spec))
    for stream, network in networks.items():
        queues[f"nn:{stream}"] = add_network(g, out[plan.streams[stream]], stream, network)
    if imu is not None:         # imu.py: its queue ("imu") goes to the device's on_imu, not the frame sets
        queues["imu"] = add_imu(g, imu)
    return queues, config_queue


def add_camera_control(g: Graph, node_name: str, camera: str, cam, spec) -> None:
    """The camera's exposure / white balance / focus as its initial control, and its live control
    queue. With stereo the right camera starts on the left's exposure (the pair shares one)."""
    control = spec.controls["left" if camera == "right" and spec.enabled("stereo") else camera]
    colour = camera == "rgb"
    g.nodes[node_name]["control"] = control_summary(control, colour, g.rgb_autofocus)
    if cam is not None:
        camera_control(control, colour, g.rgb_autofocus, into=cam.initialControl)
        g.control_queues[camera] = cam.inputControl.createInputQueue()


def add_network(g: Graph, source: Port, stream: str, network: DeviceNetwork):
    """Preprocessing and the network on `source`; the queue of its results."""
    mono = stream != "rgb"
    m = network.mapping
    manip_settings = dict(crop=list(m.crop) if m.mode == "crop" else None, output=[m.nn_w, m.nn_h],
                          resize=m.mode, type=network.frame_type.name, input_blocking=False, input_queue=1,
                          via_nv12=mono)
    d = network.deployment
    detector = d.config.type != "Generic"
    cls = dai.node.DetectionNetwork if detector else dai.node.NeuralNetwork
    manip_name, nn_name = f"{stream}_nn_manip", f"{stream}_nn"
    g.nodes[manip_name] = {"type": "ImageManip", **manip_settings}
    g.links.append([source.name, f"{manip_name}.inputImage"])
    nn = g.node(nn_name, cls, **network_summary(network), input_blocking=False, input_queue=1)
    g.links.append([f"{manip_name}.out", f"{nn_name}.input"])
    if g.pipeline is None:
        preprocess_config(m, network.frame_type)          # the same checks as on the device
        return g.queue(f"nn:{stream}", Port(f"{nn_name}.out"))
    manip_in, manip_out = add_preprocessing(g.pipeline, m, network.frame_type, mono=mono)
    source.obj.link(manip_in)
    if network.blob is None:
        nn.build(manip_out, d.package.archive)
    else:
        nn.setBlob(network.blob)
        manip_out.link(nn.input)
        if detector:
            configure_parser(nn.detectionParser, d.config)
    if detector:
        nn.setConfidenceThreshold(d.config.confidence_threshold)
    nn.setNumInferenceThreads(d.config.num_inference_threads)
    nn.input.setBlocking(False)       # infer on the newest frame; the streams never wait for it
    nn.input.setMaxSize(1)
    return g.queue(f"nn:{stream}", Port(f"{nn_name}.out", nn.out))
