//! A request's fields beside its status: its priority and its tags, what each may hold and how
//! it is written down. Pages, the API and the rules that set them all go through these.

use std::fmt;

/// How urgent a request is; `normal` unless someone says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
}

impl Priority {
    /// Lowest first.
    pub const ALL: [Priority; 4] = [
        Priority::Low,
        Priority::Normal,
        Priority::High,
        Priority::Urgent,
    ];

    /// The key stored and spoken by the API and the plugins.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    pub fn parse(s: &str) -> Result<Priority, String> {
        Priority::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("There is no priority {s:?}: use low, normal, high or urgent."))
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The most tags a request holds.
pub const MAX_TAGS: usize = 20;
pub use crate::domain::rules::{MAX_TAG_CHARS, tag};
/// A tag as the API accepts it (ECMA-262, for the OpenAPI document); it is stored lowercased.
pub const TAG_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$";

/// A request's tags from a list: each checked, lowercased, duplicates dropped, sorted; at most
/// [`MAX_TAGS`].
pub fn tags<'a>(list: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for t in list {
        out.push(tag(t)?);
    }
    out.sort();
    out.dedup();
    if out.len() > MAX_TAGS {
        return Err(format!(
            "A request holds at most {MAX_TAGS} tags; this change would give it {}.",
            out.len()
        ));
    }
    Ok(out)
}

/// Tags as a person types them: separated by spaces or commas.
pub fn tags_typed(s: &str) -> Result<Vec<String>, String> {
    tags(
        s.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty()),
    )
}

/// The stored form of a request's tags: sorted, separated by single spaces.
pub fn joined(tags: &[String]) -> String {
    tags.join(" ")
}

/// The tags of the stored form.
pub fn split(stored: &str) -> Vec<String> {
    stored.split_whitespace().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_read_back() {
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.as_str()), Ok(p));
        }
        assert!(Priority::parse("Urgent").is_err());
        assert!(Priority::Urgent > Priority::High && Priority::Low < Priority::Normal);
        assert_eq!(Priority::default(), Priority::Normal);
    }

    #[test]
    fn tags_are_lowercase_words_sorted_without_duplicates() {
        assert_eq!(
            tags_typed("Renewal, billing  renewal,vip_2").unwrap(),
            vec!["billing", "renewal", "vip_2"]
        );
        assert!(tag("-lead").is_err());
        assert!(tag("two words").is_err());
        assert!(tag("überfällig").is_err());
        assert!(tag(&"a".repeat(33)).is_err());
        assert_eq!(tag(&"a".repeat(32)).unwrap().len(), 32);
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(tags(many.iter().map(String::as_str)).is_err());
        assert_eq!(
            tags(many[..20].iter().map(String::as_str)).unwrap().len(),
            20
        );
        assert_eq!(split(&joined(&["a".into(), "b".into()])), vec!["a", "b"]);
        assert!(split("").is_empty());
    }
}
