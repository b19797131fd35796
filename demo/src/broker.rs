//! The demo's MQTT broker: rumqttd in this process, on a free loopback port, so that the demo
//! needs nothing installed. Without authentication or TLS: it listens on loopback only.

use std::time::Duration;

/// Payload limit of the in-process broker: far above a batch or a revocation list.
const BROKER_MAX_PAYLOAD: usize = 64 * 1024 * 1024;

/// Starts rumqttd on a free loopback port and waits up to `timeout` for it to listen; it
/// lives as long as the process. Returns its URL.
pub(crate) fn start(timeout: Duration) -> anyhow::Result<String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let connections = rumqttd::ConnectionSettings {
        connection_timeout_ms: 60_000,
        max_payload_size: BROKER_MAX_PAYLOAD,
        max_inflight_count: 100,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    let server = rumqttd::ServerSettings {
        name: "demo".into(),
        listen: ([127, 0, 0, 1], port).into(),
        tls: None,
        next_connection_delay_ms: 1,
        connections,
    };
    let config = rumqttd::Config {
        router: rumqttd::RouterConfig {
            max_connections: 100,
            max_outgoing_packet_count: 200,
            max_segment_size: 100 * 1024 * 1024,
            max_segment_count: 10,
            ..Default::default()
        },
        v4: Some([("demo".to_owned(), server)].into_iter().collect()),
        ..Default::default()
    };
    std::thread::Builder::new()
        .name("demo-broker".into())
        .spawn(move || {
            if let Err(e) = rumqttd::Broker::new(config).start() {
                eprintln!("the demo's broker stopped: {e}");
            }
        })?;
    let deadline = std::time::Instant::now() + timeout;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if std::time::Instant::now() > deadline {
            anyhow::bail!("the demo's broker did not start on port {port}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(format!("mqtt://127.0.0.1:{port}"))
}
