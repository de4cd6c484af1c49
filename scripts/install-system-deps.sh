#!/usr/bin/env bash
# System packages Telemetron needs beyond Rust and Python: FFmpeg's libraries for the H.264
# renderer (ffmpeg-next builds against them), ffprobe for the tests that check its videos,
# cmake + libcurl's headers for the librdkafka source build of the Kafka exporter (rdkafka's
# `cmake-build`; with `ssl` it includes curl/curl.h even with OIDC off, librdkafka#5135), and a
# TrueType font for `telemetron plot`.
# Idempotent: installs only what is missing. Debian/Ubuntu (apt-get), run as root or with sudo.
set -euo pipefail

missing=()
pkg-config --exists libavcodec libavformat libavutil libswscale 2>/dev/null \
  || missing+=(libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libavfilter-dev libavdevice-dev)
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v clang >/dev/null || missing+=(clang libclang-dev)
command -v ffprobe >/dev/null || missing+=(ffmpeg)
command -v cmake >/dev/null || missing+=(cmake)
pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev)
[ -f /usr/include/x86_64-linux-gnu/curl/curl.h ] || [ -f /usr/include/curl/curl.h ] \
  || missing+=(libcurl4-openssl-dev)
# `telemetron plot` draws chart text with a TrueType font from the system.
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
