//! A full disk: uploads that cannot be staged and changes the database cannot store are
//! answered 507 `storage_full` (the client reads the answer, not a broken pipe), nothing is
//! half-done, and files of a change that could not commit are swept at the next look.
//!
//! The disks are small tmpfs file systems the tests mount, which needs root (as CI runs).

use crate::accounts::Env;
use crate::requests::Desk;
use crate::support::{Options, SmtpSink, TestServer};
use helpdesk::requests::files::{LocalStore, ORPHAN_GRACE};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A tmpfs of `mib` MiB mounted on a folder of its own; unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(mib: u32) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("mount");
        assert!(
            out.status.success(),
            "mounting a small tmpfs needs root (CI runs as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills what is left of the disk.
    fn fill(&self) {
        use std::io::Write;
        let mut f = std::fs::File::create(self.path().join("filler")).unwrap();
        let block = vec![0u8; 64 << 10];
        while f.write_all(&block).is_ok() {}
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

pub(super) fn form(boundary: &str, file: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"subject\"\r\n\r\nLogs\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nAttached.\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.log\"\r\nContent-Type: text/plain\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

/// Uploads staged on a disk with no room: 507, said as such, and the client reads it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_to_a_full_disk_is_told_so() {
    let t = crate::support::TestDb::new(crate::support::Backend::Sqlite).await;
    let disk = SmallDisk::mount(4);
    let sink = SmtpSink::start();
    let server = TestServer::with(
        &t.db,
        Options {
            smtp: Some(sink.url()),
            files_dir: Some(disk.path().to_path_buf()),
            ..Options::default()
        },
    )
    .await;
    let desk = Desk::with(Env::from_parts(server, sink)).await;
    let file = vec![b'x'; 6 << 20];
    let (status, answer) = super::upload_whole_then_read(
        desk.env.server.addr,
        Some(&desk.ann),
        &form("b0und", &file),
        "b0und",
    )
    .await;
    assert_eq!(status, 507, "{answer}");
    assert!(answer.contains("storage_full"), "{answer}");
    // Nothing was half-done: no request, no staged file left.
    assert!(desk.list(&desk.ann, "").await.is_empty());
    let staged = std::fs::read_dir(disk.path().join("staging"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(staged, 0);
}

/// The database cannot grow: the change is refused 507; the files it had stored are swept at
/// the next look, not an hour later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_the_database_has_no_room_for_is_told_so() {
    let disk = SmallDisk::mount(16);
    let db_path: PathBuf = disk.path().join("helpdesk.db");
    let db = helpdesk::db::Db::connect(&format!("sqlite://{}", db_path.display()))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let sink = SmtpSink::start();
    let files = tempfile::tempdir().unwrap();
    let server = TestServer::with(
        &db,
        Options {
            smtp: Some(sink.url()),
            blobs: Some(Arc::new(LocalStore::new(files.path().join("attachments")))),
            ..Options::default()
        },
    )
    .await;
    let desk = Desk::with(Env::from_parts(server, sink)).await;
    disk.fill();
    let file = vec![b'y'; 256 << 10];
    let (status, answer) = super::upload_whole_then_read(
        desk.env.server.addr,
        Some(&desk.ann),
        &form("b1und", &file),
        "b1und",
    )
    .await;
    assert_eq!(status, 507, "{answer}");
    assert!(answer.contains("storage_full"), "{answer}");
    let state = &desk.env.server.state;
    assert!(
        state.requests.files.take_sweep_soon(),
        "the stored file is swept at the next look"
    );
    // Once the grace for uploads on their way is over, the sweep removes it.
    let removed = state
        .requests
        .files
        .sweep(&state.db, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(removed, 1);
    assert!(ORPHAN_GRACE <= Duration::from_secs(600));
}
