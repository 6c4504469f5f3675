//! Prometheus metrics at `/metrics`: HTTP requests by matched route, method and status
//! (and their latency), proofs by statement and outcome (and their latency), the proof
//! queue's depth, refusals by reason (the `error_code` of every 4xx and 503, so a full
//! queue or an exhausted limit shows which one refused), and the ledger's height.

use std::sync::LazyLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{web, HttpResponse};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use super::AppState;

/// The metrics, registered once per process.
pub struct Metrics {
    registry: Registry,
    http: IntCounterVec,
    http_seconds: HistogramVec,
    proofs: IntCounterVec,
    proof_seconds: HistogramVec,
    refusals: IntCounterVec,
    queue: IntGauge,
    height: IntGauge,
    batch: Histogram,
}

fn build() -> prometheus::Result<Metrics> {
    let registry = Registry::new();
    let http = IntCounterVec::new(
        Opts::new(
            "medproof_http_requests_total",
            "HTTP requests by matched route, method and status",
        ),
        &["route", "method", "status"],
    )?;
    let http_seconds = HistogramVec::new(
        HistogramOpts::new(
            "medproof_http_request_duration_seconds",
            "HTTP latency by matched route",
        ),
        &["route"],
    )?;
    let proofs = IntCounterVec::new(
        Opts::new(
            "medproof_proofs_total",
            "Proof jobs by statement and outcome",
        ),
        &["statement", "outcome"],
    )?;
    let proof_seconds = HistogramVec::new(
        HistogramOpts::new(
            "medproof_proof_duration_seconds",
            "Proving time by statement",
        )
        .buckets(vec![
            0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0,
        ]),
        &["statement"],
    )?;
    let refusals = IntCounterVec::new(
        Opts::new(
            "medproof_refusals_total",
            "Refused requests by error_code (limits included)",
        ),
        &["reason"],
    )?;
    let queue = IntGauge::new(
        "medproof_proof_queue_depth",
        "Proof jobs waiting for a prover thread",
    )?;
    let height = IntGauge::new("medproof_ledger_entries", "Entries on the ledger")?;
    let batch = Histogram::with_opts(
        HistogramOpts::new("medproof_write_batch_size", "Submissions per ledger append")
            .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 64.0, 256.0, 1024.0]),
    )?;
    registry.register(Box::new(http.clone()))?;
    registry.register(Box::new(http_seconds.clone()))?;
    registry.register(Box::new(proofs.clone()))?;
    registry.register(Box::new(proof_seconds.clone()))?;
    registry.register(Box::new(refusals.clone()))?;
    registry.register(Box::new(queue.clone()))?;
    registry.register(Box::new(height.clone()))?;
    registry.register(Box::new(batch.clone()))?;
    Ok(Metrics {
        registry,
        http,
        http_seconds,
        proofs,
        proof_seconds,
        refusals,
        queue,
        height,
        batch,
    })
}

/// The process's metrics (`None` only if their names clash, which a test would catch).
pub static METRICS: LazyLock<Option<Metrics>> = LazyLock::new(|| build().ok());

/// Counts a refusal by its code.
pub fn refused(code: &str) {
    if let Some(m) = METRICS.as_ref() {
        m.refusals.with_label_values(&[code]).inc();
    }
}

/// Counts a finished proof job.
pub fn proved(statement: &str, ok: bool, seconds: f64) {
    if let Some(m) = METRICS.as_ref() {
        let outcome = if ok { "ok" } else { "failed" };
        m.proofs.with_label_values(&[statement, outcome]).inc();
        m.proof_seconds
            .with_label_values(&[statement])
            .observe(seconds);
    }
}

/// Records an append's batch size.
pub fn batch(size: usize) {
    if let Some(m) = METRICS.as_ref() {
        m.batch.observe(size as f64);
    }
}

/// Middleware (`wrap_fn`): counts each request by its matched route (not its raw path,
/// so that ids do not make new series) and times it.
pub async fn observe<B: MessageBody>(
    req: ServiceRequest,
    next: actix_web::middleware::Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let started = Instant::now();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let res = next.call(req).await?;
    if let Some(m) = METRICS.as_ref() {
        let status = res.status().as_u16().to_string();
        m.http
            .with_label_values(&[route.as_str(), method.as_str(), status.as_str()])
            .inc();
        m.http_seconds
            .with_label_values(&[route.as_str()])
            .observe(started.elapsed().as_secs_f64());
    }
    Ok(res)
}

/// `GET /metrics`, Prometheus text format.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let Some(m) = METRICS.as_ref() else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    if let Some(jobs) = &state.jobs {
        m.queue.set(jobs.queue_depth() as i64);
    }
    let height = state.ledger.read().map(|l| l.len()).unwrap_or(0);
    m.height.set(height as i64);
    let mut out = Vec::new();
    if TextEncoder::new()
        .encode(&m.registry.gather(), &mut out)
        .is_err()
    {
        return HttpResponse::ServiceUnavailable().finish();
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(out)
}
