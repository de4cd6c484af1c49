#!/usr/bin/env bash
# Builds the FFmpeg the telemetron-render wheel carries: Debian's FFmpeg source (the same
# 5.1 release the system has), configured with only what the renderer uses — the libx264
# encoder, the mp4 muxer, the file protocol and swscale — as shared libraries. Debian's FFmpeg
# would drag 133 libraries (162 MB: codecs, OpenCL, VA-API, ...) into the wheel.
#
# --enable-gpl: libx264 is GPL-2.0-or-later, so these FFmpeg libraries are GPL too (README).
# Output: $FFMPEG_PREFIX (default ~/.cache/telemetron/ffmpeg-minimal), skipped when built.
# Needs: deb-src access to Debian's archive (derived from the system's apt sources), nasm,
# libx264-dev; installs them with apt-get when missing.
set -euo pipefail

PREFIX="${FFMPEG_PREFIX:-$HOME/.cache/telemetron/ffmpeg-minimal}"
if [ -f "$PREFIX/lib/pkgconfig/libavcodec.pc" ]; then
    echo "minimal FFmpeg already built in $PREFIX"
    exit 0
fi

sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo
need=()
command -v nasm >/dev/null || need+=(nasm)
[ -f /usr/include/x264.h ] || need+=(libx264-dev)
command -v dpkg-source >/dev/null || need+=(dpkg-dev)
if [ ${#need[@]} -gt 0 ]; then
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${need[@]}"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A private apt state with the system's Debian sources as deb-src, so nothing system-wide changes.
mkdir -p "$work/apt/parts" "$work/apt/lists/partial"
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && grep -q '^Types: deb$' "$f" && grep -qi debian "$f" &&
        sed 's/^Types: deb$/Types: deb-src/' "$f" >"$work/apt/parts/$(basename "$f")"
done
if [ -f /etc/apt/sources.list ]; then
    grep -E '^deb .*debian' /etc/apt/sources.list | sed 's/^deb /deb-src /' >"$work/apt/parts/src.list" || true
fi
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/apt/parts"
    -o "Dir::State::Lists=$work/apt/lists")
(cd "$work" && apt-get -q "${apt_opts[@]}" update >/dev/null &&
    apt-get -q "${apt_opts[@]}" source ffmpeg 2>&1 | grep -v '^W: Download is performed unsandboxed' | tail -2)
src="$(find "$work" -maxdepth 1 -type d -name 'ffmpeg-*' | head -1)"
[ -n "$src" ] || { echo "could not get FFmpeg's Debian source package" >&2; exit 1; }

cd "$src"
./configure --prefix="$PREFIX" \
    --enable-shared --disable-static --enable-pic \
    --enable-gpl --enable-libx264 \
    --disable-autodetect --enable-pthreads \
    --disable-programs --disable-doc \
    --disable-avdevice --disable-avfilter --disable-swresample --disable-postproc \
    --disable-network --disable-everything \
    --enable-encoder=libx264 --enable-muxer=mp4 --enable-protocol=file \
    --enable-swscale \
    --extra-version=telemetron-minimal >/dev/null
make -j"$(nproc)" >/dev/null
make install >/dev/null
# The configure line and the licence travel with the libraries (the wheel's licence files).
mkdir -p "$PREFIX/share/licenses"
cp COPYING.GPLv2 COPYING.LGPLv2.1 LICENSE.md "$PREFIX/share/licenses/"
grep -m1 'FFMPEG_CONFIGURATION' config.h >"$PREFIX/share/licenses/ffmpeg-configuration.txt"
echo "minimal FFmpeg built in $PREFIX"
