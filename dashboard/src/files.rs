//! Owner-only files: the data directory is 0700; the database (with SQLite's `-wal` and
//! `-shm`), the config and the issuer key are 0600, whatever the umask of whoever runs `bygd`.
//!
//! A backup or another local account that can read these can read every member and entry,
//! and with the issuer key sign passes. Modes are set explicitly, at creation and again on
//! every open (so a data directory made by an older version is tightened too): a umask is
//! the caller's, and SQLite itself creates its files 0644 and gives `-wal` and `-shm` the
//! database file's mode.

use std::io;
use std::path::{Path, PathBuf};

/// The data directory's mode: its owner only.
pub(crate) const PRIVATE_DIR_MODE: u32 = 0o700;
/// The mode of the database, config and key files: readable and writable by the owner only.
pub(crate) const PRIVATE_FILE_MODE: u32 = 0o600;

/// Sets `path`'s permission bits to `mode` (Unix; elsewhere nothing).
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

/// Creates `dir` (and missing parents) and makes `dir` itself owner-only. Parents are left
/// as they are: they may be shared, like `/var/lib`.
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    set_mode(dir, PRIVATE_DIR_MODE)
}

/// Writes `contents` to `path`, replacing it, readable by the owner only.
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(PRIVATE_FILE_MODE);
    }
    let mut file = options.open(path)?;
    // An existing file keeps its mode through open(): tighten it before writing.
    set_mode(path, PRIVATE_FILE_MODE)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Tightens an existing data directory to 0700 and its `files` to 0600, warning (not
/// failing) where that is not allowed: the directory may belong to another account that
/// lets this one in.
pub(crate) fn tighten_data_dir(dir: &Path, files: &[&str]) {
    let paths = std::iter::once((dir.to_owned(), PRIVATE_DIR_MODE))
        .chain(files.iter().map(|f| (dir.join(f), PRIVATE_FILE_MODE)));
    for (path, mode) in paths {
        if !path.exists() {
            continue;
        }
        if let Err(e) = set_mode(&path, mode) {
            tracing::warn!(path = %path.display(), mode = format_args!("{mode:o}"), error = %e,
                "cannot make a data file owner-only; others on this machine may read it");
        }
    }
}

/// Makes an SQLite database file owner-only, creating it empty if missing (an empty file
/// is an empty database to SQLite, which then gives `-wal` and `-shm` the same mode), and
/// tightens `-wal` and `-shm` if they exist already.
///
/// An existing file is never opened here, only changed by path: closing any descriptor of
/// a database file drops every POSIX lock this process holds on it, which would let another
/// process write under an open connection's feet (SQLite's documented hazard).
pub(crate) fn restrict_sqlite_files(db: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(PRIVATE_FILE_MODE);
    }
    match options.open(db) {
        Ok(file) => drop(file),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    set_mode(db, PRIVATE_FILE_MODE)?;
    for suffix in ["-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let side = PathBuf::from(name);
        if side.exists() {
            set_mode(&side, PRIVATE_FILE_MODE)?;
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_private_file_is_owner_only_even_when_it_existed_world_readable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "old").unwrap();
        set_mode(&path, 0o644).unwrap();
        write_private(&path, b"new").unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn a_private_directory_is_owner_only_and_its_parents_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        set_mode(dir.path(), 0o755).unwrap();
        let data = dir.path().join("a/b");
        create_private_dir(&data).unwrap();
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(dir.path()), 0o755);
    }
}
