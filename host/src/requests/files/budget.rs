//! The upload budget: bytes of uploads the whole process holds on disk before they are stored,
//! counted in units of [`BUDGET_UNIT`], and each person's share of it. An upload holds what
//! it has been given until its file is stored or dropped.

use super::*;
use std::collections::HashMap;
use tokio::sync::OwnedSemaphorePermit;

pub(super) fn units(bytes: u64) -> u32 {
    u32::try_from(bytes.div_ceil(BUDGET_UNIT as u64)).unwrap_or(u32::MAX)
}

/// Upload budget held: units of the process's budget, and as many of the holder's share.
#[derive(Debug)]
pub struct Held {
    all: OwnedSemaphorePermit,
    share: Option<OwnedSemaphorePermit>,
}

impl Held {
    fn merge(&mut self, other: Held) {
        self.all.merge(other.all);
        match (&mut self.share, other.share) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (None, theirs) => self.share = theirs,
            (Some(_), None) => {}
        }
    }

    fn split(&mut self, n: u32) -> Option<Held> {
        let n = n as usize;
        if self.all.num_permits() < n || self.share.as_ref().is_some_and(|s| s.num_permits() < n) {
            return None;
        }
        Some(Held {
            all: self.all.split(n)?,
            share: match &mut self.share {
                Some(s) => Some(s.split(n)?),
                None => None,
            },
        })
    }
}

/// Each person's share of the budget: a semaphore per person, made when they first upload and
/// forgotten once they hold nothing.
#[derive(Debug)]
pub(super) struct Shares {
    units: usize,
    people: std::sync::Mutex<HashMap<i64, Arc<Semaphore>>>,
}

impl Shares {
    pub(super) fn new(units: usize) -> Shares {
        Shares {
            units,
            people: Default::default(),
        }
    }

    pub(super) fn of(&self, person: i64) -> Arc<Semaphore> {
        let mut people = self.people.lock().unwrap_or_else(|p| p.into_inner());
        if people.len() >= 1024 {
            // Whoever holds nothing now starts from a full share again anyway.
            people.retain(|_, s| s.available_permits() < self.units);
        }
        people
            .entry(person)
            .or_insert_with(|| Arc::new(Semaphore::new(self.units)))
            .clone()
    }
}

/// The upload budget of one request (see [`Files::reserve`]); what it does not hand to its
/// files goes back when it is dropped.
#[derive(Debug)]
pub struct Budget {
    all: Arc<Semaphore>,
    share: Option<Arc<Semaphore>>,
    reserved: Option<Held>,
}

impl Budget {
    /// A budget drawing on `all` and on `share` (the uploader's), with `declared` units
    /// reserved up front when the request said how large it is.
    pub(super) fn reserve(
        all: Arc<Semaphore>,
        share: Option<Arc<Semaphore>>,
        declared: Option<u32>,
    ) -> Result<Budget, StageError> {
        let mut b = Budget {
            all,
            share,
            reserved: None,
        };
        if let Some(n) = declared {
            b.reserved = Some(b.acquire(n)?);
        }
        Ok(b)
    }

    /// `n` units from the uploader's share first (so a person at their share is told so,
    /// whatever the rest of the budget), then from the process's.
    fn acquire(&self, n: u32) -> Result<Held, StageError> {
        let share = match &self.share {
            Some(s) => Some(
                s.clone()
                    .try_acquire_many_owned(n)
                    .map_err(|_| StageError::Share)?,
            ),
            None => None,
        };
        let all = self
            .all
            .clone()
            .try_acquire_many_owned(n)
            .map_err(|_| StageError::Busy)?;
        Ok(Held { all, share })
    }

    fn take(&mut self, n: u32) -> Result<Held, StageError> {
        if let Some(r) = &mut self.reserved
            && let Some(p) = r.split(n)
        {
            return Ok(p);
        }
        self.acquire(n)
    }
}

/// An upload on its way to the staging folder.
#[derive(Debug)]
pub struct Staging {
    pub(super) file: tokio::fs::File,
    pub(super) path: tempfile::TempPath,
    pub(super) hash: Sha256,
    pub(super) size: u64,
    pub(super) held: Option<Held>,
}

/// Why a chunk could not be staged.
#[derive(Debug)]
pub enum StageError {
    /// The process holds as many upload bytes as it allows; try again shortly.
    Busy,
    /// The uploader holds their whole share of the budget with other uploads.
    Share,
    Io(io::Error),
}

impl Staging {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends `chunk`, counting it against `budget` first.
    pub async fn write(&mut self, chunk: &[u8], budget: &mut Budget) -> Result<(), StageError> {
        use tokio::io::AsyncWriteExt;
        let needed = units(self.size + chunk.len() as u64) - units(self.size);
        if needed > 0 {
            let permit = budget.take(needed)?;
            match &mut self.held {
                Some(held) => held.merge(permit),
                None => self.held = Some(permit),
            }
        }
        self.hash.update(chunk);
        self.size += chunk.len() as u64;
        self.file.write_all(chunk).await.map_err(StageError::Io)
    }

    /// Flushes the file to disk; the budget stays held until the returned permit is dropped
    /// (once the file is stored).
    pub async fn finish(mut self) -> io::Result<(Staged, Option<Held>)> {
        use tokio::io::AsyncWriteExt;
        self.file.flush().await?;
        self.file.sync_all().await?;
        drop(self.file);
        Ok((
            Staged {
                path: self.path,
                sha256: hex(&self.hash.finalize()),
                size: self.size,
            },
            self.held,
        ))
    }
}
