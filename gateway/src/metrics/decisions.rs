//! Decisions counted by outcome and denial reason since the daemon started: the one metric
//! that is a counter, kept in memory (Prometheus's `rate()` expects a restart to reset it).
//!
//! The core counts each decision as it answers it, so a count matches what `present` and the
//! readers were told, including a decision the store could not log (denied, `store_error`).

use crate::core::DecisionReply;
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

/// The `reason` of a decision that could not be logged: the door stayed shut, but no
/// protocol rejection applies (the store failed).
pub(crate) const STORE_ERROR: &str = "store_error";

/// Decisions by (granted, denial reason).
#[derive(Debug, Default)]
pub(crate) struct Decisions {
    /// A map, not one atomic per reason: the reasons are the protocol's, and a new one must
    /// be counted without a change here. Only the core thread writes; a scrape reads.
    counts: Mutex<BTreeMap<(bool, &'static str), u64>>,
}

impl Decisions {
    /// Counts one answered decision.
    pub(crate) fn count(&self, reply: &DecisionReply) {
        let granted = reply.decision == "granted";
        let reason = match (granted, reply.reason) {
            (true, _) => "",
            (false, Some(reason)) => reason,
            (false, None) => STORE_ERROR,
        };
        // A panic while counting cannot leave the map half-written; keep counting after it.
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        *counts.entry((granted, reason)).or_default() += 1;
    }

    /// Grants, then denials by reason (in reason order).
    pub(crate) fn snapshot(&self) -> DecisionCounts {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let mut snapshot = DecisionCounts::default();
        for (&(granted, reason), &n) in counts.iter() {
            if granted {
                snapshot.granted += n;
            } else {
                snapshot.denied.push((reason, n));
            }
        }
        snapshot
    }
}

/// The counts at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DecisionCounts {
    /// Grants.
    pub granted: u64,
    /// Denials per reason code; reasons never seen are absent.
    pub denied: Vec<(&'static str, u64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(decision: &'static str, reason: Option<&'static str>) -> DecisionReply {
        DecisionReply {
            decision,
            reason,
            seq: Some(1),
            error: None,
            repeat_of: None,
        }
    }

    #[test]
    fn decisions_are_counted_by_outcome_and_reason() {
        let decisions = Decisions::default();
        decisions.count(&reply("granted", None));
        decisions.count(&reply("granted", None));
        decisions.count(&reply("denied", Some("revoked")));
        decisions.count(&reply("denied", Some("expired")));
        decisions.count(&reply("denied", Some("revoked")));
        assert_eq!(
            decisions.snapshot(),
            DecisionCounts {
                granted: 2,
                denied: vec![("expired", 1), ("revoked", 2)],
            }
        );
    }

    #[test]
    fn a_decision_that_could_not_be_logged_counts_as_a_store_error() {
        let decisions = Decisions::default();
        decisions.count(&reply("denied", None));
        assert_eq!(decisions.snapshot().denied, vec![(STORE_ERROR, 1)]);
    }
}
