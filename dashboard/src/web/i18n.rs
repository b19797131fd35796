//! The web UI's languages: Swedish, Danish and English, one Fluent file each
//! (`dashboard/i18n/*.ftl`, embedded in the binary), and how a request's language is chosen.
//!
//! The choice, first that applies: the signed-in account's saved language, the `bygd_lang`
//! cookie the picker sets, the browser's `Accept-Language`, English. A key missing from a
//! language shows the key itself and is logged; a test keeps the three files in step.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::OnceLock;

/// The cookie that remembers the picker's choice before sign-in (and for token callers).
pub(crate) const LANG_COOKIE: &str = "bygd_lang";

/// A language of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Svenska.
    Sv,
    /// Dansk.
    Da,
    /// English.
    En,
}

/// Each language's Fluent source, as embedded.
pub const SOURCES: [(Lang, &str); 3] = [
    (Lang::Sv, include_str!("../../i18n/sv.ftl")),
    (Lang::Da, include_str!("../../i18n/da.ftl")),
    (Lang::En, include_str!("../../i18n/en.ftl")),
];

impl Lang {
    /// Every language, in the picker's order.
    pub const ALL: [Lang; 3] = [Lang::Sv, Lang::Da, Lang::En];

    /// The language tag (`sv`, `da`, `en`), as stored, sent in `lang=` and in cookies.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Lang::Sv => "sv",
            Lang::Da => "da",
            Lang::En => "en",
        }
    }

    /// The language's own name, as the picker shows it.
    #[must_use]
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::Sv => "Svenska",
            Lang::Da => "Dansk",
            Lang::En => "English",
        }
    }

    /// The language with this tag; `sv-SE` and `da-DK` count, Norwegian Bokmål does not.
    #[must_use]
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The best language for an `Accept-Language` header: the highest-weighted tag we have.
    #[must_use]
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(u16, Lang)> = None;
        // At most 32 tags are looked at: the header is client input.
        for part in header.split(',').take(32) {
            let mut fields = part.split(';');
            let Some(lang) = fields.next().and_then(Lang::parse) else {
                continue;
            };
            let weight = fields
                .find_map(|f| f.trim().strip_prefix("q="))
                .map_or(1000, |q| {
                    q.trim()
                        .parse::<f32>()
                        .map_or(0, |q| (q.clamp(0.0, 1.0) * 1000.0) as u16)
                });
            if weight > 0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, lang));
            }
        }
        best.map(|(_, lang)| lang)
    }

    fn index(self) -> usize {
        match self {
            Lang::Sv => 0,
            Lang::Da => 1,
            Lang::En => 2,
        }
    }
}

fn bundles() -> &'static [FluentBundle<FluentResource>; 3] {
    static BUNDLES: OnceLock<[FluentBundle<FluentResource>; 3]> = OnceLock::new();
    BUNDLES.get_or_init(|| SOURCES.map(|(lang, source)| bundle(lang, source)))
}

fn bundle(lang: Lang, source: &str) -> FluentBundle<FluentResource> {
    let tag: unic_langid::LanguageIdentifier = lang.code().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![tag]);
    // No Unicode isolation marks around arguments: the pages are HTML, escaped by the
    // templates, and the marks would end up in copied text and CSV file names.
    bundle.set_use_isolating(false);
    let resource = match FluentResource::try_new(source.to_owned()) {
        Ok(resource) => resource,
        Err((resource, errors)) => {
            tracing::error!(
                language = lang.code(),
                ?errors,
                "Fluent file has errors; the rest is used"
            );
            resource
        }
    };
    if let Err(errors) = bundle.add_resource(resource) {
        tracing::error!(
            language = lang.code(),
            ?errors,
            "Fluent file defines a key twice"
        );
    }
    bundle
}

/// An argument as Fluent takes it: a number as a number, so that plural rules apply.
fn value(v: &dyn std::fmt::Display) -> FluentValue<'static> {
    let text = v.to_string();
    match text.parse::<i64>() {
        Ok(n) => FluentValue::from(n),
        Err(_) => FluentValue::from(text),
    }
}

/// Translates for one request: templates call `t.get("key")` and `t.with("key", "name", value)`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    /// The request's language.
    pub lang: Lang,
}

impl Tr {
    /// The text for `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> String {
        self.format(key, None)
    }

    /// The text for `key` with one argument.
    #[must_use]
    pub fn with(&self, key: &str, name: &str, value: &dyn std::fmt::Display) -> String {
        let mut args = FluentArgs::new();
        args.set(name, self::value(value));
        self.format(key, Some(&args))
    }

    /// A weekly schedule as stored (`mon,tue,wed 07:00-18:00; sat 10:00-16:00`) with its day
    /// names in this language.
    #[must_use]
    pub fn schedule(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut String| {
            let key = format!("day-{word}");
            if !word.is_empty() && self.has(&key) {
                out.push_str(&self.get(&key));
            } else {
                out.push_str(word);
            }
            word.clear();
        };
        for c in text.chars() {
            if c.is_ascii_alphabetic() {
                word.push(c);
            } else {
                flush(&mut word, &mut out);
                out.push(c);
            }
        }
        flush(&mut word, &mut out);
        out
    }

    /// Whether this language has `key`.
    #[must_use]
    pub fn has(&self, key: &str) -> bool {
        bundles()[self.lang.index()].has_message(key)
    }

    /// Why something was refused, from the protocol's reason code (`revoked`,
    /// `outside_schedule`); a code this version has no words for is shown as it is.
    #[must_use]
    pub fn reason(&self, code: &str) -> String {
        if code.is_empty() {
            return String::new();
        }
        let key = format!("reason-{}", code.replace('_', "-"));
        if bundles()[self.lang.index()].has_message(&key) {
            self.get(&key)
        } else {
            code.to_owned()
        }
    }

    /// The text for `key` with two arguments.
    #[must_use]
    pub fn with2(
        &self,
        key: &str,
        (a, a_value): (&str, &dyn std::fmt::Display),
        (b, b_value): (&str, &dyn std::fmt::Display),
    ) -> String {
        let mut args = FluentArgs::new();
        args.set(a, value(a_value));
        args.set(b, value(b_value));
        self.format(key, Some(&args))
    }

    /// The text for `key` with a number argument (plural rules apply).
    #[must_use]
    pub fn count(&self, key: &str, name: &str, value: i64) -> String {
        let mut args = FluentArgs::new();
        args.set(name, FluentValue::from(value));
        self.format(key, Some(&args))
    }

    fn format(&self, key: &str, args: Option<&FluentArgs<'_>>) -> String {
        let bundle = &bundles()[self.lang.index()];
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            tracing::warn!(
                language = self.lang.code(),
                key,
                "no translation for this key"
            );
            return key.to_owned();
        };
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            tracing::warn!(
                language = self.lang.code(),
                key,
                ?errors,
                "translation failed in part"
            );
        }
        text.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_highest_weighted_language_we_have() {
        assert_eq!(
            Lang::from_accept_language("nb-NO, da;q=0.8, en;q=0.9"),
            Some(Lang::En)
        );
        assert_eq!(Lang::from_accept_language("sv-SE,sv;q=0.9"), Some(Lang::Sv));
        assert_eq!(Lang::from_accept_language("de, fr;q=0.5"), None);
        assert_eq!(
            Lang::from_accept_language("da;q=0, en;q=0.1"),
            Some(Lang::En)
        );
        assert_eq!(Lang::from_accept_language(""), None);
    }

    #[test]
    fn a_reason_code_is_said_in_words_and_an_unknown_one_as_it_is() {
        assert_eq!(
            Tr { lang: Lang::Sv }.reason("revoked"),
            "passerkortet är spärrat"
        );
        assert_eq!(
            Tr { lang: Lang::En }.reason("something_new"),
            "something_new"
        );
        assert_eq!(Tr { lang: Lang::Da }.reason(""), "");
    }

    #[test]
    fn a_schedule_says_its_days_in_the_language() {
        let text = "mon,tue,wed,thu,fri 07:00-18:00; sat,sun 08:00-23:00";
        assert_eq!(
            Tr { lang: Lang::Sv }.schedule(text),
            "mån,tis,ons,tor,fre 07:00-18:00; lör,sön 08:00-23:00"
        );
        assert_eq!(Tr { lang: Lang::En }.schedule(text), text);
        assert_eq!(
            Tr { lang: Lang::Da }.schedule("daily 00:00-24:00"),
            "hver dag 00:00-24:00"
        );
    }

    #[test]
    fn a_missing_key_shows_the_key_rather_than_nothing() {
        assert_eq!(Tr { lang: Lang::Da }.get("no-such-key"), "no-such-key");
    }

    #[test]
    fn every_language_has_every_key_and_parses_cleanly() {
        use fluent_syntax::ast::Entry;
        let keys = |source: &str| -> std::collections::BTreeSet<String> {
            let resource = fluent_syntax::parser::parse(source)
                .unwrap_or_else(|(_, errors)| panic!("Fluent syntax errors: {errors:?}"));
            resource
                .body
                .iter()
                .filter_map(|e| match e {
                    Entry::Message(m) => Some(m.id.name.to_owned()),
                    _ => None,
                })
                .collect()
        };
        let english = keys(SOURCES[2].1);
        for (lang, source) in SOURCES {
            let these = keys(source);
            let missing: Vec<_> = english.difference(&these).collect();
            let extra: Vec<_> = these.difference(&english).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{}.ftl: missing {missing:?}, not in en.ftl {extra:?}",
                lang.code()
            );
        }
    }

    #[test]
    fn every_key_the_templates_and_pages_use_exists() {
        // Keys appear as t.get("…"), t.with("…", …) and t.count("…", …) in templates, and as
        // key: "…" or tr_key("…") in the page modules.
        let english = &bundles()[Lang::En.index()];
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for sub in ["templates", "src/web"] {
            for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
                let path = entry.unwrap().path();
                // This file names the markers themselves.
                if !path.ends_with("i18n.rs") {
                    files.push(path);
                }
            }
        }
        let mut checked = 0;
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for marker in [
                "t.get(\"",
                "t.with(\"",
                "t.with2(\"",
                "t.count(\"",
                "key: \"",
                "tr_key(\"",
            ] {
                for (at, _) in text.match_indices(marker) {
                    let rest = &text[at + marker.len()..];
                    let key = &rest[..rest.find('"').unwrap()];
                    if key.is_empty() || key.contains('{') {
                        continue;
                    }
                    checked += 1;
                    assert!(
                        english.has_message(key),
                        "{} uses the key `{key}`, which en.ftl lacks",
                        file.display()
                    );
                }
            }
        }
        assert!(
            checked > 20,
            "only {checked} keys found: is the scan still right?"
        );
    }

    #[test]
    fn every_reason_code_of_the_protocol_has_words_in_every_language() {
        for rejection in bygd_protocol::Rejection::ALL {
            let code = rejection.code();
            let key = format!("reason-{}", code.replace('_', "-"));
            for lang in Lang::ALL {
                assert!(
                    bundles()[lang.index()].has_message(&key),
                    "{}: no words for `{code}`",
                    lang.code()
                );
            }
        }
    }

    #[test]
    fn every_key_chosen_at_run_time_exists() {
        use crate::web::frame::{alarm_key, pass_kind_key, role_name_key};
        let english = &bundles()[Lang::En.index()];
        let mut keys: Vec<&str> = Vec::new();
        for kind in [
            "integrity",
            "unknown_gateway",
            "forced_open",
            "held_open",
            "offline",
            "command_refused",
            "revocation_refused",
            "clock",
            "bad_message",
            "revocation_lag",
            "disk_low",
            "something new",
        ] {
            keys.push(alarm_key(kind));
        }
        for kind in ["member", "guest", "staff", "break-glass"] {
            keys.push(pass_kind_key(kind));
        }
        for role in ["admin", "operator", "auditor"] {
            keys.push(role_name_key(role));
        }
        for status in [
            "queued",
            "sent",
            "done",
            "refused",
            "not_sent",
            "no_result",
            "?",
        ] {
            keys.push(crate::web::doors::status_key(status));
        }
        keys.extend(crate::web::passes::SCHEDULE_PRESETS.iter().map(|p| p.1));
        keys.extend(crate::web::overview::DOOR_STATE_KEYS);
        keys.extend([
            "door-lockdown-on-question",
            "door-lockdown-off-question",
            "gateway-lockdown-on-question",
            "gateway-lockdown-off-question",
        ]);
        for key in keys {
            assert!(english.has_message(key), "en.ftl lacks `{key}`");
        }
    }
}
