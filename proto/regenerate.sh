#!/usr/bin/env bash
# Regenerates proto/metrana/ from the metrana-protobuf wheel on PyPI (the only published form
# of Metrana's ingestion schema) and stamps each file with the package version.
#   bash proto/regenerate.sh [VERSION]        (default: the version pinned below)
set -euo pipefail
cd "$(dirname "$0")"
VERSION="${1:-0.7.0}"
TOOL="${DUMP_TOOL:-../../shared/tools/dump_metrana_proto.py}"
venv="$(mktemp -d)/venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q "metrana-protobuf==$VERSION" protobuf
rm -rf metrana
"$venv/bin/python" "$TOOL" metrana > /dev/null
for f in $(find metrana -name '*.proto' | sort); do
  { echo "// Generated from metrana-protobuf $VERSION (PyPI) by shared/tools/dump_metrana_proto.py."
    echo "// Do not edit: regenerate with \`bash proto/regenerate.sh $VERSION\`."
    cat "$f"; } > "$f.tmp" && mv "$f.tmp" "$f"
done
echo "proto/metrana regenerated from metrana-protobuf $VERSION"
