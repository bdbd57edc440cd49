//! The operators' email pages: mail given up on, mail read from the support mailbox, and the
//! answer to unknown senders.

use super::*;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/mail", get(mail_page))
        .route("/staff/mail/received", get(received_mail_page))
        .route("/staff/mail/bouncing/clear", post(clear_bouncing))
        .route(
            "/staff/mail/wording",
            get(mail_wording_page).post(save_mail_wording),
        )
}

/// Email the outbox stopped trying to deliver, with the reason, for operators to act on (fix
/// the address, tell the person another way).
async fn mail_page(v: Visit) -> Response {
    let me = match v.require_active("/staff/mail") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let mail = match v.state.accounts.undelivered_mail(me).await {
        Ok(m) => m,
        Err(e) => return error_page(e),
    };
    let mut page = TablePage::new(
        v.layout(&v.t("mail-undelivered")),
        &v.t("mail-undelivered"),
        &v.t("mail-undelivered-none"),
        vec![
            "col-given-up",
            "col-to",
            "col-subject",
            "col-attempts",
            "col-reason",
        ],
    );
    page.rows = mail
        .into_iter()
        .map(|m| Row {
            id: m.id,
            label: m.to_addr.clone(),
            href: None,
            cells: vec![
                v.when(m.failed_at),
                m.to_addr,
                m.subject,
                m.attempts.to_string(),
                m.last_error.unwrap_or_default(),
            ],
        })
        .collect();
    v.render(StatusCode::OK, page)
}

/// Email read from the support mailbox and what became of each, then the addresses bounces
/// reported as undeliverable (shown first: they need an operator).
async fn received_mail_page(v: Visit) -> Response {
    let me = match v.require_active("/staff/mail/received") {
        Ok(me) => me,
        Err(r) => return r,
    };
    received_mail_view(&v, me, None, None).await
}

/// Mail to an address marked as bouncing is not sent; an operator who knows the mailbox works
/// again clears the mark here.
async fn clear_bouncing(v: Visit, f: Posted) -> Response {
    let me = match v.require_active("/staff/mail/received") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let email = f.get("email");
    match v.state.accounts.clear_bouncing(me, email, &v.client).await {
        Ok(true) => {
            let notice = v.ta("mail-bouncing-cleared", &[("email", email.into())]);
            received_mail_view(&v, me, None, Some(notice)).await
        }
        Ok(false) => {
            let error = v.ta("mail-bouncing-unknown", &[("email", email.into())]);
            received_mail_view(&v, me, Some(error), None).await
        }
        Err(e) => error_page(e),
    }
}

async fn received_mail_view(
    v: &Visit,
    me: &Me,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let (received, bouncing) = match v.state.accounts.received_mail(me).await {
        Ok(m) => m,
        Err(e) => return error_page(e),
    };
    let mut page = TablePage::new(
        v.layout(&v.t("mail-received")),
        &v.t("mail-received"),
        &v.t("mail-received-none"),
        vec![
            "col-received",
            "col-from",
            "col-subject",
            "col-outcome",
            "col-why",
            "col-request",
        ],
    );
    let bounced = bouncing.into_iter().enumerate().map(|(i, b)| Row {
        id: -(i as i64) - 1,
        label: b.email.clone(),
        href: None,
        cells: vec![
            v.when(b.bouncing_since),
            b.email,
            "(address marked as bouncing)".into(),
            "bouncing".into(),
            b.bounce_reason.unwrap_or_default(),
            String::new(),
        ],
    });
    let read = received.into_iter().map(|m| Row {
        id: m.id,
        label: m.from_addr.clone(),
        href: m.request_id.map(|id| format!("/requests/{id}")),
        cells: vec![
            v.when(m.received_at),
            m.from_addr,
            m.subject,
            m.outcome,
            m.reason,
            m.request_id
                .map(crate::requests::number)
                .unwrap_or_default(),
        ],
    });
    page.rows = bounced.chain(read).collect();
    page.forms = vec![FormSpec {
        action: "/staff/mail/bouncing/clear".into(),
        title: v.t("mail-bouncing-title"),
        button: v.t("mail-bouncing-clear"),
        fields: vec![Field::new("email", "field-email", "email", true)],
    }];
    let status = if error.is_some() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    page.error = error;
    page.notice = notice;
    v.render(status, page)
}

#[derive(Template)]
#[template(path = "mail_wording.html")]
struct MailWordingPage {
    layout: Layout,
    error: Option<String>,
    notice: Option<String>,
    text: String,
    built_in: &'static str,
}

/// The answer to mail from unknown senders, for operators to word.
async fn mail_wording_page(v: Visit) -> Response {
    mail_wording_view(&v, None, None, None).await
}

async fn mail_wording_view(
    v: &Visit,
    error: Option<String>,
    notice: Option<String>,
    draft: Option<String>,
) -> Response {
    let me = match v.require_active("/staff/mail/wording") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let (current, built_in) = match v.state.accounts.join_wording(me).await {
        Ok(w) => w,
        Err(e) => return error_page(e),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = MailWordingPage {
        layout: v.layout(&v.t("wording-title")),
        error,
        notice,
        text: draft.or(current).unwrap_or_default(),
        built_in,
    };
    v.render(status, page)
}

async fn save_mail_wording(v: Visit, f: Posted) -> Response {
    let me = match v.require_active("/staff/mail/wording") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    let text = f.get("join").to_owned();
    match v
        .state
        .accounts
        .set_join_wording(&me, &v.client, &text)
        .await
    {
        Ok(()) => mail_wording_view(&v, None, Some(v.t("wording-saved")), None).await,
        Err(e) => match visible(&v, e) {
            Ok((msg, _)) => mail_wording_view(&v, Some(msg), None, Some(text)).await,
            Err(page) => page,
        },
    }
}
