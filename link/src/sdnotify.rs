//! systemd's notify protocol: READY, WATCHDOG and STOPPING datagrams to `$NOTIFY_SOCKET`.
//!
//! Written out rather than pulled in as a crate: it is one datagram. Outside systemd (no
//! `$NOTIFY_SOCKET`) every call does nothing. The gateway daemon and `bygd serve` both use it.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// Sends a state string such as `READY=1`; returns whether it was sent.
pub fn notify(state: &str) -> bool {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return false;
    };
    let Ok(socket) = UnixDatagram::unbound() else {
        return false;
    };
    let bytes = path.as_encoded_bytes();
    let sent = if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt as _;
        std::os::unix::net::SocketAddr::from_abstract_name(name)
            .and_then(|addr| socket.send_to_addr(state.as_bytes(), &addr))
    } else {
        socket.send_to(state.as_bytes(), &path)
    };
    if let Err(e) = &sent {
        tracing::warn!(error = %e, state, "cannot notify systemd");
    }
    sent.is_ok()
}

/// The watchdog interval systemd asked for, halved (pings twice per interval, as sd_notify(3)
/// recommends), or `None` when no watchdog is set for this process.
#[must_use]
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Some(pid) = std::env::var("WATCHDOG_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
    {
        if pid != std::process::id() {
            return None;
        }
    }
    Some(Duration::from_micros(usec / 2))
}
