"""Writes TensorBoard's event-file schema as .proto source into proto/tensorboard/.

The tensorboard wheel ships its schema only as compiled ``*_pb2.py`` modules; this renders the
descriptors back to source with the Renderer of shared/tools/dump_metrana_proto.py (the wire
format is exact; comments are not recoverable). Roots: the ``Event`` file and the HParams
plugin's data (the session start info that puts a run in the HParams tab); everything they
import comes along, except Google's well-known types (protoc ships them).

Run through ``bash proto/regenerate-tensorboard.sh [VERSION]``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

from google.protobuf import descriptor_pb2

ROOTS = ["tensorboard.compat.proto.event_pb2", "tensorboard.plugins.hparams.plugin_data_pb2"]


def main(tool: str, out_dir: str, version: str) -> int:
    spec = importlib.util.spec_from_file_location("dump_metrana_proto", tool)
    assert spec and spec.loader, tool
    dump = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dump)
    files: dict = {}
    for root in ROOTS:
        dump._closure(importlib.import_module(root).DESCRIPTOR, files)
    for name in sorted(files):
        if name.startswith("google/protobuf/"):
            continue
        fdp = descriptor_pb2.FileDescriptorProto()
        files[name].CopyToProto(fdp)
        text = (
            dump.Renderer(fdp)
            .render()
            .replace(
                "in the metrana_protobuf wheel by dump_metrana_proto.py",
                f"in the tensorboard {version} wheel by proto/dump_tensorboard_proto.py",
            )
        )
        target = Path(out_dir) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
