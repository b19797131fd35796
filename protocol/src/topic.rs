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
