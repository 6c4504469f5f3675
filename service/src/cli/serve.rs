//! `medproof serve`: the HTTP API over the ledger in a data dir.
//!
//! Configuration, strongest first: flags, `MEDPROOF_*` environment variables, the TOML
//! file named by `--config` (keys as the flags, e.g. `bind = "0.0.0.0:8080"`,
//! `proof-queue = 128`; an unknown key is an error), then the defaults.

use std::path::PathBuf;

use anyhow::{Context, Result};
use medproof_service::api::{self, Config};
use medproof_verifier::freshness::Freshness;
use serde::Deserialize;

/// Flags (each also read from a `MEDPROOF_…` environment variable).
#[derive(clap::Args)]
pub struct Args {
    /// A TOML file with any of the settings below (flags and environment win).
    #[arg(long, env = "MEDPROOF_CONFIG")]
    config: Option<PathBuf>,
    /// Data dir: keys (generated on first start), the ledger database and its key
    /// [default: data].
    #[arg(long, env = "MEDPROOF_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free one [default: 127.0.0.1:8080].
    #[arg(long, env = "MEDPROOF_BIND")]
    bind: Option<String>,
    /// Serve no prover routes (they receive secret openings): a ledger node only.
    #[arg(long, env = "MEDPROOF_NO_PROVER")]
    no_prover: bool,
    /// Prover threads, 0 for one per core [default: 0].
    #[arg(long, env = "MEDPROOF_PROVER_THREADS")]
    prover_threads: Option<usize>,
    /// Proof jobs waiting at most; more are answered 503 with Retry-After [default: 64].
    #[arg(long, env = "MEDPROOF_PROOF_QUEUE")]
    proof_queue: Option<usize>,
    /// A proof job still queued after this many seconds is failed instead of started
    /// [default: 300].
    #[arg(long, env = "MEDPROOF_JOB_TIMEOUT")]
    job_timeout: Option<u64>,
    /// Proof jobs one key may start per minute; over it 429 with Retry-After; 0 for no
    /// quota [default: 600].
    #[arg(long, env = "MEDPROOF_PROOF_QUOTA")]
    proof_quota: Option<u32>,
    /// Largest request body in bytes; larger is 413 [default: 262144].
    #[arg(long, env = "MEDPROOF_MAX_BODY")]
    max_body: Option<usize>,
    /// HTTP worker threads, 0 for one per core [default: 0].
    #[arg(long, env = "MEDPROOF_HTTP_WORKERS")]
    http_workers: Option<usize>,
    /// Audit threads, apart from the provers; 0 for one per core [default: 0].
    #[arg(long, env = "MEDPROOF_AUDIT_THREADS")]
    audit_threads: Option<usize>,
    /// Freshness window, seconds: a root is accepted until this long after it was
    /// superseded; a heartbeat checkpoint is signed every half window while quiet
    /// [default: 600].
    #[arg(long, env = "MEDPROOF_WINDOW")]
    window: Option<u64>,
    /// Accepted distance of a proof's `now` from the service's clock, seconds
    /// [default: 120].
    #[arg(long, env = "MEDPROOF_SKEW")]
    skew: Option<u64>,
}

/// The file's settings: the flags' names, all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct File {
    data_dir: Option<PathBuf>,
    bind: Option<String>,
    no_prover: Option<bool>,
    prover_threads: Option<usize>,
    proof_queue: Option<usize>,
    proof_quota: Option<u32>,
    job_timeout: Option<u64>,
    max_body: Option<usize>,
    http_workers: Option<usize>,
    audit_threads: Option<usize>,
    window: Option<u64>,
    skew: Option<u64>,
}

/// The configuration from flags, environment, file and defaults.
fn config(args: Args) -> Result<Config> {
    let file = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            toml::from_str::<File>(&text)
                .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message()))?
        }
        None => File::default(),
    };
    let data_dir = args
        .data_dir
        .or(file.data_dir)
        .unwrap_or_else(|| PathBuf::from("data"));
    let mut c = Config::new(data_dir);
    let defaults = Freshness::default();
    c.bind = args.bind.or(file.bind).unwrap_or(c.bind);
    c.prover = !(args.no_prover || file.no_prover.unwrap_or(false));
    c.prover_threads = args
        .prover_threads
        .or(file.prover_threads)
        .unwrap_or(c.prover_threads);
    c.proof_queue = args
        .proof_queue
        .or(file.proof_queue)
        .unwrap_or(c.proof_queue);
    c.proof_quota = args
        .proof_quota
        .or(file.proof_quota)
        .unwrap_or(c.proof_quota);
    c.job_timeout_secs = args
        .job_timeout
        .or(file.job_timeout)
        .unwrap_or(c.job_timeout_secs);
    c.max_body = args.max_body.or(file.max_body).unwrap_or(c.max_body);
    c.http_workers = args
        .http_workers
        .or(file.http_workers)
        .unwrap_or(c.http_workers);
    c.audit_threads = args
        .audit_threads
        .or(file.audit_threads)
        .unwrap_or(c.audit_threads);
    c.rules = Freshness {
        window_secs: args.window.or(file.window).unwrap_or(defaults.window_secs),
        skew_secs: args.skew.or(file.skew).unwrap_or(defaults.skew_secs),
    };
    Ok(c)
}

/// Runs the service until Ctrl-C or SIGTERM.
pub fn run(args: Args) -> Result<()> {
    api::serve(config(args)?)
}
