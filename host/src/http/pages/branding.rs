//! The portal's brand: its name in every page's header and title, the accent colour of its
//! buttons and focus rings, and a logo, set by operators at `/staff/branding` (audited). Every
//! replica reads it from the database, at most a few seconds late.

use super::*;
use crate::db::branding as sql;
use crate::requests::files::sniff_picture;
use axum::extract::{Multipart, State};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/branding", get(branding_page).post(save_branding))
        .route("/brand/logo", get(logo))
        .layer(DefaultBodyLimit::max(MAX_LOGO + 64 * 1024))
}

/// The built-in name, until operators choose one.
pub const DEFAULT_NAME: &str = "Customer Portal";
/// The built-in accent: white text on it has 6.1:1 contrast.
pub const DEFAULT_ACCENT: &str = "#1f5fbf";
/// The largest logo.
const MAX_LOGO: usize = 256 * 1024;
/// How long a replica shows a brand before reading it again.
const FRESH: Duration = Duration::from_secs(5);

/// The brand the pages show.
#[derive(Debug, Clone)]
pub struct Brand {
    pub name: String,
    pub accent: String,
    /// The logo's version (when it was set), for its address; `None` without a logo.
    pub logo: Option<i64>,
}

impl Default for Brand {
    fn default() -> Brand {
        Brand {
            name: DEFAULT_NAME.to_owned(),
            accent: DEFAULT_ACCENT.to_owned(),
            logo: None,
        }
    }
}

/// The brand as last read, and when.
#[derive(Debug, Default)]
pub struct BrandCache(Mutex<Option<(Instant, Arc<Brand>)>>);

impl BrandCache {
    /// The brand, read again when the copy is older than a few seconds (or after a change
    /// made here). A database that does not answer leaves the built-in brand.
    pub async fn get(&self, db: &crate::db::Db) -> Arc<Brand> {
        if let Some((at, brand)) = self.0.lock().expect("brand cache").as_ref()
            && at.elapsed() < FRESH
        {
            return brand.clone();
        }
        let brand = Arc::new(match sql::get(db.pool()).await {
            Ok(Some(row)) => Brand {
                name: row.name,
                accent: row.accent,
                logo: row.logo_type.map(|_| row.updated_at),
            },
            Ok(None) => Brand::default(),
            Err(e) => {
                tracing::warn!(error = %e, "reading the brand failed; showing the built-in one");
                Brand::default()
            }
        });
        *self.0.lock().expect("brand cache") = Some((Instant::now(), brand.clone()));
        brand
    }

    fn forget(&self) {
        *self.0.lock().expect("brand cache") = None;
    }
}

/// `#rrggbb`, dark enough that white text on it reads (WCAG AA, 4.5:1).
fn check_accent(tr: Tr, raw: &str) -> Result<String, String> {
    let hex = raw.trim().trim_start_matches('#').to_ascii_lowercase();
    let channel = |i: usize| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16);
    let (Ok(r), Ok(g), Ok(b)) = (channel(0), channel(2), channel(4)) else {
        return Err(tr.get("branding-accent-form"));
    };
    if hex.len() != 6 {
        return Err(tr.get("branding-accent-form"));
    }
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    let contrast = 1.05 / (luminance + 0.05);
    if contrast < 4.5 {
        return Err(tr.args(
            "branding-accent-contrast",
            &[
                ("hex", hex.as_str().into()),
                ("contrast", format!("{contrast:.1}").as_str().into()),
            ],
        ));
    }
    Ok(format!("#{hex}"))
}

#[derive(Template)]
#[template(path = "branding.html")]
struct BrandingPage {
    layout: Layout,
    error: Option<String>,
    notice: Option<String>,
    name: String,
    accent: String,
    has_logo: bool,
}

fn operator(v: &Visit) -> Result<Me, Response> {
    let me = v.require_active("/staff/branding")?.clone();
    if me.role != Role::Operator {
        return Err(error_page(AuthError::Forbidden));
    }
    Ok(me)
}

async fn branding_view(
    v: &Visit,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
    typed: Option<(String, String)>,
) -> Response {
    let brand = v.state.brand.get(&v.state.db).await;
    let (name, accent) = typed.unwrap_or_else(|| (brand.name.clone(), brand.accent.clone()));
    v.render(
        status,
        BrandingPage {
            layout: v.layout(&v.t("nav-branding")),
            error,
            notice,
            name,
            accent,
            has_logo: brand.logo.is_some(),
        },
    )
}

async fn branding_page(v: Visit) -> Response {
    if let Err(r) = operator(&v) {
        return r;
    }
    branding_view(&v, StatusCode::OK, None, None, None).await
}

/// What the branding form sent.
#[derive(Default)]
struct BrandForm {
    name: String,
    accent: String,
    remove_logo: bool,
    logo: Option<Vec<u8>>,
}

async fn read_form(tr: Tr, mut form: Multipart) -> Result<BrandForm, String> {
    let mut f = BrandForm::default();
    while let Some(mut field) = form.next_field().await.map_err(|e| e.body_text())? {
        match field.name().unwrap_or_default() {
            "logo" => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| e.body_text())? {
                    if bytes.len() + chunk.len() > MAX_LOGO {
                        return Err(tr.get("branding-logo-large"));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                if !bytes.is_empty() {
                    f.logo = Some(bytes);
                }
            }
            name => {
                let name = name.to_owned();
                let value = field.text().await.map_err(|e| e.body_text())?;
                match name.as_str() {
                    "name" => f.name = value,
                    "accent" => f.accent = value,
                    "remove_logo" => f.remove_logo = !value.is_empty(),
                    _ => {}
                }
            }
        }
    }
    Ok(f)
}

async fn save_branding(v: Visit, req: Request) -> Response {
    let me = match operator(&v) {
        Ok(me) => me,
        Err(r) => return r,
    };
    if !upload_csrf_matches(&v, &req) {
        return form_expired(v.tr);
    }
    let form = match Multipart::from_request(req, &v.state).await {
        Ok(form) => form,
        Err(e) => return (StatusCode::BAD_REQUEST, e.body_text()).into_response(),
    };
    let f = match read_form(v.tr, form).await {
        Ok(f) => f,
        Err(e) => return branding_view(&v, StatusCode::BAD_REQUEST, Some(e), None, None).await,
    };
    let typed = Some((f.name.clone(), f.accent.clone()));
    let refuse = |message: String| {
        let typed = typed.clone();
        let v = &v;
        async move { branding_view(v, StatusCode::BAD_REQUEST, Some(message), None, typed).await }
    };
    let name = match crate::domain::text::required(&crate::domain::text::LINK_TITLE, &f.name) {
        Ok(n) => n,
        Err(e) => {
            let api = super::super::ApiError::from(e);
            return refuse(v.error_words(&api).replacen(
                &v.t("field-title"),
                &v.t("branding-name"),
                1,
            ))
            .await;
        }
    };
    let accent = match check_accent(v.tr, &f.accent) {
        Ok(a) => a,
        Err(e) => return refuse(e).await,
    };
    let logo = match &f.logo {
        Some(bytes) => match sniff_picture(bytes) {
            Some(kind) => Some(Some((bytes.as_slice(), kind))),
            None => {
                return refuse(v.t("branding-logo-kind")).await;
            }
        },
        None if f.remove_logo => Some(None),
        None => None,
    };
    let now = crate::db::now_ms();
    if let Err(e) = sql::set(v.state.db.pool(), &name, &accent, logo, now).await {
        return error_page(AuthError::Db(e));
    }
    v.state.brand.forget();
    let detail = format!("name \"{name}\", accent {accent}");
    if let Err(e) = v
        .state
        .accounts
        .audit_operator(&me, &v.client, "branding_changed", &detail)
        .await
    {
        return error_page(e);
    }
    branding_view(&v, StatusCode::OK, None, Some(v.t("branding-saved")), None).await
}

/// The logo, served as the picture its bytes are, sandboxed. Public, and read without a
/// session or the brand: only the bytes are needed.
async fn logo(State(state): State<AppState>) -> Response {
    let found = match sql::logo(state.db.pool()).await {
        Ok(found) => found,
        Err(e) => return error_page(AuthError::Db(e)),
    };
    let Some((bytes, _)) = found else {
        return (StatusCode::NOT_FOUND, "").into_response();
    };
    let Some(kind) = sniff_picture(&bytes) else {
        return (StatusCode::NOT_FOUND, "").into_response();
    };
    (
        [
            (axum::http::header::CONTENT_TYPE, kind),
            (
                axum::http::header::HeaderName::from_static("content-security-policy"),
                "default-src 'none'; sandbox",
            ),
            (axum::http::header::CACHE_CONTROL, "public, max-age=300"),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::check_accent;
    use crate::i18n::Tr;

    #[test]
    fn accents_must_carry_white_text() {
        assert_eq!(check_accent(Tr::default(), "#1F5FBF").unwrap(), "#1f5fbf");
        assert_eq!(check_accent(Tr::default(), "0b6e4f").unwrap(), "#0b6e4f");
        assert!(
            check_accent(Tr::default(), "#ffcc00")
                .unwrap_err()
                .contains("contrast")
        );
        assert!(check_accent(Tr::default(), "#12345").is_err());
        assert!(check_accent(Tr::default(), "red").is_err());
        assert!(check_accent(Tr::default(), "#1f5fbf; }").is_err());
    }
}
