"""A small fake training loop on the embedded default (the file exporter).

Nested timed spans, events, a caught error, the Recorder API, the span_stats plugin, metric
series (Metrana-style `log`, run config, RL rewards), log records, and (when NumPy is installed)
an environment rendered to H.264 .mp4 files. Run it with `make demo`.
"""

from __future__ import annotations

import math
import random

import telemetron
from telemetron import timed_span


@timed_span("validation")
def validate(epoch: int) -> float:
    if epoch == 1:
        raise ValueError("validation set is empty")
    return 0.5 / (epoch + 1)


def render_episodes() -> None:
    """Two short episodes of a bouncing square, as an RL env's render() would give them."""
    try:
        import numpy as np
    except ImportError:
        print("  (NumPy not installed: no renderings)")
        return
    for episode in range(2):
        for step in range(45):
            frame = np.zeros((84, 84, 3), np.uint8)
            x = abs((step * 4 + episode * 20) % 120 - 60)
            frame[30:50, x : x + 20] = (255, 160, 0)
            telemetron.log_rendering(frame, rl_step=episode * 45 + step, episode=episode, env_id=0)


def main() -> None:
    telemetron.configure(project="quickstart", plugins=[{"type": "span_stats", "every": 50}])
    telemetron.log_config({"optimizer": {"name": "adam", "lr": 3e-4}, "epochs": 3})
    log = telemetron.get_logger("quickstart")
    recorder = telemetron.get_recorder()
    with timed_span(
        "training", span_attributes={"epochs": 3, "optimizer": {"name": "adam", "lr": 3e-4}}
    ):
        for epoch in range(3):
            with timed_span("epoch", span_attributes={"epoch": epoch}) as epoch_span:
                for step in range(20):
                    with timed_span("train_step"):
                        loss = math.exp(-(epoch * 20 + step) / 20) + random.random() * 0.01
                        telemetron.log("loss", loss)  # steps 0, 1, 2, ... per series
                        if step % 10 == 9:
                            recorder.event(
                                telemetron.current_span(), "metrics", {"loss": loss, "step": step}
                            )
                try:
                    validate(epoch)
                except ValueError:
                    pass  # recorded as an error event by timed_span; the loop goes on
                recorder.event(epoch_span, "checkpoint_saved", {"epoch": epoch})
                log.info("epoch finished", {"epoch": epoch, "loss": loss})
                telemetron.log_rl_episode(
                    "return", [1.0 + epoch, 2.0 + epoch], epoch, env_id=[0, 1]
                )
        render_episodes()

    run_name = telemetron.run_name()
    report = telemetron.shutdown()
    assert report is not None
    totals = {
        k: sum(c[k] for c in report["metrics"]["runtime"].values())
        for k in ("added", "sent", "dropped")
    }
    print(f"telemetron quickstart: run {run_name!r}")
    added, sent, dropped = totals["added"], totals["sent"], totals["dropped"]
    print(f"  records: {added} added, {sent} delivered, {dropped} dropped")
    for name, counters in report["metrics"]["exporters"].items():
        print(f"  exporter {name}: {sum(c['sent'] for c in counters.values())} records written")
    print(f"  undelivered at close: {sum(u['records'] for u in report['undelivered'])}")
    print(f"  output: telemetron-out/{run_name}.jsonl")
    rendering = report["rendering"]
    if rendering is not None:
        print(
            f"  videos: {rendering['videos_finished']} in telemetron-renderings/{run_name}/0/ "
            f"({rendering['frames_encoded']} frames, {rendering['bytes_written']} bytes)"
        )


if __name__ == "__main__":
    main()
