"""`block` backpressure waits without the GIL: a slow Python exporter (which needs the GIL to
make progress) must not deadlock a caller blocked on a full queue."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from conftest import read_records


def test_block_with_a_slow_python_exporter_loses_nothing_and_does_not_deadlock(tmp_path):
    code = """
        import time
        import telemetron

        class Slow(telemetron.Exporter):
            def export_event(self, event):
                time.sleep(0.0005)

        telemetron.configure(
            exporters=[{"type": "python", "class": Slow}, {"type": "file", "path": "out.jsonl"}],
            backpressure="block", queue_capacity=4, exporter_queue_capacity=8, batch_max_size=2,
        )
        for i in range(300):
            telemetron.get_recorder().event(None, "e", {"i": i})
        report = telemetron.shutdown(timeout=60)
        assert report["undelivered"] == [], report
        print(report["metrics"]["exporters"]["python"]["event"]["sent"])
    """
    # A class defined in the job's own script resolves as `__main__:Slow`.
    script = tmp_path / "slow_exporter_job.py"
    script.write_text(textwrap.dedent(code))
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "300"
    events = [r["attributes"]["i"] for r in read_records(tmp_path / "out.jsonl")]
    assert events == list(range(300))
