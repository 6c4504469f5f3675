//! `medproof serve`: the HTTP API over the ledger in a data dir.
//!
//! Configuration, strongest first: flags, `MEDPROOF_*` environment variables, the TOML
//! file named by `--config` (keys as the flags, e.g. `bind = "0.0.0.0:8080"`,
//! `proof-queue = 128`, `tls-cert = "cert.pem"`; an unknown key is an error), then the
//! defaults.

use std::path::PathBuf;

use anyhow::{Context, Result};
use medproof_service::api::tls::TlsFiles;
use medproof_service::api::{self, Config};
use medproof_verifier::freshness::Freshness;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Flags: `--config` and the settings.
#[derive(clap::Args)]
pub struct Args {
    /// A TOML file with any of the settings below (flags and environment win).
    #[arg(long, env = "MEDPROOF_CONFIG")]
    config: Option<PathBuf>,
    #[command(flatten)]
    settings: Settings,
}

/// The settings, each a flag, a `MEDPROOF_…` environment variable and a key of the
/// TOML file (named as the flag). Declared once: clap reads flags and environment,
/// serde the file, and [`Settings::over`] lays the first over the second.
#[derive(clap::Args, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Settings {
    /// Data dir: keys (generated on first start), the ledger database and its key
    /// [default: data].
    #[arg(long, env = "MEDPROOF_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free one [default: 127.0.0.1:8080].
    #[arg(long, env = "MEDPROOF_BIND")]
    bind: Option<String>,
    /// Serve no prover routes (they receive secret openings): a ledger node only.
    #[arg(long, env = "MEDPROOF_NO_PROVER", num_args = 0..=1, default_missing_value = "true")]
    no_prover: Option<bool>,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(long, env = "MEDPROOF_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "MEDPROOF_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// A registrar's Ed25519 public key (hex) for a new ledger's genesis; repeat for
    /// several. Without one, a registrar key is created in the data dir
    /// (`registrar.key`), for a try-out. Fixed when the ledger is created.
    #[arg(long, env = "MEDPROOF_REGISTRAR", value_delimiter = ',')]
    registrar: Option<Vec<String>>,
    /// The transparency log's name for a new ledger: the origin line of its C2SP
    /// checkpoints, e.g. the URL it is served at without the scheme
    /// (`ledger.example.org/medproof`) [default: medproof/ and 16 hex digits of the
    /// ledger id]. Fixed when the ledger is created.
    #[arg(long, env = "MEDPROOF_LOG_ORIGIN")]
    log_origin: Option<String>,
    /// A witness to push the log's checkpoints to, `VKEY@URL` (its cosignature
    /// verifier key from `medproof witness key`, and the URL `witness serve` listens
    /// on); repeat for several. The latest checkpoint with their cosignatures is kept
    /// (`DATA_DIR/log.cosigned`) and served (`GET /v1/log/cosigned`, `GET /v1/log/proof`).
    #[arg(long, env = "MEDPROOF_WITNESS", value_delimiter = ',')]
    witness: Option<Vec<String>>,
    /// A witness's cosignature verifier key whose cosignature `POST /v1/verify` looks
    /// for on a bundle's log checkpoint; repeat for several.
    #[arg(long, env = "MEDPROOF_VERIFY_WITNESS", value_delimiter = ',')]
    verify_witness: Option<Vec<String>>,
    /// How many of the --verify-witness keys must have cosigned a bundle's log
    /// checkpoint for `POST /v1/verify` to call it valid [default: all of them].
    #[arg(long, env = "MEDPROOF_VERIFY_WITNESSES")]
    verify_witnesses: Option<usize>,
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

impl Settings {
    /// `self`'s settings, and `base`'s where `self` has none.
    fn over(self, base: Settings) -> Result<Settings> {
        let (Value::Object(top), Value::Object(mut merged)) =
            (serde_json::to_value(self)?, serde_json::to_value(base)?)
        else {
            anyhow::bail!("the settings are not a table")
        };
        merged.extend(top.into_iter().filter(|(_, v)| !v.is_null()));
        Ok(serde_json::from_value(Value::Object(merged))?)
    }
}

/// The configuration from flags, environment, file and defaults.
fn config(args: Args) -> Result<Config> {
    let file = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            toml::from_str::<Settings>(&text)
                .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message()))?
        }
        None => Settings::default(),
    };
    let s = args.settings.over(file)?;
    if s.tls_cert.is_some() != s.tls_key.is_some() {
        anyhow::bail!("TLS needs both tls-cert and tls-key");
    }
    let mut c = Config::new(s.data_dir.unwrap_or_else(|| PathBuf::from("data")));
    let defaults = Freshness::default();
    c.bind = s.bind.unwrap_or(c.bind);
    c.prover = !s.no_prover.unwrap_or(false);
    c.tls = s
        .tls_cert
        .zip(s.tls_key)
        .map(|(cert, key)| TlsFiles { cert, key });
    c.registrars = s
        .registrar
        .map(|keys| {
            keys.iter()
                .map(|k| {
                    medproof_ledger::keyfile::parse_public(k.trim()).ok_or_else(|| {
                        anyhow::anyhow!("registrar {k:?}: not an Ed25519 public key in hex")
                    })
                })
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?;
    if let Some(origin) = &s.log_origin {
        medproof_ledger::tlog::check_log_origin(origin)?;
    }
    c.log_origin = s.log_origin;
    c.witnesses = s
        .witness
        .unwrap_or_default()
        .iter()
        .map(|w| api::cosign::WitnessTarget::parse(w.trim()))
        .collect::<Result<_>>()?;
    let (keys, required) = super::verify::WitnessArgs {
        witness: s.verify_witness.unwrap_or_default(),
        required: s.verify_witnesses,
    }
    .parse()?;
    c.verify_witnesses = keys;
    c.required_witnesses = required;
    c.prover_threads = s.prover_threads.unwrap_or(c.prover_threads);
    c.proof_queue = s.proof_queue.unwrap_or(c.proof_queue);
    c.proof_quota = s.proof_quota.unwrap_or(c.proof_quota);
    c.job_timeout_secs = s.job_timeout.unwrap_or(c.job_timeout_secs);
    c.max_body = s.max_body.unwrap_or(c.max_body);
    c.http_workers = s.http_workers.unwrap_or(c.http_workers);
    c.audit_threads = s.audit_threads.unwrap_or(c.audit_threads);
    c.rules = Freshness {
        window_secs: s.window.unwrap_or(defaults.window_secs),
        skew_secs: s.skew.unwrap_or(defaults.skew_secs),
    };
    Ok(c)
}

/// Runs the service until Ctrl-C or SIGTERM.
pub fn run(args: Args) -> Result<()> {
    api::serve(config(args)?)
}
