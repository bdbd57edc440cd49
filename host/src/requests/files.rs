//! Attachment bytes: stored once per content (by sha256) behind [`BlobStore`], so an object
//! store can replace the local folder without touching the request code.

use sha2::{Digest, Sha256};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where attachment bytes live. Calls block; the caller runs them on the blocking pool.
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// Stores `bytes` durably and returns their hex sha256. Storing the same bytes twice keeps
    /// one copy.
    fn put(&self, bytes: &[u8]) -> io::Result<String>;
    /// The bytes stored under `sha256`.
    fn get(&self, sha256: &str) -> io::Result<Vec<u8>>;
}

/// Files under a folder, as `<dir>/<first two hex digits>/<sha256>`.
#[derive(Debug)]
pub struct LocalStore {
    dir: PathBuf,
}

impl LocalStore {
    pub fn new(dir: impl Into<PathBuf>) -> LocalStore {
        LocalStore { dir: dir.into() }
    }

    fn path(&self, sha256: &str) -> io::Result<PathBuf> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a sha256 digest",
            ));
        }
        Ok(self.dir.join(&sha256[..2]).join(sha256))
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

impl BlobStore for LocalStore {
    fn put(&self, bytes: &[u8]) -> io::Result<String> {
        let sha = hex(&Sha256::digest(bytes));
        let path = self.path(&sha)?;
        if path.exists() {
            return Ok(sha);
        }
        let folder = path.parent().unwrap_or(&self.dir).to_path_buf();
        std::fs::create_dir_all(&folder)?;
        // Written under a unique name, flushed to disk, then renamed into place: a reader never
        // sees a partial file, and a crash leaves at worst a stray temporary file.
        let tmp = folder.join(format!(".{sha}.{}.tmp", crate::auth::secret::new_token().0));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &path)?;
        sync_dir(&folder)?;
        Ok(sha)
    }

    fn get(&self, sha256: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.path(sha256)?)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How many files one message may carry, and how large each may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentLimits {
    pub max_file_bytes: usize,
    pub max_files: usize,
}

impl Default for AttachmentLimits {
    fn default() -> Self {
        AttachmentLimits {
            max_file_bytes: 10 << 20,
            max_files: 5,
        }
    }
}

impl AttachmentLimits {
    /// The largest request body a message with attachments can need, with room for the text.
    pub fn body_limit(&self) -> usize {
        self.max_file_bytes
            .saturating_mul(self.max_files)
            .saturating_add(1 << 20)
    }

    /// Why a message with too many files is refused.
    pub fn too_many(&self) -> String {
        format!("Attach at most {} files to one message.", self.max_files)
    }

    /// Why the file `name` is refused for its size.
    pub fn too_large(&self, name: &str) -> String {
        format!(
            "{name} is larger than the {} limit for one file.",
            self.describe_size()
        )
    }

    pub fn describe_size(&self) -> String {
        let b = self.max_file_bytes;
        if b >= 1 << 20 && b.is_multiple_of(1 << 20) {
            format!("{} MiB", b >> 20)
        } else if b >= 1 << 10 && b.is_multiple_of(1 << 10) {
            format!("{} KiB", b >> 10)
        } else {
            format!("{b} bytes")
        }
    }
}

/// The attachment store and its limits.
#[derive(Debug, Clone)]
pub struct Files {
    pub store: Arc<dyn BlobStore>,
    pub limits: AttachmentLimits,
}

/// A file someone sent with a message.
#[derive(Debug, Clone)]
pub struct Upload {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A file name safe to store and to send back: the last path segment only, without control
/// characters or quotes, at most 120 characters; `attachment` when nothing is left.
pub fn sanitize_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | '|' | '*' | '?' | ':'))
        .take(120)
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    if trimmed.is_empty() {
        "attachment".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// A `Content-Disposition` value that makes browsers download `name` rather than show it.
pub fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_paths_and_dangerous_characters() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(
            sanitize_file_name("C:\\Users\\ann\\report.pdf"),
            "report.pdf"
        );
        assert_eq!(sanitize_file_name("a\"b\r\nc.txt"), "abc.txt");
        assert_eq!(sanitize_file_name(".htaccess"), "htaccess");
        assert_eq!(sanitize_file_name("..."), "attachment");
        assert_eq!(sanitize_file_name(""), "attachment");
        assert_eq!(sanitize_file_name(&"x".repeat(500)).len(), 120);
        assert_eq!(
            sanitize_file_name("Übersicht 2026.xlsx"),
            "Übersicht 2026.xlsx"
        );
    }

    #[test]
    fn disposition_always_downloads() {
        assert_eq!(
            content_disposition("Übersicht.txt"),
            "attachment; filename=\"_bersicht.txt\"; filename*=UTF-8''%C3%9Cbersicht.txt"
        );
    }

    #[test]
    fn local_store_keeps_one_copy_per_content() -> io::Result<()> {
        let dir = std::env::temp_dir().join(format!("blobs-{}", std::process::id()));
        let store = LocalStore::new(&dir);
        let a = store.put(b"hello")?;
        let b = store.put(b"hello")?;
        assert_eq!(a, b);
        assert_eq!(store.get(&a)?, b"hello");
        assert!(store.get("../../etc/passwd").is_err());
        std::fs::remove_dir_all(dir)?;
        Ok(())
    }
}
