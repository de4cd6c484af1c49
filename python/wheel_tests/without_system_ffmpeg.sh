#!/usr/bin/env bash
# Runs "$@" with every FFmpeg and x264 library of the system unreadable: in a private mount
# namespace of its own (`unshare -m`, root), /dev/null is bound over each of them, so the
# dynamic loader finds them but cannot load them. Nothing outside the command sees a change.
#
#     unshare -m --propagation private bash without_system_ffmpeg.sh python script.py ...
set -euo pipefail
hidden=0
while read -r path; do
    mount --bind /dev/null "$path"
    hidden=$((hidden + 1))
done < <(ldconfig -p | awk '/(libav|libsw|libpostproc|libx264)/ {print $NF}' | xargs -r readlink -f | sort -u)
echo "hid $hidden system libraries" >&2
exec "$@"
