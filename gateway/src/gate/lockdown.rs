//! Lockdown: no presentation or remote unlock opens a door in lockdown (the exit button still
//! does, the firmware sees to that). Set for one door or for all, by the local socket or a
//! signed command; kept in the store across restarts.

use super::{Answer, Batch, Gate, Outcome, Write};
use crate::door::DoorCommand;
use bygd_protocol::{DoorId, EventBody};
use std::collections::BTreeSet;

/// The doors in lockdown: every door, and any by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Lockdowns {
    /// Every door is in lockdown.
    all: bool,
    /// These doors are, whatever `all` says.
    doors: BTreeSet<DoorId>,
}

impl Lockdowns {
    /// Whether `door` is in lockdown (by itself or with all doors).
    #[must_use]
    pub(crate) fn covers(&self, door: &DoorId) -> bool {
        self.all || self.doors.contains(door)
    }

    /// Sets or clears lockdown for a door, or for all doors (`None`; a door's own lockdown
    /// stays as it was).
    pub(crate) fn set(&mut self, door: Option<&DoorId>, on: bool) {
        match (door, on) {
            (None, on) => self.all = on,
            (Some(door), true) => {
                self.doors.insert(door.clone());
            }
            (Some(door), false) => {
                self.doors.remove(door);
            }
        }
    }

    /// As status shows them: `*` for all doors, then each door's id.
    #[must_use]
    pub(crate) fn names(&self) -> Vec<String> {
        self.all
            .then(|| "*".to_owned())
            .into_iter()
            .chain(self.doors.iter().map(ToString::to_string))
            .collect()
    }
}

impl Gate {
    /// Lockdown on or off from the local socket.
    pub(super) fn lockdown(
        &mut self,
        batch: &Batch,
        door: Option<DoorId>,
        on: bool,
        out: &mut Outcome,
    ) {
        let seq = self.set_lockdown(batch, door.as_ref(), on, out);
        out.answer = Answer::Lockdown { door, on, seq };
    }

    /// Sets lockdown for `door` (or all), logs it, and tells the doors it concerns their state
    /// as of this point in the batch. Returns the event's sequence number.
    pub(super) fn set_lockdown(
        &mut self,
        batch: &Batch,
        door: Option<&DoorId>,
        on: bool,
        out: &mut Outcome,
    ) -> u64 {
        out.writes.push(Write::SetLockdown {
            door: door.cloned(),
            on,
        });
        self.lockdowns.set(door, on);
        let seq = out.log(
            batch,
            EventBody::Lockdown {
                door: door.cloned(),
                on,
            },
        );
        for (d, _) in &self.config.doors {
            if door.is_none_or(|x| x == d) {
                out.doors
                    .push((d.clone(), DoorCommand::Lockdown(self.lockdowns.covers(d))));
            }
        }
        seq
    }
}

/// Logs a lockdown once durable.
pub(super) fn committed(door: Option<&DoorId>, on: bool, seq: u64) {
    tracing::warn!(
        door = door.map_or("*", DoorId::as_str),
        on,
        seq,
        "lockdown changed"
    );
}
