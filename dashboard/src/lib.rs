//! The bygd central service and the `bygd` command.
//!
//! Today it holds only the demo (see `demo`); ingest, the SQL store, the HTTP API and the
//! operator commands are open issues.
