//! HTTP access to the cluster: a transport seam, one request helper with retries, and error
//! body parsing. Credentials live only inside the transport and are never formatted.
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::error::{sanitize, Error, Result};
use crate::retry::{self, Retry, RetryPolicy};

/// HTTP methods the tool uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Put,
    Post,
    Delete,
    Head,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
        }
    }
}

/// One request, transport-independent. `path` starts with `/` and includes the query string.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub body: Option<Vec<u8>>,
    /// `None` means wait as long as it takes (force merge, synchronous delete-by-query).
    pub timeout: Option<Duration>,
}

/// A raw answer: status and body bytes.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why a request produced no HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// Nothing listens, DNS failed, TLS handshake failed: the request was never sent.
    Connect(String),
    /// No answer within the request's timeout.
    Timeout,
    /// The connection broke after the request may have been sent (reset, truncated body).
    Io(String),
}

/// The seam between the tool and the network, so that tests can inject faults.
pub trait Transport: Send + Sync {
    /// Sends one request and returns the server's answer.
    fn send(&self, req: &Request) -> std::result::Result<RawResponse, TransportError>;
}

/// How to authenticate. `Debug` redacts the secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    Basic { user: String, password: String },
    ApiKey(String),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic { user, .. } => {
                write!(f, "Basic {{ user: {user:?}, password: <redacted> }}")
            }
            Auth::ApiKey(_) => f.write_str("ApiKey(<redacted>)"),
        }
    }
}

/// TLS trust settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tls {
    /// PEM file with an extra CA to trust (ES 8's `http_ca.crt`).
    pub ca_cert: Option<std::path::PathBuf>,
    /// Accept any certificate (self-signed test clusters only).
    pub insecure: bool,
}

/// Production transport: reqwest's blocking client with rustls.
pub struct HttpTransport {
    client: reqwest::blocking::Client,
    base: String,
    auth: Auth,
}

impl HttpTransport {
    /// Builds a client for `base` (scheme://host:port[/prefix], userinfo already removed).
    pub fn new(base: &str, auth: Auth, tls: &Tls) -> Result<Self> {
        let mut builder = reqwest::blocking::Client::builder()
            .timeout(None::<Duration>)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("es-split/", env!("CARGO_PKG_VERSION")))
            .danger_accept_invalid_certs(tls.insecure);
        if let Some(path) = &tls.ca_cert {
            let shown = path.display().to_string();
            let pem = std::fs::read(path).map_err(|e| Error::File {
                path: shown.clone(),
                reason: format!("cannot read --ca-cert: {e}"),
            })?;
            // rustls ignores non-PEM text, so an empty bundle means the file holds no certificate.
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .ok()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| Error::File {
                    path: shown,
                    reason: "--ca-cert holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
                        .into(),
                })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .build()
            .map_err(|e| Error::Usage(format!("cannot build HTTP client: {e}")))?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_string(),
            auth,
        })
    }
}

impl Transport for HttpTransport {
    fn send(&self, req: &Request) -> std::result::Result<RawResponse, TransportError> {
        let method = reqwest::Method::from_bytes(req.method.as_str().as_bytes())
            .map_err(|e| TransportError::Connect(e.to_string()))?;
        let mut rb = self
            .client
            .request(method, format!("{}{}", self.base, req.path));
        rb = match &self.auth {
            Auth::None => rb,
            Auth::Basic { user, password } => rb.basic_auth(user, Some(password)),
            Auth::ApiKey(key) => rb.header("Authorization", format!("ApiKey {key}")),
        };
        if let Some(t) = req.timeout {
            rb = rb.timeout(t);
        }
        if let Some(body) = &req.body {
            let ct = if req.path.contains("_bulk") {
                "application/x-ndjson"
            } else {
                "application/json"
            };
            rb = rb.header("Content-Type", ct).body(body.clone());
        }
        let resp = rb.send().map_err(classify_reqwest)?;
        let status = resp.status().as_u16();
        let body = resp.bytes().map_err(classify_reqwest)?.to_vec();
        Ok(RawResponse { status, body })
    }
}

fn classify_reqwest(e: reqwest::Error) -> TransportError {
    // reqwest's Display includes the URL; ours has no userinfo, but keep only the cause chain.
    let mut reason = String::new();
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(s) = src {
        reason = s.to_string();
        src = s.source();
    }
    let (timeout, connect) = (e.is_timeout(), e.is_connect());
    if reason.is_empty() {
        reason = e.without_url().to_string();
    }
    if timeout {
        TransportError::Timeout
    } else if connect {
        TransportError::Connect(reason)
    } else {
        TransportError::Io(reason)
    }
}

/// Adds the fix to TLS trust failures.
fn connect_hint(reason: String) -> String {
    let lower = reason.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("unknownissuer") {
        format!("{reason} (pass --ca-cert FILE with the cluster's CA, or --insecure for a test cluster)")
    } else {
        reason
    }
}

/// Removes `user:password@` from a URL so it can be printed; returns (clean url, user, password).
pub fn split_userinfo(url: &str) -> (String, Option<String>, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None, None);
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((info, host)) => {
            let (user, pass) = match info.split_once(':') {
                Some((u, p)) => (u.to_string(), Some(p.to_string())),
                None => (info.to_string(), None),
            };
            (format!("{scheme}://{host}{tail}"), Some(user), pass)
        }
        None => (url.to_string(), None, None),
    }
}

/// An answer whose body was parsed as JSON (`Value::Null` for an empty body).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub json: Value,
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body of a 2xx answer; any other status becomes an `Error::Http` for `step`.
    pub fn ok(self, step: &str) -> Result<Value> {
        if self.success() {
            Ok(self.json)
        } else {
            Err(http_error(step, self.status, &self.json))
        }
    }
}

/// The cluster client: one request helper with retries shared by every step.
#[derive(Clone)]
pub struct Es {
    transport: Arc<dyn Transport>,
    url: String,
    policy: RetryPolicy,
    timeout: Duration,
    verbose: bool,
    /// Set once the cluster has answered: before that, a refused connection is retried
    /// for about two seconds only (a wrong `--url` should fail fast, saying it retries).
    contacted: Arc<std::sync::atomic::AtomicBool>,
}

/// Whether a request may be repeated blindly after an ambiguous failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Reads, and writes that leave the same state however often they run.
    Idempotent,
    /// `_clone`, `_reindex`, `_delete_by_query`, `PUT <index>`, conditional journal writes:
    /// retried only when the server provably did not run them (connection refused, 429
    /// rejection); otherwise the caller checks the state, then decides.
    Once,
}

/// Total time spent retrying refused connections before the cluster ever answered.
const FIRST_CONTACT_BUDGET: Duration = Duration::from_secs(2);

impl Es {
    /// Logs every request line and status to stderr (never headers or bodies, which may
    /// carry credentials or documents).
    pub fn verbose(mut self, on: bool) -> Self {
        self.verbose = on;
        self
    }

    /// Wraps a transport; `url` is the printable (userinfo-free) base URL.
    pub fn new(
        transport: Arc<dyn Transport>,
        url: &str,
        policy: RetryPolicy,
        timeout: Duration,
    ) -> Self {
        Self {
            transport,
            url: url.to_string(),
            policy,
            timeout,
            verbose: false,
            contacted: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        }
    }

    /// The printable base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends a request with retries; any HTTP status is returned as a `Reply`.
    /// `long` requests (force merge, synchronous by-query) have no client-side timeout.
    pub fn send(
        &self,
        step: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
        long: bool,
    ) -> Result<Reply> {
        self.send_with(step, method, path, body, long, Repeat::Idempotent)
    }

    /// Like `send` for a request that must not run twice (see [`Repeat::Once`]).
    pub fn send_once(
        &self,
        step: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
        long: bool,
    ) -> Result<Reply> {
        self.send_with(step, method, path, body, long, Repeat::Once)
    }

    fn send_with(
        &self,
        step: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
        long: bool,
        repeat: Repeat,
    ) -> Result<Reply> {
        use std::sync::atomic::Ordering;
        let req = Request {
            method,
            path: path.to_string(),
            body: body.map(|b| b.to_string().into_bytes()),
            timeout: if long { None } else { Some(self.timeout) },
        };
        let mut attempt = 0u32;
        let mut refused_for = Duration::ZERO;
        loop {
            let started = std::time::Instant::now();
            let outcome = self.transport.send(&req);
            if self.verbose {
                let what = match &outcome {
                    Ok(r) => r.status.to_string(),
                    Err(e) => format!("{e:?}"),
                };
                crate::out::err_line(&format!(
                    "es-split: {} {} -> {} ({} ms)",
                    req.method.as_str(),
                    sanitize(&req.path),
                    sanitize(&what),
                    started.elapsed().as_millis()
                ));
            }
            if outcome.is_ok() {
                self.contacted.store(true, Ordering::Relaxed);
            }
            let verdict = match (&outcome, repeat) {
                (Ok(r), Repeat::Idempotent) => {
                    retry::classify_status(r.status, &parse_body(&r.body))
                }
                (Ok(r), Repeat::Once) => {
                    retry::classify_status_once(r.status, &parse_body(&r.body))
                }
                (Err(e), Repeat::Idempotent) => retry::classify_transport(e),
                (Err(e), Repeat::Once) => retry::classify_transport_once(e),
            };
            if verdict == Retry::Yes && attempt < self.policy.retries {
                let wait = self.policy.backoff(attempt);
                if let Err(TransportError::Connect(reason)) = &outcome {
                    if !self.contacted.load(Ordering::Relaxed) {
                        if refused_for >= FIRST_CONTACT_BUDGET {
                            return Err(Error::Connect {
                                step: step.into(),
                                url: self.url.clone(),
                                reason: sanitize(&connect_hint(reason.clone())),
                            });
                        }
                        if attempt == 0 {
                            crate::out::warn(&format!(
                                "cannot connect to {} ({}); retrying for {} s",
                                self.url,
                                sanitize(reason),
                                FIRST_CONTACT_BUDGET.as_secs()
                            ));
                        }
                        refused_for += wait;
                    }
                }
                attempt += 1;
                std::thread::sleep(wait);
                continue;
            }
            return match outcome {
                Ok(r) => Ok(Reply {
                    status: r.status,
                    json: parse_body(&r.body),
                }),
                Err(TransportError::Connect(reason)) => Err(Error::Connect {
                    step: step.into(),
                    url: self.url.clone(),
                    reason: sanitize(&connect_hint(reason)),
                }),
                Err(TransportError::Timeout) => Err(Error::Timeout {
                    step: step.into(),
                    secs: self.timeout.as_secs(),
                }),
                Err(TransportError::Io(reason)) => Err(Error::Io {
                    step: step.into(),
                    reason: sanitize(&reason),
                }),
            };
        }
    }

    /// Like `send` (never `long`), but a non-2xx status becomes an `Error::Http`.
    pub fn call(
        &self,
        step: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value> {
        self.send(step, method, path, body, false)?.ok(step)
    }

    /// `GET path`: `None` on 404 (a missing index or alias), an error on any other non-2xx.
    pub fn get_if_exists(&self, step: &str, path: &str) -> Result<Option<Value>> {
        let reply = self.send(step, Method::Get, path, None, false)?;
        if reply.status == 404 {
            return Ok(None);
        }
        reply.ok(step).map(Some)
    }
}

fn parse_body(body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

/// The (type, reason) of an error body: `error` may be an object (ES ≥ 2, OpenSearch) or a
/// plain string (unknown route, wrong method, ES 1.x). The most useful text is the first root
/// cause, else the deepest `caused_by`.
pub fn error_parts(body: &Value) -> (String, String) {
    match body.get("error") {
        Some(Value::String(s)) => (String::new(), s.clone()),
        Some(obj @ Value::Object(_)) => {
            let pick = obj
                .get("root_cause")
                .and_then(|r| r.get(0))
                .filter(|r| r.get("reason").is_some())
                .unwrap_or(obj);
            let mut deepest = pick;
            while let Some(next) = deepest.get("caused_by") {
                deepest = next;
            }
            let text =
                |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let kind = text(pick, "type");
            let mut reason = text(pick, "reason");
            if !std::ptr::eq(deepest, pick) {
                let inner = text(deepest, "reason");
                if !inner.is_empty() && inner != reason {
                    reason = format!("{reason} ({inner})");
                }
            }
            (kind, reason)
        }
        _ => match body {
            Value::String(s) => (String::new(), s.chars().take(300).collect()),
            Value::Null => (String::new(), "empty response".into()),
            other => (String::new(), other.to_string().chars().take(300).collect()),
        },
    }
}

/// Builds the error for a non-2xx answer, with a hint for authentication failures.
pub fn http_error(step: &str, status: u16, body: &Value) -> Error {
    let (kind, mut reason) = error_parts(body);
    match status {
        401 => reason.push_str(" — check --user/ES_PASSWORD or --api-key"),
        403 if kind == "security_exception" => {
            reason.push_str(" — the user lacks a privilege for this step")
        }
        _ => {}
    }
    Error::Http {
        step: step.into(),
        status,
        kind: sanitize(&kind),
        reason: sanitize(&reason),
    }
}

/// Whether a 400 answer means "this server has no such endpoint" (osmem, proxies).
pub fn is_no_handler(reply: &Reply) -> bool {
    reply.status == 400
        && matches!(reply.json.get("error"), Some(Value::String(s)) if s.starts_with("no handler found"))
}

/// Percent-encodes an index or alias name for use in a URL path.
pub fn enc(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_object_uses_root_cause_and_deepest_cause() {
        let body = json!({"error":{"root_cause":[{"type":"parse_exception","reason":"failed to parse date field [garbage]"}],
            "type":"search_phase_execution_exception","reason":"all shards failed"},"status":400});
        assert_eq!(
            error_parts(&body),
            (
                "parse_exception".into(),
                "failed to parse date field [garbage]".into()
            )
        );
        let nested = json!({"error":{"type":"a","reason":"outer","caused_by":{"type":"b","reason":"inner"}}});
        assert_eq!(error_parts(&nested), ("a".into(), "outer (inner)".into()));
    }

    #[test]
    fn error_string_is_accepted() {
        let body = json!({"error":"no handler found for uri [/logs/_clone/x] and method [POST]"});
        let (kind, reason) = error_parts(&body);
        assert_eq!(kind, "");
        assert!(reason.starts_with("no handler found"));
        assert!(is_no_handler(&Reply {
            status: 400,
            json: body
        }));
        assert_eq!(
            error_parts(&Value::String("<html>Bad Gateway</html>".into())).1,
            "<html>Bad Gateway</html>"
        );
    }

    #[test]
    fn userinfo_is_stripped() {
        let (url, user, pass) = split_userinfo("https://elastic:s3cret@es.example:9200/prefix");
        assert_eq!(url, "https://es.example:9200/prefix");
        assert_eq!(user.as_deref(), Some("elastic"));
        assert_eq!(pass.as_deref(), Some("s3cret"));
        assert_eq!(
            split_userinfo("http://localhost:9200").0,
            "http://localhost:9200"
        );
        assert_eq!(split_userinfo("http://h/p@x").0, "http://h/p@x");
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let basic = format!(
            "{:?}",
            Auth::Basic {
                user: "elastic".into(),
                password: "s3cret".into()
            }
        );
        assert!(basic.contains("elastic") && !basic.contains("s3cret"));
        assert!(!format!("{:?}", Auth::ApiKey("c2VjcmV0".into())).contains("c2VjcmV0"));
    }

    #[test]
    fn auth_errors_name_the_fix() {
        let e = http_error(
            "connect",
            401,
            &json!({"error":{"type":"security_exception","reason":"missing authentication credentials"},"status":401}),
        );
        let s = e.to_string();
        assert!(s.contains("HTTP 401") && s.contains("--api-key"), "{s}");
    }

    #[test]
    fn names_are_encoded() {
        assert_eq!(enc("logs-2015.01"), "logs-2015.01");
        assert_eq!(enc("a b/c?"), "a%20b%2Fc%3F");
    }
}
