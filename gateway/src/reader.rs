//! Readers that write one code per line (USB QR scanners in serial mode, serial NFC bridges,
//! or a named pipe a script writes to): each line is presented at the reader's door.
//!
//! A reader runs on its own thread because device files block. A line longer than any code
//! is dropped with a warning, never buffered without bound; a device that disappears (a
//! scanner unplugged) is reopened every few seconds.

use crate::core::CoreRequest;
use bygd_protocol::{DoorId, MAX_QR_TEXT_LEN};
use std::io::{BufRead as _, BufReader, Read as _};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Wait before reopening a device that failed: long enough not to spin, short enough that a
/// re-plugged scanner works at once.
const REOPEN_DELAY: Duration = Duration::from_secs(3);

/// Starts a line reader thread for `device` at `door`.
pub(crate) fn spawn_line_reader(device: PathBuf, door: DoorId, core: mpsc::Sender<CoreRequest>) {
    let name = format!("reader-{door}");
    let spawned = std::thread::Builder::new().name(name).spawn(move || loop {
        match std::fs::File::open(&device) {
            Ok(file) => {
                tracing::info!(door = %door, device = %device.display(), "reader connected");
                let mut lines = BufReader::new(file);
                loop {
                    let mut line = String::new();
                    let read = (&mut lines).take(MAX_QR_TEXT_LEN as u64 + 2).read_line(&mut line);
                    match read {
                        Ok(0) => break,
                        Ok(_) if !line.ends_with('\n') && line.len() > MAX_QR_TEXT_LEN => {
                            tracing::warn!(door = %door, "reader sent a line longer than any code; skipped");
                            // Skip the rest of the over-long line.
                            let mut rest = Vec::new();
                            let _ = lines.read_until(b'\n', &mut rest);
                        }
                        Ok(_) => {
                            let text = line.trim_end_matches(['\r', '\n']).to_owned();
                            if text.is_empty() {
                                continue;
                            }
                            let (reply, decided) = oneshot::channel();
                            if core.blocking_send(CoreRequest::Present { door: door.clone(), text, reply }).is_err() {
                                return;
                            }
                            if let Ok(decision) = decided.blocking_recv() {
                                tracing::info!(door = %door, decision = decision.decision, reason = decision.reason, "reader presentation");
                            }
                        }
                        Err(e) => {
                            tracing::warn!(door = %door, error = %e, "reader read failed");
                            break;
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(door = %door, device = %device.display(), error = %e, "cannot open reader; retrying"),
        }
        if core.is_closed() {
            return;
        }
        std::thread::sleep(REOPEN_DELAY);
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start reader thread");
    }
}
