"""A training process for the fault suite: configured from a JSON argument, it logs what it is
told and reports on stdout, one JSON object per line, so the tests can kill it (SIGKILL)
between any two lines.

    python trainer.py '{"configure": {...}, "steps": [["log", "loss", 0, 100], ...]}'

Steps:
- ``["log", metric, first_value, count]``: ``count`` scalar logs with auto steps, values
  ``first_value + i``; prints ``{"logged": metric, "last": value}``.
- ``["log_log", count]``: ``count`` log records ``n=<i>`` through ``telemetron.get_logger``.
- ``["flush"]``: ``telemetron.flush()``; prints ``{"flushed": true, "spooled": n}``.
- ``["stdin"]``: prints ``{"waiting": true}`` and waits for a line on stdin. ``"loop"`` lines
  keep logging ``metric`` (``loop_metric``) one point at a time until ``stop`` arrives.
- ``["metrics"]``: prints ``{"metrics": telemetron.metrics()}``.
- ``["shutdown", timeout]``: prints ``{"report": ...}`` (or ``{"error": ...}``).
- ``["offline"]``: prints ``{"offline": telemetron.is_offline()}``.
"""

from __future__ import annotations

import json
import select
import sys
import time
from typing import Any

import telemetron


def say(obj: dict[str, Any]) -> None:
    print(json.dumps(obj), flush=True)


def spooled() -> int:
    exporters = telemetron.metrics(verbose=True)["exporters"]
    return sum(c.get("spooled", 0) for kinds in exporters.values() for c in kinds.values())


def main() -> None:
    plan = json.loads(sys.argv[1])
    telemetron.configure(**plan["configure"])
    say({"configured": telemetron.run_name()})
    log = telemetron.get_logger("trainer")
    next_value: dict[str, float] = {}
    for step in plan["steps"]:
        kind = step[0]
        try:
            if kind == "log":
                _, metric, first, count = step
                for i in range(count):
                    telemetron.log(metric, float(first + i))
                next_value[metric] = first + count
                say({"logged": metric, "last": first + count - 1})
            elif kind == "log_log":
                for i in range(step[1]):
                    log.info(f"n={i}")
                say({"logged_logs": step[1]})
            elif kind == "loop":
                # Log one point of `metric` every `every` s until a line arrives on stdin.
                _, metric, every = step
                value = next_value.get(metric, 0.0)
                say({"looping": metric})
                while True:
                    telemetron.log(metric, float(value))
                    value += 1
                    ready, _, _ = select.select([sys.stdin], [], [], every)
                    if ready:
                        sys.stdin.readline()
                        break
                next_value[metric] = value
                say({"logged": metric, "last": value - 1})
            elif kind == "flush":
                telemetron.flush()
                say({"flushed": True, "spooled": spooled()})
            elif kind == "stdin":
                say({"waiting": True})
                sys.stdin.readline()
            elif kind == "metrics":
                say({"metrics": telemetron.metrics(verbose=True)})
            elif kind == "sleep":
                time.sleep(step[1])
            elif kind == "offline":
                say({"offline": telemetron.is_offline()})
            elif kind == "shutdown":
                say({"report": telemetron.shutdown(timeout=step[1])})
            else:
                raise ValueError(f"unknown step {step!r}")
        except telemetron.TelemetronError as e:
            say({"error": f"{type(e).__name__}: {e}", "step": step})
    say({"done": True})


if __name__ == "__main__":
    main()
