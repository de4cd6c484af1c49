#!/usr/bin/env bash
# Builds the FFmpeg and x264 the telemetron-render wheel carries, from Debian's source packages
# (the same FFmpeg 5.1 and x264 0.164 releases the system has): x264 as libx264.so.164 (no CLI,
# no OpenCL), then FFmpeg configured with only what the renderer uses — the libx264 encoder, the
# mp4 muxer, the file protocol and swscale — as shared libraries, linked with that x264. Debian's
# FFmpeg would drag 133 libraries (162 MB: codecs, OpenCL, VA-API, ...) into the wheel.
#
# RENDER_CC: the C compiler (one executable; default cc). `make wheel` gives scripts/zig-cc, zig's
# clang for glibc 2.17, so no library here needs a glibc symbol newer than 2.17 (manylinux2014)
# whatever glibc the build machine has; zig's clang reads only zig's own libc headers.
# --enable-gpl: libx264 is GPL-2.0-or-later, so these FFmpeg libraries are GPL too (README).
# Output: $FFMPEG_PREFIX (lib/, include/, share/licenses/), skipped when already built.
# Needs: deb-src access to Debian's archive (derived from the system's apt sources), nasm
# (x264's and FFmpeg's assembly), dpkg-dev; installs them with apt-get when missing.
set -euo pipefail

PREFIX="${FFMPEG_PREFIX:-$HOME/.cache/telemetron/ffmpeg-minimal}"
CC_CMD="${RENDER_CC:-cc}"
if [ -f "$PREFIX/lib/pkgconfig/libavcodec.pc" ]; then
    echo "minimal FFmpeg and x264 already built in $PREFIX"
    exit 0
fi

sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo
need=()
command -v nasm >/dev/null || need+=(nasm)
command -v dpkg-source >/dev/null || need+=(dpkg-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
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
    apt-get -q "${apt_opts[@]}" source x264 ffmpeg 2>&1 | grep -v '^W: Download is performed unsandboxed' | tail -2)
x264_src="$(find "$work" -maxdepth 1 -type d -name 'x264-*' | head -1)"
ffmpeg_src="$(find "$work" -maxdepth 1 -type d -name 'ffmpeg-*' | head -1)"
[ -n "$x264_src" ] || { echo "could not get x264's Debian source package" >&2; exit 1; }
[ -n "$ffmpeg_src" ] || { echo "could not get FFmpeg's Debian source package" >&2; exit 1; }
mkdir -p "$PREFIX/share/licenses"

# x264: the library only (8- and 10-bit, every chroma format, as Debian's libx264.so.164).
cd "$x264_src"
x264_configure=(--prefix="$PREFIX" --enable-shared --enable-pic --disable-cli --disable-opencl
    --disable-bashcompletion)
CC="$CC_CMD" ./configure "${x264_configure[@]}" >/dev/null
make -j"$(nproc)" >/dev/null
make install >/dev/null
# As Debian's: no debug info in the shipped library (zig's clang emits it by default).
find "$PREFIX/lib" -maxdepth 1 -type f -name 'libx264.so.*' -exec strip --strip-debug {} +
cp COPYING "$PREFIX/share/licenses/x264-COPYING"
cp debian/copyright "$PREFIX/share/licenses/x264-debian-copyright"
echo "x264 $(basename "$x264_src") ./configure ${x264_configure[*]}" >"$PREFIX/share/licenses/x264-configuration.txt"

cd "$ffmpeg_src"
PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" ./configure --prefix="$PREFIX" --cc="$CC_CMD" \
    --enable-shared --disable-static --enable-pic \
    --enable-gpl --enable-libx264 \
    --disable-autodetect --enable-pthreads \
    --disable-programs --disable-doc \
    --disable-avdevice --disable-avfilter --disable-swresample --disable-postproc \
    --disable-network --disable-everything \
    --enable-encoder=libx264 --enable-muxer=mp4 --enable-protocol=file \
    --enable-swscale \
    --extra-version=telemetron-minimal >/dev/null
# configure finds sysctl() by linking (old glibc versions export it), but glibc dropped
# <sys/sysctl.h> in 2.32 and zig's headers are the newest glibc's: use it only with its header.
if grep -q '^#define HAVE_SYSCTL 1$' config.h &&
    ! echo '#include <sys/sysctl.h>' | "$CC_CMD" -E -x c - >/dev/null 2>&1; then
    sed -i 's/^#define HAVE_SYSCTL 1$/#define HAVE_SYSCTL 0/' config.h
fi
make -j"$(nproc)" >/dev/null
make install >/dev/null
# The configure lines and the licences travel with the libraries (the wheel's licence files).
cp COPYING.GPLv2 COPYING.LGPLv2.1 LICENSE.md "$PREFIX/share/licenses/"
grep -m1 'FFMPEG_CONFIGURATION' config.h >"$PREFIX/share/licenses/ffmpeg-configuration.txt"
echo "minimal FFmpeg and x264 built in $PREFIX"
