//! The reader's words and times: the messages a page asks for in the reader's language, errors
//! worded by their field and rule, status names, and times in the reader's zone.

use super::*;

impl Visit {
    /// The message `key` in the reader's language.
    pub(super) fn t(&self, key: &str) -> String {
        self.tr.get(key)
    }

    /// The message `key` with arguments, in the reader's language.
    pub(super) fn ta(&self, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        self.tr.args(key, args)
    }

    /// An error in the reader's language: a refused text by its field and rule, a known code
    /// by the catalogue's `error-<code>` (with the error's figures), and otherwise the
    /// error's own message, which is also what English readers get (it can be more precise
    /// than the catalogue's sentence for its code).
    pub(super) fn error_words(&self, e: &crate::http::ApiError) -> String {
        if let Some(i) = &e.input {
            let field = self
                .tr
                .find(&format!("field-{}", i.field))
                .unwrap_or_else(|| i.field.to_owned());
            let why = match i.reason {
                crate::domain::text::Reason::TooLong { max } => {
                    self.ta(i.reason.key(), &[("max", max.into())])
                }
                reason => self.t(reason.key()),
            };
            return self.ta(
                "input-refused",
                &[("field", (&field).into()), ("why", (&why).into())],
            );
        }
        if self.tr.lang == Lang::En {
            return e.message.clone();
        }
        match e.code {
            "too_many_attempts" => self.ta(
                "error-too_many_attempts",
                &[("seconds", e.retry_after.unwrap_or(60).into())],
            ),
            "wrong_code" => {
                let left = e
                    .details
                    .as_ref()
                    .and_then(|d| d["attempts_left"].as_i64())
                    .unwrap_or_default();
                self.ta("error-wrong_code", &[("left", left.into())])
            }
            code => self
                .tr
                .find(&format!("error-{code}"))
                .unwrap_or_else(|| e.message.clone()),
        }
    }

    /// A status's name in the reader's language. The workflow plugin names its statuses; the
    /// catalogue translates a name only where the plugin uses the bundled workflow's English
    /// wording for that key, so a vendor's own names are shown as the vendor wrote them.
    pub(super) fn status_label(&self, w: &crate::requests::Workflow, key: &str) -> String {
        let Some(s) = w.get(key) else {
            return self.ta("status-unknown", &[("key", key.into())]);
        };
        self.translated_status(&s.key, &s.label)
    }

    pub(super) fn translated_status(&self, key: &str, label: &str) -> String {
        let msg = format!("status-{key}");
        if self.tr.lang != Lang::En && Tr::new(Lang::En).find(&msg).as_deref() == Some(label) {
            self.t(&msg)
        } else {
            label.to_owned()
        }
    }

    /// `ms` as a `<time>` element, in the reader's time zone (see [`time_tag`]).
    pub(super) fn time_tag(&self, ms: i64) -> String {
        time_tag(ms, self.tz.as_ref())
    }

    /// `ms` as text, in the reader's time zone.
    pub(super) fn when(&self, ms: i64) -> String {
        when(ms, self.tz.as_ref())
    }
}

impl Layout {
    /// The message `key` in the reader's language.
    pub(super) fn t(&self, key: &str) -> String {
        self.t.get(key)
    }

    /// The message `key` with one argument.
    pub(super) fn t1(&self, key: &str, name: &str, value: impl std::fmt::Display) -> String {
        self.t.args(key, &[(name, Arg::Text(&value.to_string()))])
    }

    /// The message `key` with one number (which may choose a plural form).
    pub(super) fn tn<'a>(&self, key: &str, name: &str, n: impl Into<Arg<'a>>) -> String {
        self.t.args(key, &[(name, n.into())])
    }

    /// The message `key` with a number and a text.
    pub(super) fn tnt<'a>(
        &self,
        key: &str,
        name: &str,
        n: impl Into<Arg<'a>>,
        text_name: &str,
        text: &str,
    ) -> String {
        self.t
            .args(key, &[(name, n.into()), (text_name, Arg::Text(text))])
    }

    pub(super) fn lang(&self) -> &'static str {
        self.t.lang.code()
    }

    /// The portal's languages for the footer's switch: (code, name, whether it is this page's).
    pub(super) fn languages(&self) -> Vec<(&'static str, &'static str, bool)> {
        Lang::ALL
            .into_iter()
            .map(|l| (l.code(), l.name(), l == self.t.lang))
            .collect()
    }
}

/// `ms` as a `<time>` element: the time as text in `tz` (UTC if none), which the portal's
/// script turns into "2 hours ago" in the reader's zone. Only digits, letters and punctuation:
/// safe unescaped.
fn time_tag(ms: i64, tz: Option<&jiff::tz::TimeZone>) -> String {
    let iso = jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    format!("<time datetime=\"{iso}\">{}</time>", when(ms, tz))
}

/// `ms` as text to the minute, in `tz` with its abbreviation, or in UTC.
fn when(ms: i64, tz: Option<&jiff::tz::TimeZone>) -> String {
    let Ok(t) = jiff::Timestamp::from_millisecond(ms) else {
        return String::new();
    };
    match tz {
        Some(tz) => t
            .to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string(),
        None => t.strftime("%Y-%m-%d %H:%M UTC").to_string(),
    }
}
