#!/usr/bin/env python3
"""Linker wrapper: put the functions that run (scripts/link-order/hot.txt) first in the module's
code, so `import telemetron` and the hot paths fault in few pages of it.

rustc calls this instead of the C compiler driver that links (`-C linker=scripts/order_link.py`,
given to the final crate only by `maturin build ... -- -C linker=...`). It
1. reads the section names of every input object and archive (ELF, parsed here: no binutils
   needed, so it works the same for gcc + GNU ld and for zig's LLD);
2. maps each name of the committed list to the input sections that carry it: the list holds
   Rust symbols *without* their `17h<hash>E` suffix (the hash changes whenever a dependency,
   a feature or the code does), and a name matches every `.text.<symbol>` whose symbol is that
   name once its hash is dropped. A generic function's instances all share that name (legacy
   mangling spells `RawVec<T, A>::grow_one`, not the types): for such names the list gives the
   byte sizes of the instances that ran (`name 231,94`), and only input sections of those sizes
   are taken; when none has such a size (the code changed), every instance is;
3. writes a linker script fragment that gathers those sections, in the list's order, into an
   output section `.text.hot` inserted before `.text` (`INSERT BEFORE .text`: the default
   layout is kept for everything else; GNU ld, gold-less gcc links and LLD, zig's included,
   accept it; zig rejects --symbol-ordering-file), and adds `-Wl,-T,<fragment>`;
4. runs the real linker: TELEMETRON_REAL_LINKER, else the target's CARGO_TARGET_<T>_LINKER
   (what `maturin --zig` sets to its zig wrapper), else `cc`.

Names of the list that match nothing never fail the link: they are counted in the report,
`<output>.link-order.txt` beside the linked file (names placed, unmatched, sections moved and
their bytes). Any error while preparing the order links without it (and says so in the report
and on stderr). TELEMETRON_LINK_ORDER=0 turns ordering off; TELEMETRON_LINK_ORDER_LIST=FILE
uses another list.
"""

from __future__ import annotations

import mmap
import os
import re
import shlex
import struct
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_LIST = HERE / "link-order" / "hot.txt"
SHF_EXECINSTR = 0x4
# Rust's legacy mangling ends a symbol with its hash: `17h` + 16 hex digits + `E`.
RUST_HASH = re.compile(r"17h[0-9a-f]{16}E")
# Suffixes a compiler gives local copies of a function: LLVM's `.llvm.<n>` (promoted locals),
# GCC's `.constprop.<n>`, `.isra.<n>`, `.part.<n>` clones. Dropped on both sides, so a list made
# from the gcc-compiled C code (plain build) also finds the clang-compiled one (zig build).
# LLVM also renames a duplicate local `f` to `f.<n>`, n counting in the order it met them.
CLONE_SUFFIX = re.compile(r"(\.((llvm|constprop|isra|part|lto_priv)\.)?\d+)+$")
# v0 mangling (`_R...`, the standard library's): a crate root `C` carries its disambiguator
# `s<base-62>_` (a hash of the crate's metadata), and back-references `B<base-62>_` are byte
# offsets into the symbol, which move when a disambiguator's length does.
V0_CRATE = re.compile(r"Cs[0-9A-Za-z]*_(?=\d)")
V0_BACKREF = re.compile(r"B[0-9A-Za-z]*_")


def hash_free(symbol: str) -> str:
    """The name a symbol is listed under: without its Rust hash and clone suffixes."""
    symbol = CLONE_SUFFIX.sub("", symbol)
    if symbol.startswith("_ZN"):
        symbol = RUST_HASH.sub("", symbol)
    elif symbol.startswith("_R"):
        symbol = V0_BACKREF.sub("B_", V0_CRATE.sub("C", symbol))
    return symbol


def elf_sections(buf: bytes | mmap.mmap, base: int = 0) -> Iterator[tuple[str, int, int, int]]:
    """Name, flags, address and size of each section of the ELF64 little-endian file at `base`
    (an object, an archive member or a linked library); nothing for anything else."""
    if len(buf) - base < 64 or bytes(buf[base : base + 4]) != b"\x7fELF" or buf[base + 4] != 2:
        return
    if buf[base + 5] != 1:  # big-endian: not a target of ours
        return
    (shoff,) = struct.unpack_from("<Q", buf, base + 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", buf, base + 0x3A)
    if shoff == 0 or shentsize < 64:
        return
    first = base + shoff
    if shnum == 0:  # more than 0xff00 sections: the count is in section 0's sh_size
        shnum = struct.unpack_from("<Q", buf, first + 0x20)[0]
    if shstrndx == 0xFFFF:
        shstrndx = struct.unpack_from("<I", buf, first + 0x28)[0]
    str_off = struct.unpack_from("<Q", buf, first + shstrndx * shentsize + 0x18)[0]
    strtab = base + str_off
    for i in range(shnum):
        h = first + i * shentsize
        name_off, _type, flags, address, _offset, size = struct.unpack_from("<IIQQQQ", buf, h)
        start = strtab + name_off
        end = buf.find(b"\0", start)
        yield bytes(buf[start:end]).decode("utf-8", "replace"), flags, address, size


def elf_text_sections(buf: mmap.mmap, base: int, size: int) -> list[tuple[str, int]]:
    """Names and sizes of the executable `.text.*` sections of one ELF64 LE relocatable."""
    if size < 64:
        return []
    return [
        (name, length)
        for name, flags, _address, length in elf_sections(buf, base)
        if flags & SHF_EXECINSTR and name.startswith(".text.")
    ]


def file_text_sections(path: str) -> list[tuple[str, int]]:
    """`.text.*` sections of an object or of every ELF member of an archive (.a, .rlib)."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size < 8:
            return []
        buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        if buf[:8] != b"!<arch>\n":
            return elf_text_sections(buf, 0, len(buf))
        out: list[tuple[str, int]] = []
        pos = 8
        while pos + 60 <= len(buf):
            name = bytes(buf[pos : pos + 16]).rstrip()
            size = int(bytes(buf[pos + 48 : pos + 58]).strip() or b"0")
            data = pos + 60
            if name.startswith(b"#1/"):  # BSD long name stored before the data
                n = int(name[3:])
                data, size = data + n, size - n
            if name not in (b"/", b"//", b"/SYM64/", b"__.SYMDEF", b"__.SYMDEF SORTED"):
                out.extend(elf_text_sections(buf, data, size))
            pos = data + size + ((data + size) & 1)
        return out
    finally:
        buf.close()


def expand_response_files(args: list[str]) -> list[str]:
    out = []
    for a in args:
        if a.startswith("@") and os.path.isfile(a[1:]):
            text = Path(a[1:]).read_text()
            out.extend(shlex.split(text) if '"' in text or "'" in text else text.splitlines())
        else:
            out.append(a)
    return out


def link_inputs(args: list[str]) -> list[str]:
    """The objects and static archives a cc-style link line names (paths and -l with -L)."""
    dirs, libs, files = [], [], []
    it = iter(args)
    for a in it:
        if a == "-L":
            dirs.append(next(it, ""))
        elif a.startswith("-L"):
            dirs.append(a[2:])
        elif a == "-l":
            libs.append(next(it, ""))
        elif a.startswith("-l"):
            libs.append(a[2:])
        elif a == "-o":
            next(it, None)
        elif not a.startswith("-") and a.endswith((".o", ".a", ".rlib")) and os.path.isfile(a):
            files.append(a)
    for lib in libs:
        names = [lib[1:]] if lib.startswith(":") else [f"lib{lib}.a"]
        for d in dirs:
            found = [os.path.join(d, n) for n in names if os.path.isfile(os.path.join(d, n))]
            if found:
                files.append(found[0])
                break
    return files


def read_list(path: Path) -> list[tuple[str, set[int]]]:
    """(hash-free name, sizes of the instances that ran: empty when the name is unique). A line
    with a `(` is a linker script input section description, kept as it is (name, {-1}): for
    code not compiled into a section per function (OpenSSL's, libc_nonshared's)."""
    names, seen = [], set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "(" in line:
            names.append((line, {-1}))
            continue
        fields = line.split()
        if not fields:
            continue
        name = hash_free(fields[0])
        sizes = {int(x) for x in fields[1].split(",")} if len(fields) > 1 else set()
        if name not in seen:
            seen.add(name)
            names.append((name, sizes))
    return names


def order_script(
    args: list[str], names: list[tuple[str, set[int]]], report: list[str]
) -> str | None:
    """The linker script fragment for this link, or None when nothing matched."""
    t0 = time.monotonic()
    by_key: dict[str, list[str]] = {}
    sizes: dict[str, int] = {}
    inputs = link_inputs(args)
    for path in inputs:
        for section, size in file_text_sections(path):
            symbol = section[len(".text.") :]
            # LLVM puts #[cold] functions in .text.unlikely.<symbol>: still listed when they ran.
            for prefix in ("unlikely.", "hot.", "startup.", "exit.", "split."):
                if symbol.startswith(prefix):
                    symbol = symbol[len(prefix) :]
                    break
            k = hash_free(symbol)
            lst = by_key.setdefault(k, [])
            if section not in sizes:
                lst.append(section)
            sizes[section] = max(size, sizes.get(section, 0))
    # Constructors (`ctor`, `inventory`) run when the module is loaded: always first.
    lines = ["    *(.text.startup .text.startup.*)"]
    unmatched: list[str] = []
    moved: set[str] = set()
    placed = nbytes = by_size = all_instances = raw = 0
    for name, wanted in names:
        if wanted == {-1}:
            raw += 1
            lines.append(f"    {name}")
            continue
        sections = by_key.get(name)
        if not sections:
            unmatched.append(name)
            continue
        placed += 1
        if len(sections) > 1 and wanted:
            same = [s for s in sections if sizes[s] in wanted]
            if same:
                by_size += 1
                sections = same
            else:
                all_instances += 1
        for s in sections:
            if s not in moved:
                moved.add(s)
                nbytes += sizes[s]
                lines.append(f"    *({s})")
    report += [
        f"inputs scanned: {len(inputs)} ({len(sizes)} .text.* sections)",
        f"names listed: {len(names)}; placed: {placed}; unmatched: {len(unmatched)}; "
        f"generic instances chosen by size: {by_size}, all instances (no size matched): "
        f"{all_instances}; file patterns: {raw}",
        f"sections moved to .text.hot: {len(moved)} ({nbytes} bytes)",
        f"time: {time.monotonic() - t0:.2f} s",
    ]
    report += [f"unmatched: {n}" for n in unmatched]
    if not moved:
        return None
    # Before .text rather than after it (next to the PLT): measured, import then touches
    # 6 windows of 64 KB of the module's code instead of 7.
    body = "\n".join(lines)
    return f"SECTIONS\n{{\n  .text.hot :\n  {{\n{body}\n  }}\n}}\nINSERT BEFORE .text;\n"


def real_linker() -> list[str]:
    explicit = os.environ.get("TELEMETRON_REAL_LINKER")
    if explicit:
        return shlex.split(explicit)
    target = os.environ.get("TARGET") or os.environ.get("CARGO_BUILD_TARGET") or ""
    candidates = [f"CARGO_TARGET_{target.upper().replace('-', '_')}_LINKER"] if target else []
    candidates += sorted(
        k for k in os.environ if k.startswith("CARGO_TARGET_") and k.endswith("_LINKER")
    )
    for k in candidates:
        v = os.environ.get(k)
        if v and Path(v).resolve() != Path(__file__).resolve():
            return [v]
    return ["cc"]


def main() -> int:
    args = sys.argv[1:]
    linker = real_linker()
    output = next((args[i + 1] for i, a in enumerate(args[:-1]) if a == "-o"), None)
    report = [f"linker: {shlex.join(linker)}"]
    extra: list[str] = []
    if os.environ.get("TELEMETRON_LINK_ORDER", "1") != "0":
        list_path = Path(os.environ.get("TELEMETRON_LINK_ORDER_LIST") or DEFAULT_LIST)
        try:
            script = order_script(expand_response_files(args), read_list(list_path), report)
            if script is not None:
                fd, script_path = tempfile.mkstemp(prefix="link-order-", suffix=".ld")
                with os.fdopen(fd, "w") as f:
                    f.write(script)
                extra = [f"-Wl,-T,{script_path}"]
        except Exception as e:  # the order is an optimisation: never a reason to fail a link
            report.append(f"ordering skipped: {type(e).__name__}: {e}")
            print(f"order_link: ordering skipped: {e}", file=sys.stderr)
    else:
        report.append("ordering off (TELEMETRON_LINK_ORDER=0)")
    if output:
        try:
            Path(output + ".link-order.txt").write_text("\n".join(report) + "\n")
        except OSError:
            pass
    # Not exec: the fragment is removed once the link is done.
    import subprocess

    rc = subprocess.call(linker + args + extra)
    for a in extra:
        try:
            os.unlink(a.split(",", 2)[2])
        except OSError:
            pass
    return rc


if __name__ == "__main__":
    sys.exit(main())
