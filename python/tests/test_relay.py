"""``telemetron relay`` against a real broker (tansu), the recording OTLP receiver and the
Metrana reference server: two relays in one group over a 4-partition topic deliver every
record of three producer processes exactly once; a relay killed with SIGKILL mid-stream
leaves nothing missing (its partitions are read again by the other: duplicates reach only the
OTLP receiver, as identical copies a trace backend collapses; Metrana stores each point once);
a backend outage is read again until delivered; unreadable messages are skipped and
committed; SIGTERM delivers and commits; config mistakes are one line."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from kafka_broker import Broker
from otlp_receiver import Receiver, attrs
from relay_harness import (
    TELEMETRON,
    TOPIC,
    Relay,
    finish,
    key_partition,
    producer,
    spread_run_name,
    write_config,
)

sys.path.insert(0, str(Path(__file__).parents[2] / "tests" / "metrana_server"))
from server import MetranaServer  # noqa: E402

# Ranks whose keys (`<run>/1`, `/2`, `/5`) land in 3 of the 4 partitions for any run name:
# CRC-32 differences of keys differing in their last byte do not depend on the rest.
RANKS = [1, 2, 5]
# tansu joins a group in ~20 s with librdkafka's defaults: short timeouts for the tests.
FAST_GROUP = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}


@pytest.fixture
def broker() -> Iterator[Broker]:
    b = Broker().start()
    b.create_topics(TOPIC, partitions=4)
    yield b
    b.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def metrana(tmp_path: Path) -> Iterator[MetranaServer]:
    s = MetranaServer(tmp_path / "state.json").start()
    yield s
    s.stop()


def exporters(receiver: Receiver, metrana: MetranaServer | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"type": "otlp", "endpoint": receiver.grpc_endpoint}]
    if metrana is not None:
        out.append({"type": "metrana", "endpoint": metrana.endpoint, "api_key": "k",
                    "init_timeout_secs": 20})  # fmt: skip
    return out


def relay_options(broker: Broker, **more: Any) -> dict[str, Any]:
    return {"brokers": broker.bootstrap, "group": "relays", "consumer": FAST_GROUP, **more}


def span_keys(receiver: Receiver) -> Counter[tuple[int, int]]:
    return Counter(
        (attrs(s.attributes)["rank"], attrs(s.attributes)["i"]) for _, s in receiver.spans()
    )


def log_keys(receiver: Receiver) -> Counter[tuple[int, int]]:
    return Counter(
        (attrs(r.attributes)["rank"], attrs(r.attributes)["i"])
        for _, r in receiver.logs()
        if r.body.string_value == "progress"
    )


def expected(count: int) -> tuple[Counter[tuple[int, int]], Counter[tuple[int, int]]]:
    spans = Counter((rank, i) for rank in RANKS for i in range(count))
    logs = Counter((rank, i) for rank in RANKS for i in range(0, count, 10))
    return spans, logs


def metrana_complete(metrana: MetranaServer, run_name: str, count: int) -> bool:
    try:
        return all(
            len(metrana.points("loss", {"rank": str(r)}, run_name=run_name)) >= count for r in RANKS
        )
    except AssertionError:  # the run or a series does not exist yet
        return False


def wait_until(what: str, condition: Any, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def committed(broker: Broker, group: str) -> dict[int, int]:
    """The group's committed offset of each partition that has one."""
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group})
    try:
        parts = consumer.committed([TopicPartition(TOPIC, p) for p in range(4)], timeout=10)
        return {tp.partition: tp.offset for tp in parts if tp.offset >= 0}
    finally:
        consumer.close()


def ends(broker: Broker) -> dict[int, int]:
    """One past the last offset of each partition that has messages, from reading them all
    (tansu's high watermark can lag behind a partition's last message)."""
    out: dict[int, int] = {}
    for m in broker.read(TOPIC, partitions=4, idle=1.0):
        out[m.partition] = max(out.get(m.partition, 0), m.offset + 1)
    return out


def start_group(*configs: Path) -> list[Relay]:
    """Relays on one group, returned once the group has settled: each holds 2 partitions."""
    relays = [Relay(c) for c in configs]
    for relay in relays:
        relay.wait_for(
            "the group to settle",
            lambda: all((r.assigned() or []).__len__() == 4 // len(relays) for r in relays),
        )
    return relays


def test_two_relays_deliver_three_producers_exactly_once_and_commit_on_sigterm(
    tmp_path: Path, broker: Broker, receiver: Receiver, metrana: MetranaServer
) -> None:
    count = 300
    run_name = spread_run_name(RANKS)
    config = write_config(tmp_path / "relay.yaml", relay_options(broker),
                          exporters(receiver, metrana))  # fmt: skip
    relays = start_group(config, config)
    try:
        for proc in [producer(broker.bootstrap, run_name, r, count) for r in RANKS]:
            finish(proc)
        want_spans, want_logs = expected(count)
        wait_until(
            "every span", lambda: sum(span_keys(receiver).values()) >= sum(want_spans.values())
        )
        wait_until("every point", lambda: metrana_complete(metrana, run_name, count))
        reports = [r.stop() for r in relays]
    finally:
        for r in relays:
            if r.proc.poll() is None:
                r.kill()
    assert span_keys(receiver) == want_spans, "each span exactly once"
    assert log_keys(receiver) == want_logs, "each log record exactly once"
    for rank in RANKS:
        points = metrana.points("loss", {"rank": str(rank)}, run_name=run_name)
        assert points == [(i, float(i), None) for i in range(count)], f"rank {rank}"
    run = metrana.run(run_name)
    assert run["orchestration_identifier"] == "job-7" and run["closed"] == ""
    # The partitions were spread: both relays forwarded records, neither read anything twice.
    assert all(r["records"] > 0 for r in reports), reports
    assert sum(r["rereads"] for r in reports) == 0 and sum(r["skipped"] for r in reports) == 0
    assert committed(broker, "relays") == ends(broker), "SIGTERM committed everything read"


def test_a_relay_killed_mid_stream_leaves_nothing_missing(
    tmp_path: Path, broker: Broker, receiver: Receiver, metrana: MetranaServer
) -> None:
    count = 400
    run_name = spread_run_name(RANKS)
    # The victim never commits before it dies: everything it delivered is read again.
    victim_config = write_config(
        tmp_path / "victim.yaml", relay_options(broker, commit_interval_secs=1000),
        exporters(receiver, metrana),
    )  # fmt: skip
    survivor_config = write_config(tmp_path / "survivor.yaml", relay_options(broker),
                                   exporters(receiver, metrana))  # fmt: skip
    victim, survivor = start_group(victim_config, survivor_config)
    try:
        victim_ranks = [r for r in RANKS if key_partition(run_name, r, 4) in victim.assigned()]
        assert victim_ranks, "the victim holds a rank's partition"
        procs = [producer(broker.bootstrap, run_name, r, count, pace=0.01) for r in RANKS]

        def victim_delivered() -> bool:
            return (
                sum(n for (rank, _), n in span_keys(receiver).items() if rank in victim_ranks) >= 50
            )

        wait_until("the victim to deliver", victim_delivered)
        victim.kill()
        survivor.wait_for(
            "the survivor to take every partition", lambda: survivor.assigned() == [0, 1, 2, 3]
        )
        for proc in procs:
            finish(proc)
        want_spans, want_logs = expected(count)
        wait_until("every span", lambda: set(span_keys(receiver)) == set(want_spans))
        wait_until("every log", lambda: set(log_keys(receiver)) == set(want_logs))
        wait_until("every point", lambda: metrana_complete(metrana, run_name, count))
        report = survivor.stop()
    finally:
        for r in (victim, survivor):
            if r.proc.poll() is None:
                r.kill()
    spans = span_keys(receiver)
    assert set(spans) == set(want_spans), "nothing missing"
    duplicated = {rank for (rank, _), n in spans.items() if n > 1}
    assert duplicated & set(victim_ranks), "what the victim delivered was read again"
    # Duplicates are identical copies (same ids, times, attributes): a trace backend keeps one.
    by_id: dict[bytes, set[bytes]] = {}
    for _, span in receiver.spans():
        by_id.setdefault(span.span_id, set()).add(span.SerializeToString())
    assert all(len(copies) == 1 for copies in by_id.values())
    assert len(by_id) == sum(want_spans.values())
    # Metrana: each point stored once — the survivor did not send what the run already had.
    for rank in RANKS:
        points = metrana.points("loss", {"rank": str(rank)}, run_name=run_name)
        assert points == [(i, float(i), None) for i in range(count)], f"rank {rank}"
    assert report["records"] > 0 and report["rejected"] == 0, report


def test_a_backend_outage_is_read_again_until_delivered(
    tmp_path: Path, broker: Broker, receiver: Receiver
) -> None:
    count = 200
    receiver.unavailable_left = 40  # every export fails for a while: retries run out
    config = write_config(
        tmp_path / "relay.yaml", relay_options(broker, retry_max_backoff_secs=1),
        exporters(receiver), max_retries=1, retry_max_backoff_secs=0.05,
        max_consecutive_failures=2,
    )  # fmt: skip
    (relay,) = start_group(config)
    try:
        for proc in [producer(broker.bootstrap, "outage", r, count) for r in RANKS]:
            finish(proc)
        want_spans, want_logs = expected(count)
        wait_until("every span", lambda: set(span_keys(receiver)) == set(want_spans))
        report = relay.stop()
    finally:
        if relay.proc.poll() is None:
            relay.kill()
    assert receiver.refused == 40
    assert set(log_keys(receiver)) == set(want_logs)
    assert report["rereads"] > 0, report
    assert "not delivered" in relay.log() and "reading again" in relay.log()
    assert committed(broker, "relays") == ends(broker)


def test_unreadable_messages_are_skipped_with_their_position_and_committed(
    tmp_path: Path, broker: Broker, receiver: Receiver
) -> None:
    raw = Producer({"bootstrap.servers": broker.bootstrap})
    raw.produce(TOPIC, value=b"not protobuf at all", partition=0)
    raw.produce(TOPIC, value=b"{}", partition=1, headers={"content-type": b"application/json"})
    raw.flush(10)
    config = write_config(tmp_path / "relay.yaml", relay_options(broker), exporters(receiver))
    (relay,) = start_group(config)
    try:
        finish(producer(broker.bootstrap, "after-garbage", 1, 20))
        wait_until("the producer's spans", lambda: sum(span_keys(receiver).values()) >= 20)
        report = relay.stop(sig=signal.SIGINT)  # Ctrl-C drains like SIGTERM, in Python too
    finally:
        if relay.proc.poll() is None:
            relay.kill()
    assert report["skipped"] == 2, report
    log = relay.log()
    assert f"{TOPIC}[0]@0: skipped" in log and f"{TOPIC}[1]@0: skipped" in log, log
    assert "application/json" in log
    assert Counter(k for k in span_keys(receiver)) == Counter((1, i) for i in range(20))
    assert committed(broker, "relays") == ends(broker)
    assert "Traceback" not in relay.log() and "KeyboardInterrupt" not in relay.log()


def relay_command(*args: str, python: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "telemetron"] if python else [TELEMETRON]
    return subprocess.run([*command, "relay", *args], capture_output=True, text=True, timeout=60)


def test_check_prints_the_config_with_secrets_redacted_and_connects_nowhere(tmp_path: Path) -> None:
    metrana = MetranaServer(tmp_path / "state.json").start()
    try:
        config = tmp_path / "relay.yaml"
        config.write_text(
            "relay:\n"
            "  brokers: 127.0.0.1:1\n"
            "  consumer: {security.protocol: SASL_PLAINTEXT, sasl.username: relay,"
            " sasl.password: hunter2-relay}\n"
            "exporters:\n"
            f"  - {{type: metrana, endpoint: {metrana.endpoint}, api_key: secret-key}}\n"
        )
        for python in (False, True):
            result = relay_command("--config", str(config), "--check", python=python)
            assert result.returncode == 0, result.stderr
            out = result.stdout
            assert "relay:" in out and "sasl.username" in out and "metrana" in out, out
            assert "hunter2-relay" not in out + result.stderr
            assert "secret-key" not in out + result.stderr
            assert 'backpressure = "block"' in out, "the relay never drops on the way"
        assert metrana.authorizations == [] and metrana.state["runs"] == {}
    finally:
        metrana.stop()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("relay:\n  grup: x\nexporters: [{type: file}]\n",
         "relay.yaml:1: relay.grup: unknown field"),
        ("relay:\n  commit_interval_secs: 0\nexporters: [{type: file}]\n",
         "relay.yaml:1: relay: commit_interval_secs 0"),
        ("exporters: [{type: file}]\n", "no `relay:` section"),
        ("relay: {brokers: 'a:1'}\n", "no `exporters:` list"),
        ("relay:\n  consumer: {enable.auto.commit: true}\nexporters: [{type: file}]\n",
         "consumer.enable.auto.commit cannot be set"),
        ("relay: {brokers: 'a:1'}\nexporters:\n"
         "  - {type: kafka, brokers: 'a:1', encoding: telemetron}\n",
         "relay.yaml:3: exporter #1 writes topic \"telemetron_records\" on a:1"),
        ("relay: {brokers: 'a:1'}\nrealy: {}\nexporters: [{type: file}]\n",
         "unknown setting \"realy\""),
    ],
)  # fmt: skip
def test_config_mistakes_are_one_line_and_exit_code_2(
    tmp_path: Path, text: str, message: str
) -> None:
    config = tmp_path / "relay.yaml"
    config.write_text(text)
    result = relay_command("--config", str(config))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("telemetron: "), result.stderr
    assert message in lines[0].replace(str(tmp_path) + "/", ""), lines[0]
