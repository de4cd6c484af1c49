"""``python tests/metrana_server --state state.json [--port P] [--count-only]``: serve until
killed; prints ``READY <port>`` once listening (for tests and benchmarks that run it in another
process). With ``--count-only`` it answers ``POINTS`` on stdin with ``POINTS <points> <requests>
<bytes>``."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from server import MetranaServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--count-only", action="store_true", help="count points, store nothing")
    parser.add_argument(
        "--reject-metric",
        action="append",
        default=[],
        help="refuse every request with points of this metric (INVALID_ARGUMENT, bad data)",
    )
    args = parser.parse_args()
    server = MetranaServer(args.state, args.port, count_only=args.count_only)
    server.faults.reject_metrics = set(args.reject_metric)
    server.start()
    print(f"READY {server.port}", flush=True)
    if not args.count_only:
        threading.Event().wait()
    for line in sys.stdin:
        if line.strip() == "POINTS":
            sizes = server.request_sizes
            print(f"POINTS {server.points_received} {len(sizes)} {sum(sizes)}", flush=True)


if __name__ == "__main__":
    main()
