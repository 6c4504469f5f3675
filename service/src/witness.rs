//! `medproof witness`: a witness of a medproof ledger's transparency log, by
//! c2sp.org/tlog-witness. It cosigns a checkpoint only when it extends the last one it
//! cosigned ([`medproof_ledger::witness`]), either pushed to it (`serve`: the
//! `add-checkpoint` endpoint) or fetched from the ledger (`follow`: its URL or data dir).
//! Each cosigned checkpoint, with the witness's cosignature line, is also written to
//! `DIR/checkpoint`, for verifiers to pick up.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use actix_web::http::StatusCode;
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::{anyhow, Context, Result};
use medproof_ledger::tlog::{Cosigner, Hash, LogVerifier};
use medproof_ledger::witness::{AddCheckpoint, Witness, WitnessError};
use medproof_ledger::{Clock, SystemClock};
use prometheus::{IntCounter, IntCounterVec, Opts, Registry};

use crate::client::Client;

/// Where a follower reads the ledger.
#[derive(Debug, Clone)]
pub enum Source {
    /// A running service (`GET /checkpoint`, `GET /v1/log/consistency`).
    Url(String),
    /// A data dir, opened read-only with the log's public key.
    DataDir(PathBuf),
}

/// A witness with its cosigned checkpoints published in its directory.
pub struct Published {
    witness: Witness,
    dir: PathBuf,
}

impl Published {
    /// The witness `name` with `key`, of the log `log`, its state in `dir`.
    pub fn open(
        name: &str,
        key: ed25519_dalek::SigningKey,
        log: LogVerifier,
        dir: &Path,
    ) -> Result<Self> {
        let cosigner = Cosigner::new(name, key)?;
        Ok(Self {
            witness: Witness::open(cosigner, log, dir)?,
            dir: dir.to_path_buf(),
        })
    }

    /// The witness.
    pub fn witness(&self) -> &Witness {
        &self.witness
    }

    /// [`Witness::add_checkpoint`]; a cosigned checkpoint is written to `DIR/checkpoint`.
    pub fn add(&mut self, req: &AddCheckpoint, now: u64) -> Result<String, WitnessError> {
        let line = self.witness.add_checkpoint(req, now)?;
        let mut cosigned = req.checkpoint.clone();
        cosigned.extend_from_slice(line.as_bytes());
        if let Err(e) = crate::write_file_atomic(&self.dir.join("checkpoint"), &cosigned) {
            tracing::error!("cannot publish the cosigned checkpoint: {e:#}");
        }
        Ok(line)
    }
}

/// What one step of a follower did.
#[derive(Debug)]
pub enum Followed {
    /// It cosigned a checkpoint of `size` entries.
    Cosigned {
        /// Entries.
        size: u64,
        /// Entries cosigned before.
        before: u64,
    },
    /// The log misbehaved: the witness refused and kept the evidence.
    Refused(WitnessError),
}

/// One step: reads the log's latest checkpoint and a consistency proof from the size
/// cosigned last, and offers them to the witness.
pub fn follow_once(w: &mut Published, source: &Source, now: u64) -> Result<Followed> {
    let log = w.witness().log().clone();
    let before = w.witness().size();
    // Each branch checks the note under the key and origin the witness pins.
    let (note, proof, size) = match source {
        Source::Url(url) => {
            let c = Client::new(url);
            let r = c.get_bytes("/checkpoint")?;
            if r.status != 200 {
                anyhow::bail!("GET {url}/checkpoint: HTTP {}", r.status);
            }
            let cp = log
                .open(&r.body)
                .with_context(|| format!("{url}/checkpoint"))?;
            let proof = if before == 0 || cp.size <= before {
                Vec::new()
            } else {
                let doc = c
                    .get(&format!("/v1/log/consistency?old={before}&new={}", cp.size))?
                    .ok()?;
                let lines: Vec<String> = serde_json::from_value(doc["proof"].clone())
                    .context("the consistency proof is malformed")?;
                crate::wire::hashes_from_b64(&lines)
                    .ok_or_else(|| anyhow!("the consistency proof is malformed"))?
            };
            (r.body, proof, cp.size)
        }
        Source::DataDir(dir) => {
            let ledger = medproof_ledger::open_dir_read_only(dir, Some(log.key()))?;
            let cp = log.open(&ledger.tlog_checkpoint()?.note)?;
            let proof: Vec<Hash> = if before == 0 || cp.size <= before {
                Vec::new()
            } else {
                ledger.consistency_proof(before, cp.size)?
            };
            (cp.note, proof, cp.size)
        }
    };
    if size < before {
        return Ok(Followed::Refused(w.witness.rollback(&note, now)?));
    }
    let req = AddCheckpoint {
        old: before,
        proof,
        checkpoint: note,
    };
    match w.add(&req, now) {
        Ok(_) => Ok(Followed::Cosigned { size, before }),
        Err(e @ WitnessError::Inconsistent { .. }) => Ok(Followed::Refused(e)),
        Err(e) => Err(e.into()),
    }
}

struct Metrics {
    registry: Registry,
    cosigned: IntCounter,
    refused: IntCounterVec,
}

impl Metrics {
    fn new() -> Result<Self> {
        let registry = Registry::new();
        let cosigned = IntCounter::new(
            "medproof_witness_cosigned_total",
            "Checkpoints the witness cosigned",
        )?;
        let refused = IntCounterVec::new(
            Opts::new(
                "medproof_witness_refused_total",
                "Checkpoints the witness refused, by reason (inconsistent: evidence kept)",
            ),
            &["reason"],
        )?;
        registry.register(Box::new(cosigned.clone()))?;
        registry.register(Box::new(refused.clone()))?;
        Ok(Self {
            registry,
            cosigned,
            refused,
        })
    }
}

struct State {
    witness: Mutex<Published>,
    metrics: Metrics,
}

fn reason(e: &WitnessError) -> &'static str {
    match e {
        WitnessError::Malformed(_) => "malformed",
        WitnessError::UnknownLog { .. } => "unknown_log",
        WitnessError::NotSigned => "not_signed",
        WitnessError::Conflict { .. } => "conflict",
        WitnessError::Inconsistent { .. } => "inconsistent",
        WitnessError::State { .. } => "state",
    }
}

async fn add_checkpoint(state: web::Data<State>, body: web::Bytes) -> HttpResponse {
    let now = SystemClock.now();
    let result = AddCheckpoint::parse(&body).and_then(|req| {
        state
            .witness
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add(&req, now)
    });
    match result {
        Ok(line) => {
            state.metrics.cosigned.inc();
            HttpResponse::Ok()
                .content_type("text/plain; charset=utf-8")
                .body(line)
        }
        Err(e) => {
            state.metrics.refused.with_label_values(&[reason(&e)]).inc();
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            match e {
                WitnessError::Conflict { size, .. } => HttpResponse::build(status)
                    .content_type("text/x.tlog.size")
                    .body(format!("{size}\n")),
                e => {
                    if e.status() >= 500 {
                        tracing::error!("{e}");
                    }
                    HttpResponse::build(status)
                        .content_type("text/plain; charset=utf-8")
                        .body(format!("{e}\n"))
                }
            }
        }
    }
}

async fn metrics(state: web::Data<State>) -> HttpResponse {
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&state.metrics.registry.gather())
        .unwrap_or_default();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(text)
}

/// Serves `POST /add-checkpoint` (c2sp.org/tlog-witness) and `GET /metrics` on `bind`
/// until stopped; `on_bound` gets the address.
pub fn serve(w: Published, bind: &str, on_bound: impl FnOnce(std::net::SocketAddr)) -> Result<()> {
    let state = web::Data::new(State {
        witness: Mutex::new(w),
        metrics: Metrics::new()?,
    });
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(64 * 1024))
                .route("/add-checkpoint", web::post().to(add_checkpoint))
                .route("/metrics", web::get().to(metrics))
        })
        .workers(2)
        .bind(bind)
        .with_context(|| format!("cannot listen on {bind}"))?;
        let addr = *server
            .addrs()
            .first()
            .context("the server is bound to no address")?;
        on_bound(addr);
        server.run().await.context("the witness server failed")
    })
}
