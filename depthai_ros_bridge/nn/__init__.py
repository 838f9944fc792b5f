"""Neural networks, ROS-free: deploy requests and model checks, NNConfig, input mapping, host
inference (the simulated device's engine: onnxruntime + depthai's DetectionParser), tracking,
and the result types both devices produce (`results`)."""
