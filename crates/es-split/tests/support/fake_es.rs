//! An in-process fake of the Elasticsearch 8 / OpenSearch 2 REST subset es-split uses on the
//! `_clone` path, with real semantics and fault injection. Each behaviour cites the official
//! reference (ES = https://www.elastic.co/guide/en/elasticsearch/reference/8.15/…).
//!
//! Deliberate differences from osmem-server (which the reindex tests use): the write block
//! also rejects deletes (ES index-modules-blocks.html: "disable data write operations"),
//! searches see a refreshed snapshot (refresh lag), and `_clone` and `_tasks` exist.
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Map, Value};

/// Starts a router on a free loopback port in a background runtime; returns its URL.
pub fn serve(router: axum::Router) -> String {
    let (listener, addr) = bind();
    spawn_runtime(async move {
        let l = tokio::net::TcpListener::from_std(listener).unwrap();
        axum::serve(l, router).await.unwrap();
    });
    format!("http://{addr}")
}

/// A non-blocking listener on a free loopback port.
fn bind() -> (std::net::TcpListener, std::net::SocketAddr) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Runs a server future on its own two-thread runtime, in a thread that ends with the process.
fn spawn_runtime(server: impl std::future::Future<Output = ()> + Send + 'static) {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(server);
    });
}

/// Like [`serve`], over HTTPS with a certificate for 127.0.0.1/localhost signed by a fresh
/// CA; returns the URL and the CA's PEM.
pub fn serve_tls(router: axum::Router) -> (String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "es-split test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], der)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let (listener, addr) = bind();
    spawn_runtime(async move {
        let tcp = tokio::net::TcpListener::from_std(listener).unwrap();
        axum::serve(TlsListener { tcp, acceptor }, router)
            .await
            .unwrap();
    });
    (format!("https://127.0.0.1:{}", addr.port()), ca.pem())
}

/// Accepts TCP connections and completes the TLS handshake; failed handshakes (a client
/// that does not trust the CA) are dropped.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Which server `GET /` claims to be.
#[derive(Clone, Copy, Debug)]
pub enum Flavor {
    Es(&'static str),
    OpenSearch(&'static str),
}

/// One document: its id and the values of the `date` field (epoch ms; empty = missing).
#[derive(Clone, Debug)]
pub struct Doc {
    pub id: String,
    pub dates: Vec<i64>,
}

#[derive(Clone, Debug)]
pub struct FakeIndex {
    /// The live documents (what a flush would commit).
    pub docs: Vec<Doc>,
    /// What searches see: the state at the last refresh (ES refresh.html: "makes recent
    /// operations performed on one or more indices available for search").
    pub searchable: Vec<Doc>,
    /// Flat settings with string values, as `?flat_settings=true` returns them.
    pub settings: Map<String, Value>,
    pub mappings: Value,
    /// Health polls left before the index turns from red to green (a recovering clone).
    pub recovering: u32,
    /// Documents with a body (the journal), by id: (source, seq_no).
    pub bodies: BTreeMap<String, (Value, i64)>,
    /// `max_seq_no` of each primary shard; every write raises its shard's (ES
    /// index-modules-history-retention / seq_no: one sequence number per operation).
    pub seq: Vec<i64>,
}

impl FakeIndex {
    /// A freshly refreshed index (`searchable` = `docs`).
    fn new(docs: Vec<Doc>, settings: Map<String, Value>, mappings: Value, recovering: u32) -> Self {
        let shards = settings
            .get("index.number_of_shards")
            .and_then(Value::as_str)
            .and_then(|n| n.parse().ok())
            .unwrap_or(1usize)
            .max(1);
        Self {
            searchable: docs.clone(),
            docs,
            settings,
            mappings,
            recovering,
            bodies: BTreeMap::new(),
            seq: vec![-1; shards],
        }
    }

    /// Records one write to document `id`; returns its sequence number.
    pub fn bump(&mut self, id: &str) -> i64 {
        let shard = id
            .bytes()
            .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize))
            % self.seq.len();
        self.seq[shard] += 1;
        self.seq[shard]
    }
}

/// Injected faults; each counter is consumed as requests arrive.
#[derive(Default, Debug)]
pub struct Faults {
    /// The next N requests answer 429 `es_rejected_execution_exception`.
    pub rejections: u32,
    /// The next N `_tasks/<id>` polls lose their connection mid-response.
    pub drop_task_polls: u32,
    /// Every DBQ task completes with `error` instead of `response`.
    pub task_error: bool,
    /// Every DBQ task completes with a non-empty `response.failures`.
    pub task_failures: bool,
    /// Task results are forgotten after the first poll (node left): 404.
    pub task_vanishes: bool,
    /// Tasks never finish (to interrupt the tool while it polls).
    pub tasks_hang: bool,
    /// DBQ silently leaves one matching document behind (a count mismatch).
    pub lose_one_delete: bool,
    /// Requests whose path contains this answer 403 `security_exception` (a missing privilege).
    pub forbid: Option<&'static str>,
    /// Every request waits this long before it is answered (a slow cluster).
    pub delay: Option<std::time::Duration>,
    /// The journal write with this index (0 = the next) answers 504 at once and is applied
    /// 100 ms later (a gateway that gave up while the server went on).
    pub late_journal_write: Option<u32>,
    /// Requests whose path contains this answer 502 after they ran (a proxy that lost
    /// the upstream's answer).
    pub bad_gateway_after: Option<&'static str>,
}

pub struct FakeState {
    pub flavor: Flavor,
    pub indices: BTreeMap<String, FakeIndex>,
    /// alias → index → definition (`filter`, `index_routing`, `search_routing`, `is_write_index`).
    pub aliases: BTreeMap<String, BTreeMap<String, Value>>,
    /// What `GET /` reports as `cluster_uuid`.
    pub cluster_uuid: String,
    tasks: HashMap<String, Task>,
    next_task: u64,
    /// Required `Authorization` header value, if security is on.
    pub auth: Option<String>,
    pub faults: Faults,
    /// Every request as "METHOD /path?query".
    pub log: Vec<String>,
    /// Health polls a new clone takes to recover (red until the last one, then yellow).
    pub clone_recovery: u32,
    /// The nodes `_nodes/stats/fs` reports: (roles, `fs.total.available_in_bytes`);
    /// `None` answers like a server without the API.
    pub nodes: Option<Vec<(Vec<&'static str>, u64)>>,
    /// `cluster.routing.allocation.disk.watermark.high` (ES default "90%").
    pub high_watermark: &'static str,
    /// Indices into `nodes` of the nodes holding the indices' shards (`None`: every data node).
    pub shard_nodes: Option<Vec<usize>>,
}

/// The store size the fake reports per document (`_stats/store`).
pub const DOC_BYTES: u64 = 1000;

struct Task {
    index: String,
    to_delete: Vec<String>,
    done: usize,
    batch: usize,
    polls: u32,
    /// Set by `_tasks/<id>/_cancel`.
    cancelled: bool,
}

/// A running fake; tests reach into `state` to set up data and faults and to assert.
pub struct FakeEs {
    pub url: String,
    pub state: Arc<Mutex<FakeState>>,
}

impl FakeEs {
    pub fn start(flavor: Flavor) -> Self {
        Self::start_with(flavor, serve)
    }

    /// The fake over HTTPS; returns it and the CA's PEM.
    pub fn start_tls(flavor: Flavor) -> (Self, String) {
        let mut ca = String::new();
        let fake = Self::start_with(flavor, |router| {
            let (url, pem) = serve_tls(router);
            ca = pem;
            url
        });
        (fake, ca)
    }

    fn start_with(flavor: Flavor, serve: impl FnOnce(axum::Router) -> String) -> Self {
        let state = Arc::new(Mutex::new(FakeState {
            flavor,
            indices: BTreeMap::new(),
            aliases: BTreeMap::new(),
            cluster_uuid: {
                static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                format!("fake-cluster-{}-{n}", std::process::id())
            },
            tasks: HashMap::new(),
            next_task: 1,
            auth: None,
            faults: Faults::default(),
            log: Vec::new(),
            clone_recovery: 2,
            // A dedicated master with a big disk (not counted: it holds no shards) and a
            // data node with 1 TiB free.
            nodes: Some(vec![
                (vec!["master"], 1 << 50),
                (vec!["data_hot", "data_content", "ingest"], 1 << 40),
            ]),
            high_watermark: "90%",
            shard_nodes: None,
        }));
        let url = serve(
            axum::Router::new()
                .fallback(handle)
                .with_state(state.clone()),
        );
        FakeEs { url, state }
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut FakeState) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// Adds an index with `shards` primaries, 1 replica, a `date` mapping and these docs.
    pub fn add_index(&self, name: &str, shards: u32, docs: Vec<Doc>) {
        let mut settings = Map::new();
        settings.insert("index.number_of_shards".into(), json!(shards.to_string()));
        settings.insert("index.number_of_replicas".into(), json!("1"));
        settings.insert("index.uuid".into(), json!(format!("uuid-{name}")));
        settings.insert("index.provided_name".into(), json!(name));
        let mappings = json!({"_meta": {"owner": "fake"}, "properties": {"date": {"type": "date"}, "msg": {"type": "text"}}});
        self.with(|s| {
            s.indices
                .insert(name.into(), FakeIndex::new(docs, settings, mappings, 0))
        });
    }

    pub fn count(&self, index: &str) -> usize {
        self.with(|s| s.indices[index].docs.len())
    }

    pub fn setting(&self, index: &str, key: &str) -> Option<Value> {
        self.with(|s| s.indices[index].settings.get(key).cloned())
    }

    /// Delete-by-query tasks still running (neither finished nor cancelled).
    pub fn running_tasks(&self) -> usize {
        self.with(|s| {
            s.tasks
                .values()
                .filter(|t| !t.cancelled && t.done < t.to_delete.len())
                .count()
        })
    }

    /// The journal document of `source` in the default journal index.
    pub fn journal(&self, source: &str) -> Option<Value> {
        self.with(|s| {
            s.indices
                .get("es-split-journal")
                .and_then(|ix| ix.bodies.get(source))
                .map(|b| b.0.clone())
        })
    }

    /// The date values of every live document of an index.
    pub fn dates(&self, index: &str) -> Vec<Vec<i64>> {
        self.with(|s| {
            s.indices[index]
                .docs
                .iter()
                .map(|d| d.dates.clone())
                .collect()
        })
    }

    pub fn requests(&self, needle: &str) -> usize {
        self.with(|s| s.log.iter().filter(|l| l.contains(needle)).count())
    }
}

fn reply(status: u16, body: Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// ES error shape (ES common-options.html "Error responses"): `root_cause`, `type`, `reason`.
fn error(status: u16, kind: &str, reason: &str) -> Response {
    reply(
        status,
        json!({"error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind, "reason": reason}, "status": status}),
    )
}

fn not_found(index: &str) -> Response {
    error(
        404,
        "index_not_found_exception",
        &format!("no such index [{index}]"),
    )
}

/// A write rejected by `index.blocks.write` (ES index-modules-blocks.html; the block id and
/// wording are the server's `IndexMetadata.INDEX_WRITE_BLOCK`).
fn write_blocked(index: &str) -> Response {
    error(
        403,
        "cluster_block_exception",
        &format!("index [{index}] blocked by: [FORBIDDEN/8/index write (api)];"),
    )
}

/// Drops the connection after the headers: hyper aborts the body, the client sees a reset.
fn dropped() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected drop",
        ))
    });
    Response::builder()
        .status(200)
        .header("content-length", "100")
        .body(Body::from_stream(stream))
        .unwrap()
}

/// Parses the date forms the tests use (`yyyy[-MM[-dd[THH:mm[:ss[.SSS]]]]][Z]` and epoch
/// millis). Missing components round DOWN, as for `gte`/`lt` (ES query-dsl-range-query.html,
/// "Missing date components").
pub fn parse_date(v: &Value, epoch_format: bool) -> Option<i64> {
    if let Some(n) = v.as_i64() {
        return Some(n);
    }
    let s = v.as_str()?;
    if epoch_format || s.chars().all(|c| c.is_ascii_digit()) && s.len() > 8 {
        return s.parse().ok();
    }
    let s = s.trim_end_matches('Z');
    let (date, time) = s.split_once('T').unwrap_or((s, ""));
    let mut d = date.split('-').map(|p| p.parse::<i64>());
    let y = d.next()?.ok()?;
    let m = d.next().unwrap_or(Ok(1)).ok()?;
    let day = d.next().unwrap_or(Ok(1)).ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || !(1000..=9999).contains(&y) {
        return None;
    }
    let mut t = time
        .split([':', '.'])
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<i64>());
    let hh = t.next().unwrap_or(Ok(0)).ok()?;
    let mm = t.next().unwrap_or(Ok(0)).ok()?;
    let ss = t.next().unwrap_or(Ok(0)).ok()?;
    let ms = t.next().unwrap_or(Ok(0)).ok()?;
    Some(days_from_civil(y, m, day) * 86_400_000 + hh * 3_600_000 + mm * 60_000 + ss * 1000 + ms)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Evaluates the query subset the tool sends. A range on a multi-valued field matches if any
/// value matches (ES query-dsl-range-query.html); `exists` matches a non-empty value list.
fn matches(q: &Value, doc: &Doc) -> Result<bool, String> {
    if q.get("match_all").is_some() {
        return Ok(true);
    }
    if let Some(r) = q.get("range").and_then(Value::as_object) {
        let (_, clause) = r.iter().next().ok_or("empty range")?;
        let epoch = clause.get("format").and_then(Value::as_str) == Some("epoch_millis");
        let bound = |k: &str| -> Result<Option<i64>, String> {
            match clause.get(k) {
                None => Ok(None),
                Some(v) => parse_date(v, epoch).map(Some).ok_or_else(|| format!("failed to parse date field [{}] with format [strict_date_optional_time||epoch_millis]", v.as_str().unwrap_or("?"))),
            }
        };
        let (lt, gte) = (bound("lt")?, bound("gte")?);
        return Ok(doc
            .dates
            .iter()
            .any(|d| lt.is_none_or(|b| *d < b) && gte.is_none_or(|b| *d >= b)));
    }
    if q.get("exists").is_some() {
        return Ok(!doc.dates.is_empty());
    }
    if let Some(b) = q.get("bool") {
        let list = |k: &str| -> Vec<Value> {
            match b.get(k) {
                Some(Value::Array(a)) => a.clone(),
                Some(v) => vec![v.clone()],
                None => vec![],
            }
        };
        for m in list("must") {
            if !matches(&m, doc)? {
                return Ok(false);
            }
        }
        for m in list("must_not") {
            if matches(&m, doc)? {
                return Ok(false);
            }
        }
        let should = list("should");
        if !should.is_empty() {
            let mut any = false;
            for m in should {
                any |= matches(&m, doc)?;
            }
            return Ok(any);
        }
        return Ok(true);
    }
    Err(format!("unsupported query {q}"))
}

fn parse_failure(reason: &str) -> Response {
    // ES search failures: search_phase_execution_exception whose root cause is the parse error.
    reply(
        400,
        json!({"error": {"root_cause": [{"type": "parse_exception", "reason": reason}],
        "type": "search_phase_execution_exception", "reason": "all shards failed", "phase": "query",
        "failed_shards": [{"shard": 0, "reason": {"type": "parse_exception", "reason": reason}}]}, "status": 400}),
    )
}

fn shards(n: usize) -> Value {
    json!({"total": n, "successful": n, "failed": 0})
}

fn flat(prefix: &str, v: &Value, out: &mut Map<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flat(&key, v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

/// Applies a settings body: `null` resets a setting, values are stored as strings
/// (ES indices-update-settings.html: "To revert a setting to the default value, use null").
fn apply_settings(settings: &mut Map<String, Value>, body: &Value) {
    let mut f = Map::new();
    flat("", body.get("settings").unwrap_or(body), &mut f);
    for (k, v) in f {
        let k = if k.starts_with("index.") {
            k
        } else {
            format!("index.{k}")
        };
        match v {
            Value::Null => {
                settings.remove(&k);
            }
            Value::String(s) => {
                settings.insert(k, json!(s));
            }
            other => {
                settings.insert(k, json!(other.to_string()));
            }
        }
    }
}

fn blocked(ix: &FakeIndex) -> bool {
    ix.settings
        .get("index.blocks.write")
        .and_then(Value::as_str)
        == Some("true")
}

fn task_json(id: &str, t: &Task, completed: bool, faults: &Faults) -> Value {
    let status = json!({"total": t.to_delete.len(), "updated": 0, "created": 0, "deleted": t.done, "batches": t.done.div_ceil(t.batch.max(1)),
        "version_conflicts": 0, "noops": 0, "retries": {"bulk": 0, "search": 0}, "throttled_millis": 0,
        "requests_per_second": -1.0, "throttled_until_millis": 0});
    let (node, num) = id.split_once(':').unwrap_or(("fake-node", "0"));
    let mut out = json!({"completed": completed, "task": {"node": node, "id": num.parse::<u64>().unwrap_or(0), "type": "transport",
        "action": "indices:data/write/delete/byquery", "status": status, "description": format!("delete-by-query [{}]", t.index),
        "start_time_in_millis": 0, "running_time_in_nanos": 0, "cancellable": true, "cancelled": false, "headers": {}}});
    if completed {
        if faults.task_error {
            // ES tasks.html: a task that threw carries `error` instead of `response`.
            out["error"] = json!({"type": "search_phase_execution_exception", "reason": "all shards failed",
                "caused_by": {"type": "circuit_breaking_exception", "reason": "[parent] Data too large"}});
        } else {
            let mut resp = status.clone();
            resp["took"] = json!(1);
            resp["timed_out"] = json!(false);
            resp["failures"] = if faults.task_failures {
                // ES docs-delete-by-query.html: failures are listed and the task still completes.
                json!([{"index": t.index, "id": "x", "status": 409, "cause": {"type": "version_conflict_engine_exception", "reason": "[x]: version conflict, required seqNo [1]"}}])
            } else {
                json!([])
            };
            out["response"] = resp;
        }
    }
    out
}

async fn handle(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    req: Request,
) -> Response {
    let method = req.method().as_str().to_string();
    let uri = req.uri().clone();
    let body = axum::body::to_bytes(req.into_body(), 64 << 20)
        .await
        .unwrap_or_default();
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    let query: HashMap<String, String> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    let delay = state.lock().unwrap().faults.delay;
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    let mut s = state.lock().unwrap();
    s.log.push(format!(
        "{method} {}",
        uri.path_and_query().map(|p| p.as_str()).unwrap_or("")
    ));
    // ES security: a request without valid credentials gets 401 security_exception with a
    // WWW-Authenticate challenge (ES security-api … "missing authentication credentials").
    if let Some(expected) = &s.auth {
        let given = headers.get("authorization").and_then(|h| h.to_str().ok());
        if given != Some(expected.as_str()) {
            let reason = if given.is_some() {
                "unable to authenticate user for REST request [/]"
            } else {
                "missing authentication credentials for REST request [/]"
            };
            let mut r = error(401, "security_exception", reason);
            r.headers_mut().insert(
                "www-authenticate",
                "Basic realm=\"security\" charset=\"UTF-8\""
                    .parse()
                    .unwrap(),
            );
            return r;
        }
    }
    let path = uri.path().to_string();
    if let Some(needle) = s.faults.forbid.filter(|n| path.contains(n)) {
        // ES security: an authenticated user without the privilege gets 403.
        let reason = format!(
            "action [{needle}] is unauthorized for user [split-bot] with effective roles [reader]"
        );
        return error(403, "security_exception", &reason);
    }
    if s.faults.rejections > 0 {
        s.faults.rejections -= 1;
        // Thread-pool rejection (ES docs-bulk.html / tune-for-indexing: retry with backoff).
        return error(
            429,
            "es_rejected_execution_exception",
            "rejected execution of coordinating operation [shard_detail=…]",
        );
    }
    let parts: Vec<String> = uri
        .path()
        .split('/')
        .filter(|p| !p.is_empty())
        .map(percent_decode)
        .collect();
    let late = method == "PUT" && path.starts_with("/es-split-journal/_doc/") && {
        let due = s.faults.late_journal_write == Some(0);
        s.faults.late_journal_write = s.faults.late_journal_write.and_then(|n| n.checked_sub(1));
        due
    };
    if late {
        drop(s);
        let state = state.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let p: Vec<&str> = parts.iter().map(String::as_str).collect();
            let mut s = state.lock().unwrap();
            let _ = route(&mut s, &method, &p, &query, &body);
        });
        return error(504, "gateway_timeout", "upstream did not answer in time");
    }
    let p: Vec<&str> = parts.iter().map(String::as_str).collect();
    let resp = route(&mut s, &method, &p, &query, &body);
    if let Some(needle) = s.faults.bad_gateway_after.filter(|n| path.contains(n)) {
        let _ = needle;
        return error(502, "bad_gateway", "upstream answer lost");
    }
    resp
}

fn route(
    s: &mut FakeState,
    method: &str,
    p: &[&str],
    q: &HashMap<String, String>,
    body: &Value,
) -> Response {
    match (method, p) {
        ("GET", []) => {
            let (num, dist) = match s.flavor {
                Flavor::Es(n) => (n, None),
                Flavor::OpenSearch(n) => (n, Some("opensearch")),
            };
            let mut version = json!({"number": num, "build_flavor": "default", "build_type": "docker", "lucene_version": "9.11.1"});
            if let Some(d) = dist {
                version = json!({"distribution": d, "number": num, "build_type": "tar", "lucene_version": "9.12.1"});
            }
            let tagline = if dist.is_some() {
                "The OpenSearch Project: https://opensearch.org/"
            } else {
                "You Know, for Search"
            };
            let mut r = reply(
                200,
                json!({"name": "fake-node", "cluster_name": "fake", "cluster_uuid": s.cluster_uuid, "version": version, "tagline": tagline}),
            );
            r.headers_mut()
                .insert("x-elastic-product", "Elasticsearch".parse().unwrap());
            r
        }
        // ES tasks.html: list tasks; `GET _tasks/<id>` returns the task or its stored result.
        ("GET", ["_tasks"]) => {
            let tasks: Map<String, Value> = s
                .tasks
                .iter()
                .filter(|(_, t)| !t.cancelled && t.done < t.to_delete.len())
                .map(|(id, t)| {
                    (id.clone(), json!({"node": "fake-node", "action": "indices:data/write/delete/byquery",
                        "description": format!("delete-by-query [{}]", t.index), "cancellable": true}))
                })
                .collect();
            reply(
                200,
                json!({"nodes": {"fake-node": {"name": "fake-node", "tasks": tasks}}}),
            )
        }
        // ES tasks.html "Task cancellation": the task stops at its next batch and completes
        // with `canceled` in its response.
        ("POST", ["_tasks", id, "_cancel"]) => match s.tasks.get_mut(*id) {
            Some(t) if t.done < t.to_delete.len() && !t.cancelled => {
                t.cancelled = true;
                reply(
                    200,
                    json!({"nodes": {"fake-node": {"tasks": {*id: {"cancelled": true}}}}}),
                )
            }
            _ => reply(
                200,
                json!({"nodes": {}, "node_failures": [{"type": "failed_node_exception", "reason": "task not running"}]}),
            ),
        },
        ("GET", ["_tasks", id]) => poll(s, id),
        ("GET", ["_cluster", "health", index]) => {
            let Some(ix) = s.indices.get_mut(*index) else {
                // ES cluster-health.html: waiting on a missing index times out (408).
                return reply(
                    408,
                    json!({"cluster_name": "fake", "status": "red", "timed_out": true}),
                );
            };
            // A recovering index: red while primaries come up one per poll, then yellow
            // (primaries active, replicas not yet), then green.
            let setting = |k: &str| {
                ix.settings
                    .get(k)
                    .and_then(Value::as_str)
                    .and_then(|v| v.parse::<u64>().ok())
            };
            let primaries = setting("index.number_of_shards").unwrap_or(1);
            let replicas = primaries * setting("index.number_of_replicas").unwrap_or(0);
            let left = u64::from(ix.recovering);
            let (rank, active, initializing, unassigned) = match left {
                0 => (2, primaries + replicas, 0, 0),
                1 => (1, primaries, 0, replicas),
                _ => {
                    let up = primaries.saturating_sub(left - 1);
                    (0, up, primaries - up, replicas)
                }
            };
            ix.recovering = ix.recovering.saturating_sub(1);
            let status = ["red", "yellow", "green"][rank];
            // ES cluster-health.html: `wait_for_status` waits until the status is at least
            // the one given; "If the timeout expires before the status is reached, the
            // request returns 408" with `timed_out: true` and the current counts.
            let wanted = match q.get("wait_for_status").map(String::as_str) {
                Some("green") => 2,
                Some("yellow") => 1,
                _ => 0,
            };
            let timed_out = rank < wanted;
            reply(
                if timed_out { 408 } else { 200 },
                json!({"cluster_name": "fake", "status": status, "timed_out": timed_out,
                    "number_of_nodes": 1, "number_of_data_nodes": 1, "active_primary_shards": active.min(primaries),
                    "active_shards": active, "relocating_shards": 0, "initializing_shards": initializing,
                    "unassigned_shards": unassigned}),
            )
        }
        // ES cluster-get-settings.html with `include_defaults`: every setting, flat, by scope.
        ("GET", ["_cluster", "settings"]) => reply(
            200,
            json!({"persistent": {}, "transient": {},
                "defaults": {"cluster.routing.allocation.disk.watermark.high": s.high_watermark}}),
        ),
        // ES cat-shards.html (`format=json`, `h=node`): one row per shard copy.
        ("GET", ["_cat", "shards", index]) => {
            if !s.indices.contains_key(*index) {
                return not_found(index);
            }
            let nodes = s.nodes.clone().unwrap_or_default();
            let rows: Vec<Value> = nodes
                .iter()
                .enumerate()
                .filter(|(i, (roles, _))| match &s.shard_nodes {
                    Some(list) => list.contains(i),
                    None => roles.iter().any(|r| r.starts_with("data")),
                })
                .map(|(i, _)| json!({"node": format!("fake-{i}")}))
                .collect();
            reply(200, Value::Array(rows))
        }
        // ES cluster-nodes-stats.html: `nodes.<id>.roles` and `nodes.<id>.fs.total` (bytes).
        ("GET", ["_nodes", "stats", "fs"]) => match &s.nodes {
            Some(nodes) => {
                let nodes: Map<String, Value> = nodes
                    .iter()
                    .enumerate()
                    .map(|(i, (roles, avail))| {
                        (format!("node-{i}"), json!({"name": format!("fake-{i}"), "roles": roles,
                            "fs": {"total": {"total_in_bytes": 2 * avail, "free_in_bytes": avail, "available_in_bytes": avail}}}))
                    })
                    .collect();
                let n = nodes.len();
                reply(
                    200,
                    json!({"_nodes": {"total": n, "successful": n, "failed": 0}, "cluster_name": "fake", "nodes": nodes}),
                )
            }
            None => reply(
                400,
                json!({"error": "no handler found for uri [/_nodes/stats/fs] and method [GET]"}),
            ),
        },
        // ES indices-stats.html: `_all` and `indices.<index>`, each with `primaries` and `total`.
        // ES indices-stats.html with `level=shards`: `indices.<i>.shards.<n>[]` with `routing`
        // and `seq_no.max_seq_no` per shard copy.
        ("GET", [index, "_stats", "docs"]) => match s.indices.get(*index) {
            Some(ix) => {
                let per_shard: Map<String, Value> = ix
                    .seq
                    .iter()
                    .enumerate()
                    .map(|(n, seq)| {
                        (n.to_string(), json!([{"routing": {"state": "STARTED", "primary": true, "node": "fake-node"},
                            "seq_no": {"max_seq_no": seq, "local_checkpoint": seq, "global_checkpoint": seq}}]))
                    })
                    .collect();
                reply(
                    200,
                    json!({"_shards": shards(ix.seq.len()), "indices": {*index: {"uuid": ix.settings.get("index.uuid"), "shards": per_shard}}}),
                )
            }
            None => not_found(index),
        },
        // ES search-validate.html: `explain` renders the rewritten Lucene query; a date range
        // is a point range `field:[low TO high]` in epoch ms (`lt x` becomes `x - 1`).
        ("POST" | "GET", [index, "_validate", "query"]) => {
            if !s.indices.contains_key(*index) {
                return not_found(index);
            }
            let Some((field, clause)) = body
                .pointer("/query/range")
                .and_then(Value::as_object)
                .and_then(|r| r.iter().next())
            else {
                return reply(
                    200,
                    json!({"valid": true, "explanations": [{"index": index, "valid": true, "explanation": "*:*"}]}),
                );
            };
            let epoch = clause.get("format").and_then(Value::as_str) == Some("epoch_millis");
            let low = match clause.get("gte") {
                Some(v) => match parse_date(v, epoch) {
                    Some(ms) => ms,
                    None => {
                        return reply(
                            200,
                            json!({"valid": false, "explanations": [{"index": index, "valid": false,
                            "error": format!("[{index}/uuid] QueryShardException[failed to create query: failed to parse date field [{}] with format [strict_date_optional_time||epoch_millis]]", v.as_str().unwrap_or("?"))}]}),
                        )
                    }
                },
                None => i64::MIN,
            };
            let text = format!("IndexOrDocValuesQuery(indexQuery={field}:[{low} TO 9223372036854775807], dvQuery={field}:[{low} TO 9223372036854775807])");
            reply(
                200,
                json!({"_shards": shards(1), "valid": true, "explanations": [{"index": index, "valid": true, "explanation": text}]}),
            )
        }
        ("GET", [index, "_doc", id]) => match s.indices.get(*index) {
            Some(ix) => match ix.bodies.get(*id) {
                Some((src, seq)) => reply(
                    200,
                    json!({"_index": index, "_id": id, "_version": 1, "_seq_no": seq, "_primary_term": 1, "found": true, "_source": src}),
                ),
                None => reply(404, json!({"_index": index, "_id": id, "found": false})),
            },
            None => not_found(index),
        },
        ("GET", [index, "_alias"]) => match s.indices.get(*index) {
            Some(_) => {
                let defs: Map<String, Value> = s
                    .aliases
                    .iter()
                    .filter_map(|(al, m)| m.get(*index).map(|d| (al.clone(), d.clone())))
                    .collect();
                reply(200, json!({*index: {"aliases": defs}}))
            }
            None => not_found(index),
        },
        ("GET", [index, "_stats", "store"]) => match s.indices.get(*index) {
            Some(ix) => {
                let primaries = ix.docs.len() as u64 * DOC_BYTES;
                let copies = 1 + ix
                    .settings
                    .get("index.number_of_replicas")
                    .and_then(Value::as_str)
                    .and_then(|r| r.parse::<u64>().ok())
                    .unwrap_or(0);
                let store = |b: u64| json!({"store": {"size_in_bytes": b, "reserved_in_bytes": 0}});
                let stats =
                    json!({"primaries": store(primaries), "total": store(primaries * copies)});
                let mut one = stats.clone();
                one["uuid"] = json!(format!("uuid-{index}"));
                reply(
                    200,
                    json!({"_shards": shards(2), "_all": stats, "indices": {*index: one}}),
                )
            }
            None => not_found(index),
        },
        ("GET", ["_alias", name]) => match s.aliases.get(*name).filter(|m| !m.is_empty()) {
            Some(ix) => reply(
                200,
                Value::Object(
                    ix.iter()
                        .map(|(i, d)| (i.clone(), json!({"aliases": {*name: d}})))
                        .collect(),
                ),
            ),
            None => error(
                404,
                "aliases_not_found_exception",
                &format!("alias [{name}] missing"),
            ),
        },
        // ES indices-aliases.html: all actions are applied atomically.
        ("POST", ["_aliases"]) => {
            // Validate everything first: the actions apply all or nothing.
            let actions = body["actions"].as_array().cloned().unwrap_or_default();
            for a in &actions {
                for kind in ["add", "remove", "remove_index"] {
                    if let Some(ix) = a.get(kind).and_then(|x| x["index"].as_str()) {
                        if !s.indices.contains_key(ix) {
                            return not_found(ix);
                        }
                    }
                }
            }
            for a in actions {
                if let Some(add) = a.get("add") {
                    let (ix, al) = (
                        add["index"].as_str().unwrap_or(""),
                        add["alias"].as_str().unwrap_or(""),
                    );
                    let mut def = Map::new();
                    for key in [
                        "filter",
                        "index_routing",
                        "search_routing",
                        "is_write_index",
                    ] {
                        if let Some(v) = add.get(key) {
                            def.insert(key.into(), v.clone());
                        }
                    }
                    s.aliases
                        .entry(al.to_string())
                        .or_default()
                        .insert(ix.to_string(), Value::Object(def));
                }
                if let Some(rm) = a.get("remove") {
                    let (ix, al) = (
                        rm["index"].as_str().unwrap_or(""),
                        rm["alias"].as_str().unwrap_or(""),
                    );
                    if let Some(v) = s.aliases.get_mut(al) {
                        v.remove(ix);
                    }
                }
                // ES indices-aliases.html `remove_index`: deletes the index in the same step.
                if let Some(ix) = a.get("remove_index").and_then(|x| x["index"].as_str()) {
                    s.indices.remove(ix);
                    for v in s.aliases.values_mut() {
                        v.remove(ix);
                    }
                }
            }
            s.aliases.retain(|_, v| !v.is_empty());
            reply(200, json!({"acknowledged": true}))
        }
        ("HEAD", [index]) => {
            let found = s.indices.contains_key(*index) || s.aliases.contains_key(*index);
            Response::builder()
                .status(if found { 200 } else { 404 })
                .body(Body::empty())
                .unwrap()
        }
        ("DELETE", [index]) => match s.indices.remove(*index) {
            Some(_) => {
                for v in s.aliases.values_mut() {
                    v.remove(*index);
                }
                s.aliases.retain(|_, v| !v.is_empty());
                reply(200, json!({"acknowledged": true}))
            }
            None => not_found(index),
        },
        ("GET", [index, "_mapping"]) => match s.indices.get(*index) {
            Some(ix) => reply(200, json!({*index: {"mappings": ix.mappings}})),
            None => not_found(index),
        },
        // ES indices-put-mapping.html: `_meta` is replaced; a metadata change is allowed
        // under the write block (index-modules-blocks.html: "does not affect metadata").
        ("PUT", [index, "_mapping"]) => match s.indices.get_mut(*index) {
            Some(ix) => {
                if let Some(meta) = body.get("_meta") {
                    ix.mappings["_meta"] = meta.clone();
                }
                reply(200, json!({"acknowledged": true}))
            }
            None => not_found(index),
        },
        ("GET", [index, "_settings"]) => match s.indices.get(*index) {
            Some(ix) => reply(200, json!({*index: {"settings": ix.settings}})),
            None => not_found(index),
        },
        ("PUT", [index, "_settings"]) => match s.indices.get_mut(*index) {
            Some(ix) => {
                apply_settings(&mut ix.settings, body);
                reply(200, json!({"acknowledged": true}))
            }
            None => not_found(index),
        },
        // ES add-index-block.html (7.9+): sets index.blocks.write and reports the block.
        ("PUT", [index, "_block", "write"]) => match s.indices.get_mut(*index) {
            Some(ix) => {
                ix.settings
                    .insert("index.blocks.write".into(), json!("true"));
                reply(
                    200,
                    json!({"acknowledged": true, "shards_acknowledged": true, "indices": [{"name": index, "blocked": true}]}),
                )
            }
            None => not_found(index),
        },
        // ES docs-index_.html: `op_type=create` fails with 409 if the id exists;
        // optimistic-concurrency-control.html: `if_seq_no` + `if_primary_term` fail with 409
        // unless they match the document's last write. A missing index is auto-created.
        ("PUT", [index, "_doc", id]) | ("POST", [index, "_doc", id]) => {
            if !s.indices.contains_key(*index) {
                let mut settings = Map::new();
                settings.insert("index.number_of_shards".into(), json!("1"));
                settings.insert("index.uuid".into(), json!(format!("uuid-{index}")));
                s.indices.insert(
                    index.to_string(),
                    FakeIndex::new(vec![], settings, json!({}), 0),
                );
            }
            let ix = s.indices.get_mut(*index).unwrap();
            if blocked(ix) {
                return write_blocked(index);
            }
            let current = ix.bodies.get(*id).map(|b| b.1);
            let exists = current.is_some() || ix.docs.iter().any(|d| d.id == *id);
            if q.get("op_type").map(String::as_str) == Some("create") && exists {
                return error(
                    409,
                    "version_conflict_engine_exception",
                    &format!(
                        "[{id}]: version conflict, document already exists (current version [1])"
                    ),
                );
            }
            if let Some(want) = q.get("if_seq_no") {
                if current.map(|c| c.to_string()).as_deref() != Some(want.as_str()) {
                    return error(409, "version_conflict_engine_exception", &format!("[{id}]: version conflict, required seqNo [{want}], primary term [1]. current document has seqNo [{}] and primary term [1]", current.unwrap_or(-1)));
                }
            }
            let dates = match body.get("date") {
                Some(Value::Array(a)) => a.iter().filter_map(|d| parse_date(d, false)).collect(),
                Some(v) => parse_date(v, false).into_iter().collect(),
                None => vec![],
            };
            let seq = ix.bump(id);
            ix.docs.retain(|d| d.id != *id);
            ix.docs.push(Doc {
                id: id.to_string(),
                dates,
            });
            ix.bodies.insert(id.to_string(), (body.clone(), seq));
            if q.get("refresh").is_some() {
                ix.searchable = ix.docs.clone();
            }
            reply(
                if exists { 200 } else { 201 },
                json!({"_index": index, "_id": id, "result": if exists { "updated" } else { "created" }, "_seq_no": seq, "_primary_term": 1, "_version": 1}),
            )
        }
        ("DELETE", [index, "_doc", id]) => match s.indices.get_mut(*index) {
            Some(ix) if blocked(ix) => write_blocked(index),
            Some(ix) => {
                let found = ix.docs.iter().any(|d| d.id == *id);
                ix.docs.retain(|d| d.id != *id);
                ix.bodies.remove(*id);
                let seq = ix.bump(id);
                reply(
                    if found { 200 } else { 404 },
                    json!({"_index": index, "_id": id, "result": if found { "deleted" } else { "not_found" }, "_seq_no": seq, "_primary_term": 1}),
                )
            }
            None => not_found(index),
        },
        ("POST", [indices, op @ ("_refresh" | "_flush" | "_forcemerge")]) => {
            let names: Vec<&str> = indices.split(',').collect();
            for n in &names {
                if !s.indices.contains_key(*n) {
                    return not_found(n);
                }
            }
            if *op == "_refresh" {
                for n in &names {
                    let ix = s.indices.get_mut(*n).unwrap();
                    ix.searchable = ix.docs.clone();
                }
            }
            reply(200, json!({"_shards": shards(names.len() * 2)}))
        }
        ("POST", [index, "_count"]) | ("GET", [index, "_count"]) => {
            let Some(ix) = s.indices.get(*index) else {
                return not_found(index);
            };
            let query = body
                .get("query")
                .cloned()
                .unwrap_or(json!({"match_all": {}}));
            let mut n = 0;
            for d in &ix.searchable {
                match matches(&query, d) {
                    Ok(true) => n += 1,
                    Ok(false) => {}
                    Err(e) => return parse_failure(&e),
                }
            }
            reply(200, json!({"count": n, "_shards": shards(2)}))
        }
        // Percentiles (ES search-aggregations-metrics-percentile-aggregation.html): the value is
        // epoch-ms as a double, `_as_string` in the field's format. The fake is exact.
        ("POST", [index, "_search"]) => {
            let Some(ix) = s.indices.get(*index) else {
                return not_found(index);
            };
            let mut all: Vec<i64> = ix
                .searchable
                .iter()
                .flat_map(|d| d.dates.iter().copied())
                .collect();
            all.sort_unstable();
            let mid = if all.is_empty() {
                Value::Null
            } else {
                json!(all[(all.len() - 1) / 2] as f64)
            };
            // ES search-aggregations-metrics-min/max: `value` in epoch ms, null when empty.
            let lo = all.first().map_or(Value::Null, |v| json!(*v as f64));
            let hi = all.last().map_or(Value::Null, |v| json!(*v as f64));
            reply(
                200,
                json!({"hits": {"total": {"value": ix.searchable.len(), "relation": "eq"}, "hits": []},
                "aggregations": {"mid": {"values": {"50.0": mid, "50.0_as_string": "median"}}, "lo": {"value": lo}, "hi": {"value": hi}}}),
            )
        }
        ("POST" | "PUT", [src, "_clone", target]) => clone(s, src, target, body),
        ("POST", [index, "_delete_by_query"]) => delete_by_query(s, index, q, body),
        ("PUT", [index]) => {
            if s.indices.contains_key(*index) {
                return error(
                    400,
                    "resource_already_exists_exception",
                    &format!("index [{index}/uuid] already exists"),
                );
            }
            let mut settings = Map::new();
            apply_settings(&mut settings, body.get("settings").unwrap_or(&Value::Null));
            let mappings = body.get("mappings").cloned().unwrap_or(json!({}));
            s.indices.insert(
                index.to_string(),
                FakeIndex::new(vec![], settings, mappings, 0),
            );
            reply(
                200,
                json!({"acknowledged": true, "shards_acknowledged": true, "index": index}),
            )
        }
        // Unknown routes: the string-error shape ES and OpenSearch use.
        _ => reply(
            400,
            json!({"error": format!("no handler found for uri [/{}] and method [{method}]", p.join("/"))}),
        ),
    }
}

/// ES indices-clone-index.html: the source must be write-blocked, the target must not exist,
/// mappings may not be given, the shard count must match; settings are copied except
/// `index.number_of_replicas`/`auto_expand_replicas`; the response returns once the target is
/// in the cluster state, and the target then recovers (red → yellow → green here).
fn clone(s: &mut FakeState, src: &str, target: &str, body: &Value) -> Response {
    let Some(source) = s.indices.get(src).cloned() else {
        return not_found(src);
    };
    if !blocked(&source) {
        let reason = match s.flavor {
            Flavor::OpenSearch(_) => format!("index {src} must block write operations to resize index. use \"index.blocks.write=true\""),
            Flavor::Es(_) => format!("index {src} must be read-only to resize index. use \"index.blocks.write=true\""),
        };
        return error(500, "illegal_state_exception", &reason);
    }
    if s.indices.contains_key(target) {
        return error(
            400,
            "resource_already_exists_exception",
            &format!("index [{target}/uuid] already exists"),
        );
    }
    if body.get("mappings").is_some() {
        return error(400, "illegal_argument_exception", "mappings are not allowed when resizing indices, all mappings are copied from the source index");
    }
    let mut settings = source.settings.clone();
    settings.remove("index.number_of_replicas");
    settings.remove("index.auto_expand_replicas");
    settings.insert("index.uuid".into(), json!(format!("uuid-{target}")));
    settings.insert("index.provided_name".into(), json!(target));
    // ES MetadataCreateIndexService: resize targets record their source.
    settings.insert(
        "index.resize.source.uuid".into(),
        source
            .settings
            .get("index.uuid")
            .cloned()
            .unwrap_or(Value::Null),
    );
    settings.insert("index.resize.source.name".into(), json!(src));
    settings.insert(
        "index.creation_date".into(),
        json!(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
            .to_string()),
    );
    let before_shards = settings.get("index.number_of_shards").cloned();
    apply_settings(&mut settings, body.get("settings").unwrap_or(&Value::Null));
    if settings.get("index.number_of_shards") != before_shards.as_ref() {
        return error(
            400,
            "illegal_argument_exception",
            "the number of target shards must be equal to the number of source shards for a clone",
        );
    }
    settings
        .entry("index.number_of_replicas")
        .or_insert(json!("1"));
    s.indices.insert(
        target.into(),
        FakeIndex::new(source.docs, settings, source.mappings, s.clone_recovery),
    );
    reply(
        200,
        json!({"acknowledged": true, "shards_acknowledged": false, "index": target}),
    )
}

/// ES docs-delete-by-query.html: snapshot of matching docs (from the searchable view),
/// `conflicts`, `scroll_size` batches, `wait_for_completion=false` → `{"task": id}`; the
/// write block rejects the deletes.
fn delete_by_query(
    s: &mut FakeState,
    index: &str,
    q: &HashMap<String, String>,
    body: &Value,
) -> Response {
    let Some(ix) = s.indices.get(index) else {
        return not_found(index);
    };
    if blocked(ix) {
        return write_blocked(index);
    }
    let query = body.get("query").cloned().unwrap_or(Value::Null);
    let mut ids = Vec::new();
    for d in &ix.searchable {
        match matches(&query, d) {
            Ok(true) => ids.push(d.id.clone()),
            Ok(false) => {}
            Err(e) => return parse_failure(&e),
        }
    }
    let batch = q
        .get("scroll_size")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let task = Task {
        index: index.to_string(),
        to_delete: ids,
        done: 0,
        batch,
        polls: 0,
        cancelled: false,
    };
    if q.get("wait_for_completion").map(String::as_str) == Some("false") {
        let id = format!("fake-node:{}", s.next_task);
        s.next_task += 1;
        s.tasks.insert(id.clone(), task);
        return reply(200, json!({"task": id}));
    }
    let mut task = task;
    advance(s, &mut task, usize::MAX);
    let out = task_json("fake-node:0", &task, true, &s.faults);
    match out.get("response") {
        Some(r) => reply(200, r.clone()),
        None => reply(500, json!({"error": out["error"], "status": 500})),
    }
}

fn advance(s: &mut FakeState, t: &mut Task, batches: usize) {
    let end = t
        .to_delete
        .len()
        .min(t.done.saturating_add(t.batch.saturating_mul(batches)));
    let mut ids: Vec<String> = t.to_delete[t.done..end].to_vec();
    if end == t.to_delete.len() && s.faults.lose_one_delete && !ids.is_empty() {
        ids.pop();
    }
    if let Some(ix) = s.indices.get_mut(&t.index) {
        let gone: std::collections::HashSet<&String> = ids.iter().collect();
        ix.docs.retain(|d| !gone.contains(&d.id));
        for id in &ids {
            ix.bump(id);
        }
    }
    t.done = end;
}

/// One poll advances the task by one batch (ES tasks.html `GET _tasks/<task_id>`); unknown ids
/// → 404 `resource_not_found_exception` "isn't running and hasn't stored its results".
fn poll(s: &mut FakeState, id: &str) -> Response {
    if s.faults.drop_task_polls > 0 {
        s.faults.drop_task_polls -= 1;
        return dropped();
    }
    let task_not_found = || {
        error(
            404,
            "resource_not_found_exception",
            &format!("task [{id}] isn't running and hasn't stored its results"),
        )
    };
    let Some(mut t) = s.tasks.remove(id) else {
        return task_not_found();
    };
    t.polls += 1;
    if s.faults.task_vanishes && t.polls > 1 {
        return task_not_found();
    }
    if !s.faults.tasks_hang && !t.cancelled {
        advance(s, &mut t, 1);
    }
    let completed = t.cancelled || (t.done == t.to_delete.len() && !s.faults.tasks_hang);
    let mut out = task_json(id, &t, completed, &s.faults);
    if t.cancelled {
        out["response"]["canceled"] = json!("by user request");
    }
    s.tasks.insert(id.to_string(), t);
    reply(200, out)
}

/// `n` documents spread over 2014–2016 and `missing` without a date.
pub fn docs(n: u64, missing: u64) -> Vec<Doc> {
    let mut out: Vec<Doc> = (0..n)
        .map(|i| Doc {
            id: format!("d{i}"),
            dates: vec![super::doc_ms(i, n)],
        })
        .collect();
    out.extend((0..missing).map(|i| Doc {
        id: format!("m{i}"),
        dates: vec![],
    }));
    out
}

/// Decodes `%XX` escapes in a path segment, as the server's REST layer does.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
