//! The portal's words, in one Fluent message catalogue per language (`host/locales/<lang>/`).
//! English is complete for every page; German is complete for every page a customer or visitor
//! sees. A message missing from a language falls back to English, so a page never shows a key;
//! the catalogue tests hold both languages to that.
//!
//! A page's language is the reader's saved preference, else the one they picked in the footer
//! (a cookie), else the best match of their browser's `Accept-Language`, else English.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::LazyLock;

/// A language the portal speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    De,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::De];

    /// The BCP 47 tag, as in `<html lang>` and the stored preference.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    /// The language's name in itself, for choosing it.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::De => "Deutsch",
        }
    }

    /// A tag such as `de`, `de-AT` or `EN`; `None` for a language the portal does not speak.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The best of the portal's languages for an `Accept-Language` header: the highest `q`
    /// among those it speaks (the first listed on a tie), or `None` when it speaks none of them.
    pub fn negotiate(accept_language: &str) -> Option<Lang> {
        let mut best: Option<(Lang, f32)> = None;
        for item in accept_language.split(',').take(32) {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                .filter(|q| (0.0..=1.0).contains(q));
            let (Some(lang), Some(q)) = (Lang::parse(tag), q) else {
                continue;
            };
            if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
                best = Some((lang, q));
            }
        }
        best.map(|(lang, _)| lang)
    }

    /// The language of a request no session is looked up for: the footer's choice (the
    /// `hd_lang` cookie, under whatever prefix the deployment gives cookie names), else the
    /// best match of `Accept-Language`, else English.
    pub fn of_request(headers: &axum::http::HeaderMap) -> Lang {
        use axum::http::header;
        let chosen = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|h| h.to_str().ok())
            .flat_map(|h| h.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .find(|(name, _)| name.ends_with(COOKIE))
            .and_then(|(_, value)| Lang::parse(value));
        chosen
            .or_else(|| {
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|h| h.to_str().ok())
                    .and_then(Lang::negotiate)
            })
            .unwrap_or_default()
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The time zones a person may choose: the time-zone database's Area/Location names and UTC,
/// sorted.
pub fn time_zones() -> &'static [String] {
    static ZONES: LazyLock<Vec<String>> = LazyLock::new(|| {
        const AREAS: [&str; 9] = [
            "Africa",
            "America",
            "Antarctica",
            "Asia",
            "Atlantic",
            "Australia",
            "Europe",
            "Indian",
            "Pacific",
        ];
        let mut zones: Vec<String> = jiff::tz::db()
            .available()
            .map(|name| name.to_string())
            .filter(|name| {
                name.split_once('/')
                    .is_some_and(|(area, _)| AREAS.contains(&area))
            })
            .collect();
        zones.push("UTC".to_owned());
        zones.sort();
        zones.dedup();
        zones
    });
    &ZONES
}

/// Whether `zone` is one a person may choose.
pub fn is_time_zone(zone: &str) -> bool {
    time_zones()
        .binary_search_by(|z| z.as_str().cmp(zone))
        .is_ok()
}

/// The cookie holding the language picked in the footer (under the deployment's cookie prefix).
pub const COOKIE: &str = "hd_lang";

type Bundle = FluentBundle<FluentResource>;

/// The catalogue source of each language, in [`Lang::ALL`] order.
pub const SOURCES: [&str; 2] = [
    include_str!("../locales/en/portal.ftl"),
    include_str!("../locales/de/portal.ftl"),
];

static BUNDLES: LazyLock<Vec<Bundle>> = LazyLock::new(|| {
    Lang::ALL
        .into_iter()
        .map(|lang| bundle(lang, SOURCES[lang.index()]))
        .collect()
});

/// One language's bundle. The catalogues are part of the build and their tests parse them, so
/// a syntax error here is a defect of the build itself.
fn bundle(lang: Lang, source: &str) -> Bundle {
    let resource = FluentResource::try_new(source.to_owned())
        .unwrap_or_else(|(_, errors)| panic!("locales/{}: {errors:?}", lang.code()));
    let tag = lang
        .code()
        .parse()
        .unwrap_or_else(|_| panic!("language tag {}", lang.code()));
    let mut bundle = FluentBundle::new_concurrent(vec![tag]);
    // Pages are HTML with `lang` set; Unicode isolation marks would only get in the way of
    // copying text and of tests.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(resource)
        .unwrap_or_else(|errors| panic!("locales/{}: {errors:?}", lang.code()));
    bundle
}

/// Whether `lang`'s own catalogue has `key` (without falling back to English).
pub fn has(lang: Lang, key: &str) -> bool {
    BUNDLES[lang.index()].has_message(key)
}

/// An argument of a message: text, or a number (which chooses plural forms).
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Text(&'a str),
    Number(i64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Arg<'a> {
        Arg::Text(s)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Arg<'a> {
        Arg::Text(s)
    }
}

impl From<i64> for Arg<'_> {
    fn from(n: i64) -> Self {
        Arg::Number(n)
    }
}

impl From<u64> for Arg<'_> {
    fn from(n: u64) -> Self {
        Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<&i64> for Arg<'_> {
    fn from(n: &i64) -> Self {
        Arg::Number(*n)
    }
}

impl From<&usize> for Arg<'_> {
    fn from(n: &usize) -> Self {
        Arg::from(*n)
    }
}

impl From<usize> for Arg<'_> {
    fn from(n: usize) -> Self {
        Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

/// The words of one language: what pages and handlers ask for their text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Tr {
        Tr { lang }
    }

    /// The message `key`.
    pub fn get(&self, key: &str) -> String {
        self.format(key, None)
    }

    /// The message `key` with arguments.
    pub fn args(&self, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        let mut fluent = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Text(s) => fluent.set(*name, FluentValue::from(*s)),
                Arg::Number(n) => fluent.set(*name, FluentValue::from(*n)),
            }
        }
        self.format(key, Some(&fluent))
    }

    /// The message `key`, if either this language or English has it.
    pub fn find(&self, key: &str) -> Option<String> {
        (has(self.lang, key) || has(Lang::En, key)).then(|| self.get(key))
    }

    fn format(&self, key: &str, args: Option<&FluentArgs>) -> String {
        let bundles = &*BUNDLES;
        let found = [self.lang, Lang::En].into_iter().find_map(|lang| {
            let bundle = &bundles[lang.index()];
            Some((bundle, bundle.get_message(key)?.value()?))
        });
        let Some((bundle, pattern)) = found else {
            tracing::warn!(key, "message missing from the catalogue");
            return key.to_owned();
        };
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            tracing::warn!(key, ?errors, "message formatted with errors");
        }
        text.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// A catalogue's messages: key, the group it is in, and the variables it uses.
    fn messages(source: &str) -> BTreeMap<String, (String, BTreeSet<String>)> {
        let mut group = String::new();
        let mut out: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
        let mut current: Option<String> = None;
        for line in source.lines() {
            if let Some(heading) = line.strip_prefix("## ") {
                group = heading.to_owned();
                continue;
            }
            let key = line.split_once(" = ").map(|(k, _)| k).filter(|k| {
                !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
            });
            if let Some(key) = key {
                assert!(
                    out.insert(key.to_owned(), (group.clone(), BTreeSet::new()))
                        .is_none(),
                    "{key} twice"
                );
                current = Some(key.to_owned());
            } else if !line.starts_with(' ') {
                current = None;
            }
            if let Some(key) = &current {
                let vars = &mut out.get_mut(key).expect("inserted").1;
                for part in line.split("{ $").skip(1) {
                    let name: String = part
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    vars.insert(name);
                }
            }
        }
        out
    }

    fn staff_only(group: &str) -> bool {
        group.starts_with("Staff") || group.starts_with("Operators")
    }

    #[test]
    fn german_has_every_message_customers_see_with_the_same_arguments() {
        for lang in Lang::ALL {
            // Parsing every catalogue: a syntax error panics here.
            assert!(has(lang, "portal-name"), "{lang:?}");
        }
        let en = messages(SOURCES[0]);
        let de = messages(SOURCES[1]);
        assert!(en.len() > 300, "{}", en.len());
        let missing: Vec<_> = en
            .iter()
            .filter(|(k, (group, _))| !staff_only(group) && !de.contains_key(*k))
            .map(|(k, _)| k)
            .collect();
        assert!(missing.is_empty(), "German lacks {missing:?}");
        for (key, (_, vars)) in &de {
            let (_, english) = en
                .get(key)
                .unwrap_or_else(|| panic!("{key} is not in English"));
            assert_eq!(vars, english, "{key}: the arguments differ");
        }
    }

    #[test]
    fn every_message_the_pages_ask_for_is_in_english() {
        let en = messages(SOURCES[0]);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in [
            "templates",
            "src/http",
            "src/http/pages",
            "src/http/pages/admin",
            "src/http/pages/requests",
        ] {
            for entry in std::fs::read_dir(root.join(dir)).expect("dir") {
                let path = entry.expect("entry").path();
                if path.is_file() {
                    files.push(path);
                }
            }
        }
        let mut asked = BTreeSet::new();
        for path in &files {
            let text = std::fs::read_to_string(path).expect("read");
            for call in [
                "t(\"",
                "ta(\"",
                "t1(\"",
                "tn(\"",
                "tnt(\"",
                "tr.get(\"",
                "tr.find(\"",
            ] {
                for (at, _) in text.match_indices(call) {
                    // `t("` only as a whole name: not the end of `get("` or `count("`.
                    let before = text[..at].chars().next_back().unwrap_or(' ');
                    if before.is_ascii_alphanumeric() || before == '_' {
                        continue;
                    }
                    let part = &text[at + call.len()..];
                    let key: String = part.chars().take_while(|c| *c != '"').collect();
                    if key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_".contains(c))
                    {
                        asked.insert(key);
                    }
                }
            }
        }
        // Keys handed over as data (table headings, field labels): in page code every literal
        // with a dash is a key, but for these few (the console's literals are the plugin
        // contract's names, so it is read for calls only).
        const NOT_KEYS: [&str; 7] = [
            "content-security-policy",
            "logged-out",
            "not-watching",
            "noted-updated",
            "sent-updated",
            "text-list",
            "x-csrf-token",
        ];
        let pages = root.join("src/http/pages");
        let page_code = files.iter().filter(|p| {
            p.extension().is_some_and(|e| e == "rs")
                && (p.starts_with(&pages) || p.ends_with("pages.rs"))
                && !p.ends_with("console.rs")
        });
        for path in page_code {
            let text = std::fs::read_to_string(path).expect("read");
            for literal in text.split('"').skip(1).step_by(2) {
                let key_like = literal.contains('-')
                    && literal.starts_with(|c: char| c.is_ascii_lowercase())
                    && literal
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_".contains(c));
                if key_like && !NOT_KEYS.contains(&literal) {
                    asked.insert(literal.to_owned());
                }
            }
        }
        for event in crate::db::audit::EVENTS {
            asked.insert(format!("audit-event-{event}"));
        }
        assert!(asked.len() > 200, "{}", asked.len());
        let unknown: Vec<_> = asked.iter().filter(|k| !en.contains_key(*k)).collect();
        assert!(unknown.is_empty(), "not in locales/en: {unknown:?}");
    }

    #[test]
    fn time_zones_are_the_area_location_names() {
        let zones = time_zones();
        assert!(zones.len() > 300, "{}", zones.len());
        for zone in ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"] {
            assert!(is_time_zone(zone), "{zone}");
        }
        for zone in [
            "",
            "EST5EDT",
            "Etc/GMT+5",
            "posixrules",
            "Mars/Olympus_Mons",
            "europe/berlin",
        ] {
            assert!(!is_time_zone(zone), "{zone}");
        }
    }

    #[test]
    fn accept_language_picks_the_best_spoken_language() {
        assert_eq!(Lang::negotiate("de-DE,de;q=0.9,en;q=0.8"), Some(Lang::De));
        assert_eq!(Lang::negotiate("fr-FR, de;q=0.5, en;q=0.7"), Some(Lang::En));
        assert_eq!(Lang::negotiate("fr, es;q=0.5"), None);
        assert_eq!(Lang::negotiate("de;q=0, en;q=0.1"), Some(Lang::En));
        assert_eq!(Lang::negotiate("DE-at"), Some(Lang::De));
        assert_eq!(Lang::negotiate("de;q=2, en"), Some(Lang::En));
        assert_eq!(Lang::negotiate("*"), None);
        assert_eq!(Lang::negotiate(""), None);
    }

    #[test]
    fn messages_take_arguments_and_plurals_and_fall_back_to_english() {
        let de = Tr::new(Lang::De);
        assert_eq!(
            de.args("dashboard-welcome", &[("name", "Ann".into())]),
            "Willkommen, Ann."
        );
        let en = Tr::new(Lang::En);
        assert_eq!(
            en.args("error-wrong_code", &[("left", 1_i64.into())]),
            "That code is not correct. 1 attempt left."
        );
        assert_eq!(
            en.args("error-wrong_code", &[("left", 3_i64.into())]),
            "That code is not correct. 3 attempts left."
        );
        assert_eq!(de.get("no-such-message"), "no-such-message");
        assert_eq!(de.find("no-such-message"), None);
    }
}
