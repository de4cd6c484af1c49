"""The wheels as a user gets them: installed into a fresh venv of every CPython >= 3.10 this
machine has, from files only. The core wheel works with the renderer's library hidden (spans,
metrics and logs reach a file and a real OTLP receiver; ``log_rendering`` raises the
documented ExporterError; no FFmpeg library is ever mapped); with telemetron-render installed
``log_rendering`` writes an H.264 file that ffprobe reads back. auditwheel accepts the core
wheel as manylinux, its module needs no glibc symbol newer than its tag says (with `make wheel`:
glibc 2.17, manylinux2014) and no FFmpeg, x264 or OpenSSL library; the repaired render wheel's
libraries (encoder, FFmpeg, x264) need none newer than its tag says either (with `make wheel`:
glibc 2.17 too)."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from otlp_receiver import Receiver

from conftest import INTERPRETERS, Venv, one_wheel

SCENARIO = Path(__file__).with_name("scenario.py")
HIDE_SYSTEM_FFMPEG = Path(__file__).with_name("without_system_ffmpeg.sh")
LIBRARY = "libtelemetron_render_ffmpeg.so"


def core_wheel() -> Path:
    return one_wheel("telemetron-*.whl")


def render_wheel() -> Path:
    return one_wheel("telemetron_render-*.whl")


def run_scenario(
    venv: Venv,
    mode: str,
    out: Path,
    receiver: Receiver,
    env: dict[str, str],
    prefix: tuple[str, ...] = (),
) -> dict[str, Any]:
    stdout = venv.run(
        str(SCENARIO), mode, str(out), receiver.grpc_endpoint, cwd=out, env=env, prefix=prefix
    )
    seen: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return seen


def records(path: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [line for line in lines if line["kind"] != "header"]


def version(key: str) -> tuple[int, ...]:
    """``"3.13"`` or ``"3.13t"`` (free-threaded) as ``(3, 13)``, for ordering."""
    return tuple(int(part) for part in key.rstrip("t").split("."))


def test_there_is_a_cpython_3_10_and_a_newer_one_to_test_on() -> None:
    """The abi3 floor (3.10) and a newer CPython. This machine's image has pyenv's 3.10-3.13; a
    machine without a 3.10 skips here, saying so, rather than failing CI over the image (the
    other tests still run on every version it has)."""
    if "3.10" not in INTERPRETERS:
        pytest.skip(f"no CPython 3.10 on this machine (found {sorted(INTERPRETERS)})")
    assert max(INTERPRETERS, key=version) != "3.10", INTERPRETERS


def test_core_wheel_without_the_renderer_records_and_explains_log_rendering(
    interpreter: str, tmp_path: Path, receiver: Receiver
) -> None:
    venv = Venv(interpreter, tmp_path / "venv", [core_wheel()])
    empty = tmp_path / "no-renderer-here"
    empty.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    seen = run_scenario(
        venv, "hidden", out, receiver, {"TELEMETRON_RENDER_PLUGIN_PATH": str(empty)}
    )
    # Nothing of FFmpeg or x264 in the process, ever.
    for stage in ("maps_after_import", "maps_after_configure", "maps_after_span", "maps_end"):
        assert seen[stage] == [], (stage, seen[stage])
    # The documented error: what is missing, where it looked, how to get it.
    message = seen["log_rendering"]
    assert message.startswith("ExporterError: the H.264 renderer is not installed"), message
    assert LIBRARY in message and str(empty) in message, message
    assert "pip install 'telemetron[render]'" in message, message
    # Everything else went on: the file has the spans, the metric points and the log...
    written = records(out / "run.jsonl")
    stops = [r["name"] for r in written if r["kind"] == "span_stop"]
    assert stops == ["wheel-span", "after-render-error"], stops
    points = [(r["steps"], r["values"]) for r in written if r["kind"] == "metric"]
    assert points == [([1], [0.25]), ([2], [0.5])], points
    assert [r["body"] for r in written if r["kind"] == "log"] == ["inside the span"]
    # ...and so does the OTLP receiver.
    receiver.wait_for(spans=2, logs=1)
    names = {span.name for _, span in receiver.spans()}
    assert {"wheel-span", "after-render-error"} <= names, names
    assert [rec.body.string_value for _, rec in receiver.logs()] == ["inside the span"]
    assert seen["report"]["undelivered"] == [], seen["report"]
    # A rendering setting opens the library at configure: a warning says it will fail.
    warned = [w for w in seen["configure_warnings"] if "log_rendering will fail" in w]
    assert warned and "the H.264 renderer is not installed" in warned[0], seen
    assert any(r.get("name") == "second-run" for r in records(out / "second.jsonl"))


def test_with_telemetron_render_installed_log_rendering_writes_h264(
    interpreter: str, tmp_path: Path, receiver: Receiver
) -> None:
    # Through the extra, as the README says: pip finds telemetron-render by the core's metadata.
    venv = Venv(interpreter, tmp_path / "venv", [], requirement="telemetron[render]")
    assert venv.installed() == {"telemetron", "telemetron-render"}, venv.installed()
    out = tmp_path / "out"
    out.mkdir()
    seen = run_scenario(venv, "render", out, receiver, {})
    # Installed but not used yet: still nothing mapped after import, configure and a span.
    for stage in ("maps_after_import", "maps_after_configure", "maps_after_span"):
        assert seen[stage] == [], (stage, seen[stage])
    mapped = seen["maps_after_render"]
    assert any("libavcodec" in m for m in mapped) and any(LIBRARY in m for m in mapped), mapped
    if grafted(render_wheel()):
        # A repaired wheel brings its own FFmpeg and x264: none comes from the system.
        site = venv.root / "lib"
        outside = [m for m in mapped if not m.startswith(str(site))]
        assert outside == [], outside
        assert any("libx264" in m for m in mapped), mapped
    assert seen["report"]["rendering"]["videos_finished"] == 1, seen["report"]
    stream = probe(out / "telemetron-renderings" / "wheel" / "0" / "episode_0.mp4")
    assert stream == {
        "codec_name": "h264",
        "pix_fmt": "yuv420p",
        "width": 48,
        "height": 32,
        "nb_read_frames": "12",
    }


def probe(video: Path) -> dict[str, Any]:
    """ffprobe's view of the video stream (frames counted by decoding them)."""
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
         "stream=codec_name,pix_fmt,width,height,nb_read_frames", "-of", "json", str(video)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    stream: dict[str, Any] = json.loads(done.stdout)["streams"][0]
    return stream


def test_the_repaired_renderer_renders_with_the_systems_ffmpeg_unreadable(
    tmp_path: Path, receiver: Receiver
) -> None:
    """A machine without FFmpeg: every system FFmpeg/x264 library is made unreadable for the
    process (a private mount namespace binds /dev/null over them), so only what the wheel
    grafted can load. Needs the repaired wheel of `make wheel` and root for `unshare -m`."""
    if not grafted(render_wheel()):
        pytest.skip("telemetron-render is not repaired (debug wheel): run `make wheel`")
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("hiding the system's FFmpeg needs root and unshare")
    venv = Venv(sys.executable, tmp_path / "venv", [], requirement="telemetron[render]")
    out = tmp_path / "out"
    out.mkdir()
    hide = ("unshare", "-m", "--propagation", "private", "bash", str(HIDE_SYSTEM_FFMPEG))
    seen = run_scenario(venv, "render", out, receiver, {}, prefix=hide)
    assert seen["system_avcodec"].startswith("unloadable"), seen["system_avcodec"]
    mapped = seen["maps_after_render"]
    assert any("libavcodec" in m for m in mapped) and any("libx264" in m for m in mapped)
    site = str(venv.root / "lib")
    assert [m for m in mapped if not m.startswith(site)] == [], mapped
    assert seen["report"]["rendering"]["videos_finished"] == 1, seen["report"]
    assert (
        probe(out / "telemetron-renderings" / "wheel" / "0" / "episode_0.mp4")["codec_name"]
        == "h264"
    )


def grafted(wheel: Path) -> bool:
    """Whether auditwheel repair grafted libraries into the wheel."""
    with zipfile.ZipFile(wheel) as zf:
        return any(".libs/" in name for name in zf.namelist())


def test_core_wheel_is_manylinux_and_links_no_ffmpeg_x264_or_openssl(tmp_path: Path) -> None:
    wheel = core_wheel()
    tags, tag = checked_tags(wheel, r"cp\d+-abi3", "cp310-abi3")
    with zipfile.ZipFile(wheel) as zf:
        (module,) = [n for n in zf.namelist() if re.match(r"telemetron/_native\..*so$", n)]
        (tmp_path / "module.so").write_bytes(zf.read(module))
    assert_auditwheel_names(wheel, tag)
    # The loader refuses the module on a glibc older than any version it needs: none is newer
    # than the tag promises.
    needed = glibc_versions_needed(tmp_path / "module.so")
    assert needed and max(needed) <= glibc_of(tag), (needed, tag)
    assert_built_for("TELEMETRON_CORE_GLIBC", tags, tag, max(needed))
    libraries = re.findall(r"\(NEEDED\).*\[(.+)\]", readelf("-d", tmp_path / "module.so"))
    assert libraries
    for forbidden in ("libav", "libswscale", "libx264", "libssl", "libcrypto"):
        assert not any(forbidden in lib for lib in libraries), libraries


def platform_tags(wheel: Path, python_abi: str) -> list[str]:
    """The platform tags of a wheel's file name (a compressed tag set: ``a.b``) whose python and
    abi tags match the pattern ``python_abi``."""
    match = re.search(rf"-{python_abi}-([^-]+)\.whl$", wheel.name)
    assert match, f"not a {python_abi} wheel: {wheel.name}"
    return match.group(1).split(".")


def checked_tags(wheel: Path, python_abi: str, declared_as: str) -> tuple[list[str], str]:
    """The wheel's platform tags and its one PEP 600 tag (``manylinux_2_17_x86_64``). What pip
    matches (the file name) must be what the wheel's metadata declares (``Tag: <declared_as>-``
    lines)."""
    tags = platform_tags(wheel, python_abi)
    with zipfile.ZipFile(wheel) as zf:
        (info,) = [n for n in zf.namelist() if n.endswith(".dist-info/WHEEL")]
        declared = re.findall(rf"^Tag: {declared_as}-(\S+)$", zf.read(info).decode(), re.M)
    assert sorted(declared) == sorted(tags), (declared, wheel.name)
    pep600 = [t for t in tags if re.fullmatch(r"manylinux_\d+_\d+_\w+", t)]
    assert len(pep600) == 1, f"not a manylinux wheel: {wheel.name}"
    return tags, pep600[0]


def assert_built_for(variable: str, tags: list[str], tag: str, newest: tuple[int, ...]) -> None:
    """Under `make wheel` (``variable`` set, e.g. ``2.17``) zig built the wheel for that glibc:
    its tag is that glibc's (2.17: manylinux2014 too, CentOS 7 up), and the newest ``GLIBC_``
    version anything inside needs is no newer."""
    built_for = os.environ.get(variable)
    if not built_for:
        return
    floor = tuple(int(part) for part in built_for.split("."))
    assert glibc_of(tag) == floor, (tag, built_for)
    assert newest <= floor, (newest, floor)
    if floor == (2, 17):
        assert f"manylinux2014_{platform.machine()}" in tags, tags


def assert_auditwheel_names(wheel: Path, tag: str) -> None:
    """auditwheel names the most compatible tag the wheel's symbols allow: the wheel's own, and
    no library outside the wheel that it would need."""
    show = subprocess.run(
        [str(Path(sys.executable).with_name("auditwheel")), "show", str(wheel)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    said = " ".join(show.split())
    assert f'is consistent with the following platform tag: "{tag}"' in said, show
    assert "requires the following external shared libraries" not in show, show


def glibc_of(tag: str) -> tuple[int, int]:
    """``manylinux_2_17_x86_64`` -> ``(2, 17)``."""
    match = re.match(r"manylinux_(\d+)_(\d+)_", tag)
    assert match, tag
    return int(match.group(1)), int(match.group(2))


def glibc_versions_needed(library: Path) -> list[tuple[int, ...]]:
    """The ``GLIBC_x.y[.z]`` symbol versions a shared library needs (its ``.gnu.version_r``)."""
    found = re.findall(r"Name: GLIBC_(\d+(?:\.\d+)+)", readelf("-V", library))
    return sorted({tuple(int(part) for part in v.split(".")) for v in found})


def readelf(option: str, library: Path) -> str:
    done = subprocess.run(["readelf", option, str(library)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_render_wheel_needs_no_glibc_newer_than_its_tag(tmp_path: Path) -> None:
    """The repaired telemetron-render: the tag pip matches is the one its metadata declares and
    auditwheel names, and no library inside (the encoder library, the FFmpeg and x264 auditwheel
    grafted) needs a ``GLIBC_`` symbol version newer than that tag promises: the loader would
    refuse it there. With `make wheel` (TELEMETRON_RENDER_GLIBC=2.17: x264, FFmpeg and the
    encoder library built and linked by zig for glibc 2.17) the tag is that glibc's:
    manylinux2014."""
    wheel = render_wheel()
    if not grafted(wheel):
        pytest.skip("telemetron-render is not repaired (debug wheel): run `make wheel`")
    tags, tag = checked_tags(wheel, "py3-none", "py3-none")
    newest: dict[str, tuple[int, ...]] = {}
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if re.search(r"\.so(\.\d+)*$", name):
                extracted = tmp_path / Path(name).name
                extracted.write_bytes(zf.read(name))
                needed = glibc_versions_needed(extracted)
                assert needed, f"{name} needs no GLIBC_ version: not read right?"
                newest[Path(name).name] = max(needed)
    # Every library was looked at: the encoder and what auditwheel grafted (hashed names).
    for lib in (LIBRARY, "libavcodec", "libavformat", "libavutil", "libswscale", "libx264"):
        assert any(name.startswith(lib) for name in newest), (lib, sorted(newest))
    promised = glibc_of(tag)
    assert {n: v for n, v in newest.items() if v > promised} == {}, (tag, newest)
    assert_auditwheel_names(wheel, tag)
    assert_built_for("TELEMETRON_RENDER_GLIBC", tags, tag, max(newest.values()))


def test_a_free_threaded_cpython_gets_a_clear_import_error(tmp_path: Path) -> None:
    """No free-threaded CPython can be installed on this machine: Debian ships none (checked
    in bookworm, trixie and sid: no ``*-nogil`` package), pyenv's local builds are standard
    ones, and python.org's and uv's downloads are unreachable. So the guard is exercised by
    presenting a free-threaded build's ``sys.abiflags`` to a standard interpreter (pip itself
    would not install an abi3 wheel on a free-threaded one)."""
    oldest = min(INTERPRETERS, key=version)
    venv = Venv(INTERPRETERS[oldest], tmp_path / "venv", [core_wheel()])
    code = (
        "import sys; sys.abiflags = 't'\n"
        "try:\n import telemetron\nexcept ImportError as e:\n print(e)"
    )
    said = venv.run("-c", code, cwd=tmp_path).strip()
    assert "free-threaded CPython" in said and "abi3" in said, said
