#!/usr/bin/env bash
# Regenerates proto/tensorboard/ from the tensorboard wheel on PyPI (which ships its event-file
# schema only as compiled descriptors) and stamps each file with the package version.
#   bash proto/regenerate-tensorboard.sh [VERSION]     (default: the version pinned below)
set -euo pipefail
cd "$(dirname "$0")"
VERSION="${1:-2.21.0}"
TOOL="${DUMP_TOOL:-../../shared/tools/dump_metrana_proto.py}"
venv="$(mktemp -d)/venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q "tensorboard==$VERSION" protobuf
rm -rf tensorboard
"$venv/bin/python" dump_tensorboard_proto.py "$TOOL" . "$VERSION" > /dev/null
for f in $(find tensorboard -name '*.proto' | sort); do
  { echo "// Generated from tensorboard $VERSION (PyPI) by proto/dump_tensorboard_proto.py."
    echo "// Do not edit: regenerate with \`bash proto/regenerate-tensorboard.sh $VERSION\`."
    cat "$f"; } > "$f.tmp" && mv "$f.tmp" "$f"
done
echo "proto/tensorboard regenerated from tensorboard $VERSION"
