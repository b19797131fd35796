//! An Ed25519 key file: 64 hex digits of seed, readable by the owner only.
//!
//! A gateway signs its event batches with its key, so the dashboard can prove no entry was
//! invented or changed in transit; the dashboard's issuer key signs passes, lists, commands
//! and acks. The seed never appears in logs or errors.

use bygd_protocol::SecretKey;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Why a key file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file already exists; keygen never overwrites a key.
    #[error("{0} already exists; refusing to overwrite a key (move it away first if you really mean to replace it)")]
    Exists(PathBuf),
    /// An I/O error.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file does not hold 64 hex digits.
    #[error("key file {0} is not 64 hexadecimal digits; was it truncated or edited?")]
    Malformed(PathBuf),
    /// The random number generator failed.
    #[error("the system random number generator failed: {0}")]
    Random(String),
}

/// Draws a new key from the OS RNG and writes it to `path` with mode 0600.
pub fn generate(path: &Path) -> Result<SecretKey, KeyFileError> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| KeyFileError::Random(e.to_string()))?;
    let key = SecretKey::from_seed(&seed);
    write(path, &key)?;
    Ok(key)
}

/// Writes a key to a new file, owner-only.
fn write(path: &Path, key: &SecretKey) -> Result<(), KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            KeyFileError::Exists(path.to_owned())
        } else {
            io(e)
        }
    })?;
    file.write_all(format!("{}\n", hex::encode(key.to_seed())).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io)
}

/// Reads a key file.
pub fn read(path: &Path) -> Result<SecretKey, KeyFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    })?;
    let seed: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| KeyFileError::Malformed(path.to_owned()))?;
    Ok(SecretKey::from_seed(&seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_reads_back_and_is_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gw.key");
        let key = generate(&path).unwrap();
        assert_eq!(read(&path).unwrap().public_key(), key.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn keygen_never_overwrites_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gw.key");
        generate(&path).unwrap();
        assert!(matches!(generate(&path), Err(KeyFileError::Exists(_))));
    }

    #[test]
    fn a_damaged_key_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gw.key");
        std::fs::write(&path, "abc\n").unwrap();
        assert!(matches!(read(&path), Err(KeyFileError::Malformed(_))));
    }
}
