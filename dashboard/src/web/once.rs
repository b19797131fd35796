//! Forms that make a secret (a pass with its QR code, an API token, an account's password)
//! are sent once: each carries a random `form_id`, spent by its first POST. Reloading the page
//! that shows the secret would otherwise send the form again and make a second pass or token.
//!
//! The spent ids are kept in memory, the latest [`REMEMBERED`] of them: enough for any reload,
//! bounded whatever clients send. A form without an id (a script) is not held back.

use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, OnceLock};

/// How many spent form ids are remembered.
const REMEMBERED: usize = 10_000;

#[derive(Default)]
struct Spent {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

fn spent() -> &'static Mutex<Spent> {
    static SPENT: OnceLock<Mutex<Spent>> = OnceLock::new();
    SPENT.get_or_init(Mutex::default)
}

/// A new form id for a page to put in its form.
pub(crate) fn new_form_id() -> String {
    crate::service::random_hex_id().unwrap_or_default()
}

/// Spends `id`: `true` the first time (or for a form without one), `false` if it was sent
/// before.
pub(crate) fn spend(id: Option<&str>) -> bool {
    let Some(id) = id.filter(|id| !id.is_empty() && id.len() <= 64) else {
        return true;
    };
    let mut spent = spent()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !spent.ids.insert(id.to_owned()) {
        return false;
    }
    spent.order.push_back(id.to_owned());
    if spent.order.len() > REMEMBERED {
        if let Some(old) = spent.order.pop_front() {
            spent.ids.remove(&old);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_id_is_spent_once_and_a_form_without_one_passes() {
        let id = new_form_id();
        assert!(spend(Some(&id)));
        assert!(!spend(Some(&id)));
        assert!(spend(None));
        assert!(spend(Some("")));
    }
}
