"""``python tests/metrana_server --state state.json [--port P]``: serve until killed; prints
``READY <port>`` once listening (for tests that run it in another process)."""

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
    args = parser.parse_args()
    server = MetranaServer(args.state, args.port).start()
    print(f"READY {server.port}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
