//! Gives back the module's relocation table once the loader has applied it.
//!
//! `.rela.dyn` holds ~40,000 relocations (~1 MB, mostly OpenSSL's and librdkafka's pointer
//! tables). The loader reads it once, while it maps the module, and nothing reads it again;
//! but its pages stay in the process's RSS, a quarter of what `import telemetron` costs, and
//! on kernels that map page-cache folios whole (6.16+ on ext4) the read-ahead of that
//! sequential read leaves another ~0.6 MB of `.rodata` after it mapped.
//! Packed relocations (`-z pack-relative-relocs`) would make the table small, but they need
//! glibc 2.36 at run time, and the wheel is built for glibc 2.17. So at import the module asks
//! the kernel to drop those pages (`MADV_DONTNEED`). They are clean pages of a read-only file
//! mapping: dropping them loses nothing, and anything that did read them again would read them
//! back from the file.

use std::ffi::c_void;

/// An entry of the dynamic section (`Elf64_Dyn`, which the libc crate does not define).
#[repr(C)]
struct Dyn {
    tag: i64,
    value: u64,
}

const DT_NULL: i64 = 0;
const DT_RELA: i64 = 7;
const DT_RELASZ: i64 = 8;

/// How many bytes of the relocation table and the read-only pages after it were given back (0
/// where there was nothing to do).
pub(crate) fn release() -> usize {
    let mut found = Found {
        anchor: release as *const () as usize,
        released: 0,
    };
    // SAFETY: the callback only reads the loader's program headers for the duration of the call.
    unsafe {
        libc::dl_iterate_phdr(Some(visit), (&mut found as *mut Found).cast());
    }
    found.released
}

struct Found {
    /// An address inside this module (the object to look for).
    anchor: usize,
    released: usize,
}

unsafe extern "C" fn visit(info: *mut libc::dl_phdr_info, _size: usize, data: *mut c_void) -> i32 {
    // SAFETY: `data` is the `Found` that `release` passed, `info` the loader's, both live for
    // the call.
    let (found, info) = unsafe { (&mut *data.cast::<Found>(), &*info) };
    let base = info.dlpi_addr as usize;
    // SAFETY: the loader's program headers of a mapped object, `dlpi_phnum` of them.
    let headers = unsafe { std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum.into()) };
    let holds_anchor = headers.iter().any(|h| {
        let start = base + h.p_vaddr as usize;
        h.p_type == libc::PT_LOAD && (start..start + h.p_memsz as usize).contains(&found.anchor)
    });
    if !holds_anchor {
        return 0;
    }
    if let Some((start, len)) = relocation_table(base, headers) {
        found.released = drop_pages(base, headers, start, len);
    }
    1
}

/// The address and size of `.rela.dyn`, from the mapped dynamic section.
fn relocation_table(base: usize, headers: &[libc::Elf64_Phdr]) -> Option<(usize, usize)> {
    let dynamic = headers.iter().find(|h| h.p_type == libc::PT_DYNAMIC)?;
    let mut entry = (base + dynamic.p_vaddr as usize) as *const Dyn;
    let (mut rela, mut size) = (None, None);
    loop {
        // SAFETY: the mapped dynamic section, read up to its `DT_NULL` terminator.
        let e = unsafe { &*entry };
        match e.tag {
            DT_NULL => break,
            DT_RELA => rela = Some(e.value as usize),
            DT_RELASZ => size = Some(e.value as usize),
            _ => {}
        }
        // SAFETY: still inside the section: its terminator is not reached yet.
        entry = unsafe { entry.add(1) };
    }
    let rela = rela?;
    // glibc rewrites the address in place to an absolute one; other loaders leave the offset.
    let start = if rela >= base { rela } else { base + rela };
    Some((start, size?))
}

/// Drops the whole pages from `start` to the end of the read-only, non-executable segment that
/// holds `start..start + len`: the table, and the pages the kernel read ahead and mapped with it
/// (on a kernel that maps page-cache folios whole, the loader's sequential read of the table
/// leaves hundreds of KB of `.rodata` after it mapped, which nothing asked for). Anything in
/// them that is needed later is read back on first use. Nothing is dropped from a writable
/// segment (its bytes may differ from the file's) nor from code.
fn drop_pages(base: usize, headers: &[libc::Elf64_Phdr], start: usize, len: usize) -> usize {
    let segment = headers.iter().find_map(|h| {
        let from = base + h.p_vaddr as usize;
        let to = from + h.p_filesz as usize;
        let read_only = h.p_flags & (libc::PF_W | libc::PF_X) == 0;
        (h.p_type == libc::PT_LOAD && read_only && from <= start && start + len <= to).then_some(to)
    });
    let Some(segment_end) = segment else {
        return 0;
    };
    // SAFETY: sysconf has no preconditions.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    let first = start.next_multiple_of(page);
    let end = segment_end / page * page;
    if end <= first {
        return 0;
    }
    // SAFETY: whole pages of a read-only file mapping of this module, which nothing writes:
    // dropped pages are read back from the file if they are ever touched again.
    let dropped = unsafe { libc::madvise(first as *mut c_void, end - first, libc::MADV_DONTNEED) };
    if dropped == 0 {
        end - first
    } else {
        0
    }
}
