//! `medproof serve`: the HTTP API over the ledger in a data dir.

use std::path::PathBuf;

use anyhow::Result;
use medproof_service::api::{self, Config};
use medproof_verifier::freshness::Freshness;

/// Flags (each also read from a `MEDPROOF_…` environment variable).
#[derive(clap::Args)]
pub struct Args {
    /// Data dir: keys (generated on first start), the ledger database and its key.
    #[arg(long, env = "MEDPROOF_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, env = "MEDPROOF_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// Serve no prover routes (they receive secret openings): a ledger node only.
    #[arg(long, env = "MEDPROOF_NO_PROVER")]
    no_prover: bool,
    /// Prover threads (0: one per core).
    #[arg(long, env = "MEDPROOF_PROVER_THREADS", default_value_t = 0)]
    prover_threads: usize,
    /// Proof jobs waiting at most; more are answered 503 with Retry-After.
    #[arg(long, env = "MEDPROOF_PROOF_QUEUE", default_value_t = 64)]
    proof_queue: usize,
    /// Largest request body in bytes (larger: 413).
    #[arg(long, env = "MEDPROOF_MAX_BODY", default_value_t = 256 * 1024)]
    max_body: usize,
    /// HTTP worker threads (0: one per core).
    #[arg(long, env = "MEDPROOF_HTTP_WORKERS", default_value_t = 0)]
    http_workers: usize,
    /// Audit threads, apart from the provers (0: one per core).
    #[arg(long, env = "MEDPROOF_AUDIT_THREADS", default_value_t = 0)]
    audit_threads: usize,
    /// Proof jobs one key may start per minute (over it: 429 with Retry-After; 0: no
    /// quota).
    #[arg(long, env = "MEDPROOF_PROOF_QUOTA", default_value_t = 600)]
    proof_quota: u32,
    /// Freshness window, seconds: a root is accepted until this long after it was
    /// superseded; a heartbeat checkpoint is signed every half window while quiet.
    #[arg(long, env = "MEDPROOF_WINDOW", default_value_t = medproof_verifier::freshness::DEFAULT_WINDOW_SECS)]
    window: u64,
    /// Accepted distance of a proof's `now` from the service's clock, seconds.
    #[arg(long, env = "MEDPROOF_SKEW", default_value_t = medproof_verifier::freshness::DEFAULT_SKEW_SECS)]
    skew: u64,
}

/// Runs the service until Ctrl-C or SIGTERM.
pub fn run(args: Args) -> Result<()> {
    let mut config = Config::new(args.data_dir);
    config.bind = args.bind;
    config.prover = !args.no_prover;
    config.prover_threads = args.prover_threads;
    config.proof_queue = args.proof_queue;
    config.max_body = args.max_body;
    config.http_workers = args.http_workers;
    config.audit_threads = args.audit_threads;
    config.proof_quota = args.proof_quota;
    config.rules = Freshness {
        window_secs: args.window,
        skew_secs: args.skew,
    };
    api::serve(config)
}
