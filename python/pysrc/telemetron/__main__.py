"""``python -m telemetron config show [--file PATH]``: the effective configuration, with the
source of every value (secrets redacted). ``python -m telemetron exporters``: registered types."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    from telemetron import _native

    if argv[:2] == ["config", "show"] and len(argv) in (2, 4):
        config_file = None
        if len(argv) == 4:
            if argv[2] != "--file":
                return usage()
            config_file = argv[3]
        from telemetron import _registry

        try:
            runtime = _native.Runtime(
                config_file=config_file, registry_layers=_registry.config_layers() or None
            )
        except _native.ConfigError as exc:
            print(f"telemetron: {exc}", file=sys.stderr)
            return 2
        print(runtime.describe_config(), end="")
        runtime.close(5.0)
        return 0
    if argv == ["exporters"]:
        print("exporters: " + ", ".join(_native.exporter_types()))
        return 0
    return usage()


def usage() -> int:
    print("usage: python -m telemetron config show [--file PATH] | exporters", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
