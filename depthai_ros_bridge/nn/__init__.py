"""Neural networks for the bridge: the demo detectors and host-side decoding.

``demo_models`` builds small ONNX networks whose weights are constructed (not
trained) to detect the simulated scene's classes by colour, and packs them as
DepthAI v3 NN archives. ``decode`` turns network outputs into
``dai.ImgDetections`` with depthai's own ``DetectionParser`` running on the host.
"""
