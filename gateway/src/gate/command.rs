//! A signed command from the dashboard (on the `cmd` topic): unlock, lockdown, time beacon,
//! clock floor reset, revocation list. Logged as a `command_result` event whatever became of
//! it, so the dashboard learns the outcome.
//!
//! Checks (SPEC.md section 9): signature, never from a retained message, addressed to this
//! site and gateway, not expired, sequence number and id not seen before. Door moves wait for
//! the commit like any grant.

use super::{Batch, Gate, Lookups, Outcome, Write};
use crate::door::DoorCommand;
use bygd_protocol::{
    open_command, Action, CommandHistory, CommandId, CommandLimits, CommandOutcome, EventBody,
    Rejection,
};
use std::time::Duration;

/// A command's replay state, as the lookups read it before the checks.
struct KnownCommands {
    last_seq: Option<u64>,
    seen: bool,
}

impl CommandHistory for KnownCommands {
    fn last_seq(&self) -> Option<u64> {
        self.last_seq
    }
    fn seen(&self, _: &CommandId) -> bool {
        self.seen
    }
}

impl Gate {
    /// Verifies and carries out a command, and logs its result.
    pub(super) fn command(
        &mut self,
        lookups: &impl Lookups,
        batch: &Batch,
        bytes: &[u8],
        retained: bool,
        out: &mut Outcome,
    ) {
        let (command, seq, outcome) = self.carry_out(lookups, batch, bytes, retained, out);
        out.log(
            batch,
            EventBody::CommandResult {
                command,
                seq,
                outcome,
            },
        );
    }

    /// Returns what the result event says.
    fn carry_out(
        &mut self,
        lookups: &impl Lookups,
        batch: &Batch,
        bytes: &[u8],
        retained: bool,
        out: &mut Outcome,
    ) -> (CommandId, u64, CommandOutcome) {
        let refused = CommandOutcome::Refused;
        let command = match open_command(bytes, &self.config.issuers) {
            Ok(command) => command,
            Err(refusal) => {
                tracing::warn!(reason = %refusal, "command refused");
                return (CommandId::default(), 0, refused(refusal.rejection()));
            }
        };
        let (id, seq) = (command.id, command.seq);
        if retained {
            tracing::warn!(command = %id, "retained command refused: commands are never taken from retained messages");
            return (id, seq, refused(Rejection::RetainedCommand));
        }
        let history = KnownCommands {
            last_seq: lookups.command_seq(),
            seen: lookups.command_seen(&id),
        };
        if let Err(reason) = command.check(
            &self.config.site,
            &self.config.gateway,
            batch.now,
            &history,
            CommandLimits::default(),
        ) {
            tracing::warn!(command = %id, seq, reason = reason.code(), "command refused");
            return (id, seq, refused(reason));
        }
        out.writes.push(Write::RecordCommand {
            seq,
            id,
            expires: command.expires,
        });
        let outcome = match command.action {
            Action::Unlock { door, seconds } => {
                if self.config.door(&door).is_none() {
                    refused(Rejection::UnknownDoor)
                } else if self.lockdowns.covers(&door) {
                    refused(Rejection::Lockdown)
                } else {
                    out.doors.push((
                        door,
                        DoorCommand::Grant(Duration::from_secs(seconds.into())),
                    ));
                    CommandOutcome::Done
                }
            }
            Action::Lockdown { door, on } => match &door {
                Some(d) if self.config.door(d).is_none() => refused(Rejection::UnknownDoor),
                _ => {
                    self.set_lockdown(batch, door.as_ref(), on, out);
                    CommandOutcome::Done
                }
            },
            Action::TimeBeacon { time } => {
                self.clock.beacon(time, batch.reading.monotonic);
                out.writes.push(Write::RaiseClockFloor(time));
                CommandOutcome::Done
            }
            Action::SetClockFloor { floor } => {
                self.reset_floor(batch, floor, out);
                CommandOutcome::Done
            }
            Action::Revocation { list } => match self.revocation_list(lookups, batch, &list, out) {
                Ok(_) => CommandOutcome::Done,
                Err(reason) => refused(reason),
            },
        };
        tracing::info!(command = %id, seq, outcome = ?outcome, "command");
        (id, seq, outcome)
    }
}
