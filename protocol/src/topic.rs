//! MQTT topic names: `bygd/v1/{site}/{gateway}/{event|status|cmd|ack}` and
//! `bygd/v1/{site}/revocations`.
//!
//! Invariant: every id in a topic passed [`crate::SiteId`] / [`crate::GatewayId`] validation, so
//! a topic built here never contains `+`, `#` or an extra `/`, and a broker ACL pattern such as
//! `bygd/v1/byn/gw1/+` covers exactly one gateway. (Not `bygd/v1/byn/gw1/#`: `#` also matches
//! the parent level, and for a gateway named `revocations` that is the site's revocation topic.)

use crate::{GatewayId, SiteId};
use alloc::format;
use alloc::string::String;
use core::fmt;

/// The first two levels of every bygd topic; the `v1` changes with an incompatible protocol.
pub const TOPIC_ROOT: &str = "bygd/v1";

/// The separator between site and gateway in a broker identity. No id may contain it
/// (ids are `a-z0-9-_`), so `byn.gw1` names exactly one gateway of the network.
pub const IDENTITY_SEPARATOR: char = '.';

/// The gateway's identity at the broker: its MQTT client id and its client certificate's
/// common name, `{site}.{gateway}`. Gateway ids are unique only within a site, so two sites'
/// `gw1` would take each other's MQTT session over if they used the bare id; this name is
/// unique in the network. No identity built here can equal a name without the separator, such
/// as the dashboard's `bygd-dashboard`.
#[must_use]
pub fn broker_identity(site: &SiteId, gateway: &GatewayId) -> String {
    format!("{site}{IDENTITY_SEPARATOR}{gateway}")
}

/// The per-gateway topics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TopicKind {
    /// Gateway → dashboard: signed event batches, QoS 1.
    Event,
    /// Gateway → anyone: retained status; the last will says offline.
    Status,
    /// Dashboard → gateway: signed commands, never retained.
    Command,
    /// Dashboard → gateway: signed cumulative acks.
    Ack,
}

impl TopicKind {
    /// The last topic level.
    #[must_use]
    pub fn level(self) -> &'static str {
        match self {
            TopicKind::Event => "event",
            TopicKind::Status => "status",
            TopicKind::Command => "cmd",
            TopicKind::Ack => "ack",
        }
    }

    fn from_level(level: &str) -> Option<Self> {
        [
            TopicKind::Event,
            TopicKind::Status,
            TopicKind::Command,
            TopicKind::Ack,
        ]
        .into_iter()
        .find(|k| k.level() == level)
    }
}

/// A bygd topic.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Topic {
    /// One of a gateway's topics.
    Gateway {
        /// The site.
        site: SiteId,
        /// The gateway.
        gateway: GatewayId,
        /// Which topic.
        kind: TopicKind,
    },
    /// A site's retained revocation list.
    Revocations {
        /// The site.
        site: SiteId,
    },
}

impl Topic {
    /// A gateway topic.
    #[must_use]
    pub fn gateway(site: &SiteId, gateway: &GatewayId, kind: TopicKind) -> Self {
        Topic::Gateway {
            site: site.clone(),
            gateway: gateway.clone(),
            kind,
        }
    }

    /// Parses a concrete topic name (no wildcards); `None` if it is not a bygd topic.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        let rest = name.strip_prefix(TOPIC_ROOT)?.strip_prefix('/')?;
        let mut levels = rest.split('/');
        let site = SiteId::new(levels.next()?).ok()?;
        let second = levels.next()?;
        match (levels.next(), levels.next()) {
            (None, _) if second == "revocations" => Some(Topic::Revocations { site }),
            (Some(kind), None) => Some(Topic::Gateway {
                site,
                gateway: GatewayId::new(second).ok()?,
                kind: TopicKind::from_level(kind)?,
            }),
            _ => None,
        }
    }

    /// The filter matching one kind of topic of every gateway at every site, for the
    /// dashboard: `bygd/v1/+/+/event`.
    #[must_use]
    pub fn all_gateways_filter(kind: TopicKind) -> String {
        format!("{TOPIC_ROOT}/+/+/{}", kind.level())
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topic::Gateway {
                site,
                gateway,
                kind,
            } => {
                write!(f, "{TOPIC_ROOT}/{site}/{gateway}/{}", kind.level())
            }
            Topic::Revocations { site } => write!(f, "{TOPIC_ROOT}/{site}/revocations"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn broker_identities_differ_for_the_same_gateway_id_at_two_sites() {
        let gw1 = GatewayId::new("gw1").unwrap();
        let byn = broker_identity(&SiteId::new("byn").unwrap(), &gw1);
        let dal = broker_identity(&SiteId::new("dal").unwrap(), &gw1);
        assert_eq!(byn, "byn.gw1");
        assert_ne!(byn, dal);
        // `a-b` + `c` and `a` + `b-c` stay apart: the separator is not an id character.
        let left = broker_identity(&SiteId::new("a-b").unwrap(), &GatewayId::new("c").unwrap());
        let right = broker_identity(&SiteId::new("a").unwrap(), &GatewayId::new("b-c").unwrap());
        assert_ne!(left, right);
        assert!(SiteId::new("bygd.dashboard").is_err());
    }

    #[test]
    fn gateway_topics_build_and_parse_back() {
        let t = Topic::gateway(
            &SiteId::new("byn").unwrap(),
            &GatewayId::new("gw1").unwrap(),
            TopicKind::Command,
        );
        assert_eq!(t.to_string(), "bygd/v1/byn/gw1/cmd");
        assert_eq!(Topic::parse("bygd/v1/byn/gw1/cmd"), Some(t));
    }

    #[test]
    fn the_revocation_topic_builds_and_parses_back() {
        let t = Topic::Revocations {
            site: SiteId::new("byn").unwrap(),
        };
        assert_eq!(t.to_string(), "bygd/v1/byn/revocations");
        assert_eq!(Topic::parse("bygd/v1/byn/revocations"), Some(t));
    }

    #[test]
    fn wildcards_extra_levels_and_foreign_topics_do_not_parse() {
        for bad in [
            "bygd/v1/+/gw1/event",
            "bygd/v1/byn/#",
            "bygd/v1/byn/gw1/event/x",
            "bygd/v2/byn/gw1/event",
            "bygd/v1/byn/gw1/bogus",
            "bygd/v1//gw1/event",
            "other/v1/byn/gw1/event",
        ] {
            assert_eq!(Topic::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_dashboard_filter_covers_every_gateway() {
        assert_eq!(
            Topic::all_gateways_filter(TopicKind::Event),
            "bygd/v1/+/+/event"
        );
    }
}
