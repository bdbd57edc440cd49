//! What the contract says of an action's form, whatever the request.

use super::*;

fn email(to: Vec<Recipient>, wordings: Vec<Wording>) -> Action {
    Action::SendEmail { to, wordings }
}

fn wording(language: &str, subject: &str, body: &str) -> Wording {
    Wording {
        language: language.into(),
        subject: subject.into(),
        body: body.into(),
    }
}

#[test]
fn an_email_of_the_contracts_form_passes() {
    let ok = email(
        vec![
            Recipient::Requester,
            Recipient::SiteAdmins,
            Recipient::Address("crm@vendor.example".into()),
        ],
        vec![wording(
            "en",
            "Waiting: {subject}",
            "Hello {name}.\n\nReply.",
        )],
    );
    assert_eq!(ok.check_form(&[]), Ok(()));
}

#[test]
fn an_email_out_of_form_is_refused_saying_why() {
    let hello = || vec![wording("en", "Hello", "Hi.")];
    let cases = [
        (email(Vec::new(), hello()), "1 to 10 recipients, not 0"),
        (
            email(vec![Recipient::Requester; 11], hello()),
            "1 to 10 recipients, not 11",
        ),
        (
            email(vec![Recipient::Requester], Vec::new()),
            "1 to 8 wordings, not 0",
        ),
        (
            email(vec![Recipient::Address("someone".into())], hello()),
            "\"someone\" is not an email address",
        ),
        (
            email(
                vec![Recipient::Address("a@b.example>, c@d.example".into())],
                hello(),
            ),
            "is not an email address",
        ),
        (
            email(
                vec![Recipient::Requester],
                vec![wording("en", "Two\nlines", "Hi.")],
            ),
            "subject must be one line",
        ),
        (
            email(
                vec![Recipient::Requester],
                vec![wording("en", &"x".repeat(201), "Hi.")],
            ),
            "subject must be one line of 1 to 200 characters",
        ),
        (
            email(
                vec![Recipient::Requester],
                vec![wording("en", "Hello", &"x".repeat(MAX_EMAIL_BODY + 1))],
            ),
            "at most 16384 are allowed",
        ),
        (
            email(
                vec![Recipient::Requester],
                vec![wording("", "Hello", "Hi.")],
            ),
            "is not a language code",
        ),
    ];
    for (action, why) in cases {
        let err = action.check_form(&[]).unwrap_err();
        assert!(err.contains(why), "{err:?} should say {why:?}");
    }
}

#[test]
fn a_note_and_a_webhook_call_are_checked_too() {
    let note = |text: &str| Action::AddNote { text: text.into() };
    assert_eq!(note("**Renewal**").check_form(&[]), Ok(()));
    assert!(note("  ").check_form(&[]).is_err());
    assert!(
        note(&"x".repeat(MAX_NOTE_BYTES + 1))
            .check_form(&[])
            .is_err()
    );
    let call = |name: &str| Action::CallWebhook {
        endpoint: 7,
        name: name.into(),
    };
    assert_eq!(call("renewal").check_form(&[]), Ok(()));
    let err = call("Renewal!").check_form(&[]).unwrap_err();
    assert!(err.contains("the call name \"Renewal!\""), "{err}");
}

#[test]
fn the_readers_language_is_picked_then_english_then_the_first() {
    let all = [
        wording("fr", "Bonjour", ""),
        wording("en", "Hello", ""),
        wording("de", "Hallo", ""),
    ];
    let subject = |language: &str| Wording::pick(&all, language).map(|w| w.subject.as_str());
    assert_eq!(subject("de"), Some("Hallo"));
    assert_eq!(subject("DE"), Some("Hallo"));
    assert_eq!(subject("it"), Some("Hello"));
    assert_eq!(subject(""), Some("Hello"));
    let no_english = [wording("fr", "Bonjour", ""), wording("de", "Hallo", "")];
    assert_eq!(
        Wording::pick(&no_english, "it").map(|w| w.subject.as_str()),
        Some("Bonjour")
    );
    assert!(Wording::pick(&[], "en").is_none());
}

#[test]
fn actions_read_and_write_as_examples_json_states_them() {
    let json = r#"[{"action":"send-email","to":["requester",{"address":"crm@vendor.example"}],"wordings":[{"language":"en","subject":"S","body":"B"}]},{"action":"call-webhook","endpoint":7,"name":"renewal"},{"action":"add-note","text":"N"}]"#;
    let actions: Vec<Action> = serde_json::from_str(json).unwrap();
    assert_eq!(
        actions[0],
        email(
            vec![
                Recipient::Requester,
                Recipient::Address("crm@vendor.example".into())
            ],
            vec![wording("en", "S", "B")]
        )
    );
    assert_eq!(actions[1].name(), "call-webhook");
    assert_eq!(actions[2].name(), "add-note");
    assert_eq!(serde_json::to_string(&actions).unwrap(), json);
}
