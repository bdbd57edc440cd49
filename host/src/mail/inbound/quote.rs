//! Cutting a reply down to what its writer added: mail clients quote the whole conversation
//! below (or above) it and append signatures. What is cut is the first line that starts
//! quoted history, and everything after it:
//! - the help desk's own "reply above this line" marker;
//! - an attribution line: `On … wrote:` (Gmail, Apple Mail, Thunderbird), `Am … schrieb …:`,
//!   `Le … a écrit :`, and the same split over two lines as Gmail wraps it;
//! - Outlook's separators: `-----Original Message-----`, and a `From:` header block
//!   (`From:` followed within a few lines by `Sent:`/`Date:` and `To:`/`Subject:`);
//! - a `-- ` signature separator, and "Sent from my iPhone"-style footers;
//! - a block of `>`-quoted lines that runs to the end.
//!
//! When cutting would leave nothing (a message that only quotes), the whole text is kept.

use crate::mail::REPLY_ABOVE;

pub fn strip_quoted(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().collect();
    let cut = (0..lines.len())
        .find(|&i| starts_history(&lines, i))
        .unwrap_or(lines.len());
    let mut kept: Vec<&str> = lines[..cut].to_vec();
    // A trailing `>` block that runs to the end (a bottom-quoting client without attribution).
    while kept.last().is_some_and(|l| l.trim().is_empty()) {
        kept.pop();
    }
    let quoted_tail = kept
        .iter()
        .rev()
        .take_while(|l| l.trim_start().starts_with('>') || l.trim().is_empty())
        .count();
    if quoted_tail > 0 && quoted_tail < kept.len() {
        kept.truncate(kept.len() - quoted_tail);
    }
    let out = kept.join("\n").trim().to_owned();
    if out.is_empty() {
        text.trim().to_owned()
    } else {
        out
    }
}

fn starts_history(lines: &[&str], i: usize) -> bool {
    let line = lines[i].trim();
    let lower = line.to_lowercase();
    if line.contains(REPLY_ABOVE) || lower.contains("reply above this line") {
        return true;
    }
    if lines[i] == "-- " || line == "--" || line == "__" {
        return true;
    }
    if lower.starts_with("sent from my ") || lower.starts_with("get outlook for ") {
        return true;
    }
    if lower.contains("-----original message-----")
        || lower.contains("-----ursprüngliche nachricht-----")
        || lower.starts_with("________________________________")
    {
        return true;
    }
    if attribution(&lower) {
        return true;
    }
    // Gmail wraps a long attribution over two lines.
    if let Some(next) = lines.get(i + 1)
        && (lower.starts_with("on ") || lower.starts_with("am ") || lower.starts_with("le "))
        && attribution(&format!("{lower} {}", next.trim().to_lowercase()))
    {
        return true;
    }
    outlook_header_block(lines, i)
}

/// `On <date>, <name> wrote:` and its German and French forms.
fn attribution(lower: &str) -> bool {
    let lower = lower.trim_start_matches('>').trim();
    (lower.starts_with("on ") && lower.ends_with("wrote:"))
        || (lower.starts_with("am ")
            && (lower.ends_with("schrieb:") || lower.contains(" schrieb ")))
        || (lower.starts_with("le ") && lower.ends_with("a écrit :"))
        || (lower.starts_with("le ") && lower.ends_with("a écrit:"))
}

/// Outlook's quoted header: `From:` then, within four lines, a `Sent:`/`Date:` and a
/// `To:`/`Subject:` line.
fn outlook_header_block(lines: &[&str], i: usize) -> bool {
    let head = |l: &str, names: &[&str]| {
        let l = l.trim().trim_start_matches('*').to_lowercase();
        names.iter().any(|n| l.starts_with(n))
    };
    if !head(lines[i], &["from:", "von:", "de :", "de:"]) {
        return false;
    }
    let window = &lines[i + 1..lines.len().min(i + 5)];
    window
        .iter()
        .any(|l| head(l, &["sent:", "date:", "gesendet:", "envoyé :"]))
        && window
            .iter()
            .any(|l| head(l, &["to:", "subject:", "an:", "betreff:", "à :", "objet :"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_attribution_and_quote_are_cut() {
        let t = "Thanks, that fixed it.\n\nOn Tue, 1 Dec 2026 at 10:02, Support <support@portal.example> wrote:\n> Please try again.\n> Bye";
        assert_eq!(strip_quoted(t), "Thanks, that fixed it.");
    }

    #[test]
    fn apple_mail_and_thunderbird_attributions_are_cut() {
        let apple = "Done.\n\n> On 1 Dec 2026, at 10:02, Customer Portal <portal@example.test> wrote:\n> \n> Please try again.";
        assert_eq!(strip_quoted(apple), "Done.");
        let apple_top = "Done.\n\nOn 1 Dec 2026, at 10:02, Customer Portal <portal@example.test> wrote:\n\n> Please try again.";
        assert_eq!(strip_quoted(apple_top), "Done.");
        let thunderbird =
            "Done.\n\nOn 01/12/2026 10:02, Customer Portal wrote:\n> Please try again.";
        assert_eq!(strip_quoted(thunderbird), "Done.");
    }

    #[test]
    fn wrapped_attribution_is_cut() {
        let t = "Works now.\n\nOn Tue, Dec 1, 2026 at 10:02 AM Customer Portal <\nsupport@portal.example> wrote:\n\n> old";
        assert_eq!(strip_quoted(t), "Works now.");
    }

    #[test]
    fn outlook_header_block_is_cut() {
        let t = "Still broken on my side.\r\n\r\nFrom: Customer Portal <support@portal.example>\r\nSent: Tuesday, December 1, 2026 10:02 AM\r\nTo: Ann <ann@acme.example>\r\nSubject: [REQ-1001] New reply\r\n\r\nPlease try again.";
        assert_eq!(strip_quoted(t), "Still broken on my side.");
    }

    #[test]
    fn signatures_and_markers_are_cut() {
        let t = "Yes please.\n-- \nAnn Example\nAcme Ltd";
        assert_eq!(strip_quoted(t), "Yes please.");
        let t = format!("Above.\n\n{REPLY_ABOVE}\n\nBelow");
        assert_eq!(strip_quoted(&t), "Above.");
        assert_eq!(strip_quoted("Ok\n\nSent from my iPhone"), "Ok");
        assert_eq!(
            strip_quoted("Danke!\n\nAm 01.12.2026 um 10:02 schrieb Support <s@p.example>:\n> x"),
            "Danke!"
        );
    }

    #[test]
    fn a_trailing_quote_block_is_cut_but_interleaved_answers_stay() {
        assert_eq!(strip_quoted("Fine.\n\n> old\n> older\n"), "Fine.");
        let t = "> Which version?\n2.4\n> And the browser?\nFirefox";
        assert_eq!(strip_quoted(t), t);
    }

    #[test]
    fn a_message_that_only_quotes_is_kept_whole() {
        assert_eq!(strip_quoted("> only\n> quotes"), "> only\n> quotes");
    }
}
