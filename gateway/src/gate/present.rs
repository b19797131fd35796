//! A presentation at a door: the decision, its event, and the door's grant or refusal.
//!
//! Checks, in order: the door is this gateway's; the text is not longer than any code; it
//! decodes; the pass's signature (`open_pass`); then the protocol's checks of the opened pass
//! (time, place, schedule, revocations, device proof, replay); then the gateway's own: a
//! revocation list too old (break-glass passes excepted), lockdown. A refusal after the
//! signature names the pass and member in the log.
//!
//! Every grant is logged as its own event; a denial repeating the one just logged at the same
//! door may be counted instead (`denials`).

use super::{Batch, Gate, Lookups, Outcome, Write};
use crate::door::DoorCommand;
use bygd_protocol::{
    check_presentation, decode_qr, open_pass, AccessContext, DoorId, EventBody, PassKind,
    Rejection, MAX_QR_TEXT_LEN,
};
use std::time::Duration;

/// Seconds per hour, for the policy's hour-based settings.
pub(super) const SECONDS_PER_HOUR: u64 = 3600;

/// A presentation's decision, as its requester hears it once it is durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decision {
    /// The door.
    pub door: DoorId,
    /// How long the lock opens, if granted.
    pub grant: Option<Duration>,
    /// Why not, if denied.
    pub reason: Option<Rejection>,
    /// The logged event, or (if `folded`) the logged denial this one repeats.
    pub seq: u64,
    /// Counted in a run of repeated denials, not logged on its own.
    pub folded: bool,
}

impl Decision {
    /// Logs the decision once durable.
    pub(super) fn committed(&self) {
        tracing::info!(door = %self.door, seq = self.seq, granted = self.grant.is_some(),
            reason = self.reason.map(|r| r.code()), repeat = self.folded, "decision");
    }
}

/// The decision's event and how long the lock opens.
struct Decided {
    body: EventBody,
    grant: Option<Duration>,
}

impl Gate {
    /// Decides a presentation at `door`, logs it (or counts it in a run of denials) and
    /// tells the door.
    pub(super) fn present(
        &mut self,
        lookups: &impl Lookups,
        batch: &Batch,
        door: DoorId,
        text: &str,
        out: &mut Outcome,
    ) {
        let decided = self.decide(lookups, batch, &door, text, out);
        let reason = match &decided.body {
            EventBody::EntryDenied { reason, .. } => Some(*reason),
            _ => None,
        };
        let (seq, folded) = match self.count_denial(batch, &decided.body, out) {
            Some(seq) => {
                out.quiet = true;
                (seq, true)
            }
            None => {
                let run = match &decided.body {
                    EventBody::EntryDenied {
                        reason,
                        pass_id,
                        member,
                        ..
                    } => Some((*reason, *pass_id, member.clone())),
                    _ => None,
                };
                let seq = out.log(batch, decided.body);
                // Runs are kept for configured doors only, so the map stays as small as the
                // site.
                if let Some((reason, pass_id, member)) =
                    run.filter(|_| self.config.door(&door).is_some())
                {
                    self.runs
                        .start(&door, reason, pass_id, member, seq, batch.now);
                }
                (seq, false)
            }
        };
        let grant = decided.grant.filter(|_| !folded);
        out.doors.push((
            door.clone(),
            grant.map_or(DoorCommand::Deny, DoorCommand::Grant),
        ));
        out.answer = super::Answer::Decision(Decision {
            door,
            grant,
            reason,
            seq,
            folded,
        });
    }

    /// `self.lockdowns` are the lockdowns as of this point in the batch: a lockdown logged
    /// earlier in the same commit already refuses entry.
    fn decide(
        &self,
        lookups: &impl Lookups,
        batch: &Batch,
        door: &DoorId,
        text: &str,
        out: &mut Outcome,
    ) -> Decided {
        let deny = |reason: Rejection| Decided {
            body: EventBody::EntryDenied {
                door: door.clone(),
                reason,
                pass_id: None,
                member: None,
            },
            grant: None,
        };
        let Some(door_config) = self.config.door(door) else {
            return deny(Rejection::UnknownDoor);
        };
        if text.len() > MAX_QR_TEXT_LEN {
            return deny(Rejection::TooLarge);
        }
        let presentation = match decode_qr(text) {
            Ok(p) => p,
            Err(e) => {
                tracing::info!(door = %door, error = %e, "presentation does not decode");
                return deny(Rejection::from(&e));
            }
        };
        let issuers = &self.config.issuers;
        let pass = match open_pass(&presentation.pass, issuers) {
            Ok(pass) => pass,
            Err(refusal) => return deny(refusal.rejection()),
        };
        // Kept for a refusal's event: the pass's signature verified, so it names its holder.
        let (pass_id, member) = (pass.claims.pass_id, pass.claims.member.clone());
        let denied = |reason| Decided {
            body: EventBody::EntryDenied {
                door: door.clone(),
                reason,
                pass_id: Some(pass_id),
                member: Some(member.clone()),
            },
            grant: None,
        };
        let at = AccessContext {
            site: &self.config.site,
            door,
            now: batch.now,
            local: batch.local,
        };
        let skew = u64::from(self.config.policy.proof_skew_seconds);
        let verified = match check_presentation(
            pass,
            presentation.proof.as_ref(),
            lookups,
            lookups,
            &at,
            skew,
        ) {
            Ok(verified) => verified,
            Err(reason) => return denied(reason),
        };
        let claims = &verified.pass.claims;
        if claims.kind != PassKind::BreakGlass && self.revocations_too_old(lookups, batch) {
            return denied(Rejection::RevocationListStale);
        }
        if self.lockdowns.covers(door) {
            return denied(Rejection::Lockdown);
        }
        let device_bound = verified.proof.is_some();
        if let Some(used) = verified.proof {
            out.writes.push(Write::RecordProof(used));
        }
        Decided {
            body: EventBody::EntryGranted {
                door: door.clone(),
                pass_id: claims.pass_id,
                member: claims.member.clone(),
                kind: claims.kind,
                device_bound,
            },
            grant: Some(Duration::from_secs(door_config.unlock_seconds.into())),
        }
    }

    /// Whether the newest revocation list is older than the policy accepts (0: any age).
    fn revocations_too_old(&self, lookups: &impl Lookups, batch: &Batch) -> bool {
        let hours = u64::from(self.config.policy.revocation_refuse_after_hours);
        hours != 0
            && lookups
                .newest_revocation_list()
                .is_none_or(|issued| batch.now.since(issued) > hours * SECONDS_PER_HOUR)
    }
}
