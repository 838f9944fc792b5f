# depthai_ros_bridge developer targets. ROS 2 Kilted comes from PyPI wheels into
# .venv (no apt ROS install); vision_msgs and tf2_msgs, which PyPI lacks, are built
# from interfaces/ into the same venv. See tools/bootstrap_venv.sh.
#
#   make venv                  create/update .venv (idempotent, a few seconds when current)
#   make run [RUN_SECONDS=20]  run the node against the simulated OAK-D (config/sim.yaml)
#   make test [PYTEST_ARGS=...] [TESTS=test/some_dir]   lint, then pytest (PYTEST_ARGS="-m unit": the quick set)
#   make lint                  ruff (ruff.toml) and mypy (mypy.ini)
#   make bench
#   make soak [SOAK_SECONDS=600]  faults and deploys against the running node; prints the soak figures
#   make colcon-check          build this package with colcon in a temp workspace
#
# Every recipe runs with the venv activated, DDS discovery kept on loopback
# (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST unless you set it) and DepthAI
# telemetry off.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := venv

VENV ?= .venv
PYTHON ?= python3
PYTEST_ARGS ?=
TESTS ?= test

export ROS_AUTOMATIC_DISCOVERY_RANGE ?= LOCALHOST
export DEPTHAI_TELEMETRY := 0

VENV_ABS := $(abspath $(VENV))
# Prefix for every command that needs the environment.
IN_VENV := . $(VENV_ABS)/bin/activate &&

.PHONY: venv run test lint bench soak colcon-check clean-venv help

help:
	@sed -n '1,/^$$/p' $(firstword $(MAKEFILE_LIST))

venv:
	@PYTHON=$(PYTHON) tools/bootstrap_venv.sh $(VENV_ABS)

NODE_ARGS := --ros-args --params-file config/sim.yaml -p autostart:=true
run: venv
ifdef RUN_SECONDS
	$(IN_VENV) python tools/timed_run.py $(RUN_SECONDS) $(NODE_ARGS)
else
	$(IN_VENV) python -m depthai_ros_bridge $(NODE_ARGS)
endif

test: venv lint
	$(IN_VENV) python -m pytest -q $(TESTS) $(PYTEST_ARGS)

lint: venv
	$(IN_VENV) ruff check depthai_ros_bridge benchmarks tools test
	$(IN_VENV) mypy

soak: venv
	$(IN_VENV) python tools/soak.py

bench: venv
	$(IN_VENV) python benchmarks/bench.py

colcon-check: venv
	$(IN_VENV) tools/colcon_check.sh

clean-venv:
	rm -rf $(VENV_ABS)

.PHONY: hardware-check
# Tests against an attached OAK (skipped without one) and a report to paste into an issue.
# Optional: DRB_TEST_PARAMS, DRB_TEST_FLAT_TARGET_M, DRB_TEST_OAK_BLOB_ARCHIVE, DRB_TEST_REPLUG=1 (README, "Real OAK").
hardware-check: venv
	$(IN_VENV) DEPTHAI_TELEMETRY=0 python -m pytest -q -rs -s test/hardware $(PYTEST_ARGS) || [ $$? -eq 5 ]   # 5: no device, every module skipped
