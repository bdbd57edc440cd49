//! Serving the app on a socket with the limits a public server needs against slow clients:
//! request headers (and an idle keep-alive connection's next request) must arrive within
//! [`Timeouts::headers`], and a request body at [`Timeouts::min_body_rate`] on average after a
//! short allowance, or the connection is closed with 408. `main` and the tests serve the same
//! way.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::time::{Instant, Sleep};
use tower::Service;

/// How slow a client may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From the moment a connection can read a request until its headers are in: covers idle
    /// keep-alive connections too.
    pub headers: Duration,
    /// Time any body gets before the rate counts: enough for a form typed on a poor link.
    pub body_allowance: Duration,
    /// Bytes per second a body must average after the allowance (an upload on a slow mobile
    /// link manages ten times this).
    pub min_body_rate: u64,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            headers: Duration::from_secs(20),
            body_allowance: Duration::from_secs(10),
            min_body_rate: 16 * 1024,
        }
    }
}

/// The longest a stopping server waits for requests in flight.
const FINISH_IN_FLIGHT: Duration = Duration::from_secs(30);

/// How long a connection accepted just before a stop has to send its request.
const FIRST_REQUEST: Duration = Duration::from_millis(500);

/// Stops listening without resetting a connection the kernel has already completed: every
/// connection waiting to be accepted is accepted and served (a proxy in front has sent its
/// request on it already), then the socket closes and new connections are refused, which a
/// proxy retries on another server since nothing was sent.
fn close(listener: TcpListener, mut serve_one: impl FnMut(tokio::net::TcpStream, SocketAddr)) {
    let Ok(listener) = listener.into_std() else {
        return;
    };
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                if stream.set_nonblocking(true).is_ok()
                    && let Ok(stream) = tokio::net::TcpStream::from_std(stream)
                {
                    serve_one(stream, peer);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // WouldBlock once the queue is empty; anything else ends the stop's accepting too.
            Err(_) => return,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting (see [`close`])
/// and lets requests in flight finish (for at most [`FINISH_IN_FLIGHT`]).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let app = app.layer(axum::middleware::from_fn(move |req, next| {
        paced(timeouts, req, next)
    }));
    let mut make = app.into_make_service_with_connect_info::<SocketAddr>();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.headers);
    builder.http2().timer(TokioTimer::new());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut serve_one = |stream: tokio::net::TcpStream, peer: SocketAddr| {
        let _ = stream.set_nodelay(true);
        // Making a connection's service is immediate (the app is cloned with the peer's address).
        let Some(Ok(service)) = make.call(peer).now_or_never() else {
            return;
        };
        let service =
            hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let mut service = service.clone();
                async move { service.call(req.map(Body::new)).await }
            });
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // A client that went away mid-request is not worth a log line.
            let _ = conn.await;
        });
    };
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        serve_one(stream, peer);
    }
    close(listener, serve_one);
    // A connection accepted just now may not have sent its request yet, and a graceful stop
    // closes such a connection at once (the client, a proxy most often, then reads a reset
    // instead of an answer): give them a moment to be read before idle connections close.
    tokio::time::sleep(FIRST_REQUEST).await;
    // Requests in flight finish; idle keep-alive connections close. A client still sending
    // after this long is cut off rather than holding the stop forever.
    if tokio::time::timeout(FINISH_IN_FLIGHT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after {FINISH_IN_FLIGHT:?}: closed");
    }
    Ok(())
}

/// At most this much of a refused body (too large, from someone not allowed to send it, or that
/// could not be stored) is read and dropped after the answer is sent, so that a client that
/// sends its whole body before it reads gets to read the answer instead of a reset connection:
/// as much as the largest message with its files.
const DRAIN_BYTES: u64 = 64 << 20;

/// And for at most this long; then the connection is closed with the answer sent.
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// Wraps the request body so that it fails once it falls behind the minimum rate, and answers
/// 408 (closing the connection) when that happened, whatever the handler made of the error.
async fn paced(timeouts: Timeouts, req: Request, next: Next) -> Response {
    let late = Arc::new(AtomicBool::new(false));
    let unread = Arc::new(std::sync::Mutex::new(None));
    let req = req.map(|body| {
        Body::new(Paced {
            inner: body,
            received: 0,
            start: Instant::now(),
            timer: Box::pin(tokio::time::sleep(timeouts.body_allowance)),
            timeouts,
            late: late.clone(),
            unread: unread.clone(),
        })
    });
    let mut res = next.run(req).await;
    let refused = res.status().is_client_error() || res.status().is_server_error();
    if refused && !late.load(Ordering::Relaxed) {
        let rest = unread.lock().map(|mut u| u.take()).unwrap_or_default();
        if let Some(rest) = rest {
            // The answer goes now; what the client still sends is read and dropped beside it
            // (the connection lives until then), so a client that writes its whole body before
            // it reads finds the answer instead of a reset.
            tokio::spawn(drain(rest));
            // Whatever is still unread is not worth a kept-alive connection.
            res.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
    }
    if late.load(Ordering::Relaxed) {
        let mut res = (StatusCode::REQUEST_TIMEOUT, Body::empty()).into_response();
        res.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return res;
    }
    res
}

/// Reads and drops what is left of a refused body, within [`DRAIN_BYTES`] and [`DRAIN_TIME`].
async fn drain(body: Body) {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut read = 0u64;
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while read < DRAIN_BYTES {
            match body.frame().await {
                Some(Ok(frame)) => read += frame.data_ref().map_or(0, |d| d.len() as u64),
                _ => break,
            }
        }
    })
    .await;
}

/// The body arrived too slowly.
#[derive(Debug)]
pub struct TooSlow;

impl std::fmt::Display for TooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body arrived too slowly")
    }
}

impl std::error::Error for TooSlow {}

struct Paced {
    inner: Body,
    received: u64,
    start: Instant,
    timer: Pin<Box<Sleep>>,
    timeouts: Timeouts,
    late: Arc<AtomicBool>,
    /// Where the body goes when it is dropped before its end, for [`drain`].
    unread: Arc<std::sync::Mutex<Option<Body>>>,
}

impl Drop for Paced {
    fn drop(&mut self) {
        if !self.inner.is_end_stream()
            && let Ok(mut unread) = self.unread.lock()
        {
            *unread = Some(std::mem::take(&mut self.inner));
        }
    }
}

impl Paced {
    /// When the body must have grown past what it holds now.
    fn deadline(&self) -> Instant {
        let t = self.timeouts;
        let earned = Duration::from_secs_f64((self.received + 1) as f64 / t.min_body_rate as f64);
        self.start + t.body_allowance + earned
    }
}

impl HttpBody for Paced {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                    let deadline = this.deadline();
                    this.timer.as_mut().reset(deadline);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                if this.timer.as_mut().poll(cx).is_ready() {
                    this.late.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(axum::Error::new(TooSlow))));
                }
                Poll::Pending
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
