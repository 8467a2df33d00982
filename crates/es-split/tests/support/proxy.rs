//! A pass-through HTTP proxy in front of osmem-server that can hold one request forever, so
//! a test can interrupt the tool at an exact step (osmem serialises a reindex with reads, so
//! polling the cluster cannot catch it mid-step).
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;

type Hold = dyn Fn(&str, &str) -> bool + Send + Sync;

struct Shared {
    upstream: String,
    hold: Box<Hold>,
    held: AtomicUsize,
    client: reqwest::Client,
}

/// A running proxy; its runtime thread ends with the test process.
pub struct Proxy {
    pub url: String,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Forwards everything to `upstream`, except requests for which `hold(method, path)` is
    /// true: those never get an answer.
    pub fn start(
        upstream: &str,
        hold: impl Fn(&str, &str) -> bool + Send + Sync + 'static,
    ) -> Self {
        let shared = Arc::new(Shared {
            upstream: upstream.to_string(),
            hold: Box::new(hold),
            held: AtomicUsize::new(0),
            client: reqwest::Client::new(),
        });
        let url = super::fake_es::serve(
            axum::Router::new()
                .fallback(forward)
                .with_state(shared.clone()),
        );
        Proxy { url, shared }
    }

    /// Waits until a request is being held.
    pub fn wait_held(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while self.shared.held.load(Ordering::SeqCst) == 0 {
            assert!(std::time::Instant::now() < deadline, "no request was held");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

async fn forward(State(s): State<Arc<Shared>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let ct = req.headers().get("content-type").cloned();
    let body = axum::body::to_bytes(req.into_body(), 64 << 20)
        .await
        .unwrap_or_default();
    if (s.hold)(method.as_str(), &path) {
        s.held.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<()>().await;
    }
    let m = reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap();
    let mut rb = s
        .client
        .request(m, format!("{}{}", s.upstream, path))
        .body(body.to_vec());
    if let Some(ct) = ct {
        rb = rb.header("content-type", ct.as_bytes());
    }
    relay(rb.send().await).await
}

/// The upstream's answer as the proxy's, or 502 when the upstream could not be reached.
async fn relay(resp: reqwest::Result<reqwest::Response>) -> Response {
    match resp {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let bytes = resp.bytes().await.unwrap_or_default();
            Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(Body::from(bytes))
                .unwrap()
        }
        Err(_) => Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .body(Body::empty())
            .unwrap(),
    }
}

/// When the killing proxy strikes at its k-th mutating request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strike {
    /// Kill the client before the request reaches the server.
    Before,
    /// Let the server run it, then kill the client before it sees the answer.
    After,
}

struct KillShared {
    upstream: String,
    client: reqwest::Client,
    k: usize,
    strike: Strike,
    seen: AtomicUsize,
    pid: std::sync::atomic::AtomicU32,
    log: std::sync::Mutex<Vec<String>>,
}

/// A proxy that SIGKILLs the client process at its k-th mutating request (everything but
/// GET/HEAD and the read-only `_count`, `_search`, `_validate`, `_refresh`).
pub struct KillProxy {
    pub url: String,
    shared: Arc<KillShared>,
}

/// Whether a request changes the cluster.
pub fn mutating(method: &str, path: &str) -> bool {
    let p = path.split('?').next().unwrap_or("");
    !(method == "GET"
        || method == "HEAD"
        || p.ends_with("/_count")
        || p.ends_with("/_search")
        || p.ends_with("/_refresh")
        || p.contains("/_validate/"))
}

impl KillProxy {
    /// Forwards to `upstream`; `k = 0` never kills (counting mode).
    pub fn start(upstream: &str, k: usize, strike: Strike) -> Self {
        let shared = Arc::new(KillShared {
            upstream: upstream.to_string(),
            client: reqwest::Client::new(),
            k,
            strike,
            seen: AtomicUsize::new(0),
            pid: std::sync::atomic::AtomicU32::new(0),
            log: std::sync::Mutex::new(Vec::new()),
        });
        let url = super::fake_es::serve(
            axum::Router::new()
                .fallback(kill_forward)
                .with_state(shared.clone()),
        );
        KillProxy { url, shared }
    }

    /// The process to kill.
    pub fn set_pid(&self, pid: u32) {
        self.shared.pid.store(pid, Ordering::SeqCst);
    }

    /// Mutating requests seen so far.
    pub fn mutations(&self) -> usize {
        self.shared.seen.load(Ordering::SeqCst)
    }

    /// The mutating requests seen, as "METHOD /path".
    pub fn log(&self) -> Vec<String> {
        self.shared.log.lock().unwrap().clone()
    }
}

async fn kill_forward(State(s): State<Arc<KillShared>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let ct = req.headers().get("content-type").cloned();
    let body = axum::body::to_bytes(req.into_body(), 64 << 20)
        .await
        .unwrap_or_default();
    let mut strike_now = false;
    if mutating(method.as_str(), &path) {
        s.log.lock().unwrap().push(format!("{method} {path}"));
        let n = s.seen.fetch_add(1, Ordering::SeqCst) + 1;
        strike_now = s.k != 0 && n == s.k;
    }
    let kill = |s: &KillShared| {
        // The pid is set right after spawn; wait for it rather than miss the strike.
        let mut pid = s.pid.load(Ordering::SeqCst);
        while pid == 0 {
            std::thread::sleep(std::time::Duration::from_millis(1));
            pid = s.pid.load(Ordering::SeqCst);
        }
        // SAFETY: kill(2) with a pid we spawned.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    };
    if strike_now && s.strike == Strike::Before {
        kill(&s);
        std::future::pending::<()>().await;
    }
    let m = reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap();
    let mut rb = s
        .client
        .request(m, format!("{}{}", s.upstream, path))
        .body(body.to_vec());
    if let Some(ct) = ct {
        rb = rb.header("content-type", ct.as_bytes());
    }
    let resp = rb.send().await;
    if strike_now {
        kill(&s);
        std::future::pending::<()>().await;
    }
    relay(resp).await
}
