//! Attachment bytes: stored once per content (by sha256) behind [`BlobStore`], so an object
//! store can replace the local folder without touching the request code. Uploads stream to a
//! staging folder while they are hashed, under a process-wide budget of bytes in flight, and
//! only complete files reach the store; nothing of an upload is held in memory.

use crate::domain::text;
mod budget;
mod local;
pub mod s3;
pub use budget::{Budget, Held, StageError, Staging};
use budget::{Shares, units};
pub use local::LocalStore;
use sha2::{Digest, Sha256};
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::Semaphore;

/// What a [`BlobStore`] call returns: its work may block or wait on the network.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = io::Result<T>> + Send + 'a>>;

/// A stored file's bytes, read as they are sent.
pub type Reader = Pin<Box<dyn tokio::io::AsyncRead + Send>>;

/// How much of a file a download reads at a time: large enough that a file on disk is not read
/// in thousands of trips to the blocking pool.
pub const READ_CHUNK: usize = 64 << 10;

/// Where attachment bytes live.
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// Stores a complete, flushed staged file under its sha256. Storing content that is
    /// already stored keeps one copy and marks it as just used, so that the orphan sweep leaves
    /// it alone while the row that will reference it commits.
    fn put(&self, staged: Staged) -> Pending<'_, ()>;
    /// The bytes stored under `sha256`, and their length.
    fn open<'a>(&'a self, sha256: &'a str) -> Pending<'a, (Reader, u64)>;
    /// Blobs not stored or used since `before`; also removes leftovers of interrupted writes
    /// older than that.
    fn stale(&self, before: SystemTime) -> Pending<'_, Vec<String>>;
    /// Takes a stale blob out of use, so that no new upload can start relying on it; `None`
    /// when it was used again since `before` (it stays) or is gone.
    fn retire<'a>(&'a self, sha256: &'a str, before: SystemTime) -> Pending<'a, Option<Retired>>;
    /// Puts a retired blob back.
    fn restore(&self, retired: Retired) -> Pending<'_, ()>;
    /// Deletes a retired blob for good.
    fn purge(&self, retired: Retired) -> Pending<'_, ()>;
    /// Whether the store answers, asked once at start.
    fn check(&self) -> Pending<'_, ()> {
        Box::pin(async { Ok(()) })
    }
}

/// A blob taken out of use by [`BlobStore::retire`].
#[derive(Debug)]
pub struct Retired {
    pub sha256: String,
    /// Where the store keeps it meanwhile.
    pub at: String,
}

/// An upload written in full to the staging folder, flushed, and hashed. The file is removed
/// when this is dropped, unless a store took it.
#[derive(Debug)]
pub struct Staged {
    pub path: tempfile::TempPath,
    pub sha256: String,
    pub size: u64,
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
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

/// The attachment store, its limits, where uploads are staged, and the budget of upload bytes
/// the whole process may hold on disk before they are stored.
#[derive(Debug, Clone)]
pub struct Files {
    pub store: Arc<dyn BlobStore>,
    pub limits: AttachmentLimits,
    pub staging: PathBuf,
    /// Permits of [`BUDGET_UNIT`] bytes.
    pub budget: Arc<Semaphore>,
    /// Each person's share of it.
    shares: Arc<Shares>,
    /// A change failed for want of room after its files were stored: sweep soon, not in an hour.
    sweep_soon: Arc<std::sync::atomic::AtomicBool>,
}

/// The budget counts upload bytes in units of this size.
pub const BUDGET_UNIT: usize = 64 * 1024;

/// How long a blob no row references is kept: far longer than an upload takes from its file
/// being stored to its row committing (milliseconds).
pub const ORPHAN_GRACE: Duration = Duration::from_secs(10 * 60);

impl Files {
    pub fn new(
        store: Arc<dyn BlobStore>,
        limits: AttachmentLimits,
        staging: PathBuf,
        in_flight_bytes: usize,
    ) -> Files {
        let total = (in_flight_bytes / BUDGET_UNIT).max(1);
        // One person may hold an eighth of the budget, and at least one whole message.
        let share = (total / 8).max(limits.body_limit().div_ceil(BUDGET_UNIT));
        Files {
            store,
            limits,
            staging,
            budget: Arc::new(Semaphore::new(total)),
            shares: Arc::new(Shares::new(share)),
            sweep_soon: Arc::default(),
        }
    }

    /// Asks for the orphan sweep at the next look: files were stored for a change that could
    /// not commit, and the disk is short of room.
    pub fn sweep_soon(&self) {
        self.sweep_soon
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether a sweep was asked for since the last time this was called.
    pub fn take_sweep_soon(&self) -> bool {
        self.sweep_soon
            .swap(false, std::sync::atomic::Ordering::Relaxed)
    }

    /// Reserves the budget of one request's uploads, by `owner` (a person's id): its declared
    /// length up front, so that concurrent uploads are admitted whole or refused at once
    /// (rather than all starving half-way); a request that declared no length takes budget as
    /// its bytes arrive. A person holds at most a share of the budget, so that one person's
    /// slow uploads never keep everyone else's out.
    pub fn reserve(&self, owner: Option<i64>, declared: Option<u64>) -> Result<Budget, StageError> {
        Budget::reserve(
            self.budget.clone(),
            owner.map(|o| self.shares.of(o)),
            declared.filter(|b| *b > 0).map(units),
        )
    }

    /// A file being written to the staging folder.
    pub fn stage(&self) -> io::Result<Staging> {
        std::fs::create_dir_all(&self.staging)?;
        let file = tempfile::Builder::new()
            .prefix("upload-")
            .tempfile_in(&self.staging)?;
        let (file, path) = file.into_parts();
        let mut file = tokio::fs::File::from_std(file);
        // Small writes: 32 uploads at once must not hold megabytes of buffers each.
        file.set_max_buf_size(BUDGET_UNIT);
        Ok(Staging {
            file,
            path,
            hash: Sha256::new(),
            size: 0,
            held: None,
        })
    }

    /// `bytes` staged as a file, for callers that already hold them (generated data, tests).
    pub async fn stage_bytes(&self, bytes: &[u8]) -> io::Result<Staged> {
        let busy = |e| match e {
            StageError::Io(e) => e,
            StageError::Busy | StageError::Share => io::Error::other("upload budget exhausted"),
        };
        let mut budget = self.reserve(None, Some(bytes.len() as u64)).map_err(busy)?;
        let mut s = self.stage()?;
        s.write(bytes, &mut budget).await.map_err(busy)?;
        let (staged, _) = s.finish().await?;
        Ok(staged)
    }

    /// Removes staged files left by a crash (older than `before`: a running upload writes to
    /// its file continuously and commits within seconds of its last byte).
    pub fn clean_staging(&self, before: SystemTime) -> io::Result<usize> {
        let mut removed = 0;
        let Ok(entries) = std::fs::read_dir(&self.staging) else {
            return Ok(0);
        };
        for entry in entries {
            let entry = entry?;
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < before);
            if old && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Deletes blobs that no attachment references and that nobody stored or used for
    /// [`ORPHAN_GRACE`]: the files of uploads whose request never committed (a crash, a
    /// failed transaction). Returns how many went.
    pub async fn sweep(&self, db: &crate::db::Db, grace: Duration) -> Result<usize, SweepError> {
        let before = SystemTime::now() - grace;
        let mut removed = 0;
        for sha in self.store.stale(before).await? {
            if crate::db::requests::blob_in_use(db.pool(), &sha).await? {
                continue;
            }
            let Some(retired) = self.store.retire(&sha, before).await? else {
                continue;
            };
            // A row may have committed between the check and the retirement.
            if crate::db::requests::blob_in_use(db.pool(), &sha).await? {
                self.store.restore(retired).await?;
            } else {
                self.store.purge(retired).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("attachment storage: {0}")]
    Io(#[from] io::Error),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

/// A file someone sent with a message, staged and waiting to be stored.
#[derive(Debug)]
pub struct Upload {
    pub file_name: String,
    pub content_type: String,
    pub staged: Staged,
    /// The upload budget this file holds until it is stored.
    pub budget: Option<Held>,
}

/// A file stored for a message, ready for its attachment row.
#[derive(Debug, Clone)]
pub struct Stored {
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

/// A file name safe to store and to send back: the last path segment only, without control
/// characters, quotes or direction controls (`invoice\u{202e}txt.exe` would show as
/// `invoiceexe.txt`), at most 120 characters; `attachment` when nothing is left.
pub fn sanitize_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = text::strip_bidi(base)
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | '|' | '*' | '?' | ':'))
        .take(text::FILE_NAME.max)
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

/// The picture formats shown in the page, by content type: raster images only (an SVG can
/// hold script, so it is only ever downloaded).
pub fn picture_type(content_type: &str) -> Option<&'static str> {
    match content_type.split(';').next().unwrap_or_default().trim() {
        "image/png" => Some("image/png"),
        "image/jpeg" => Some("image/jpeg"),
        "image/gif" => Some("image/gif"),
        "image/webp" => Some("image/webp"),
        _ => None,
    }
}

/// The picture format the first bytes of a file prove, whatever it was sent as.
pub fn sniff_picture(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
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
    fn file_names_lose_direction_controls() {
        assert_eq!(
            sanitize_file_name("invoice\u{202e}txt.exe"),
            "invoicetxt.exe"
        );
    }

    fn files(dir: &Path) -> Files {
        Files::new(
            Arc::new(LocalStore::new(dir.join("blobs"))),
            AttachmentLimits::default(),
            dir.join("staging"),
            1 << 20,
        )
    }

    async fn read(files: &Files, sha: &str) -> io::Result<Vec<u8>> {
        use tokio::io::AsyncReadExt;
        let (mut r, size) = files.store.open(sha).await?;
        let mut out = Vec::new();
        r.read_to_end(&mut out).await?;
        assert_eq!(out.len() as u64, size);
        Ok(out)
    }

    #[tokio::test]
    async fn local_store_keeps_one_copy_per_content() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let files = files(dir.path());
        let a = files.stage_bytes(b"hello").await?;
        let sha = a.sha256.clone();
        let staged_path = a.path.to_path_buf();
        files.store.put(a).await?;
        assert!(
            !staged_path.exists(),
            "the staged file moved into the store"
        );
        let b = files.stage_bytes(b"hello").await?;
        assert_eq!(b.sha256, sha);
        let staged_path = b.path.to_path_buf();
        files.store.put(b).await?;
        assert!(!staged_path.exists(), "the second copy is removed");
        assert_eq!(read(&files, &sha).await?, b"hello");
        assert!(files.store.open("../../etc/passwd").await.is_err());
        assert_eq!(std::fs::read_dir(dir.path().join("staging"))?.count(), 0);
        Ok(())
    }

    #[tokio::test]
    async fn the_budget_refuses_bytes_beyond_it_until_they_are_stored() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let files = files(dir.path()); // 1 MiB in flight
        let busy = |_| io::Error::other("busy");
        // A request that declares its length gets all of it or nothing, up front.
        let mut first_budget = files.reserve(None, Some(700 << 10)).map_err(busy)?;
        assert!(matches!(
            files.reserve(None, Some(400 << 10)),
            Err(StageError::Busy)
        ));
        let mut first = files.stage()?;
        first
            .write(&vec![1; 700 << 10], &mut first_budget)
            .await
            .map_err(busy)?;
        // One that declares none takes budget as it goes, until there is none left.
        let mut second_budget = files.reserve(None, None).map_err(busy)?;
        let mut second = files.stage()?;
        second
            .write(&vec![2; 300 << 10], &mut second_budget)
            .await
            .map_err(busy)?;
        assert!(matches!(
            second.write(&vec![2; 100 << 10], &mut second_budget).await,
            Err(StageError::Busy)
        ));
        let (staged, permit) = first.finish().await?;
        drop(first_budget);
        files.store.put(staged).await?;
        drop(permit);
        second
            .write(&vec![2; 100 << 10], &mut second_budget)
            .await
            .map_err(busy)?;
        Ok(())
    }

    #[tokio::test]
    async fn staged_files_are_removed_when_an_upload_fails() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let files = files(dir.path());
        let mut budget = files
            .reserve(None, None)
            .map_err(|_| io::Error::other("busy"))?;
        let mut s = files.stage()?;
        s.write(b"partial", &mut budget)
            .await
            .map_err(|_| io::Error::other("busy"))?;
        drop(s); // the client went away
        assert_eq!(std::fs::read_dir(dir.path().join("staging"))?.count(), 0);
        // A store that cannot take the file (its place is a folder) leaves nothing behind.
        let staged = files.stage_bytes(b"blocked").await?;
        let target = dir
            .path()
            .join("blobs")
            .join(&staged.sha256[..2])
            .join(&staged.sha256);
        std::fs::create_dir_all(target.join("in-the-way"))?;
        assert!(files.store.put(staged).await.is_err());
        assert_eq!(std::fs::read_dir(dir.path().join("staging"))?.count(), 0);
        Ok(())
    }
}
