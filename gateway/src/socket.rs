//! The local control socket: one JSON request per line in, one JSON reply per line out.
//!
//! It is how `bygd-gateway present` (and any reader the gateway does not drive itself) hands
//! a code to the daemon, how status is read, and, with simulated hardware, how tests and the
//! demo open doors and press buttons. Requests are capped in size and time; a bad request gets
//! an error reply naming what was wrong, never a crash.

use crate::core::{CoreError, CoreRequest, CoreStatus};
use crate::door::{DoorHandle, DoorSnapshot};
use crate::hardware::SimDoor;
use bygd_protocol::DoorId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot, watch};

/// The longest request line: a revocation list of a million pass ids is about 17 MB, 34 MB
/// in hex. Presentations are capped far lower by the core (1,536 bytes).
pub(crate) const MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;

/// How long a client may take to send its request: a stuck client must not hold a task.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A request on the socket.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "op", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Request {
    /// Decide on a code presented at a door.
    Present {
        /// The door.
        door: String,
        /// The QR text.
        text: String,
    },
    /// Report status.
    Status,
    /// Lockdown on or off.
    Lockdown {
        /// The door, or all doors if absent.
        door: Option<String>,
        /// On or off.
        on: bool,
    },
    /// Apply a signed revocation list (hex of its bytes), e.g. carried in on a USB stick.
    Revocations {
        /// Hex of the COSE_Sign1 bytes.
        hex: String,
    },
    /// Set the clock floor (an operator's correction of a floor pushed into the future),
    /// logged as a `clock` event.
    ResetClockFloor {
        /// The new floor in Unix seconds; the system clock's reading if absent.
        to: Option<u64>,
    },
    /// Simulated hardware only: act on a door as a person would.
    Sim {
        /// The door.
        door: String,
        /// `open`, `close`, `press-exit` or `release-exit`.
        action: SimAction,
    },
}

/// Something done to a simulated door.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SimAction {
    /// Open the door.
    Open,
    /// Close the door.
    Close,
    /// Press the exit button.
    PressExit,
    /// Release the exit button.
    ReleaseExit,
}

/// The status reply.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StatusReply {
    /// Site and gateway.
    pub site: String,
    /// The gateway id.
    pub gateway: String,
    /// The core's state.
    pub core: CoreStatus,
    /// Each door's state.
    pub doors: Vec<DoorSnapshot>,
    /// With simulated hardware: whether each door's relay pin says released.
    pub simulated_lock_released: BTreeMap<String, bool>,
}

/// What the socket server needs.
#[derive(Clone)]
pub(crate) struct SocketContext {
    /// The core.
    pub core: mpsc::Sender<CoreRequest>,
    /// The doors.
    pub doors: BTreeMap<DoorId, DoorHandle>,
    /// Simulated door hardware, if simulated.
    pub sim: Arc<BTreeMap<DoorId, SimDoor>>,
    /// Site id.
    pub site: String,
    /// Gateway id.
    pub gateway: String,
}

/// Binds the socket (replacing a stale file) with owner-and-group permissions.
pub(crate) fn bind(path: &Path) -> std::io::Result<UnixListener> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    if path.exists() {
        // A socket nobody answers on is left over from a crash.
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!(
                    "{} is in use: is another bygd-gateway running with this config?",
                    path.display()
                ),
            ));
        }
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(listener)
}

/// Serves connections until shutdown.
pub(crate) async fn serve(
    listener: UnixListener,
    context: SocketContext,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let context = context.clone();
                    tokio::spawn(async move { connection(stream, context).await });
                }
                Err(e) => tracing::warn!(error = %e, "control socket accept failed"),
            },
        }
    }
}

/// Why a request on the socket got no answer but an error (the reply's `error` field).
#[derive(Debug, thiserror::Error)]
pub(crate) enum SocketError {
    /// The client said nothing in time.
    #[error("no request within 10 seconds")]
    Timeout,
    /// The request could not be read.
    #[error("cannot read the request: {0}")]
    Read(std::io::Error),
    /// The request line is longer than [`MAX_REQUEST_BYTES`].
    #[error("request longer than 64 MiB")]
    TooLong,
    /// The request is not one of [`Request`]'s.
    #[error("not a valid request: {0}")]
    Invalid(serde_json::Error),
    /// A door id that is not an id at all.
    #[error("door id `{door}` {error}")]
    BadDoorId {
        /// As given.
        door: String,
        /// What is wrong with it.
        error: bygd_protocol::IdError,
    },
    /// A door this gateway does not have.
    #[error("no door `{door}` at this gateway (doors: {known})")]
    UnknownDoor {
        /// As given.
        door: String,
        /// The doors it has, comma-separated.
        known: String,
    },
    /// A revocation list that is not hex.
    #[error("the revocation list is not hex: {0}")]
    NotHex(hex::FromHexError),
    /// `sim` asked of real hardware.
    #[error("this gateway drives real hardware; `sim` works only with hardware = \"simulated\"")]
    NotSimulated,
    /// The core is gone.
    #[error("the gateway is shutting down")]
    ShuttingDown,
    /// The core could not do it.
    #[error(transparent)]
    Core(#[from] CoreError),
}

async fn connection(stream: UnixStream, context: SocketContext) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read.take(MAX_REQUEST_BYTES as u64 + 1));
    let mut line = String::new();
    let reply = match tokio::time::timeout(REQUEST_TIMEOUT, reader.read_line(&mut line)).await {
        Err(_) => Err(SocketError::Timeout),
        Ok(Err(e)) => Err(SocketError::Read(e)),
        Ok(Ok(_)) if line.len() > MAX_REQUEST_BYTES => Err(SocketError::TooLong),
        Ok(Ok(_)) => match serde_json::from_str::<Request>(line.trim_end()) {
            Ok(request) => handle(request, &context).await,
            Err(e) => Err(SocketError::Invalid(e)),
        },
    };
    let reply = reply.unwrap_or_else(|error| {
        tracing::info!(message = %error, "bad control socket request");
        serde_json::json!({ "error": error.to_string() })
    });
    let mut text = reply.to_string();
    text.push('\n');
    let _ = write.write_all(text.as_bytes()).await;
}

fn door_id(context: &SocketContext, door: &str) -> Result<DoorId, SocketError> {
    DoorId::new(door)
        .ok()
        .filter(|d| context.doors.contains_key(d))
        .ok_or_else(|| SocketError::UnknownDoor {
            door: door.to_owned(),
            known: context
                .doors
                .keys()
                .map(DoorId::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

async fn ask<T>(
    context: &SocketContext,
    make: impl FnOnce(oneshot::Sender<T>) -> CoreRequest,
) -> Result<T, SocketError> {
    let (tx, rx) = oneshot::channel();
    context
        .core
        .send(make(tx))
        .await
        .map_err(|_| SocketError::ShuttingDown)?;
    rx.await.map_err(|_| SocketError::ShuttingDown)
}

async fn handle(
    request: Request,
    context: &SocketContext,
) -> Result<serde_json::Value, SocketError> {
    match request {
        Request::Present { door, text } => {
            // An unknown door is still decided (and logged) by the core, as a denial.
            let door =
                DoorId::new(&door).map_err(|error| SocketError::BadDoorId { door, error })?;
            let text = text.trim_end_matches(['\r', '\n']).to_owned();
            let decision = ask(context, |reply| CoreRequest::Present { door, text, reply }).await?;
            Ok(serde_json::to_value(decision).unwrap_or_default())
        }
        Request::Status => {
            let core = ask(context, |reply| CoreRequest::Status { reply }).await?;
            let reply = StatusReply {
                site: context.site.clone(),
                gateway: context.gateway.clone(),
                core,
                doors: context
                    .doors
                    .values()
                    .map(|d| d.status.borrow().clone())
                    .collect(),
                simulated_lock_released: context
                    .sim
                    .iter()
                    .map(|(id, s)| (id.to_string(), s.lock_released()))
                    .collect(),
            };
            Ok(serde_json::to_value(reply).unwrap_or_default())
        }
        Request::Lockdown { door, on } => {
            let door = door.map(|d| door_id(context, &d)).transpose()?;
            let seq = ask(context, |reply| CoreRequest::Lockdown { door, on, reply }).await??;
            Ok(serde_json::json!({ "lockdown": on, "seq": seq }))
        }
        Request::Revocations { hex } => {
            let bytes = hex::decode(hex.trim()).map_err(SocketError::NotHex)?;
            let version = ask(context, |reply| CoreRequest::Revocations { bytes, reply }).await??;
            Ok(serde_json::json!({ "revocation_version": version }))
        }
        Request::ResetClockFloor { to } => {
            let to = to.map(bygd_protocol::UnixTime);
            let reset = ask(context, |reply| CoreRequest::ResetClockFloor { to, reply }).await??;
            Ok(serde_json::to_value(reset).unwrap_or_default())
        }
        Request::Sim { door, action } => {
            let id = door_id(context, &door)?;
            let sim = context.sim.get(&id).ok_or(SocketError::NotSimulated)?;
            match action {
                SimAction::Open => sim.set_door_open(true),
                SimAction::Close => sim.set_door_open(false),
                SimAction::PressExit => sim.set_exit_pressed(true),
                SimAction::ReleaseExit => sim.set_exit_pressed(false),
            }
            Ok(serde_json::json!({ "ok": true }))
        }
    }
}

/// Sends one request to a running gateway's socket and returns the reply line.
pub async fn request(path: &Path, request: &Request) -> std::io::Result<serde_json::Value> {
    let stream = UnixStream::connect(path).await.map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot reach the gateway at {} ({e}); is `bygd-gateway run` running with this config?", path.display()),
        )
    })?;
    let (read, mut write) = stream.into_split();
    let mut text = serde_json::to_string(request).map_err(std::io::Error::other)?;
    text.push('\n');
    write.write_all(text.as_bytes()).await?;
    let mut line = String::new();
    BufReader::new(read).read_line(&mut line).await?;
    serde_json::from_str(&line)
        .map_err(|e| std::io::Error::other(format!("the gateway's reply is not JSON: {e}")))
}
