"""scripts/order_link.py, the linker wrapper of the release wheel: the names it matches and the
layout it gives a small shared library (no build of the module: seconds)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from order_link import hash_free, read_list  # noqa: E402


def test_hash_free_drops_what_changes_between_builds() -> None:
    assert hash_free("_ZN10telemetron3log17h0123456789abcdefE") == "_ZN10telemetron3log"
    assert hash_free("_ZN3foo3bar17h0123456789abcdefE.llvm.4242") == "_ZN3foo3bar"
    assert hash_free("_ZN3foo3bar17h0123456789abcdefE.3781") == "_ZN3foo3bar"
    assert hash_free("extent_split_impl.constprop.0") == "extent_split_impl"
    # v0 (the standard library): crate disambiguators and back-references
    a = "_RNvXsZ_NtCslNYArtu3iFV_5alloc6stringNtB5_6StringNtNtCsgEmfK2I1SDS_4core3fmt5Write"
    b = "_RNvXsZ_NtCsAAAA_5alloc6stringNtB9_6StringNtNtCsBBBBBBB_4core3fmt5Write.17"
    assert hash_free(a) == hash_free(b)
    assert hash_free("rd_kafka_new") == "rd_kafka_new"


def test_the_committed_list_reads() -> None:
    names = read_list(ROOT / "scripts" / "link-order" / "hot.txt")
    assert len(names) > 100
    assert all("17h" not in n or not n.endswith("E") for n, _ in names)


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
def test_listed_functions_come_first_and_unknown_names_do_not_fail(tmp_path: Path) -> None:
    src = tmp_path / "t.c"
    src.write_text("".join(f"int f{i}(int x) {{ return x * {i + 2}; }}\n" for i in range(4)))
    obj = tmp_path / "t.o"
    subprocess.run(["cc", "-c", "-O1", "-fPIC", "-ffunction-sections", src, "-o", obj], check=True)
    order = tmp_path / "hot.txt"
    order.write_text("# a comment\nf3\nno_such_function\nf1\n")
    out = tmp_path / "libt.so"
    env = dict(os.environ, TELEMETRON_LINK_ORDER_LIST=str(order), TELEMETRON_REAL_LINKER="cc")
    subprocess.run(
        [sys.executable, ROOT / "scripts" / "order_link.py", "-shared", "-o", out, obj],
        check=True, env=env,
    )  # fmt: skip
    nm = subprocess.run(["nm", "-n", out], check=True, capture_output=True, text=True).stdout
    rows = (line.split() for line in nm.splitlines())
    funcs = [r[2] for r in rows if len(r) == 3 and r[1] == "T" and r[2].startswith("f")]
    assert funcs[:2] == ["f3", "f1"]
    report = Path(str(out) + ".link-order.txt").read_text()
    assert "placed: 2; unmatched: 1" in report
    assert "unmatched: no_such_function" in report
