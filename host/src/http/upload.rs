//! Reading a `multipart/form-data` body: text fields and files, with the attachment limits
//! enforced while the body streams in, so an oversized file is refused before it is read whole.

use super::ApiError;
use crate::requests::files::{AttachmentLimits, Upload, sanitize_file_name};
use axum::extract::Multipart;
use axum::http::StatusCode;
use std::collections::HashMap;

/// A multipart form as far as it could be read.
#[derive(Debug, Default)]
pub struct Read {
    pub fields: HashMap<String, String>,
    pub uploads: Vec<Upload>,
    /// Why reading stopped early (a file over the limits, a malformed body); the fields read
    /// before it are kept, so a page can show the form again as it was filled in.
    pub error: Option<ApiError>,
}

impl Read {
    pub fn into_result(self) -> Result<(HashMap<String, String>, Vec<Upload>), ApiError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok((self.fields, self.uploads)),
        }
    }
}

/// The text fields and files of a multipart form. Empty file inputs (a form submitted without
/// choosing a file) are skipped.
pub async fn read(form: Multipart, limits: AttachmentLimits, file_field: &str) -> Read {
    let mut r = Read::default();
    if let Err(e) = read_into(form, limits, file_field, &mut r).await {
        r.error = Some(e);
    }
    r
}

async fn read_into(
    mut form: Multipart,
    limits: AttachmentLimits,
    file_field: &str,
    r: &mut Read,
) -> Result<(), ApiError> {
    let (fields, uploads) = (&mut r.fields, &mut r.uploads);
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(format!(
                "The upload is too large: attach at most {} files of up to {} each.",
                limits.max_files,
                limits.describe_size()
            ))
        } else {
            ApiError::bad_request("invalid_form", e.body_text())
        }
    };
    while let Some(mut field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name != file_field {
            let value = field.text().await.map_err(bad)?;
            fields.insert(name, value);
            continue;
        }
        let file_name = sanitize_file_name(field.file_name().unwrap_or_default());
        let content_type = field
            .content_type()
            .filter(|t| t.len() <= 100 && t.is_ascii())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            if bytes.len() + chunk.len() > limits.max_file_bytes {
                return Err(too_large(limits.too_large(&file_name)));
            }
            bytes.extend_from_slice(&chunk);
        }
        if bytes.is_empty() && field_was_empty(&file_name) {
            continue;
        }
        if uploads.len() == limits.max_files {
            return Err(too_large(limits.too_many()));
        }
        uploads.push(Upload {
            file_name,
            content_type,
            bytes,
        });
    }
    Ok(())
}

/// A browser sends an empty part with no file name when no file was chosen.
fn field_was_empty(file_name: &str) -> bool {
    file_name == "attachment"
}

fn too_large(message: String) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "attachment_too_large",
        message,
    )
}
