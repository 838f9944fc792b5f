import sys
from pathlib import Path

import pytest
import rclpy

sys.path.insert(0, str(Path(__file__).parent))
from harness import Harness  # noqa: E402


@pytest.fixture(scope="session")
def ros():
    rclpy.init()
    yield
    rclpy.try_shutdown()


@pytest.fixture
def make_harness(ros):
    made = []

    def make(**params):
        made.append(Harness(**params))
        return made[-1]

    yield make
    for h in made:
        h.close()
