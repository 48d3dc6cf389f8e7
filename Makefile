# Two set-up commands on a fresh Debian 12 machine, as root, from a clean clone:
#   make demo   – the main job
#   make test   – the whole suite (what CI runs)
# Both install what they need: Debian packages for the real peers the tests use, and a venv.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Real peers the tests and the demo use (see docs/testing.md).
APT_PACKAGES := busybox-static skopeo umoci runc crun debootstrap docker-registry apache2-utils \
	zstd hyperfine libseccomp2 iproute2 nftables iptables curl uidmap etcd-server buildah podman git

# Only the benchmarks need these: a load generator, and Docker's own engine to compare with.
BENCH_PACKAGES := wrk docker.io

.PHONY: all deps bench-deps venv test lint demo bench clean

all: venv

deps bench-deps: PACKAGES = $(if $(filter bench-deps,$@),$(BENCH_PACKAGES),$(APT_PACKAGES))
deps bench-deps:
	@missing=""; for p in $(PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "apt-get install:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { apt-get install -y -qq python3-venv && python3 -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# PYTHONDONTWRITEBYTECODE may be set on build machines: compile once so every start of the CLI,
# the shim and dockyard-runc reads bytecode instead of recompiling (~25 ms a start).
venv: $(STAMP)
	@$(PY) -m compileall -q src >/dev/null

lint: venv
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/lint-imports

test: deps venv lint
	$(VENV)/bin/pytest -n 2 --dist loadgroup

demo: deps venv
	@bash examples/demo.sh

bench: deps bench-deps venv
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
