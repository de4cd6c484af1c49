# Cargo's target dir lives outside the checkout so CI's warm runs reuse it.
CARGO_TARGET_DIR ?= $(HOME)/.cache/telemetron/target
export CARGO_TARGET_DIR

VENV ?= .venv
PY := $(VENV)/bin/python
PYDEPS := maturin pytest mypy ruff setuptools wheel numpy opentelemetry-proto grpcio rotel metrana-protobuf "metrana-logging-engine==0.12.*" "nv-one-logger-core==2.3.1" "nv-one-logger-training-telemetry==2.3.1" pyyaml

.PHONY: system-deps demo demo-rust develop test lint unit pytest bench bench-python bench-render bench-otlp bench-metrics bench-training test-onelogger config-show

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
unit: system-deps $(VENV)/.deps
	TELEMETRON_TEST_PYTHON=$(abspath $(PY)) cargo test --workspace $(RENDER)

pytest: develop
	$(PY) -m pytest python/tests tests/metrana_server -q

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

## bench-training: µs per training iteration at 1k/10k/100k, telemetron.training against
## OneLogger 2.3.1 (FileExporter) and OneLogger through the bridge; import costs
bench-training: $(VENV)/.deps
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop -q --release -m python/Cargo.toml
	$(PY) benches/training_bench.py

## test-onelogger: NVIDIA's OneLogger test suites with TelemetronExporter behind their mock
## exporters (needs a clone of NVIDIA/nv-one-logger: ONELOGGER_REPO=...; skipped without one)
test-onelogger: develop
	PY=$(PY) bash scripts/test-onelogger-suites.sh

## config-show: the effective configuration and where each value came from
config-show:
	cargo run --bin telemetron -- config show
