"""What `import telemetron` keeps resident: the module's relocation table is given back once the
loader has applied it (python/src/relocations.rs), and the module works as before."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import telemetron._native as native
from conftest import read_records, run_python

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from order_link import elf_sections  # noqa: E402


def section(library: str, name: str) -> tuple[int, int]:
    """(address, size) of section `name` of an ELF64 shared library."""
    sections = elf_sections(Path(library).read_bytes())
    found = [(address, size) for n, _flags, address, size in sections if n == name]
    assert found, f"{library} has no {name}"
    return found[0]


def test_import_gives_back_the_relocation_table_and_the_module_still_works(
    tmp_path: Path,
) -> None:
    library = native.__file__
    address, size = section(library, ".rela.dyn")
    assert size > 100_000, "the module relocates its pointer tables at load"
    out = run_python(
        f"""
        import json, struct
        import telemetron
        import telemetron._native as native

        library = {library!r}
        # The load base: where offset 0 of the file is mapped.
        base = min(
            int(line.split("-")[0], 16)
            for line in open("/proc/self/maps").read().splitlines()
            if line.endswith(library) and line.split()[2] == "00000000"
        )
        start = base + {address}
        first, end = -(-start // 4096), (start + {size}) // 4096
        with open("/proc/self/pagemap", "rb") as pagemap:
            pagemap.seek(first * 8)
            entries = struct.unpack(f"<{{end - first}}Q", pagemap.read((end - first) * 8))
        resident = sum(1 for e in entries if e >> 63)
        telemetron.configure(exporters=[{{"type": "file", "path": "out.jsonl"}}])
        with telemetron.timed_span("after_import"):
            telemetron.log("loss", 0.5, step=1)
        telemetron.shutdown()
        print(json.dumps({{"pages": end - first, "resident": resident,
                           "released": native._relocations_released}}))
        """,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.splitlines()[-1])
    assert got["pages"] > 20
    assert got["resident"] == 0, got
    assert got["released"] >= got["pages"] * 4096, got
    kinds = [r["kind"] for r in read_records(tmp_path / "out.jsonl")]
    assert kinds.count("metric") == 1 and "span_stop" in kinds, kinds
