//! The bygd gateway daemon for the Raspberry Pi.
//!
//! Not built yet: the gateway core (decide, log, drive the door) and its MQTT uplink are
//! open issues. This crate exists so the workspace has its final shape; it exports nothing.
