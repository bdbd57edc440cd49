//! Slow clients: connections that trickle their headers, stop sending a body, or sit idle are
//! closed after the configured timeouts, while everyone else is served.

use crate::support::{Backend, Options, TestDb, TestServer};
use helpdesk::http::server::Timeouts;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes the connection; what it said, and when it closed.
async fn until_closed(mut s: TcpStream) -> (String, Instant) {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return (String::from_utf8_lossy(&got).into_owned(), Instant::now()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed() {
    let t = TestDb::new(Backend::Sqlite).await;
    let timeouts = Timeouts {
        headers: Duration::from_secs(1),
        body_allowance: Duration::from_secs(1),
        min_body_rate: 4096,
    };
    let server = TestServer::with(
        &t.db,
        Options {
            timeouts,
            ..Options::default()
        },
    )
    .await;
    let addr = server.addr;
    let started = Instant::now();
    let mut clients = Vec::new();
    // 200 connections that never finish their headers, 200 whose body trickles in.
    for i in 0..400 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        if i % 2 == 0 {
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .await
                .unwrap();
            clients.push(tokio::spawn(until_closed(s)));
        } else {
            s.write_all(
                b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
            )
            .await
            .unwrap();
            let (mut r, mut w) = s.into_split();
            clients.push(tokio::spawn(async move {
                let trickle = tokio::spawn(async move {
                    for _ in 0..40 {
                        tokio::time::sleep(Duration::from_millis(250)).await;
                        if w.write_all(b" ").await.is_err() {
                            return;
                        }
                    }
                });
                let mut got = Vec::new();
                let mut buf = [0u8; 1024];
                loop {
                    match r.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                trickle.abort();
                (String::from_utf8_lossy(&got).into_owned(), Instant::now())
            }));
        }
    }
    // Everyone else is served meanwhile.
    let healthy = crate::support::client()
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(healthy.status(), 200);
    let mut timed_out_bodies = 0;
    for c in clients {
        let (said, closed) = tokio::time::timeout(Duration::from_secs(10), c)
            .await
            .expect("closed within the timeouts")
            .unwrap();
        assert!(
            closed - started < Duration::from_secs(6),
            "{:?}",
            closed - started
        );
        if said.starts_with("HTTP/1.1 408") {
            timed_out_bodies += 1;
        }
    }
    assert_eq!(timed_out_bodies, 200, "a body that stops arriving gets 408");

    // An idle keep-alive connection is closed too; a body at a decent rate is not.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let t0 = Instant::now();
    let (said, closed) = until_closed(idle).await;
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");
    assert!(closed - t0 < Duration::from_secs(3));
    let mut steady = TcpStream::connect(addr).await.unwrap();
    let body = format!(
        "{{\"email\": \"ann@acme.example\", \"password\": \"{}\"}}",
        "x".repeat(12_000)
    );
    steady
        .write_all(
            format!(
                "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    for chunk in body.as_bytes().chunks(2048) {
        steady.write_all(chunk).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (said, _) = until_closed(steady).await;
    assert!(
        said.starts_with("HTTP/1.1 400"),
        "read whole at 10 KiB/s (and refused for its 12,000-byte password): {said}"
    );
}
