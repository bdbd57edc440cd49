//! Saved replies: answers staff keep, their own or shared, to insert into the composer.

use super::*;
use crate::db::saved_replies::SavedReply;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/replies", get(replies_page).post(add_reply))
        .route("/staff/replies/{id}/delete", post(delete_reply))
}

#[derive(Template)]
#[template(path = "saved_replies.html")]
struct RepliesPage {
    layout: Layout,
    replies: Vec<SavedReply>,
    error: Option<String>,
    title: String,
    body: String,
    shared: bool,
}

async fn replies_view(
    v: &Visit,
    me: &Me,
    status: StatusCode,
    error: Option<String>,
    form: Option<&Posted>,
) -> Response {
    let replies = match v.state.requests.saved_replies(me).await {
        Ok(r) => r,
        Err(e) => return failed(v, e),
    };
    let field = |k: &str| form.map(|f| f.get(k).to_owned()).unwrap_or_default();
    v.render(
        status,
        RepliesPage {
            layout: v.layout(&v.t("nav-saved-replies")),
            replies,
            error,
            title: field("title"),
            body: field("body"),
            shared: form.is_some_and(|f| f.checked("shared")),
        },
    )
}

async fn replies_page(v: Visit) -> Response {
    match active(&v, "/staff/replies") {
        Ok(me) => replies_view(&v, &me, StatusCode::OK, None, None).await,
        Err(r) => r,
    }
}

async fn add_reply(v: Visit, f: Posted) -> Response {
    let me = match active(&v, "/staff/replies") {
        Ok(me) => me,
        Err(r) => return r,
    };
    match v
        .state
        .requests
        .save_reply(&me, f.get("title"), f.get("body"), f.checked("shared"))
        .await
    {
        Ok(_) => see_other("/staff/replies"),
        Err(e @ (RequestError::Invalid(..) | RequestError::Input(_))) => {
            let api = ApiError::from(e);
            replies_view(&v, &me, api.status, Some(v.error_words(&api)), Some(&f)).await
        }
        Err(e) => failed(&v, e),
    }
}

async fn delete_reply(v: Visit, Path(id): Path<i64>, _f: Posted) -> Response {
    let me = match active(&v, "/staff/replies") {
        Ok(me) => me,
        Err(r) => return r,
    };
    match v.state.requests.delete_saved_reply(&me, id).await {
        Ok(()) => see_other("/staff/replies"),
        Err(e) => failed(&v, e),
    }
}
