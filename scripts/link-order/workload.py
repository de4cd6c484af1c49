"""What a typical job does with telemetron, up to a stage: the run that scripts/link-order/
profile.py records (under callgrind) to learn which functions of `_native` execute.

    python workload.py import    # import telemetron
    python workload.py file      # + configure(file exporter), log, timed_span, an RL step,
                                 #   a log record, flush, shutdown
    python workload.py network OTLP_ENDPOINT METRANA_ENDPOINT
                                 # + the same with the OTLP and Metrana exporters
"""

from __future__ import annotations

import sys
import tempfile

stage = sys.argv[1]
import telemetron  # noqa: E402

try:
    import numpy as np
except ImportError:
    np = None


def run(exporters: list[dict[str, object]], **settings: str) -> None:
    telemetron.configure(exporters=exporters, run_name="link-order", reconfigure=True, **settings)
    logger = telemetron.get_logger("link-order")
    for step in range(3):
        with telemetron.timed_span("step", span_attributes={"step": step}):
            telemetron.log("loss", 0.5 / (step + 1), step=step)
            telemetron.log("lr", 1e-3, step=step)
        telemetron.log_rl_environment_step("reward", 1.0, rl_step=step, env_id=0)
        if np is not None:  # the vectorized form, as RL jobs call it
            telemetron.log_rl_environment_step("return", np.ones(2), rl_step=step, env_id=[0, 1])
        logger.info(f"step {step} done", {"step": step})
    telemetron.flush(timeout=30)
    telemetron.shutdown()


if stage in ("file", "network"):
    with tempfile.TemporaryDirectory() as tmp:
        run([{"type": "file", "path": f"{tmp}/run.jsonl"}])
if stage == "network":
    otlp, metrana = sys.argv[2], sys.argv[3]
    run(
        [
            {"type": "otlp", "endpoint": otlp},
            {"type": "metrana", "endpoint": metrana, "api_key": "k"},
        ],
        workspace="ws",
        project="p",
    )
