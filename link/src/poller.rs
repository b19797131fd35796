//! The one task that owns rumqttc's event loop: it polls, reconnects with a jittered,
//! doubling backoff, and forwards what it reads over a channel to the task that does the work.
//!
//! Invariants:
//! - Nothing here decides anything: connection changes and messages go out in the order they
//!   happened, and the receiving task (the gateway's uplink, the dashboard's link) acts.
//! - A failed connection is retried after a wait, never at once (rumqttc by itself would
//!   hammer a broker that is down), and the waits of many clients that lost the same broker
//!   are spread out.
//! - A packet over the client's incoming limit makes rumqttc drop the connection, and the
//!   broker would hand it back at once if it is queued in the client's persistent session:
//!   so after one, the next connection starts a clean session, and the one after that
//!   resumes a persistent session again.
//! - The task ends when the receiver is dropped.

use rumqttc::{ConnectionError, Event, EventLoop, Packet, Publish, StateError};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// What the poller reports.
#[derive(Debug)]
pub enum LinkEvent {
    /// The broker accepted a connection (its CONNACK arrived).
    Connected,
    /// A connection attempt failed or the connection was lost (rumqttc's error, as text);
    /// the poller waits, then tries again.
    Disconnected(String),
    /// A packet over the client's incoming limit dropped the connection (its size in bytes).
    /// A [`LinkEvent::Disconnected`] follows.
    Oversize(usize),
    /// A message arrived.
    Publish(Publish),
}

/// The waits between connection attempts: `first` after the first failure, doubling up to
/// `max`, back to `first` once a connection succeeds. Each wait is stretched by up to as much
/// again at random.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first wait.
    pub first: Duration,
    /// The longest wait.
    pub max: Duration,
}

/// Starts the task that polls `eventloop`. Its reports arrive on the returned receiver,
/// which holds up to `queue` of them; the task ends when the receiver is dropped (or when
/// the returned handle is aborted).
pub fn spawn_poller(
    mut eventloop: EventLoop,
    backoff: Backoff,
    queue: usize,
) -> (mpsc::Receiver<LinkEvent>, JoinHandle<()>) {
    // Batches, acks, commands and statuses are single writes that must leave at once: with
    // Nagle's algorithm each one after a small write waits for the broker's delayed TCP ack
    // (tens of milliseconds).
    eventloop.network_options.set_tcp_nodelay(true);
    let (tx, rx) = mpsc::channel(queue);
    let task = tokio::spawn(async move {
        let mut wait = backoff.first;
        // Whether this poller switched the session to a clean one after an oversize packet.
        let mut restarted_clean = false;
        loop {
            let reports = match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    wait = backoff.first;
                    if restarted_clean {
                        eventloop.mqtt_options.set_clean_session(false);
                        restarted_clean = false;
                    }
                    vec![LinkEvent::Connected]
                }
                Ok(Event::Incoming(Packet::Publish(p))) => vec![LinkEvent::Publish(p)],
                Ok(_) => Vec::new(),
                Err(e) => {
                    let mut reports = Vec::with_capacity(2);
                    if let Some(size) = oversize(&e) {
                        if !eventloop.mqtt_options.clean_session() {
                            eventloop.mqtt_options.set_clean_session(true);
                            restarted_clean = true;
                        }
                        reports.push(LinkEvent::Oversize(size));
                    }
                    reports.push(LinkEvent::Disconnected(e.to_string()));
                    for report in reports {
                        if tx.send(report).await.is_err() {
                            return;
                        }
                    }
                    tokio::time::sleep(jittered(wait)).await;
                    wait = (wait * 2).min(backoff.max);
                    continue;
                }
            };
            for report in reports {
                if tx.send(report).await.is_err() {
                    return;
                }
            }
        }
    });
    (rx, task)
}

/// The size of the packet, if `e` is rumqttc refusing one over the incoming limit.
fn oversize(e: &ConnectionError) -> Option<usize> {
    match e {
        ConnectionError::MqttState(StateError::Deserialization(
            rumqttc::mqttbytes::Error::PayloadSizeLimitExceeded(size),
        )) => Some(*size),
        _ => None,
    }
}

/// A wait between `d` and `2d`, so clients that lost the same broker do not all return at
/// once. The jitter comes from the clock's nanoseconds: good enough to spread reconnects.
fn jittered(d: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |t| t.subsec_nanos());
    d + d.mul_f64(f64::from(nanos % 1000) / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rumqttc::{AsyncClient, MqttOptions};

    #[test]
    fn a_jittered_wait_lies_between_once_and_twice_the_wait() {
        let d = Duration::from_millis(500);
        for _ in 0..100 {
            let w = jittered(d);
            assert!(w >= d && w < 2 * d, "{w:?}");
        }
    }

    #[tokio::test]
    async fn a_broker_that_is_down_is_reported_and_the_poller_ends_with_its_receiver() {
        // A port nothing listens on: bound, then released.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let (_client, eventloop) = AsyncClient::new(MqttOptions::new("t", "127.0.0.1", port), 4);
        let backoff = Backoff {
            first: Duration::from_millis(10),
            max: Duration::from_millis(20),
        };
        let (mut reports, task) = spawn_poller(eventloop, backoff, 4);
        for _ in 0..2 {
            match reports.recv().await {
                Some(LinkEvent::Disconnected(_)) => {}
                other => panic!("expected a failed connection, got {other:?}"),
            }
        }
        drop(reports);
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("the poller ends once nobody reads its reports")
            .unwrap();
    }
}
