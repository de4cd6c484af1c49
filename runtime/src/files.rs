//! Files and directories Telemetron creates: one mode for all of them (JSON Lines, rotated
//! files, videos), never through a symbolic link unless allowed, never over a file that is
//! already there, and never left writable by every user.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode of every file Telemetron creates: owner read/write, group read (then the umask).
pub const FILE_MODE: u32 = 0o640;
/// Mode of every directory Telemetron creates: owner all, group read/search.
pub const DIR_MODE: u32 = 0o750;

/// Creates `dir` and its missing parents with [`DIR_MODE`].
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
}

/// Creates `path`, which must not exist (not even as a symbolic link: `O_EXCL` never follows
/// one), with [`FILE_MODE`], for appending. `ErrorKind::AlreadyExists` when something is there.
pub fn create_new_private_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create_new(true)
        .mode(FILE_MODE)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
}

/// What [`open_private_append`] found and did.
#[derive(Debug)]
pub struct Appending {
    /// The file, open for appending.
    pub file: File,
    /// Its size when opened.
    pub len: u64,
    /// A warning to log: the file was writable by every user and its mode was fixed.
    pub fixed_mode: Option<String>,
}

/// Opens `path` for appending (and reading), creating it with [`FILE_MODE`] when absent. A symbolic link at
/// `path` is refused (`O_NOFOLLOW`) unless `follow_symlinks`; anything but a regular file is
/// refused; an existing file writable by every user loses group write and all "other" bits
/// (0666 → 0640), and the returned warning says so.
pub fn open_private_append(path: &Path, follow_symlinks: bool) -> io::Result<Appending> {
    let flags = libc::O_CLOEXEC | if follow_symlinks { 0 } else { libc::O_NOFOLLOW };
    // Readable too: the caller may check how the existing content ends.
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(FILE_MODE)
        .custom_flags(flags)
        .open(path)
        .map_err(|e| explain_symlink(path, e))?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    let mode = meta.mode() & 0o7777;
    let fixed_mode = if mode & 0o002 != 0 {
        let fixed = mode & !0o027;
        file.set_permissions(fs::Permissions::from_mode(fixed))?;
        Some(format!(
            "{} was writable by every user (mode {mode:04o}); its mode is now {fixed:04o}",
            path.display()
        ))
    } else {
        None
    };
    Ok(Appending {
        len: meta.len(),
        file,
        fixed_mode,
    })
}

/// Whether `path` itself (not what it points to) is a symbolic link.
pub fn is_symlink(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// `ELOOP` from `O_NOFOLLOW` says "too many levels of symbolic links": say what happened.
fn explain_symlink(path: &Path, err: io::Error) -> io::Error {
    if err.raw_os_error() == Some(libc::ELOOP) && is_symlink(path) {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is a symbolic link; refusing to write through it (set follow_symlinks: true \
                 to allow it)",
                path.display()
            ),
        )
    } else {
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_symlinks_and_existing_files() {
        let dir = std::env::temp_dir().join(format!("telemetron-files-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        create_private_dir(&dir.join("a/b")).unwrap();
        assert_eq!(
            fs::metadata(dir.join("a")).unwrap().mode() & 0o777 & !DIR_MODE,
            0
        );

        let path = dir.join("a/b/x.jsonl");
        create_new_private_file(&path).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777 & !FILE_MODE, 0);
        let again = create_new_private_file(&path).unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);

        let link = dir.join("a/b/link.jsonl");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let refused = open_private_append(&link, false).unwrap_err();
        assert!(
            refused.to_string().contains("is a symbolic link"),
            "{refused}"
        );
        assert_eq!(
            create_new_private_file(&link).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        assert!(open_private_append(&link, true).is_ok());

        fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
        let opened = open_private_append(&path, false).unwrap();
        assert!(opened.fixed_mode.unwrap().contains("mode 0666"));
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o640);
        assert!(
            open_private_append(&dir, false).is_err(),
            "a directory is refused"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
