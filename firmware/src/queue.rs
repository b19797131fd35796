//! A fixed-capacity first-in first-out queue of pending event actions.
//!
//! Invariant: pushing never fails and never allocates. When the driver has not drained the
//! queue and it is full, the oldest event is dropped and counted, so what remains is the most
//! recent history and a raise is never kept while its later clear is lost.

use crate::action::Action;

/// How many events may wait between two drains. One input makes at most three (an alarm
/// cleared, an alarm raised, a feedback), so sixteen leaves room for a driver that drains
/// only every few inputs; a driver that never drains loses the oldest, never the newest.
pub(crate) const CAPACITY: usize = 16;

/// A ring buffer of [`Action`]s.
#[derive(Debug, Clone)]
pub(crate) struct EventQueue {
    /// Slots; `None` outside the live range.
    slots: [Option<Action>; CAPACITY],
    /// Index of the oldest event.
    head: usize,
    /// How many events are queued.
    len: usize,
    /// Events dropped because the queue was full, saturating.
    dropped: u32,
}

impl EventQueue {
    /// An empty queue.
    pub(crate) const fn new() -> Self {
        EventQueue {
            slots: [None; CAPACITY],
            head: 0,
            len: 0,
            dropped: 0,
        }
    }

    /// Appends `action`, dropping the oldest event if the queue is full.
    pub(crate) fn push(&mut self, action: Action) {
        if self.len == CAPACITY {
            self.slots[self.head] = None;
            self.head = (self.head + 1) % CAPACITY;
            self.len -= 1;
            self.dropped = self.dropped.saturating_add(1);
        }
        self.slots[(self.head + self.len) % CAPACITY] = Some(action);
        self.len += 1;
    }

    /// Removes and returns the oldest event.
    pub(crate) fn pop(&mut self) -> Option<Action> {
        if self.len == 0 {
            return None;
        }
        let action = self.slots[self.head].take();
        self.head = (self.head + 1) % CAPACITY;
        self.len -= 1;
        action
    }

    /// How many events were dropped because the queue was full.
    pub(crate) fn dropped(&self) -> u32 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Feedback;

    fn event(i: usize) -> Action {
        // Distinct events to tell apart in the assertions.
        if i.is_multiple_of(2) {
            Action::Feedback(Feedback::Granted)
        } else {
            Action::Feedback(Feedback::Denied)
        }
    }

    #[test]
    fn events_come_out_in_the_order_they_went_in() {
        let mut q = EventQueue::new();
        for i in 0..5 {
            q.push(event(i));
        }
        for i in 0..5 {
            assert_eq!(q.pop(), Some(event(i)));
        }
        assert_eq!(q.pop(), None);
        assert_eq!(q.dropped(), 0);
    }

    #[test]
    fn a_full_queue_drops_the_oldest_event_and_counts_it() {
        let mut q = EventQueue::new();
        q.push(Action::Feedback(Feedback::Alarm));
        for i in 0..CAPACITY {
            q.push(event(i));
        }
        assert_eq!(q.dropped(), 1);
        for i in 0..CAPACITY {
            assert_eq!(q.pop(), Some(event(i)));
        }
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn the_queue_wraps_around_many_times_without_losing_anything() {
        let mut q = EventQueue::new();
        for i in 0..10 * CAPACITY {
            q.push(event(i));
            q.push(event(i + 1));
            assert_eq!(q.pop(), Some(event(i)));
            assert_eq!(q.pop(), Some(event(i + 1)));
        }
        assert_eq!(q.pop(), None);
        assert_eq!(q.dropped(), 0);
    }
}
