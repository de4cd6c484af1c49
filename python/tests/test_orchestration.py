"""Distributed runs: the orchestration id comes from the argument, then the launchers'
variables in order, else is random, and is published to child processes; logger ids pin a
writer per rank."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

LAUNCHER_VARS = [
    "TELEMETRON_ORCHESTRATION_ID",
    "METRANA_ORCHESTRATION_ID",
    "TORCHELASTIC_RUN_ID",
    "SLURM_JOB_ID",
    "RAY_JOB_ID",
]

SCRIPT = textwrap.dedent(
    """
    import json, os, subprocess, sys, telemetron
    kwargs = json.loads(sys.argv[1])
    telemetron.configure(exporters=[], **kwargs)
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.environ.get('TELEMETRON_ORCHESTRATION_ID'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    print(json.dumps({"id": telemetron.orchestration_id(), "logger": telemetron.logger_id(),
                      "child": child}))
    telemetron.shutdown()
    """
)


def run(tmp_path: Path, env: dict[str, str], **kwargs: object) -> dict[str, object]:
    clean = {k: v for k, v in os.environ.items() if k not in LAUNCHER_VARS}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(kwargs)],
        env={**clean, **env}, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(
    ("env", "kwargs", "expected"),
    [
        ({"SLURM_JOB_ID": "77", "RAY_JOB_ID": "r"}, {"orchestration_id": "explicit"}, "explicit"),
        ({"SLURM_JOB_ID": "77", "TORCHELASTIC_RUN_ID": "te"}, {}, "te"),
        ({"METRANA_ORCHESTRATION_ID": "m", "SLURM_JOB_ID": "77"}, {}, "m"),
        ({"RAY_JOB_ID": "ray-1"}, {}, "ray-1"),
        ({"TELEMETRON_ORCHESTRATION_ID": "t", "METRANA_ORCHESTRATION_ID": "m"}, {}, "t"),
    ],
)
def test_the_orchestration_id_resolves_in_order_and_reaches_children(
    tmp_path: Path, env: dict[str, str], kwargs: dict[str, object], expected: str
) -> None:
    got = run(tmp_path, env, **kwargs)
    assert (got["id"], got["child"]) == (expected, expected)


def test_without_a_launcher_the_id_is_random_and_still_shared_with_children(
    tmp_path: Path,
) -> None:
    a, b = run(tmp_path, {}), run(tmp_path, {})
    assert a["id"] != b["id"] and len(str(a["id"])) == 32
    assert a["child"] == a["id"]


def test_logger_ids_are_pinned_or_random_and_positive(tmp_path: Path) -> None:
    assert run(tmp_path, {}, logger_id=3)["logger"] == 3
    random = run(tmp_path, {})["logger"]
    assert isinstance(random, int) and random > 0
    zero = "import telemetron; telemetron.configure(exporters=[], logger_id=0)"
    done = subprocess.run([sys.executable, "-c", zero], capture_output=True, text=True, timeout=60)
    assert "logger_id must be a positive number" in done.stderr
