"""A small fake training loop on the embedded default (the file exporter).

Nested timed spans, events, a caught error, the Recorder API, and the span_stats plugin.
Run it with `make demo`.
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


def main() -> None:
    telemetron.configure(project="quickstart", plugins=[{"type": "span_stats", "every": 50}])
    recorder = telemetron.get_recorder()
    with timed_span(
        "training", span_attributes={"epochs": 3, "optimizer": {"name": "adam", "lr": 3e-4}}
    ):
        for epoch in range(3):
            with timed_span("epoch", span_attributes={"epoch": epoch}) as epoch_span:
                for step in range(20):
                    with timed_span("train_step"):
                        loss = math.exp(-(epoch * 20 + step) / 20) + random.random() * 0.01
                        if step % 10 == 9:
                            recorder.event(
                                telemetron.current_span(), "metrics", {"loss": loss, "step": step}
                            )
                try:
                    validate(epoch)
                except ValueError:
                    pass  # recorded as an error event by timed_span; the loop goes on
                recorder.event(epoch_span, "checkpoint_saved", {"epoch": epoch})

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


if __name__ == "__main__":
    main()
