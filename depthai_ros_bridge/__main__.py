"""`python -m depthai_ros_bridge`: run the camera node (see ros/main.py)."""
import sys

from .ros.main import main

if __name__ == "__main__":
    sys.exit(main())
