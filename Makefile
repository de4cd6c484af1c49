# Cargo's target dir lives outside the checkout so CI's warm runs reuse it.
CARGO_TARGET_DIR ?= $(HOME)/.cache/telemetron/target
export CARGO_TARGET_DIR

.PHONY: demo test lint unit bench config-show

## demo: a small fake training loop on the embedded default (the file exporter)
demo:
	cargo run --example quickstart

## test: formatting, clippy -D warnings, and every test of every crate
test: lint unit

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

unit:
	cargo test --workspace

## bench: criterion caller cost + sustained throughput, side by side with tracing
bench:
	cargo bench --bench span_throughput

## config-show: the effective configuration and where each value came from
config-show:
	cargo run --bin telemetron -- config show
