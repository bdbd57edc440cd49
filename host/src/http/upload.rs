//! Reading a `multipart/form-data` body: text fields and files. Callers check who is posting
//! before calling this (not a byte of the body is read for a stranger). Files stream to the
//! staging folder as they arrive, hashed on the way and counted against the process's upload
//! budget; the attachment limits are enforced while the body streams in, so an oversized file
//! is refused before it is read whole, and nothing of a file is ever held in memory. Each person
//! holds at most a share of the budget, and a body that trickles in below the server's minimum
//! rate is cut off (see `server`), so slow uploads never keep everyone else's out.

use super::ApiError;
use crate::domain::text;
use crate::requests::files::{
    Budget, Files, StageError, Upload, picture_type, sanitize_file_name, sniff_picture,
};
use axum::extract::Multipart;
use axum::http::StatusCode;
use std::collections::HashMap;

/// The longest text field of a multipart form: a 20,000-character message in any script.
const TEXT_FIELD_LIMIT: usize = 128 * 1024;

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

/// The text fields and files of a multipart form whose body declared `length` bytes (its
/// `Content-Length`, if any), sent by person `owner` (whose share of the upload budget it
/// uses). Empty file inputs (a form submitted without choosing a file) are skipped.
pub async fn read(
    form: Multipart,
    length: Option<u64>,
    files: &Files,
    file_field: &str,
    owner: i64,
) -> Read {
    let mut r = Read::default();
    let limits = files.limits;
    if length.is_some_and(|l| l > limits.body_limit() as u64) {
        r.error = Some(too_large(format!(
            "The upload is too large: attach at most {} files of up to {} each.",
            limits.max_files,
            limits.describe_size()
        )));
        return r;
    }
    let result = match files.reserve(Some(owner), length) {
        Ok(mut budget) => read_into(form, files, &mut budget, file_field, &mut r).await,
        Err(e) => Err(refused(e)),
    };
    if let Err(e) = result {
        r.error = Some(e);
        // Files already staged are removed as they drop; their budget goes back.
        r.uploads.clear();
    }
    r
}

async fn read_into(
    mut form: Multipart,
    files: &Files,
    budget: &mut Budget,
    file_field: &str,
    r: &mut Read,
) -> Result<(), ApiError> {
    let limits = files.limits;
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
            let mut value = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                if value.len() + chunk.len() > TEXT_FIELD_LIMIT {
                    return Err(ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        format!("`{name}`: at most {} KiB.", TEXT_FIELD_LIMIT >> 10),
                    ));
                }
                value.extend_from_slice(&chunk);
            }
            let value = String::from_utf8(value).map_err(|_| {
                ApiError::bad_request("invalid_form", format!("`{name}` is not UTF-8 text."))
            })?;
            if let Some(bad) = text::find_nul([(name.as_str(), value.as_str())]) {
                return Err(bad.into());
            }
            fields.insert(name, value);
            continue;
        }
        let Some(sent_name) = field.file_name() else {
            return Err(ApiError::bad_request(
                "invalid_form",
                format!("`{file_field}` parts must be files (with a file name)."),
            )
            .with_field(file_field));
        };
        let file_name = sanitize_file_name(sent_name);
        let mut content_type = field
            .content_type()
            .filter(|t| t.len() <= 100 && t.is_ascii() && !t.contains(['\r', '\n']))
            .unwrap_or("application/octet-stream")
            .to_owned();
        if uploads.len() == limits.max_files {
            // Only a real file counts: browsers send an empty part when none was chosen.
            if field
                .chunk()
                .await
                .map_err(bad)?
                .is_some_and(|c| !c.is_empty())
            {
                return Err(too_large(limits.too_many()));
            }
            continue;
        }
        let mut staging = files
            .stage()
            .map_err(|e| super::storage_error(e, "staging an upload"))?;
        let mut head = Vec::with_capacity(PICTURE_HEAD);
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            let wanted = PICTURE_HEAD.saturating_sub(head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..wanted]);
            if staging.size() + chunk.len() as u64 > limits.max_file_bytes as u64 {
                return Err(too_large(limits.too_large(&file_name)));
            }
            staging.write(&chunk, budget).await.map_err(refused)?;
        }
        if staging.size() == 0 && field_was_empty(&file_name) {
            continue;
        }
        let (staged, budget) = staging
            .finish()
            .await
            .map_err(|e| super::storage_error(e, "staging an upload"))?;
        // A file sent as a picture is kept as one only when its bytes are that picture, so
        // the page shows only real pictures.
        if picture_type(&content_type).is_some()
            && sniff_picture(&head) != picture_type(&content_type)
        {
            content_type = "application/octet-stream".to_owned();
        }
        uploads.push(Upload {
            file_name,
            content_type,
            staged,
            budget,
        });
    }
    Ok(())
}

/// The bytes a picture's format is told from.
const PICTURE_HEAD: usize = 12;

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

/// The length a request declares, for [`read`].
pub fn declared_length(headers: &axum::http::HeaderMap) -> Option<u64> {
    headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// Why a chunk was not taken, as the API says it.
fn refused(e: StageError) -> ApiError {
    match e {
        StageError::Busy => busy(),
        StageError::Share => ApiError {
            retry_after: Some(30),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "uploads_in_progress",
                "Your other uploads are still on their way, and together they are as much as one person may send at once. Please wait until they have finished.",
            )
        },
        StageError::Io(e) => super::storage_error(e, "staging an upload"),
    }
}

/// The process holds as many upload bytes as it allows.
fn busy() -> ApiError {
    ApiError {
        retry_after: Some(30),
        ..ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "uploads_busy",
            "Many files are being uploaded right now, so this one was not accepted. Please try again in a minute.",
        )
    }
}
