#!/usr/bin/env bash
# NVIDIA's own test suites for nv-one-logger-core and nv-one-logger-training-telemetry (2.3.1),
# run against the installed PyPI wheels with TelemetronExporter behind their mock exporters
# (python/tests/onelogger_suites/telemetron_bridge_plugin.py). The suites are only in the source
# repository, never fetched here: point ONELOGGER_REPO at a clone (or git mirror) of
# github.com/NVIDIA/nv-one-logger. Without it this says so and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
REPO=${ONELOGGER_REPO:-/work/.mirror/NVIDIA+nv-one-logger/repo}
# "Release: 2.3.1 fix file descriptor duplication of get_logger."
COMMIT=${ONELOGGER_COMMIT:-ff0195bfdd0f8c88f96563f549968cc8d6c99023}

if ! git -C "$REPO" cat-file -e "$COMMIT^{commit}" 2>/dev/null; then
    echo "test-onelogger: no NVIDIA/nv-one-logger repository with commit $COMMIT at $REPO;"
    echo "  set ONELOGGER_REPO to a clone of https://github.com/NVIDIA/nv-one-logger to run it. Skipped."
    exit 0
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
git -C "$REPO" archive "$COMMIT" \
    nv_one_logger/one_logger_core/tests nv_one_logger/one_logger_training_telemetry/tests |
    tar -x -C "$WORK"
export PYTHONPATH="$PWD/python/tests/onelogger_suites${PYTHONPATH:+:$PYTHONPATH}"
PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")"  # absolute, not resolved: keep the venv

status=0
for suite in one_logger_core one_logger_training_telemetry; do
    echo "== $suite (NVIDIA/nv-one-logger@${COMMIT:0:7}) with Telemetron behind its mock exporters"
    # test_get_version_from_toml reads the repository's pyproject.toml next to the package
    # sources: it cannot pass against installed wheels (it fails the same way without us).
    (cd "$WORK/nv_one_logger/$suite" &&
        TELEMETRON_SUITE_OUT="$WORK/$suite.jsonl" "$PY" -m pytest tests -q -p no:cacheprovider \
            -p telemetron_bridge_plugin \
            --deselect tests/nv_one_logger/core/internal/test_version.py::test_get_version_from_toml) ||
        status=1
done
exit $status
