//! The text of every email the portal sends. Each has a plain-text and an HTML part carrying the
//! same words; links are absolute, built from the configured public URL.

use super::Email;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    crate::domain::markdown::escape_into(&mut out, s);
    out
}

/// Paragraphs of text, with at most one link each: `(before, Some((label, url)))`.
fn compose(to: &str, subject: &str, paragraphs: &[(&str, Option<(&str, &str)>)]) -> Email {
    let mut text = String::new();
    let mut html = String::from("<!doctype html><html><body style=\"font-family: sans-serif\">");
    for (words, link) in paragraphs {
        text.push_str(words);
        html.push_str("<p>");
        html.push_str(&esc(words));
        if let Some((label, url)) = link {
            text.push_str(&format!("\n{label}: {url}"));
            html.push_str(&format!(" <a href=\"{}\">{}</a>", esc(url), esc(label)));
        }
        text.push_str("\n\n");
        html.push_str("</p>");
    }
    html.push_str("</body></html>");
    Email {
        to: to.to_owned(),
        subject: subject.to_owned(),
        text,
        html,
        request: None,
        answers_mail: false,
    }
}

pub fn signup_verification(to: &str, link: &str) -> Email {
    compose(
        to,
        "Verify your email to join the Customer Portal",
        &[
            (
                "Someone, hopefully you, asked to join the Customer Portal with this address.",
                None,
            ),
            (
                "The link works once and for 24 hours.",
                Some(("Click here to verify your email and sign up", link)),
            ),
            (
                "If you did not ask to join, ignore this email; nothing will happen.",
                None,
            ),
        ],
    )
}

pub fn signup_existing_account(to: &str, login: &str, reset: &str) -> Email {
    compose(
        to,
        "You already have a Customer Portal account",
        &[
            (
                "Someone asked to join the Customer Portal with this address, but it already has an account.",
                None,
            ),
            ("You can log in with it.", Some(("Log in", login))),
            (
                "If you have forgotten your password, reset it.",
                Some(("Forgot your password?", reset)),
            ),
            (
                "If this was not you, ignore this email; nothing has changed.",
                None,
            ),
        ],
    )
}

pub fn verification_code(to: &str, code: &str) -> Email {
    compose(
        to,
        "Account email verification code",
        &[
            (&format!("Your verification code is {code}"), None),
            (
                "It is valid for 10 minutes. If you did not try to log in, change your password.",
                None,
            ),
        ],
    )
}

pub fn password_reset(to: &str, link: &str) -> Email {
    compose(
        to,
        "Reset your Customer Portal password",
        &[
            (
                "Someone, hopefully you, asked to reset the password of this account.",
                None,
            ),
            (
                "The link works once and for one hour.",
                Some(("Choose a new password", link)),
            ),
            (
                "If you did not ask for this, ignore this email; your password is unchanged.",
                None,
            ),
        ],
    )
}

pub fn approval_needed(to: &str, who: &str, email: &str, site: &str, link: &str) -> Email {
    compose(
        to,
        &format!("New user waiting for activation: {who}"),
        &[
            (
                &format!("{who} <{email}> has signed up for {site} and is waiting for activation."),
                None,
            ),
            (
                "Approve or reject the account.",
                Some(("Approve a New User Account", link)),
            ),
        ],
    )
}

/// To operators: a sign-up the eligibility plugin sent to them, and why.
pub fn review_needed(to: &str, who: &str, email: &str, reason: &str, link: &str) -> Email {
    let who = if who.is_empty() { email } else { who };
    compose(
        to,
        &format!("Sign-up to review: {who}"),
        &[
            (
                &format!(
                    "{who} <{email}> has signed up; the sign-up rule asks staff to review it:"
                ),
                None,
            ),
            (reason, None),
            (
                "Approve it for a site, or refuse it. The person is emailed either way.",
                Some(("Review the sign-up", link)),
            ),
        ],
    )
}

pub fn account_activated(to: &str, login: &str) -> Email {
    compose(
        to,
        "Your Customer Portal account is active",
        &[(
            "Your account has been activated. You can now log in.",
            Some(("Log in", login)),
        )],
    )
}

pub fn account_rejected(to: &str) -> Email {
    compose(
        to,
        "Your Customer Portal sign-up was not approved",
        &[(
            "Your request to join the Customer Portal was not approved. If you think this is a mistake, contact your local representative.",
            None,
        )],
    )
}

pub fn invitation(to: &str, site: &str, link: &str) -> Email {
    compose(
        to,
        "Welcome to the Customer Portal",
        &[
            (
                &format!("You have been invited to the Customer Portal for {site}."),
                None,
            ),
            (
                "Sign in to choose your password. The link works once and for 72 hours.",
                Some(("Sign in", link)),
            ),
        ],
    )
}

pub fn invitation_with_password(to: &str, site: &str, password: &str, login: &str) -> Email {
    compose(
        to,
        "Welcome to the Customer Portal",
        &[
            (
                &format!("You have been invited to the Customer Portal for {site}."),
                None,
            ),
            (
                &format!("Username: {to}\nTemporary password: {password}"),
                None,
            ),
            (
                "You must choose a new password when you first sign in. The temporary password expires after 72 hours.",
                Some(("Sign in", login)),
            ),
        ],
    )
}

/// The acknowledgement of a new request, to its requester.
pub fn request_received(to: &str, number: &str, subject: &str, link: &str) -> Email {
    compose(
        to,
        &format!("[{number}] We received your request: {subject}"),
        &[
            (
                &format!(
                    "Thank you. Your request {number}, \"{subject}\", has reached our support team."
                ),
                None,
            ),
            (
                "We will reply by email; you can follow the request in the Customer Portal.",
                Some(("Open the request", link)),
            ),
        ],
    )
}

/// A public reply by support staff, to the requester; `status` names the request's new status
/// when the reply moved it.
pub fn staff_reply(
    to: &str,
    number: &str,
    subject: &str,
    author: &str,
    body: &str,
    status: Option<&str>,
    link: &str,
) -> Email {
    let said = format!("{author} replied to your request {number}, \"{subject}\":");
    let status = status.map(|s| format!("The request is now {s}."));
    let mut paragraphs: Vec<(&str, Option<(&str, &str)>)> = vec![(&said, None), (body, None)];
    if let Some(s) = &status {
        paragraphs.push((s, None));
    }
    paragraphs.push((
        "To answer, open the request in the Customer Portal.",
        Some(("Open the request", link)),
    ));
    compose(to, &format!("[{number}] New reply: {subject}"), &paragraphs)
}

/// A customer's reply, to the assignee (or the staff watching the queue).
pub fn customer_reply(
    to: &str,
    number: &str,
    subject: &str,
    author: &str,
    body: &str,
    link: &str,
) -> Email {
    compose(
        to,
        &format!("[{number}] Customer replied: {subject}"),
        &[
            (
                &format!("{author} added a message to {number}, \"{subject}\":"),
                None,
            ),
            (body, None),
            (
                "Open the request in the Customer Portal.",
                Some(("Open the request", link)),
            ),
        ],
    )
}

/// An email a workflow rule sends (`send-email`), in words operators wrote: `body`'s
/// paragraphs (separated by blank lines), then a link to the request.
pub fn rule_email(to: &str, subject: &str, body: &str, link: &str) -> Email {
    let paragraphs: Vec<&str> = body
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let mut parts: Vec<(&str, Option<(&str, &str)>)> =
        paragraphs.iter().map(|p| (*p, None)).collect();
    parts.push((
        "Open the request in the Customer Portal.",
        Some(("Open the request", link)),
    ));
    compose(to, subject, &parts)
}

/// A status change made by someone other than the requester, to the requester.
pub fn status_changed(to: &str, number: &str, subject: &str, status: &str, link: &str) -> Email {
    compose(
        to,
        &format!("[{number}] Status changed to {status}: {subject}"),
        &[
            (
                &format!("Your request {number}, \"{subject}\", is now {status}."),
                None,
            ),
            (
                "Open the request in the Customer Portal.",
                Some(("Open the request", link)),
            ),
        ],
    )
}

/// A request shared with a colleague of the same site.
pub fn request_shared(to: &str, number: &str, subject: &str, who: &str, link: &str) -> Email {
    compose(
        to,
        &format!("[{number}] Shared with you: {subject}"),
        &[
            (
                &format!(
                    "{who} shared the request {number}, \"{subject}\", with you. You will get its replies and status changes as they choose to email you."
                ),
                None,
            ),
            (
                "Open the request in the Customer Portal to read and answer it.",
                Some(("Open the request", link)),
            ),
        ],
    )
}

/// The built-in words of the answer to mail from an address with no active account.
pub const JOIN_WORDING: &str = "Thank you for writing to us. We could not match your address to an active account of the Customer Portal, so your message has not been added to any request.";

/// The answer to mail from an address that has no active account: how to join. Sent at most
/// once a day to an address. `wording` replaces the built-in first paragraphs (blank lines
/// separate paragraphs); the link to join always follows.
pub fn join_the_portal(to: &str, signup: &str, wording: Option<&str>) -> Email {
    let words = wording.unwrap_or(JOIN_WORDING).replace("\r\n", "\n");
    let mut paragraphs: Vec<(&str, Option<(&str, &str)>)> = words
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| (p, None))
        .collect();
    paragraphs.push((
        "Join the portal with this address, then write again or raise your request there.",
        Some(("Join the Customer Portal", signup)),
    ));
    // Nothing the sender wrote is quoted: mail with a forged sender must not carry a stranger's
    // words to someone else.
    compose(to, "Your message to our support team", &paragraphs).answering()
}

/// To operators: a webhook endpoint failed for a day and was disabled.
pub fn webhook_disabled(to: &str, url: &str, reason: &str, link: &str) -> Email {
    compose(
        to,
        "A webhook endpoint was disabled",
        &[
            (
                &format!("The webhook endpoint {url} was disabled: {reason}"),
                None,
            ),
            (
                "Nothing more is sent to it. Once the receiver works again, turn it back on and send again what it missed from its delivery log.",
                Some(("Open the endpoint", link)),
            ),
        ],
    )
}

/// The answer to mail that could not be accepted, saying why (in the help desk's words only).
pub fn mail_not_accepted(to: &str, reason: &str) -> Email {
    compose(
        to,
        "Your message to our support team was not accepted",
        &[
            (
                "Your message to our support team could not be accepted:",
                None,
            ),
            (reason, None),
            (
                "Nothing was added to any request. Please correct this and send it again.",
                None,
            ),
        ],
    )
    .answering()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_part_escapes_and_text_part_carries_the_link() {
        let m = signup_verification("a@example.com", "https://portal.example/join/abc?x=1&y=<2>");
        assert!(m.text.contains(
            "Click here to verify your email and sign up: https://portal.example/join/abc?x=1&y=<2>"
        ));
        assert!(
            m.html
                .contains("href=\"https://portal.example/join/abc?x=1&amp;y=&lt;2&gt;\"")
        );
    }
}
