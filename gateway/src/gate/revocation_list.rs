//! A signed revocation list (full or delta), from the broker, a command or a local file.
//!
//! Order (SPEC.md section 8): signature and shape; the site the list was signed for, before
//! anything about versions, so another site's list can neither replace this site's nor make
//! its next one look like a rollback; the operator's version floor (`revocation_min_version`,
//! which survives a fresh store); then rollback and delta checks against the version held.
//! Every refusal is a signed event the dashboard receives. The same full list again (a
//! retained message re-delivered) changes and logs nothing.

use super::{Batch, Gate, Lookups, Outcome, Write};
use bygd_protocol::{open_revocation_list, EventBody, Rejection};

impl Gate {
    /// Verifies a list and, if it applies, writes it; logs the outcome. Returns the version
    /// applied (or already held), or why the list was refused.
    pub(super) fn revocation_list(
        &mut self,
        lookups: &impl Lookups,
        batch: &Batch,
        bytes: &[u8],
        out: &mut Outcome,
    ) -> Result<u64, Rejection> {
        let (version, outcome) = match open_revocation_list(bytes, &self.config.issuers) {
            Err(refusal) => {
                tracing::warn!(reason = %refusal, "revocation list refused");
                (None, Err(refusal.rejection()))
            }
            Ok((issuer, list)) => {
                let floor = self
                    .config
                    .policy
                    .revocation_min_version
                    .max(lookups.revocation_floor());
                let held = lookups.revocation_version(issuer);
                if let Err(reason) = list.check_site(&self.config.site) {
                    tracing::warn!(
                        site = %self.config.site,
                        list_site = %list.site,
                        version = list.version,
                        reason = reason.code(),
                        "revocation list refused: it was signed for another site"
                    );
                    (Some(list.version), Err(reason))
                } else if list.base.is_none() && held == Some(list.version) {
                    return Ok(list.version);
                } else if list.version < floor {
                    tracing::warn!(
                        version = list.version,
                        min_version = floor,
                        reason = Rejection::Rollback.code(),
                        "revocation list refused: below the configured minimum version"
                    );
                    (Some(list.version), Err(Rejection::Rollback))
                } else {
                    let version = list.version;
                    let outcome = list.applies_to(held);
                    match outcome {
                        Ok(()) => out.writes.push(Write::ApplyRevocations { issuer, list }),
                        Err(reason) => tracing::warn!(
                            version,
                            base = ?list.base,
                            reason = reason.code(),
                            "revocation list refused"
                        ),
                    }
                    (Some(version), outcome)
                }
            }
        };
        match outcome {
            Ok(()) => {
                let version = version.unwrap_or_default();
                out.log(batch, EventBody::RevocationApplied { version });
                Ok(version)
            }
            Err(reason) => {
                out.log(batch, EventBody::RevocationRefused { version, reason });
                Err(reason)
            }
        }
    }
}

/// Logs a list's outcome once durable.
pub(super) fn committed(result: &Result<u64, Rejection>) {
    match result {
        Ok(version) => tracing::info!(version, "revocation list applied"),
        Err(why) => tracing::warn!(why = %why, "revocation list refused"),
    }
}
