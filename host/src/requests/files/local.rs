//! Attachment bytes in a folder on local disk.

use super::*;

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
        if !is_sha256(sha256) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a sha256 digest",
            ));
        }
        Ok(self.dir.join(&sha256[..2]).join(sha256))
    }

    fn put_blocking(&self, staged: Staged) -> io::Result<()> {
        let path = self.path(&staged.sha256)?;
        // Already stored: refresh its time instead (the staged copy is removed on drop).
        match touch(&path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let folder = path.parent().unwrap_or(&self.dir).to_path_buf();
        std::fs::create_dir_all(&folder)?;
        // The staged file is complete and flushed; a rename makes it appear whole or not at all.
        match staged.path.persist(&path) {
            Ok(()) => {}
            // Staging on another file system: copy beside the target, flush, then rename.
            Err(e) if e.error.raw_os_error() == Some(18) => {
                let tmp = tempfile::Builder::new()
                    .prefix(".incoming-")
                    .tempfile_in(&folder)?;
                std::fs::copy(&e.path, tmp.path())?;
                tmp.as_file().sync_all()?;
                tmp.persist(&path).map_err(|e| e.error)?;
            }
            Err(e) => return Err(e.error),
        }
        sync_dir(&folder)
    }

    fn stale_blocking(&self, before: SystemTime) -> io::Result<Vec<String>> {
        let mut stale = Vec::new();
        let Ok(folders) = std::fs::read_dir(&self.dir) else {
            return Ok(stale);
        };
        for folder in folders {
            let folder = folder?;
            if !folder.file_type()?.is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(folder.path())? {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let Ok(modified) = entry.metadata().and_then(|m| m.modified()) else {
                    continue;
                };
                if modified >= before {
                    continue;
                }
                if is_sha256(&name) {
                    stale.push(name);
                } else if name.starts_with('.') {
                    // A copy or retirement a crash interrupted.
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(stale)
    }

    fn retire_blocking(&self, sha256: &str, before: SystemTime) -> io::Result<Option<Retired>> {
        let path = self.path(sha256)?;
        let trash = path.with_file_name(format!(
            ".retired-{sha256}-{}",
            crate::auth::secret::new_token().0
        ));
        match std::fs::rename(&path, &trash) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        }
        let retired = Retired {
            sha256: sha256.to_owned(),
            at: trash.to_string_lossy().into_owned(),
        };
        // An upload that refreshed the blob just before the rename kept its time: put it back.
        if std::fs::metadata(&trash)?.modified()? >= before {
            self.restore_blocking(retired)?;
            return Ok(None);
        }
        Ok(Some(retired))
    }

    fn restore_blocking(&self, retired: Retired) -> io::Result<()> {
        let path = self.path(&retired.sha256)?;
        // An upload may have stored the same content anew meanwhile: either copy will do.
        std::fs::rename(&retired.at, &path)
    }
}

/// Marks `path` as used now.
fn touch(path: &Path) -> io::Result<()> {
    std::fs::File::options()
        .write(true)
        .open(path)?
        .set_modified(SystemTime::now())
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Runs blocking file work off the async workers.
fn blocking<'a, T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> Pending<'a, T> {
    Box::pin(async move {
        tokio::task::spawn_blocking(f)
            .await
            .map_err(io::Error::other)?
    })
}

impl BlobStore for LocalStore {
    fn put(&self, staged: Staged) -> Pending<'_, ()> {
        let me = LocalStore::new(self.dir.clone());
        blocking(move || me.put_blocking(staged))
    }

    fn open<'a>(&'a self, sha256: &'a str) -> Pending<'a, (Reader, u64)> {
        Box::pin(async move {
            let file = tokio::fs::File::open(self.path(sha256)?).await?;
            let size = file.metadata().await?.len();
            Ok((Box::pin(file) as Reader, size))
        })
    }

    fn stale(&self, before: SystemTime) -> Pending<'_, Vec<String>> {
        let me = LocalStore::new(self.dir.clone());
        blocking(move || me.stale_blocking(before))
    }

    fn retire<'a>(&'a self, sha256: &'a str, before: SystemTime) -> Pending<'a, Option<Retired>> {
        let me = LocalStore::new(self.dir.clone());
        let sha = sha256.to_owned();
        blocking(move || me.retire_blocking(&sha, before))
    }

    fn restore(&self, retired: Retired) -> Pending<'_, ()> {
        let me = LocalStore::new(self.dir.clone());
        blocking(move || me.restore_blocking(retired))
    }

    fn purge(&self, retired: Retired) -> Pending<'_, ()> {
        blocking(move || std::fs::remove_file(&retired.at))
    }
}
