"""The real-OAK backend: an RVC2 OAK (OAK-D family, OAK-1, PoE variants) driven through DepthAI v3.

What can be checked without a device is kept in pure modules, tested offline and shared with
the dry run (depthai_ros_bridge.dry_run):
- sensors:     the connected cameras, the spec checked against them, link bandwidth
- plan:        the spec -> camera outputs and host queues
- calibration: calibration -> camera models (intrinsics, distortion, pose) and stereo geometry
- stereo:      stereo options and post-processing -> StereoDepthConfig
- networks:    a deployment -> what the device runs, its ImageManip preprocessing
- graph:       the plan -> DepthAI nodes and links (built, or described for the dry run)
- grouping:    the device's messages -> FrameSets; the reading loop
- discovery:   which OAK to open
`device.OakDevice` only wires them to a device.

Frames: "rgb" comes from the colour camera (BGR888i); with stereo on, "left" and "right" are
StereoDepth's rectified outputs, otherwise the mono cameras' own GRAY8 outputs. Networks run
on the device behind an ImageManip that fits the stream's frame to the network input exactly
as `InputMapping` describes, so boxes map back the same way as on the simulated device.
"""
from .calibration import camera_models, distortion, intrinsics_mismatch, stereo_geometry
from .device import OakDevice, same_network
from .discovery import find_device, is_ip
from .graph import Graph, build_pipeline
from .grouping import FrameAssembler, SequenceGrouper, as_raw16, pump
from .networks import DeviceNetwork, add_preprocessing, configure_parser, device_network, preprocess_config
from .plan import CameraOutput, PipelinePlan, clock, plan_pipeline
from .sensors import ConnectedCamera, check_cameras
from .stereo import config_summary, device_confidence, stereo_config, subpixel_bits

__all__ = ["CameraOutput", "ConnectedCamera", "DeviceNetwork", "FrameAssembler", "Graph", "OakDevice",
           "PipelinePlan", "SequenceGrouper", "add_preprocessing", "as_raw16", "build_pipeline", "camera_models",
           "check_cameras", "clock", "config_summary", "configure_parser", "device_confidence", "device_network",
           "distortion", "find_device", "intrinsics_mismatch", "is_ip", "plan_pipeline", "preprocess_config",
           "pump", "same_network", "stereo_config", "stereo_geometry", "subpixel_bits"]
