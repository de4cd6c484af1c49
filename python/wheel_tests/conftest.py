"""Fixtures of the wheel tests: the wheels under test (TELEMETRON_WHEEL_DIR, made by `make
test-wheel` or `make wheel`), every CPython >= 3.10 this machine has, a fresh venv per
interpreter, and the recording OTLP receiver of python/tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from otlp_receiver import Receiver  # noqa: E402


def wheel_dir() -> Path:
    path = os.environ.get("TELEMETRON_WHEEL_DIR")
    if not path:
        raise pytest.UsageError("TELEMETRON_WHEEL_DIR is not set: run `make test-wheel`")
    return Path(path)


def one_wheel(pattern: str) -> Path:
    found = sorted(wheel_dir().glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {wheel_dir()}, found {found}"
    return found[0]


def interpreters() -> dict[str, str]:
    """One interpreter per CPython minor version >= 3.10: this one, /usr/bin's, pyenv's."""
    candidates = [sys.executable, *sorted(map(str, Path("/usr/bin").glob("python3.1[0-9]")))]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(map(str, pyenv.glob("3.*/bin/python3")))
    found: dict[str, str] = {}
    for exe in candidates:
        try:
            out = subprocess.run(
                [exe, "-c", "import sys, sysconfig; print(sys.version_info[0], "
                 "sys.version_info[1], sysconfig.get_config_var('Py_GIL_DISABLED') or 0)"],
                capture_output=True, text=True, timeout=30, check=True,
            ).stdout.split()  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            continue
        major, minor, free_threaded = map(int, out)
        if (major, minor) >= (3, 10):
            key = f"{major}.{minor}{'t' if free_threaded else ''}"
            found.setdefault(key, exe)
    return found


INTERPRETERS = interpreters()


def pytest_report_header() -> str:
    return "CPython interpreters for the wheel tests: " + ", ".join(
        f"{v} ({exe})" for v, exe in sorted(INTERPRETERS.items())
    )


class Venv:
    """A fresh virtual environment with the given wheels installed from files only, or (with
    ``requirement``) what pip resolves for it from the wheel directory alone, as a user's
    ``pip install 'telemetron[render]'`` would."""

    def __init__(
        self, interpreter: str, root: Path, wheels: list[Path], requirement: str | None = None
    ) -> None:
        self.root = root
        subprocess.run([interpreter, "-m", "venv", str(root)], check=True)
        self.python = root / "bin" / "python"
        what = (
            ["--find-links", str(wheel_dir()), requirement]
            if requirement
            else ["--no-deps", *map(str, wheels)]
        )
        subprocess.run(
            [str(self.python), "-m", "pip", "install", "-q", "--no-index",
             "--disable-pip-version-check", *what],
            check=True,
        )  # fmt: skip

    def installed(self) -> set[str]:
        """The distributions installed in this venv (pip aside)."""
        out = self.run("-m", "pip", "list", "--format=freeze", cwd=self.root)
        names = {line.split("==")[0].lower() for line in out.splitlines() if "==" in line}
        return names - {"pip", "setuptools"}

    def run(
        self, *args: str, cwd: Path, env: dict[str, str] | None = None, prefix: tuple[str, ...] = ()
    ) -> str:
        """Runs this venv's python with ``args`` (behind ``prefix``, a wrapper command)."""
        done = subprocess.run(
            [*prefix, str(self.python), *args], cwd=cwd, capture_output=True, text=True,
            timeout=300, env={**os.environ, **(env or {})},
        )  # fmt: skip
        assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done.stdout


@pytest.fixture(params=sorted(INTERPRETERS), ids=lambda v: f"cpython{v}")
def interpreter(request: pytest.FixtureRequest) -> str:
    return INTERPRETERS[request.param]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def version_of(wheel: Path) -> str:
    match = re.match(r"[^-]+-([^-]+)-", wheel.name)
    assert match, wheel.name
    return match.group(1)
