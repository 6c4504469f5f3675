//! `medproof serve`: the HTTP API over one ledger (actix-web 4). Handlers are thin
//! ([`routes`]); the ledger is appended by one writer thread ([`writer`]); proofs run
//! on the prover's own pool behind a bounded queue ([`jobs`]), never on the HTTP
//! workers. Every error is a JSON [`ErrorBody`](crate::wire::ErrorBody) with a stable
//! code ([`error`]).
//!
//! Routes (JSON under `/v1`):
//!
//! | method and path | what |
//! | --- | --- |
//! | `GET /healthz`, `GET /readyz` | liveness; the writer runs and the ledger can be written |
//! | `GET /metrics` | Prometheus: HTTP by route, proofs, queue depth, refusals by reason, height |
//! | `GET /openapi.json`, `GET /docs/` | the OpenAPI document; Swagger UI (offline) |
//! | `GET /v1/ledger` | ledger id, public key, length, time, registrars, named keys |
//! | `GET /v1/keys/{key}` | a key's role and whether it is suspended |
//! | `POST /v1/entries` | a signed submission: 201 + `Location`, 409 + `Location` for a repeat |
//! | `GET /v1/entries?start=S&limit=N` | a range, capped at 256 and truncated (`next`) |
//! | `GET /v1/entries/{seq}` | one entry, immutable (`ETag`) |
//! | `GET /v1/checkpoints/latest`, `GET /v1/checkpoints/{seq}` | signed checkpoints |
//! | `GET /v1/paths/{commitment}` | Merkle path with the checkpoint it is against |
//! | `GET /checkpoint` | the transparency log's latest C2SP checkpoint (signed note) |
//! | `GET /tile/<L>/<N>[.p/<W>]`, `GET /tile/entries/<N>[.p/<W>]` | its tiles and entry bundles (C2SP tlog-tiles), immutable |
//! | `GET /v1/log`, `GET /v1/log/inclusion`, `GET /v1/log/consistency` | its origin and note key; RFC 6962 proofs |
//! | `POST /v1/verify` | a bundle's verdict against this ledger |
//! | `GET /v1/audit?from=F&to=T` | a period's audit report (at most 4,096 entries a request, on the audit pool) |
//! | `POST /v1/history` | a patient's records' access history (signed request by a patient's key) |
//! | `POST /v1/proofs/{record-inclusion,access,claim}` | a proof job from a party's openings: 202 + `Location` (prover routes) |
//! | `GET /v1/jobs/{id}` | a job's state and, when done, its bundle |
//! | `GET /`, `GET /ui/{file}` | the web page: audit a period, verify a bundle in the browser ([`ui`]) |

pub mod cosign;
pub mod error;
pub mod jobs;
pub mod metrics;
pub mod openapi;
pub mod quota;
pub mod routes;
pub mod signed;
pub mod tls;
pub mod ui;
pub mod writer;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use actix_web::{web, App, HttpServer};
use anyhow::{Context, Result};
use medproof_ledger::{Clock, Ledger, RocksStore, SystemClock};
use medproof_prover::Prover;
use medproof_verifier::bundle::Verifier;
use medproof_verifier::freshness::Freshness;
use medproof_verifier::tlog::CosignatureVerifier;

use self::error::ApiError;
use self::jobs::Jobs;
use self::writer::{Writer, WriterThread};

/// How the service runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data dir: keys, ledger database, ledger key.
    pub data_dir: PathBuf,
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub bind: String,
    /// Serve the prover routes (they receive secret openings).
    pub prover: bool,
    /// Prover threads (0: one per core).
    pub prover_threads: usize,
    /// Proof jobs waiting at most.
    pub proof_queue: usize,
    /// A job still queued this long is failed instead of started, seconds.
    pub job_timeout_secs: u64,
    /// Submissions waiting for the writer at most.
    pub write_queue: usize,
    /// Largest request body, bytes.
    pub max_body: usize,
    /// HTTP worker threads (0: one per core).
    pub http_workers: usize,
    /// Audit threads (0: one per core).
    pub audit_threads: usize,
    /// Proof jobs one key may start per minute (over it: 429 with Retry-After).
    pub proof_quota: u32,
    /// Freshness window and skew.
    pub rules: Freshness,
    /// Serve HTTPS with this certificate and key (plain HTTP when `None`).
    pub tls: Option<tls::TlsFiles>,
    /// The registrars a new ledger's genesis names; `None`: a registrar key created in
    /// the data dir (`registrar.key`), for a try-out. Fixed when the ledger is created.
    pub registrars: Option<Vec<ed25519_dalek::VerifyingKey>>,
    /// The transparency log's name a new ledger gets (its C2SP origin); `None`: derived
    /// from the ledger id. Fixed when the ledger is created.
    pub log_origin: Option<String>,
    /// Witnesses the log's checkpoints are pushed to; their cosignatures are kept.
    pub witnesses: Vec<cosign::WitnessTarget>,
    /// Witnesses whose cosignatures `POST /v1/verify` looks for on a bundle's `log`.
    pub verify_witnesses: Vec<CosignatureVerifier>,
    /// How many of `verify_witnesses` must have cosigned (0: a bundle needs no `log`).
    pub required_witnesses: usize,
}

impl Config {
    /// Defaults for a data dir: loopback port 8080, prover on, one prover thread per
    /// core, 64 jobs and 4,096 submissions queued, 256 KiB bodies, 600 proof jobs per
    /// key and minute.
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            bind: "127.0.0.1:8080".into(),
            prover: true,
            prover_threads: 0,
            proof_queue: 64,
            job_timeout_secs: 300,
            write_queue: 4096,
            max_body: 256 * 1024,
            http_workers: 0,
            audit_threads: 0,
            proof_quota: 600,
            rules: Freshness::default(),
            tls: None,
            registrars: None,
            log_origin: None,
            witnesses: Vec::new(),
            verify_witnesses: Vec::new(),
            required_witnesses: 0,
        }
    }
}

/// What the handlers share.
pub struct AppState {
    /// The ledger; reads take the read lock, the writer the write lock.
    pub ledger: Arc<RwLock<Ledger<RocksStore>>>,
    /// The one writer.
    pub writer: Writer,
    /// Verifying keys of every statement.
    pub verifier: Verifier,
    /// Proof jobs, when the prover routes are on.
    pub jobs: Option<Arc<Jobs>>,
    /// Freshness rules for verification.
    pub rules: Freshness,
    /// The service's clock.
    pub clock: Arc<dyn Clock>,
    /// Checks signed requests (private reads).
    pub auth: crate::auth::Authenticator,
    /// Audits run here, apart from the provers.
    pub audit_pool: rayon::ThreadPool,
    /// Proof jobs a key may start, per minute.
    pub quota: quota::Quota,
    /// The latest checkpoint of the log cosigned by its witnesses.
    pub cosigned: Arc<cosign::Cosigned>,
    /// Witnesses whose cosignatures `POST /v1/verify` looks for.
    pub witnesses: Vec<CosignatureVerifier>,
    /// How many of them must have cosigned a bundle's log checkpoint.
    pub required_witnesses: usize,
}

/// The opened service: state, writer and prover threads.
pub struct Service {
    state: web::Data<AppState>,
    writer: Option<WriterThread>,
    pusher: Option<cosign::Pusher>,
    tls: Option<rustls::ServerConfig>,
    config: Config,
}

impl Service {
    /// Opens the data dir: keys (generated on first start, with a progress bar), the
    /// ledger (created on first start), the writer and the prover threads.
    pub fn open(config: Config) -> Result<Self> {
        // Before anything slow: a bad certificate is refused at once.
        let tls = config.tls.as_ref().map(tls::server_config).transpose()?;
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
        let (keys, _) = crate::ensure_keys(&config.data_dir)?;
        let verifier = crate::verifier_of(&keys)?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let ledger = crate::open_ledger(
            &config.data_dir,
            clock.clone(),
            config.registrars.clone(),
            config.log_origin.as_deref(),
            &keys,
        )?;
        if let Some(wanted) = &config.registrars {
            let named = ledger.registrars();
            let mut wanted: Vec<[u8; 32]> = wanted.iter().map(|k| k.to_bytes()).collect();
            wanted.sort();
            wanted.dedup();
            if wanted != named {
                anyhow::bail!(
                    "this ledger's genesis names the registrars {}; they are fixed when a ledger is created",
                    named.iter().map(hex::encode).collect::<Vec<_>>().join(", ")
                );
            }
        }
        let ledger_id = ledger
            .id()
            .context("the ledger has no genesis entry, so no id")?;
        let cosigned = Arc::new(cosign::Cosigned::load(&config.data_dir, &ledger));
        let ledger = Arc::new(RwLock::new(ledger));
        let pusher = match config.witnesses.is_empty() {
            true => None,
            false => Some(cosign::Pusher::start(
                ledger.clone(),
                config.witnesses.clone(),
                cosigned.clone(),
                std::time::Duration::from_millis(500),
                std::time::Duration::from_secs(30),
            )?),
        };
        let (writer, writer_thread) = Writer::start(
            ledger.clone(),
            config.write_queue,
            config.rules.window_secs / 2,
        )?;
        let jobs = match config.prover {
            true => {
                let prover = Arc::new(Prover::new(keys, config.prover_threads)?);
                Some(Arc::new(Jobs::start(
                    prover,
                    config.proof_queue,
                    std::time::Duration::from_secs(config.job_timeout_secs),
                )?))
            }
            false => None,
        };
        let state = web::Data::new(AppState {
            ledger,
            writer,
            verifier,
            jobs,
            rules: config.rules,
            clock,
            auth: crate::auth::Authenticator::new(ledger_id, config.rules.skew_secs),
            audit_pool: rayon::ThreadPoolBuilder::new()
                .num_threads(config.audit_threads)
                .thread_name(|i| format!("medproof-audit-{i}"))
                .build()?,
            quota: quota::Quota::per_minute(config.proof_quota),
            cosigned,
            witnesses: config.verify_witnesses.clone(),
            required_witnesses: config.required_witnesses,
        });
        Ok(Self {
            state,
            writer: Some(writer_thread),
            pusher,
            tls,
            config,
        })
    }

    /// The shared state (tests reach the ledger through it).
    pub fn state(&self) -> &web::Data<AppState> {
        &self.state
    }

    /// `https` when serving TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        match self.tls {
            Some(_) => "https",
            None => "http",
        }
    }

    /// Binds and serves until the server stops (Ctrl-C, SIGTERM, or `handle.stop`),
    /// then finishes queued proofs and writes. `on_bound` gets the bound address and
    /// the server's handle.
    pub async fn run(
        mut self,
        signals: bool,
        on_bound: impl FnOnce(SocketAddr, actix_web::dev::ServerHandle),
    ) -> Result<()> {
        let state = self.state.clone();
        let max_body = self.config.max_body;
        let prover = self.config.prover;
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(metrics::observe))
                .app_data(state.clone())
                .configure(|cfg| configure(cfg, max_body, prover))
        })
        .shutdown_timeout(30);
        if !signals {
            server = server.disable_signals();
        }
        if self.config.http_workers > 0 {
            server = server.workers(self.config.http_workers);
        }
        let server = match self.tls.take() {
            Some(tls) => server.bind_rustls_0_23(&self.config.bind, tls),
            None => server.bind(&self.config.bind),
        }
        .with_context(|| format!("cannot listen on {}", self.config.bind))?;
        let addr = *server
            .addrs()
            .first()
            .context("the server is bound to no address")?;
        let server = server.run();
        on_bound(addr, server.handle());
        server.await.context("the HTTP server failed")?;
        self.shutdown();
        Ok(())
    }

    /// Stops taking work, proves what is queued, appends what is queued.
    fn shutdown(&mut self) {
        if let Some(jobs) = &self.state.jobs {
            jobs.shutdown();
        }
        self.state.writer.stop();
        if let Some(w) = self.writer.take() {
            w.join();
        }
        if let Some(mut p) = self.pusher.take() {
            p.stop();
        }
    }
}

fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || async move {
        Err::<actix_web::HttpResponse, _>(ApiError::method_not_allowed(allow))
    }))
}

/// The routes, with JSON errors for bad bodies, paths and queries.
pub fn configure(cfg: &mut web::ServiceConfig, max_body: usize, prover: bool) {
    use actix_web::ResponseError;
    use routes::*;
    let json = web::JsonConfig::default()
        .limit(max_body)
        .error_handler(|err, _| {
            use actix_web::error::JsonPayloadError as E;
            let e = match &err {
                E::ContentType => ApiError::new(
                    actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "the body must be JSON, sent with Content-Type: application/json",
                ),
                // Keep the status: 413 for a body over the limit.
                E::Overflow { .. } | E::OverflowKnownLength { .. } => {
                    ApiError::new(err.status_code(), "too_large", err.to_string())
                }
                _ => ApiError::malformed(err.to_string()),
            };
            e.into()
        });
    let path_config = web::PathConfig::default()
        .error_handler(|err, _| ApiError::malformed(format!("path: {err}")).into());
    let query = web::QueryConfig::default()
        .error_handler(|err, _| ApiError::malformed(format!("query: {err}")).into());
    cfg.app_data(json)
        .app_data(web::PayloadConfig::new(max_body))
        .app_data(path_config)
        .app_data(query)
        .service(resource("/healthz", "GET").route(web::get().to(healthz)))
        .service(resource("/readyz", "GET").route(web::get().to(readyz)))
        .service(resource("/metrics", "GET").route(web::get().to(metrics::metrics)))
        .service(resource("/v1/ledger", "GET").route(web::get().to(ledger_info)))
        .service(resource("/v1/keys/{key}", "GET").route(web::get().to(key)))
        .service(
            resource("/v1/entries", "GET, POST")
                .route(web::get().to(entries))
                .route(web::post().to(submit)),
        )
        .service(resource("/v1/entries/{seq}", "GET").route(web::get().to(entry)))
        .service(resource("/v1/checkpoints/latest", "GET").route(web::get().to(latest_checkpoint)))
        .service(resource("/v1/checkpoints/{seq}", "GET").route(web::get().to(checkpoint)))
        .service(resource("/v1/paths/{commitment}", "GET").route(web::get().to(path)))
        .service(resource("/checkpoint", "GET").route(web::get().to(log_checkpoint)))
        .service(resource("/tile/{tile:.+}", "GET").route(web::get().to(log_tile)))
        .service(
            resource("/v1/verifying-keys/{statement}", "GET").route(web::get().to(verifying_key)),
        )
        .service(resource("/v1/log", "GET").route(web::get().to(log_info)))
        .service(resource("/v1/log/cosigned", "GET").route(web::get().to(log_cosigned)))
        .service(resource("/v1/log/proof", "GET").route(web::get().to(log_proof)))
        .service(resource("/v1/log/inclusion", "GET").route(web::get().to(log_inclusion)))
        .service(resource("/v1/log/consistency", "GET").route(web::get().to(log_consistency)))
        .service(resource("/v1/verify", "POST").route(web::post().to(verify)))
        .service(resource("/v1/audit", "GET").route(web::get().to(audit)))
        .service(resource("/v1/history", "POST").route(web::post().to(history)));
    if prover {
        cfg.service(
            resource("/v1/proofs/record-inclusion", "POST")
                .route(web::post().to(prove_record_inclusion)),
        )
        .service(resource("/v1/proofs/access", "POST").route(web::post().to(prove_access)))
        .service(resource("/v1/proofs/claim", "POST").route(web::post().to(prove_claim)))
        .service(resource("/v1/jobs/{id}", "GET").route(web::get().to(job)));
    }
    let doc = openapi::spec(prover)
        .to_json()
        .unwrap_or_else(|_| "{}".into());
    cfg.app_data(web::Data::new(openapi::Document(doc)))
        .service(resource("/openapi.json", "GET").route(web::get().to(openapi::document)))
        .service(
            utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
                .config(utoipa_swagger_ui::Config::from("/openapi.json")),
        );
    cfg.service(resource("/", "GET").route(web::get().to(ui::index)))
        .service(resource("/ui/{name:.+}", "GET").route(web::get().to(ui::file)));
    cfg.default_service(web::to(not_found));
}

/// Serves `config` until stopped (blocking; Ctrl-C stops it gracefully).
pub fn serve(config: Config) -> Result<()> {
    let service = Service::open(config)?;
    let scheme = service.scheme();
    actix_web::rt::System::new().block_on(service.run(true, |addr, _| {
        eprintln!("medproof serving on {scheme}://{addr}");
    }))
}

/// A service running on its own thread (tests, the demo, the load generator).
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// `https` or `http`.
    pub scheme: &'static str,
    /// Its shared state (the ledger, the verifier).
    pub state: web::Data<AppState>,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
}

impl Running {
    /// `http://ADDR`, or `https://ADDR` when serving TLS.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Stops gracefully and waits (queued proofs and writes finish).
    pub fn stop(mut self) -> Result<()> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> Result<()> {
        let Some(t) = self.thread.take() else {
            return Ok(());
        };
        actix_web::rt::System::new().block_on(self.handle.stop(true));
        t.join()
            .map_err(|_| anyhow::anyhow!("the service thread panicked"))?
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop_inner();
    }
}

/// Opens `config` and serves it on a thread of its own; returns once it listens.
pub fn spawn(config: Config) -> Result<Running> {
    let service = Service::open(config)?;
    let state = service.state().clone();
    let scheme = service.scheme();
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("medproof-http".into())
        .spawn(move || {
            actix_web::rt::System::new().block_on(service.run(false, move |addr, handle| {
                let _ = tx.send((addr, handle));
            }))
        })?;
    match rx.recv() {
        Ok((addr, handle)) => Ok(Running {
            addr,
            scheme,
            state,
            handle,
            thread: Some(thread),
        }),
        Err(_) => Err(thread
            .join()
            .map_err(|_| anyhow::anyhow!("the service thread panicked"))?
            .err()
            .unwrap_or_else(|| anyhow::anyhow!("the service stopped before it listened"))),
    }
}
