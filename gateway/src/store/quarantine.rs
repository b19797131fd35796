//! Quarantine: a damaged store is moved aside (`gateway.redb.damaged-<unix time>`) and kept for
//! inspection, never replaced silently; a later start finds it and refuses to start empty
//! unless the operator says so.

use super::{Result, StoreError, STORE_FILE};
use std::path::{Path, PathBuf};

/// Refuses to create a store at `path` when an earlier start moved a damaged one aside in
/// `dir`: a restart by the service manager must not start empty unasked (that takes
/// --accept-fresh-store).
pub(super) fn refuse_if_moved_aside(dir: &Path, path: &Path) -> Result<()> {
    match damaged_files(dir).into_iter().max() {
        Some(kept) => Err(StoreError::Damaged {
            path: path.to_owned(),
            problem: "an earlier start found it damaged and moved it aside".into(),
            kept,
        }),
        None => Ok(()),
    }
}

/// Moves the damaged store at `path` aside; returns where it is now.
pub(super) fn move_aside(dir: &Path, path: &Path) -> Result<PathBuf> {
    let kept = dir.join(format!(
        "{STORE_FILE}.damaged-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    ));
    std::fs::rename(path, &kept).map_err(|source| StoreError::Dir {
        path: path.to_owned(),
        source,
    })?;
    Ok(kept)
}

/// Damaged stores kept aside in `dir` by earlier starts.
fn damaged_files(dir: &Path) -> Vec<PathBuf> {
    let prefix = format!("{STORE_FILE}.damaged-");
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(&prefix))
                })
                .collect()
        })
        .unwrap_or_default()
}
