"""The ``telemetron`` command: ``telemetron --help`` or ``python -m telemetron --help``.

``inspect``, ``tail``, ``timeline``, ``plot`` and ``replay`` read a file export;
``relay --config relay.yaml`` sends the records of Kafka topics to exporters as a
consumer-group member (SIGTERM or Ctrl-C delivers and commits first);
``config show`` prints the effective configuration (with this environment's entry-point
config layers) without starting anything; ``exporters`` lists the registered types. The
command is native code (the same as the Rust ``telemetron`` binary).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Runs the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    from telemetron import _native

    args = sys.argv[1:] if argv is None else list(argv)
    layers = None
    if args[:2] == ["config", "show"]:
        from telemetron import _registry

        layers = _registry.config_layers() or None
    return _native.cli_main(["telemetron", *args], layers)


if __name__ == "__main__":
    sys.exit(main())
