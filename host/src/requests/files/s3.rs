//! Attachments in S3-compatible object storage (`HELPDESK_BLOB_URL=s3://bucket/prefix`), so
//! that every replica reads what any replica wrote. Content-addressed as on local disk:
//!
//! - `blobs/<first two hex digits>/<sha256>`: the bytes, uploaded in parts straight from the
//!   staged file (never whole in memory) and visible only once complete;
//! - `used/<sha256>`: an empty marker written when an upload relies on a blob that is already
//!   stored (objects cannot be touched), so the orphan sweep leaves it alone;
//! - `retired/<sha256>-<nonce>`: a blob the sweep took out of use, until it is purged or put
//!   back.
//!
//! Credentials, region and endpoint come from the usual `AWS_*` variables (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT` for a server other than AWS).

use super::{BlobStore, Pending, Reader, Retired, Staged, is_sha256};
use futures_util::StreamExt;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, PutPayload, WriteMultipart};
use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::time::SystemTime;
use tokio::io::AsyncReadExt;

/// Bytes read from the staged file per write; parts go up at 5 MiB, one at a time, so an upload
/// holds at most one part in flight and one filling.
const READ_CHUNK: usize = 256 << 10;
const PARTS_IN_FLIGHT: usize = 1;
const PART: usize = 5 << 20;

/// Memory all uploads to the store together may hold in part buffers, in MiB: one upload holds
/// up to two parts (10 MiB), so about six go up at once and the rest wait their turn.
const BUFFERS_MIB: u32 = 64;

#[derive(Debug)]
pub struct S3Store {
    store: Arc<dyn ObjectStore>,
    /// Where the store is, for messages: `s3://bucket/prefix`.
    url: String,
    /// Part buffers, in MiB, across every upload of this process.
    buffers: Arc<tokio::sync::Semaphore>,
    /// The most MiB of part buffers held at once, for the tests.
    peak: Arc<std::sync::atomic::AtomicU32>,
}

impl S3Store {
    /// The store at `url` (`s3://bucket` or `s3://bucket/prefix`), configured from `AWS_*`.
    pub fn from_url(url: &str) -> Result<S3Store, String> {
        let vars = std::env::vars().filter(|(k, _)| k.starts_with("AWS_"));
        S3Store::connect(url, vars)
    }

    /// The store at `url`, configured by `AWS_*` settings given as (name, value): `AWS_ENDPOINT`,
    /// `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and the others object_store
    /// reads.
    pub fn connect(
        url: &str,
        settings: impl IntoIterator<Item = (String, String)>,
    ) -> Result<S3Store, String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("`{url}`: an S3 address starts with s3://"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("`{url}` names no bucket"));
        }
        let mut builder = AmazonS3Builder::new();
        for (name, value) in settings {
            let Ok(key) = name.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() else {
                continue;
            };
            if key == AmazonS3ConfigKey::Endpoint && value.starts_with("http://") {
                builder = builder.with_allow_http(true);
            }
            builder = builder.with_config(key, value);
        }
        let builder = builder.with_bucket_name(bucket);
        let s3 = builder.build().map_err(|e| format!("`{url}`: {e}"))?;
        let prefix = prefix.trim_matches('/');
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(PrefixStore::new(s3, prefix))
        };
        Ok(S3Store {
            store,
            url: url.to_owned(),
            buffers: Arc::new(tokio::sync::Semaphore::new(BUFFERS_MIB as usize)),
            peak: Arc::default(),
        })
    }

    /// The most MiB of part buffers all uploads held at once so far.
    pub fn peak_buffers_mib(&self) -> u32 {
        self.peak.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn blob(sha256: &str) -> io::Result<Path> {
        if !is_sha256(sha256) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a sha256 digest",
            ));
        }
        Ok(Path::from(format!("blobs/{}/{sha256}", &sha256[..2])))
    }

    fn marker(sha256: &str) -> Path {
        Path::from(format!("used/{sha256}"))
    }

    async fn exists(&self, path: &Path) -> io::Result<Option<SystemTime>> {
        match self.store.head(path).await {
            Ok(meta) => Ok(Some(meta.last_modified.into())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(failed(e)),
        }
    }

    async fn upload(&self, path: &Path, staged: &Staged) -> io::Result<()> {
        // What this upload's buffers may grow to, reserved from the process's share first.
        let mib = u32::try_from(staged.size.min(2 * PART as u64).div_ceil(1 << 20))
            .unwrap_or(1)
            .max(1);
        let _buffers = self
            .buffers
            .acquire_many(mib)
            .await
            .map_err(io::Error::other)?;
        let held = BUFFERS_MIB - self.buffers.available_permits() as u32;
        self.peak
            .fetch_max(held, std::sync::atomic::Ordering::Relaxed);
        let mut file = tokio::fs::File::open(&staged.path).await?;
        let upload = self.store.put_multipart(path).await.map_err(failed)?;
        let mut writer = WriteMultipart::new(upload);
        let mut buf = vec![0; READ_CHUNK];
        loop {
            let n = match file.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(e);
                }
            };
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                let _ = writer.abort().await;
                return Err(failed(e));
            }
            writer.write(&buf[..n]);
        }
        writer.finish().await.map_err(failed)?;
        Ok(())
    }

    async fn put_async(&self, staged: Staged) -> io::Result<()> {
        let path = Self::blob(&staged.sha256)?;
        if self.exists(&path).await?.is_some() {
            // Already stored: mark it used now, then make sure the sweep did not take it out
            // meanwhile (it checks the marker after it retires a blob, so one of the two sees
            // the other).
            self.store
                .put(&Self::marker(&staged.sha256), PutPayload::new())
                .await
                .map_err(failed)?;
            if self.exists(&path).await?.is_some() {
                return Ok(());
            }
        }
        self.upload(&path, &staged).await
    }

    async fn stale_async(&self, before: SystemTime) -> io::Result<Vec<String>> {
        let mut used = HashMap::new();
        let mut markers = self.store.list(Some(&Path::from("used")));
        while let Some(meta) = markers.next().await {
            let meta = meta.map_err(failed)?;
            let at: SystemTime = meta.last_modified.into();
            if let Some(name) = meta.location.filename() {
                used.insert(name.to_owned(), at);
            }
        }
        let mut stale = Vec::new();
        let mut blobs = self.store.list(Some(&Path::from("blobs")));
        while let Some(meta) = blobs.next().await {
            let meta = meta.map_err(failed)?;
            let Some(name) = meta.location.filename().map(str::to_owned) else {
                continue;
            };
            let stored: SystemTime = meta.last_modified.into();
            let last = used.get(&name).map_or(stored, |u| (*u).max(stored));
            if last < before && is_sha256(&name) {
                stale.push(name);
            }
        }
        // Retirements a crash interrupted.
        let mut retired = self.store.list(Some(&Path::from("retired")));
        while let Some(meta) = retired.next().await {
            let meta = meta.map_err(failed)?;
            if SystemTime::from(meta.last_modified) < before {
                let _ = self.store.delete(&meta.location).await;
            }
        }
        Ok(stale)
    }

    async fn retire_async(&self, sha256: &str, before: SystemTime) -> io::Result<Option<Retired>> {
        let path = Self::blob(sha256)?;
        let marker = Self::marker(sha256);
        let recent = |t: Option<SystemTime>| t.is_some_and(|t| t >= before);
        if recent(self.exists(&marker).await?) {
            return Ok(None);
        }
        let at = format!("retired/{sha256}-{}", crate::auth::secret::new_token().0);
        match self.store.copy(&path, &Path::from(at.as_str())).await {
            Ok(()) => {}
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(failed(e)),
        }
        self.store.delete(&path).await.map_err(failed)?;
        let retired = Retired {
            sha256: sha256.to_owned(),
            at,
        };
        // An upload that marked the blob used just before the delete: put it back.
        if recent(self.exists(&marker).await?) {
            self.restore_async(retired).await?;
            return Ok(None);
        }
        Ok(Some(retired))
    }

    async fn restore_async(&self, retired: Retired) -> io::Result<()> {
        let from = Path::from(retired.at.as_str());
        // An upload may have stored the same content anew meanwhile: either copy will do.
        self.store
            .copy(&from, &Self::blob(&retired.sha256)?)
            .await
            .map_err(failed)?;
        self.store.delete(&from).await.map_err(failed)
    }

    async fn purge_async(&self, retired: Retired) -> io::Result<()> {
        self.store
            .delete(&Path::from(retired.at.as_str()))
            .await
            .map_err(failed)?;
        match self.store.delete(&Self::marker(&retired.sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(failed(e)),
        }
    }
}

fn failed(e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, e),
        e => io::Error::other(e),
    }
}

impl BlobStore for S3Store {
    fn put(&self, staged: Staged) -> Pending<'_, ()> {
        Box::pin(self.put_async(staged))
    }

    fn open<'a>(&'a self, sha256: &'a str) -> Pending<'a, (Reader, u64)> {
        Box::pin(async move {
            let got = self.store.get(&Self::blob(sha256)?).await.map_err(failed)?;
            let size = got.meta.size;
            let stream = got
                .into_stream()
                .map(|chunk| chunk.map_err(io::Error::other));
            let reader = tokio_util::io::StreamReader::new(stream);
            Ok((Box::pin(reader) as Reader, size))
        })
    }

    fn stale(&self, before: SystemTime) -> Pending<'_, Vec<String>> {
        Box::pin(self.stale_async(before))
    }

    fn retire<'a>(&'a self, sha256: &'a str, before: SystemTime) -> Pending<'a, Option<Retired>> {
        Box::pin(self.retire_async(sha256, before))
    }

    fn restore(&self, retired: Retired) -> Pending<'_, ()> {
        Box::pin(self.restore_async(retired))
    }

    fn purge(&self, retired: Retired) -> Pending<'_, ()> {
        Box::pin(self.purge_async(retired))
    }

    /// The bucket answers: a wrong address or credentials stop the server at start rather
    /// than at the first upload.
    fn check(&self) -> Pending<'_, ()> {
        Box::pin(async move {
            let mut listing = self.store.list(Some(&Path::from("blobs")));
            match listing.next().await {
                None | Some(Ok(_)) => Ok(()),
                Some(Err(e)) => Err(io::Error::other(format!("{}: {e}", self.url))),
            }
        })
    }
}
