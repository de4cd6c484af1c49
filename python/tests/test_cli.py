"""The ``telemetron`` command on a run recorded through the Python API: ``inspect --json``
numbers equal what the file holds, ``timeline`` is valid Trace Event Format nested by
parentage, ``plot`` writes images Pillow decodes at the requested size, ``replay`` delivers
every record to a real OTLP receiver and the Metrana reference server, ``config show`` connects
nowhere, and bad input is one stderr line with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import telemetron

sys.path.insert(0, str(Path(__file__).parents[2] / "tests" / "metrana_server"))
from otlp_receiver import Receiver  # noqa: E402
from server import MetranaServer  # noqa: E402

TELEMETRON = str(Path(sys.executable).with_name("telemetron"))


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TELEMETRON, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def run_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "run.jsonl"
    telemetron.configure(
        exporters=[{"type": "file", "path": str(path)}],
        run_name="cli-run",
        project="viewing",
        workspace="w",
        orchestration_id="job-7",
    )
    log = telemetron.get_logger("trainer")
    for epoch in range(3):
        with telemetron.timed_span("epoch", span_attributes={"epoch": epoch}):
            for step in range(5):
                with telemetron.timed_span("train_step"):
                    telemetron.log("loss", 1.0 / (1 + 5 * epoch + step), labels={"split": "train"})
            log.info("epoch done", {"epoch": epoch})
            if epoch == 1:
                with pytest.raises(ValueError), telemetron.timed_span("validate"):
                    raise ValueError("bad batch")
    log.warning("slow shard")
    for rl_step in range(4):
        telemetron.log_rl_environment_step(
            "reward", np.array([rl_step, -rl_step], dtype=np.float32), rl_step, episode=None,
            env_id=["a", "b"],
        )  # fmt: skip
    telemetron.log_histogram("weights", (np.array([1, 2]), np.array([0.0, 1.0, 2.0])), 3)
    telemetron.log_config({"lr": 0.001, "batch": 64})
    report = telemetron.shutdown(timeout=10)
    assert report is not None and report["undelivered"] == [], report
    return path


def test_inspect_json_equals_what_the_run_recorded(run_file: Path) -> None:
    result = cli("inspect", str(run_file), "--json")
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    records = [r for r in lines(run_file) if r["kind"] != "header"]
    stops = [r for r in records if r["kind"] == "span_stop"]
    by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in stops:
        by_name[s["name"]].append(s)
    assert {s["name"] for s in got["spans"]} == {"epoch", "train_step", "validate"}
    for span in got["spans"]:
        mine = by_name[span["name"]]
        durations = sorted(s["duration_ns"] for s in mine)
        assert span["count"] == len(mine)
        assert span["errors"] == sum(s["status"] == "error" for s in mine)
        assert span["total_ns"] == sum(durations)
        assert span["max_ns"] == durations[-1]
        assert span["mean_ns"] == pytest.approx(sum(durations) / len(durations))
        exact_p50 = durations[int(np.ceil(0.5 * len(durations))) - 1]
        assert span["p50_ns"] == pytest.approx(exact_p50, rel=0.005)
    assert {s["name"]: s["errors"] for s in got["spans"]}["validate"] == 1
    times = [r["time_ns"] for r in records] + [s["start_time_ns"] for s in stops]
    assert got["wall_time_ns"] == max(times) - min(times)

    (loss,) = got["metrics"]
    values = [v for r in records if r["kind"] == "metric" for v in r["values"]]
    assert (loss["name"], loss["labels"], loss["points"]) == ("loss", {"split": "train"}, 15)
    assert (loss["step_min"], loss["step_max"]) == (0, 14)
    # f32 series: inspect reports each value exactly (as f64); the file writes its shortest form.
    f32 = [float(np.float32(v)) for v in values]
    assert (loss["last"], loss["min"], loss["max"]) == (f32[-1], min(f32), max(f32))
    (reward,) = got["rl"]
    assert (reward["envs"], reward["points"], reward["rl_step_max"]) == (2, 8, 3)
    assert (reward["last"], reward["min"], reward["max"]) == (-3.0, -3.0, 3.0)
    assert got["histograms"][0]["name"] == "weights" and got["histograms"][0]["last_bins"] == 2
    assert got["logs"] == {"INFO": 3, "WARN": 1}
    (error,) = got["errors"]
    assert error["message"].startswith("Error in validate: bad batch")
    assert (error["exception_type"], error["span"], error["count"]) == ("ValueError", "validate", 1)
    assert got["config"] == {"config/batch": "64", "config/lr": "0.001"}
    assert got["runs"][0]["run_name"] == "cli-run" and got["runs"][0]["orchestration_id"] == "job-7"
    assert got["read"]["torn_lines"] == 0

    tables = cli("inspect", str(run_file))
    assert tables.returncode == 0, tables.stderr
    for heading in ("Spans", "Metric series", "RL series", "Logs", "Errors", "Run attributes"):
        assert heading in tables.stdout


def check_trace(trace: dict[str, Any], records: list[dict[str, Any]]) -> None:
    """Trace Event Format: every event well formed; complete events nest on each track, and an
    enclosing span is always an ancestor of the span it encloses."""
    stops = {r["span_id"]: r for r in records if r["kind"] == "span_stop"}
    parent = {sid: r["parent_span_id"] for sid, r in stops.items()}
    complete = []
    for e in trace["traceEvents"]:
        assert e["ph"] in {"X", "i", "C", "M"}, e
        assert isinstance(e["pid"], int), e
        if e["ph"] == "M":
            continue
        assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0, e
        if e["ph"] == "X":
            assert (
                isinstance(e["dur"], (int, float)) and e["dur"] >= 0 and isinstance(e["tid"], int)
            )
            stop = stops[e["args"]["span_id"]]
            assert round(e["dur"] * 1000) == stop["duration_ns"]  # µs
            start_us = (stop["start_time_ns"] - trace["otherData"]["start_time_unix_ns"]) / 1000
            assert e["ts"] == pytest.approx(start_us, abs=1e-3)
            complete.append(e)
        elif e["ph"] == "i":
            assert e["s"] in {"t", "g"}, e
        else:
            assert all(isinstance(v, (int, float)) for v in e["args"].values()), e
    assert len(complete) == len(stops)
    by_track: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for e in complete:
        by_track[e["tid"]].append(e)
    for events in by_track.values():
        events.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack: list[dict[str, Any]] = []
        for e in events:
            while stack and stack[-1]["ts"] + stack[-1]["dur"] <= e["ts"]:
                stack.pop()
            if stack:
                outer = stack[-1]
                assert e["ts"] + e["dur"] <= outer["ts"] + outer["dur"] + 1e-6, (outer, e)
                ancestor, sid = outer["args"]["span_id"], e["args"]["span_id"]
                chain = []
                while sid is not None:
                    sid = parent.get(sid)
                    chain.append(sid)
                assert ancestor in chain, (outer, e)
            stack.append(e)


def test_timeline_is_valid_trace_event_format(run_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "run.trace.json"
    result = cli("timeline", str(run_file), "-o", str(out), "--logs")
    assert result.returncode == 0, result.stderr
    trace = json.loads(out.read_text())
    records = [r for r in lines(run_file) if r["kind"] != "header"]
    check_trace(trace, records)
    events = trace["traceEvents"]
    kinds = Counter((e["ph"], e.get("cat")) for e in events)
    assert kinds[("X", "span")] == 19
    assert kinds[("C", "metric")] == 15 and kinds[("C", "rl_metric")] == 4
    assert kinds[("i", "error")] == 1 and kinds[("i", "log")] == 4
    (error,) = [e for e in events if e.get("cat") == "error"]
    validate = next(e for e in events if e.get("name") == "validate")
    assert error["tid"] == validate["tid"] and error["args"]["exception_type"] == "ValueError"
    loss = [e["args"]["value"] for e in events if e.get("name") == "loss{split=train}"]
    assert loss == [
        float(np.float32(v)) for r in records if r["kind"] == "metric" for v in r["values"]
    ]
    names = {e["args"]["name"] for e in events if e["ph"] == "M"}
    assert "telemetron run cli-run" in names and "epoch" in names


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_plot_writes_an_image_of_the_requested_size(
    run_file: Path, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"chart.{suffix}"
    result = cli("plot", str(run_file), "loss", "reward", "-o", str(out), "--width", "800",
                 "--height", "500", "--smooth", "3", "--rl", "mean")  # fmt: skip
    assert result.returncode == 0, result.stderr
    if suffix == "png":
        from PIL import Image

        with Image.open(out) as image:
            image.load()
            assert image.size == (800, 500)
            colors = image.getcolors(maxcolors=1 << 20)
            assert colors is not None and len(colors) > 10  # lines, axes and text were drawn
    else:
        text = out.read_text()
        assert '<svg width="800" height="500"' in text and "<polyline" in text


def test_bad_input_is_one_line_and_exit_code_2(run_file: Path, tmp_path: Path) -> None:
    header = run_file.read_text().splitlines()[0]
    truncated = tmp_path / "truncated.jsonl"
    truncated.write_text(header[: len(header) // 2])
    foreign = tmp_path / "foreign.jsonl"
    foreign.write_text('{"level": "info", "msg": "hello"}\n')
    newer = tmp_path / "newer.jsonl"
    newer.write_text(header.replace('"schema":1', '"schema":9') + "\n")
    cases = [
        (["inspect", str(truncated)], "truncated"),
        (["inspect", str(foreign)], "not a Telemetron export"),
        (["timeline", str(newer), "-o", str(tmp_path / "t.json")], "schema 9 is newer"),
        (
            ["plot", str(run_file), "accuracy", "-o", str(tmp_path / "p.png")],
            'no metric named "accuracy"',
        ),
        (["tail", str(tmp_path / "missing.jsonl")], "No such file"),
        (["inspect", str(tmp_path)], "is a directory"),
        (["plot", str(run_file), "loss", "-o", str(tmp_path / "p.gif")], ".png or .svg"),
    ]
    for args, message in cases:
        result = cli(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert result.stderr.count("\n") == 1 and message in result.stderr, (args, result.stderr)
        assert result.stderr.startswith("telemetron: ") and "panicked" not in result.stderr


def test_a_torn_last_line_is_read_and_noted(run_file: Path, tmp_path: Path) -> None:
    torn = tmp_path / "torn.jsonl"
    torn.write_bytes(run_file.read_bytes()[:-10])
    result = cli("inspect", str(torn), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["read"]["torn_lines"] == 1
    assert "skipped 1 torn line" in result.stderr


def test_tail_filters_by_kind_and_name(run_file: Path) -> None:
    result = cli("tail", str(run_file), "--kind", "span_stop", "--name", "val*")
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert "span_stop" in line and "validate" in line and "error: Error in validate" in line
    last = cli("tail", str(run_file), "-n", "2", "--kind", "log")
    assert [line.split()[2] for line in last.stdout.splitlines()] == ["INFO", "WARN"]


def test_replay_delivers_every_record_to_otlp_and_metrana(run_file: Path, tmp_path: Path) -> None:
    records = [r for r in lines(run_file) if r["kind"] != "header"]
    receiver = Receiver().start()
    metrana = MetranaServer(tmp_path / "state.json").start()
    try:
        otlp = json.dumps({"type": "otlp", "endpoint": receiver.grpc_endpoint})
        mtr = json.dumps({"type": "metrana", "endpoint": metrana.endpoint, "api_key": "k"})
        result = cli("replay", str(run_file), "--exporter", otlp, "--exporter", mtr)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"replayed {len(records)} records" in result.stdout
        stops = [r for r in records if r["kind"] == "span_stop"]
        spans = receiver.spans()
        assert sorted(s.span_id.hex() for _, s in spans) == sorted(r["span_id"] for r in stops)
        logs = [r for r in records if r["kind"] == "log"]
        # OTLP also carries the run attributes as a log record.
        bodies = [rec.body.string_value for _, rec in receiver.logs()]
        assert sorted(b for b in bodies if b != "run attributes") == sorted(r["body"] for r in logs)
        metric_values = [v for r in records if r["kind"] == "metric" for v in r["values"]]
        points = metrana.points("loss", {"split": "train"}, run_name="cli-run")
        assert [p[1] for p in points] == [float(np.float32(v)) for v in metric_values]
        assert [p[0] for p in points] == list(range(15))
        assert metrana.rl_points("reward", "b", run_name="cli-run")[-1][3] == -3.0
        run = metrana.run("cli-run")
        assert run["attributes"] == {"config/lr": 0.001, "config/batch": 64}
    finally:
        receiver.stop()
        metrana.stop()


def test_config_show_connects_nowhere_and_a_bad_exporter_is_one_line(tmp_path: Path) -> None:
    metrana = MetranaServer(tmp_path / "state.json").start()
    try:
        config = tmp_path / "telemetron.yaml"
        entry = f"{{type: metrana, endpoint: {metrana.endpoint}, api_key: secret-key}}"
        config.write_text(f"run_name: shown\nexporters:\n  - {entry}\n")
        for command in ([TELEMETRON], [sys.executable, "-m", "telemetron"]):
            result = subprocess.run([*command, "config", "show", "--file", str(config)],
                                    capture_output=True, text=True, timeout=60)  # fmt: skip
            assert result.returncode == 0, result.stderr
            assert "metrana" in result.stdout and "secret-key" not in result.stdout
        assert metrana.authorizations == [] and metrana.state["runs"] == {}
    finally:
        metrana.stop()
    bad = tmp_path / "bad.yaml"
    bad.write_text("exporters:\n  - {type: python, class: 'nowhere.module:Missing'}\n")
    command = [sys.executable, "-m", "telemetron", "config", "show", "--file", str(bad)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert "nowhere.module" in result.stderr


def test_tail_follows_a_growing_and_rotated_file(tmp_path: Path) -> None:
    import queue
    import threading
    import time

    header = (
        '{"schema":1,"kind":"header","time_ns":1,"run":{"run_name":"r","workspace":null,'
        '"project":null,"experiment":null,"orchestration_id":"o","logger_id":1},'
        '"exporter":"file","pid":1,"producer":"telemetron"}\n'
    )

    def event(name: str) -> str:
        return (
            f'{{"schema":1,"kind":"event","time_ns":2,"trace_id":null,"span_id":null,'
            f'"name":"{name}","attributes":{{}}}}\n'
        )

    path = tmp_path / "run.jsonl"
    path.write_text(header + event("first"))
    proc = subprocess.Popen(
        [TELEMETRON, "tail", "-f", str(path)], stdout=subprocess.PIPE, text=True
    )
    seen: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout
    threading.Thread(target=lambda: [seen.put(line) for line in stdout], daemon=True).start()

    def expect(name: str) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                line = seen.get(timeout=0.5)
            except queue.Empty:
                continue
            assert f"event      {name}" in line, line
            return
        raise AssertionError(f"tail -f never printed {name}")

    try:
        expect("first")
        with path.open("a") as f:  # half a line, then the rest: printed once whole
            text = event("second")
            f.write(text[:30])
            f.flush()
            time.sleep(0.3)
            f.write(text[30:])
        expect("second")
        path.rename(tmp_path / "run.jsonl.1")  # the exporter rotates
        path.write_text(header + event("third"))
        expect("third")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
