"""`python -m depthai_ros_bridge.snapshot`: one PNG of what a camera node sees (see ros/snapshot.py)."""
import sys

from .ros.snapshot import main

if __name__ == "__main__":
    sys.exit(main())
