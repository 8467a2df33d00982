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
    match rb.send().await {
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
