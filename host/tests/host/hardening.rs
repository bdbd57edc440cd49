//! What an outside attack, fuzzing and fault tests found, each proved fixed: hostile input at
//! the boundary, uploads and their files, account lock-out and its neighbours, slow clients and
//! a database outage, and the memory of a server under upload and login floods.

mod accounts;
mod full;
mod input;
mod memory;
mod outage;
mod proxies;
mod retention;
mod slow;
mod uploads;

/// Sends `body` as a multipart upload the way a plain client does: the whole body first, then
/// the answer read. Returns the status and the answer's body.
pub(crate) async fn upload_whole_then_read(
    addr: std::net::SocketAddr,
    token: Option<&str>,
    body: &[u8],
    boundary: &str,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let head = format!(
        "POST /api/v1/requests HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body)
        .await
        .expect("the whole body is taken, not cut off by a reset");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        s.read_to_end(&mut answer),
    )
    .await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// A large upload refused before a byte of it is read (no session; a session that may not
/// post) is still answered with its status: the server reads and drops a bounded amount of the
/// body, so a client that sends it all before reading gets the answer, not a reset.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_upload_refused_unread_is_answered_not_reset() {
    let t = crate::support::TestDb::new(crate::support::Backend::Sqlite).await;
    let desk = crate::requests::Desk::new(&t).await;
    let body = full::form("refus3d", &vec![b'z'; 20 << 20]);
    for token in [None, Some(desk.operator.as_str())] {
        let (status, answer) =
            upload_whole_then_read(desk.env.server.addr, token, &body, "refus3d").await;
        let expected = if token.is_some() { 403 } else { 401 };
        assert_eq!(status, expected, "{}", &answer[..answer.len().min(400)]);
    }
}
