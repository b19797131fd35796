//! The bygd central service and the `bygd` command.
//!
//! # Layout
//! - `demo`: `bygd demo`, a door gateway with simulated hardware and a member pass, in one
//!   process.
//!
//! Ingest, the SQL store, the HTTP API and the operator commands are not built yet.

pub mod demo;
