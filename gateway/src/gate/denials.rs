//! Repeated denials, counted rather than logged one by one.
//!
//! Every grant is logged as its own event, always. A denial that repeats the one just logged
//! at the same door (same reason, same pass or none) within the denial window is counted in
//! memory instead, and the count is logged as one `DenialsRepeated` event when the window
//! ends, another decision at that door comes, or the gateway stops: so garbage at a reader
//! costs about one event per window, not one per presentation. A power cut loses at most
//! the count of one window (no door opened for any of them).

use super::{Batch, Gate, Outcome};
use bygd_protocol::{DoorId, EventBody, MemberId, PassId, Rejection, UnixTime};
use std::collections::HashMap;

/// Identical denials at one door being counted rather than logged one by one.
#[derive(Debug)]
struct Run {
    reason: Rejection,
    pass_id: Option<PassId>,
    member: Option<MemberId>,
    /// The logged denial that started the run (what a folded presentation's reply names).
    seq: u64,
    /// Denials counted since the last event of this run (0: none waiting).
    count: u64,
    /// When the first and last counted denial happened.
    first: UnixTime,
    last: UnixTime,
}

/// Per door, the run of identical denials being counted.
#[derive(Debug, Default)]
pub(super) struct Runs(HashMap<DoorId, Run>);

impl Runs {
    /// Starts a run at `door` with the denial just logged as `seq`.
    pub(super) fn start(
        &mut self,
        door: &DoorId,
        reason: Rejection,
        pass_id: Option<PassId>,
        member: Option<MemberId>,
        seq: u64,
        now: UnixTime,
    ) {
        self.0.insert(
            door.clone(),
            Run {
                reason,
                pass_id,
                member,
                seq,
                count: 0,
                first: now,
                last: now,
            },
        );
    }
}

/// Logs the counted denials of `door`'s run, if any.
fn log_run(run: &mut Run, door: &DoorId, batch: &Batch, out: &mut Outcome) {
    if run.count > 0 {
        out.log(
            batch,
            EventBody::DenialsRepeated {
                door: door.clone(),
                reason: run.reason,
                pass_id: run.pass_id,
                member: run.member.clone(),
                count: run.count,
                first: run.first,
                last: run.last,
            },
        );
        tracing::info!(door = %door, reason = run.reason.code(), count = run.count, "repeated denials logged as one event");
        run.count = 0;
    }
}

impl Gate {
    /// The denial window in seconds (0: every denial is logged), longer while the disk is low.
    fn denial_window(&self) -> u64 {
        let window = u64::from(self.config.policy.denial_window_seconds);
        self.disk.stretch(window)
    }

    /// Counts a denial that repeats its door's run and returns the run's logged seq; or, for
    /// any other decision, logs the run's counted denials (so they come before it) and returns
    /// `None`.
    pub(super) fn count_denial(
        &mut self,
        batch: &Batch,
        body: &EventBody,
        out: &mut Outcome,
    ) -> Option<u64> {
        let window = self.denial_window();
        let now = batch.now;
        let (door, same) = match body {
            EventBody::EntryDenied {
                door,
                reason,
                pass_id,
                ..
            } => (
                door,
                self.runs
                    .0
                    .get(door)
                    .is_some_and(|r| r.reason == *reason && r.pass_id == *pass_id),
            ),
            EventBody::EntryGranted { door, .. } => (door, false),
            _ => return None,
        };
        let mut run = self.runs.0.remove(door)?;
        if same && window > 0 {
            if run.count > 0 && now.since(run.first) >= window {
                log_run(&mut run, door, batch, out);
            }
            // A run that went quiet for a whole window ends: the next denial is logged.
            if run.count > 0 || now.since(run.last) < window {
                if run.count == 0 {
                    run.first = now;
                }
                run.count += 1;
                run.last = now;
                let seq = run.seq;
                self.runs.0.insert(door.clone(), run);
                return Some(seq);
            }
        }
        log_run(&mut run, door, batch, out);
        None
    }

    /// Logs every run's counted denials whose window ended (all of them if `all`) and
    /// forgets runs that went quiet.
    pub(super) fn flush_runs(&mut self, batch: &Batch, all: bool, out: &mut Outcome) {
        let window = self.denial_window();
        let now = batch.now;
        let mut doors: Vec<DoorId> = self.runs.0.keys().cloned().collect();
        doors.sort();
        for door in doors {
            let Some(mut run) = self.runs.0.remove(&door) else {
                continue;
            };
            if all || (run.count > 0 && now.since(run.first) >= window) {
                log_run(&mut run, &door, batch, out);
            }
            if !all && now.since(run.last) < window {
                self.runs.0.insert(door, run);
            }
        }
    }
}
