//! The reader's language and time zone: saved per person on the preferences page, or picked by
//! anyone in the footer's language switch.

use super::*;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/preferences", get(preferences_page).post(save_preferences))
        .route("/language", post(switch_language))
}

#[derive(Template)]
#[template(path = "preferences.html")]
struct PreferencesPage {
    layout: Layout,
    notice: Option<String>,
    error: Option<String>,
    language: String,
    time_zone: String,
    zones: &'static [String],
    /// The time now, as the saved zone shows it.
    now: String,
}

#[derive(serde::Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

fn preferences_view(
    v: &Visit,
    me: &Me,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let now = v.state.accounts.clock.now_ms();
    v.render(
        status,
        PreferencesPage {
            layout: v.layout(&v.t("preferences-title")),
            notice,
            error,
            language: me.language.clone().unwrap_or_default(),
            time_zone: me.time_zone.clone().unwrap_or_default(),
            zones: crate::i18n::time_zones(),
            now: v.when(now),
        },
    )
}

async fn preferences_page(
    v: Visit,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> Response {
    let me = match v.require_active("/preferences") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let notice = q.saved.is_some().then(|| v.t("preferences-saved"));
    preferences_view(&v, me, StatusCode::OK, None, notice)
}

async fn save_preferences(v: Visit, f: Posted) -> Response {
    let me = match v.require_active("/preferences") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let chosen = |k: &str| Some(f.get(k)).filter(|s| !s.is_empty());
    match v
        .state
        .accounts
        .set_preferences(me, chosen("language"), chosen("time_zone"))
        .await
    {
        // A new page, so that it is already in the language just chosen; the cookie keeps the
        // choice for pages shown before signing in.
        Ok(()) => remembered(
            &v,
            see_other("/preferences?saved=1"),
            chosen("language").and_then(Lang::parse),
        ),
        Err(e) => match visible(&v, e) {
            Ok((msg, _)) => preferences_view(&v, me, StatusCode::BAD_REQUEST, Some(msg), None),
            Err(page) => page,
        },
    }
}

/// The footer's switch: remembered in a cookie for a year, and saved as the preference of
/// whoever is signed in.
async fn switch_language(v: Visit, f: Posted) -> Response {
    let Some(lang) = Lang::parse(f.get("lang")) else {
        return v.render(
            StatusCode::BAD_REQUEST,
            MessagePage::new(
                v.layout(&v.t("sorry")),
                &v.t("sorry"),
                &[&v.t("error-invalid_language")],
                &[("/", &v.t("portal-name"))],
                true,
            ),
        );
    };
    if let Some(me) = v.me.as_ref().filter(|m| m.is_active())
        && let Err(e) = v
            .state
            .accounts
            .set_preferences(me, Some(lang.code()), me.time_zone.as_deref())
            .await
    {
        return error_page(e);
    }
    remembered(&v, see_other(local_path(f.get("next"))), Some(lang))
}

/// `res` with the language cookie set to `lang` for a year, or cleared to follow the browser.
fn remembered(v: &Visit, mut res: Response, lang: Option<Lang>) -> Response {
    let (value, age) = match lang {
        Some(lang) => (lang.code(), 365 * 86_400),
        None => ("", 0),
    };
    res.headers_mut().append(
        SET_COOKIE,
        set_cookie(&v.state.web, LANGUAGE, value, Some(age)),
    );
    res
}
