"""The reference server's data model: series keys, stream state, and how an accepted
``UpdateRunRequest`` is applied to a run's stored state (or only counted, for benchmarks)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import grpc
from metrana_protobuf.common.v1 import series_pb2
from metrana_protobuf.ingestion.v1.types import updates_pb2

ORDERED = updates_pb2.ORDERING_MODE_ABSOLUTE_ORDERED
KIND_FLOAT = series_pb2.SERIES_VALUE_KIND_FLOAT


def flat_labels(labels: dict[str, str]) -> str:
    """Metrana's text form of a label map: ``k=v`` sorted by key, joined by ``&``, unescaped (its
    client reserves ``=`` and ``&`` in labels). metrana-logging-engine reads this form back."""
    return "&".join(f"{k}={labels[k]}" for k in sorted(labels))


def series_key(metric: str, scale: str, labels: dict[str, str]) -> str:
    return f"{metric}|{scale}|{flat_labels(labels)}"


class Rejected(Exception):
    """A request a real server would refuse: the stream fails with ``code``."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Stream:
    """Per-stream state: declarations live as long as the stream."""

    declarations: dict[int, str] = field(default_factory=dict)
    requests: int = 0


def series_of(run: dict[str, Any], stream: Stream, series_id: int) -> dict[str, Any]:
    key = stream.declarations.get(series_id)
    if key is None:
        raise Rejected(
            grpc.StatusCode.FAILED_PRECONDITION,
            f"series {series_id} used before its declaration on this stream",
        )
    series: dict[str, Any] = run["series"][key]
    return series


def apply_data(run: dict[str, Any], stream: Stream, request: Any) -> None:
    for update in request.series:
        series = series_of(run, stream, update.series_id)
        for batch in update.point_batches:
            values = list(batch.values) or list(batch.values_f32)
            steps = (
                list(batch.steps)
                if batch.steps
                else [batch.first_step + i for i in range(len(values))]
            )
            if len(steps) != len(values):
                raise Rejected(
                    grpc.StatusCode.INVALID_ARGUMENT, "steps and values differ in length"
                )
            stamps = (
                list(batch.timestamps_millis)
                if batch.timestamps_millis
                else [batch.timestamp_millis if batch.HasField("timestamp_millis") else None]
                * len(values)
            )
            for step, v, ts in zip(steps, values, stamps, strict=True):
                if not math.isfinite(v):
                    raise Rejected(
                        grpc.StatusCode.INVALID_ARGUMENT, f"non-finite value at step {step}"
                    )
                last = series["last_step"]
                if series["ordering"] == ORDERED and last is not None and step <= last:
                    raise Rejected(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"step {step} of ordered series {series['metric']} is not after {last}",
                    )
                series["points"].append([step, v, ts])
                series["last_step"] = step if last is None else max(last, step)
    for update in request.rl_series:
        series = series_of(run, stream, update.series_id)
        env = update.environment_id
        rows = series["rl"].setdefault(env, [])
        state = run["envs"].setdefault(env, {"last_rl_step": 0, "last_episode": 0})
        for batch in update.rl_step_batches:
            last_rl = series.setdefault("last_rl_step", {}).get(env)
            if last_rl is not None and batch.rl_step < last_rl:
                raise Rejected(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"rl_step {batch.rl_step} of {series['metric']} in env {env} "
                    f"is before {last_rl}",
                )
            series["last_rl_step"][env] = batch.rl_step
            values = list(batch.values) or list(batch.values_f32)
            minors = (
                list(batch.minor_steps)
                if batch.minor_steps
                else [
                    (batch.first_minor_step if batch.HasField("first_minor_step") else 0) + i
                    for i in range(len(values))
                ]
            )
            episode = batch.episode if batch.HasField("episode") else None
            ts = batch.timestamp_millis if batch.HasField("timestamp_millis") else None
            for minor, v in zip(minors, values, strict=True):
                rows.append([batch.rl_step, episode, minor, v, ts])
            state["last_rl_step"] = max(state["last_rl_step"], batch.rl_step)
            if episode is not None:
                state["last_episode"] = max(state["last_episode"], episode)
                series["episodic"] = True
            series["last_step"] = max(series["last_step"] or 0, batch.rl_step)
    for update in request.histogram_series:
        series = series_of(run, stream, update.series_id)
        for p in update.points:
            kind = "densities" if p.densities else "counts"
            series["kind"] = (
                series_pb2.SERIES_VALUE_KIND_DENSITY_HISTOGRAM
                if kind == "densities"
                else series_pb2.SERIES_VALUE_KIND_HISTOGRAM
            )
            series["histograms"].append(
                {"step": p.step, "bin_edges": list(p.bin_edges), kind: list(getattr(p, kind))}
            )
            series["last_step"] = max(series["last_step"] or 0, p.step)
    for update in request.scatter_series:
        series = series_of(run, stream, update.series_id)
        for p in update.points:
            series["kind"] = (
                series_pb2.SERIES_VALUE_KIND_SCATTER_3D
                if p.zs
                else series_pb2.SERIES_VALUE_KIND_SCATTER
            )
            series["scatters"].append(
                {"step": p.step, "xs": list(p.xs), "ys": list(p.ys), "zs": list(p.zs)}
            )
    for a in request.attributes:
        kind = a.WhichOneof("value")
        if kind == "string_set_delta_value":
            current = set(run["attributes"].get(a.path, []))
            current |= set(a.string_set_delta_value.added_values)
            current -= set(a.string_set_delta_value.removed_values)
            run["attributes"][a.path] = sorted(current)
        elif kind == "string_set_value":
            run["attributes"][a.path] = sorted(a.string_set_value.values)
        elif kind == "timestamp_value":
            run["attributes"][a.path] = a.timestamp_value.ToJsonString()
        elif kind is not None:
            run["attributes"][a.path] = getattr(a, kind)
    for env in request.env_attr_updates:
        run["env_attributes"].append(
            {
                "env": env.environment_id,
                "episode": env.episode if env.HasField("episode") else None,
                "attributes": {
                    a.path: getattr(a, a.WhichOneof("value") or "string_value")
                    for a in env.attributes
                },
            }
        )
    if request.HasField("close_run"):
        run["closed"] = request.close_run.close_message or ""


def count_points(request: Any) -> int:
    points = sum(len(b.values) + len(b.values_f32) for u in request.series for b in u.point_batches)
    points += sum(
        len(b.values) + len(b.values_f32) for u in request.rl_series for b in u.rl_step_batches
    )
    return points
