//! What a plugin's answer may be, checked before it reaches the domain: its size against the
//! output cap, and the contract's rules for a workflow's status list.

use crate::rules::{
    ConfigField, ConfigKind, EligibilityDecision, PasswordVerdict, PluginInfo, Status,
    TransitionDecision, Violation,
};
use std::collections::HashSet;

/// What a call returned, measured for the output cap.
pub(super) trait OutputSize {
    fn output_size(&self) -> usize;
}

impl OutputSize for String {
    fn output_size(&self) -> usize {
        self.len()
    }
}

impl<T: OutputSize> OutputSize for Vec<T> {
    fn output_size(&self) -> usize {
        self.iter().map(OutputSize::output_size).sum()
    }
}

impl<T: OutputSize> OutputSize for Option<T> {
    fn output_size(&self) -> usize {
        self.as_ref().map_or(0, OutputSize::output_size)
    }
}

impl<T: OutputSize, E: OutputSize> OutputSize for Result<T, E> {
    fn output_size(&self) -> usize {
        match self {
            Ok(v) => v.output_size(),
            Err(e) => e.output_size(),
        }
    }
}

impl OutputSize for () {
    fn output_size(&self) -> usize {
        0
    }
}

impl OutputSize for PluginInfo {
    fn output_size(&self) -> usize {
        self.name.len() + self.version.len() + self.summary.len()
    }
}

impl OutputSize for ConfigField {
    fn output_size(&self) -> usize {
        let kind = match &self.kind {
            ConfigKind::Integer { .. } => 24,
            ConfigKind::Boolean { .. } => 1,
            ConfigKind::Text { default } => default.len(),
            ConfigKind::Choice { default, choices } => default.len() + choices.output_size(),
            ConfigKind::TextList { default } => default.output_size(),
        };
        self.key.len() + self.label.len() + self.help.len() + kind
    }
}

impl OutputSize for Violation {
    fn output_size(&self) -> usize {
        self.code.len() + self.message.len()
    }
}

impl OutputSize for PasswordVerdict {
    fn output_size(&self) -> usize {
        match self {
            PasswordVerdict::Accepted => 0,
            PasswordVerdict::Rejected(v) => v.output_size(),
        }
    }
}

impl OutputSize for EligibilityDecision {
    fn output_size(&self) -> usize {
        match self {
            EligibilityDecision::Eligible(ids) => ids.len() * 8,
            EligibilityDecision::Ineligible(s) | EligibilityDecision::NeedsReview(s) => s.len(),
        }
    }
}

impl OutputSize for Status {
    fn output_size(&self) -> usize {
        self.key.len() + self.label.len() + 2
    }
}

impl OutputSize for TransitionDecision {
    fn output_size(&self) -> usize {
        match self {
            TransitionDecision::Allowed => 0,
            TransitionDecision::Refused(s) => s.len(),
        }
    }
}

/// The contract's rules for a status list: non-empty, unique well-formed keys, one initial.
pub(super) fn validate_statuses(statuses: &[Status]) -> Result<(), String> {
    if statuses.is_empty() {
        return Err("`statuses` returned no statuses".into());
    }
    let mut seen = HashSet::new();
    for s in statuses {
        let well_formed = !s.key.is_empty()
            && s.key.len() <= 32
            && s.key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !well_formed {
            return Err(format!(
                "status key {:?} is not 1 to 32 lowercase letters, digits and dashes",
                s.key
            ));
        }
        if s.label.trim().is_empty() {
            return Err(format!("status {:?} has an empty label", s.key));
        }
        if !seen.insert(s.key.as_str()) {
            return Err(format!("status key {:?} appears twice", s.key));
        }
    }
    match statuses.iter().filter(|s| s.initial).count() {
        1 => Ok(()),
        n => Err(format!(
            "{n} statuses are marked initial; exactly one must be"
        )),
    }
}

impl OutputSize for crate::rules::Action {
    fn output_size(&self) -> usize {
        use crate::rules::Action as A;
        match self {
            A::SetStatus { status: s }
            | A::AddTag { tag: s }
            | A::RemoveTag { tag: s }
            | A::CancelTimer { name: s }
            | A::AddNote { text: s }
            | A::ClearField { key: s } => s.len(),
            A::SetType { request_type } => request_type.as_ref().map_or(8, String::len),
            A::SetField { key, value } => key.len() + value.len(),
            A::SetTimer { name, .. } | A::CallWebhook { name, .. } => name.len() + 8,
            A::SetPriority { .. } | A::Assign { .. } | A::Unassign => 8,
            A::SendEmail { to, wordings } => {
                let to: usize = to
                    .iter()
                    .map(|r| match r {
                        crate::rules::Recipient::Address(a) => a.len(),
                        _ => 8,
                    })
                    .sum();
                let words: usize = wordings
                    .iter()
                    .map(|w| w.language.len() + w.subject.len() + w.body.len())
                    .sum();
                to + words
            }
        }
    }
}
