//! End-to-end tests that start the real `bygd` and `bygd-gateway` binaries against a real
//! MQTT broker.
//!
//! Not built yet: they need the gateway and the dashboard, which are open issues.
