//! `medproof-load`: the service under load on loopback, against the library's own rates
//! measured in the same run (see REPORT.md for the command and the figures).
//!
//! 1. Starts `medproof serve` in process on a fresh data dir (keys generated), admits a
//!    provider, commits a record and has it proved (record inclusion) over HTTP.
//! 2. Verify: the library's rate (`verify_bundle` against the ledger, one thread per
//!    core, 5 s), then `hey` POSTing the bundle to `/v1/verify` for 10 s at 16
//!    connections: requests/s, p50, p99, status codes.
//! 3. The transparency log's read API: the log grown past two tiles of entries, then
//!    a full hash tile, a full entry bundle and the checkpoint, each read by the library
//!    (one thread per core, 5 s) and then fetched by `hey` for 10 s at 16 connections.
//! 4. Proof jobs: the one-thread proving rate (a one-thread prover, in process), then
//!    4 × cores signed jobs submitted at once over HTTP and polled until done: jobs/s
//!    against cores × the one-thread rate, and submit-to-done p50/p99.
//! 5. 5xx answers (other than the intended 503s) from `/metrics`, and resident memory
//!    (of this process: service and load generator together).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ark_ff::UniformRand;
use ed25519_dalek::SigningKey;
use medproof_circuits::commit::{ContentDigest, RecordOpening};
use medproof_ledger::{Action, Clock, Role, Submission, SystemClock};
use medproof_prover::{ProofRequest, Prover};
use medproof_service::api::{self, Config};
use medproof_service::client::Client;
use medproof_service::input::{RecordInclusionInput, RecordJson};
use medproof_service::scenario::Patient;
use medproof_service::verify::{verify_bundle, Anchor};
use medproof_verifier::{Fr, ProofBundle, Statement};
use rand::rngs::OsRng;
use serde_json::json;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// Calls `work` on one thread per core for 5 s: calls per second.
fn library_rate(cores: usize, work: impl Fn() + Send + Sync + 'static) -> f64 {
    let work = Arc::new(work);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let t = Instant::now();
    let threads: Vec<_> = (0..cores)
        .map(|_| {
            let (work, stop, done) = (work.clone(), stop.clone(), done.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    work();
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(5));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / t.elapsed().as_secs_f64()
}

/// What `hey` measured: requests per second, and its latency percentiles and status
/// codes in words.
struct Hey {
    rps: f64,
    summary: String,
}

/// `hey -z 10s -c 16` against `url`: GET, or POST of the JSON file `body`.
fn hey(url: &str, body: Option<&std::path::Path>) -> Hey {
    let mut cmd = Command::new("hey");
    cmd.args(["-z", "10s", "-c", "16"]);
    if let Some(body) = body {
        cmd.args(["-m", "POST", "-T", "application/json", "-D"])
            .arg(body);
    }
    let out = cmd.arg(url).output().expect("hey (apt-get install hey)");
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .map(|l| l.trim().to_string())
            .unwrap_or_default()
    };
    let rps: f64 = field("Requests/sec:")
        .trim_start_matches("Requests/sec:")
        .trim()
        .parse()
        .unwrap_or(0.0);
    let codes = text
        .lines()
        .skip_while(|l| !l.starts_with("Status code distribution"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(", ");
    Hey {
        rps,
        summary: format!(
            "{}; {}; status codes: {codes}",
            field("50% in"),
            field("99% in")
        ),
    }
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut config = Config::new(data.clone());
    config.bind = "127.0.0.1:0".into();
    config.proof_queue = 256;
    let t = Instant::now();
    let running = api::spawn(config).unwrap();
    println!(
        "service   {} ({} cores), started with fresh keys in {:.1} s",
        running.url(),
        cores,
        t.elapsed().as_secs_f64()
    );
    let c = Client::new(&running.url());
    let sign = |a: Action, k: &SigningKey| Submission::sign(a, k, c.envelope(3600).unwrap());

    // Setup: an admitted provider, a committed record, its inclusion proof.
    let registrar =
        medproof_ledger::keyfile::load(&medproof_ledger::registrar_key_path(&data)).unwrap();
    let provider = SigningKey::generate(&mut OsRng);
    c.submit(&sign(
        Action::AdmitKey {
            key: provider.verifying_key().to_bytes(),
            role: Role::Provider,
        },
        &registrar,
    ))
    .unwrap()
    .ok()
    .unwrap();
    let patient = Patient::generate(&mut OsRng);
    let record = RecordOpening {
        patient_ref: patient.patient_ref(),
        category: 3,
        content_digest: ContentDigest([1u8; 32]),
        created_at: 1_760_000_000,
        blinding: Fr::rand(&mut OsRng),
    };
    c.submit(&sign(
        Action::CommitRecord {
            commitment: record.commitment(),
        },
        &provider,
    ))
    .unwrap()
    .ok()
    .unwrap();
    let input = RecordInclusionInput {
        leaves: None,
        index: None,
        committer: None,
        record: RecordJson::from_opening(&record),
        binding: "7".into(),
    };
    let r = c
        .signed_post("/v1/proofs/record-inclusion", &input, &provider)
        .unwrap();
    let job = c
        .wait_job(
            r.location.as_deref().unwrap(),
            &provider,
            Duration::from_secs(120),
        )
        .unwrap();
    let bundle: ProofBundle = serde_json::from_value(job["bundle"].clone()).unwrap();

    // Verify: the library's rate, one thread per core.
    let state = running.state.clone();
    let library_verify = {
        let (state, bundle) = (state.clone(), bundle.clone());
        library_rate(cores, move || {
            let l = state.ledger.read().unwrap();
            let anchor = Anchor {
                key: Some(l.public_key()),
                ledger: Some(&*l),
                rules: state.rules,
                now: SystemClock.now(),
                expect_binding: None,
                allow_unanchored: false,
                genesis: None,
                witnesses: &[],
                required_witnesses: 0,
            };
            assert!(
                verify_bundle(&state.verifier, &bundle, &anchor)
                    .unwrap()
                    .valid
            );
        })
    };
    println!("verify    library: {library_verify:.0} verifications/s ({cores} threads, against the ledger)");

    // Verify over HTTP with hey.
    let body = dir.path().join("verify.json");
    std::fs::write(&body, json!({ "bundle": bundle }).to_string()).unwrap();
    let http = hey(&format!("{}/v1/verify", running.url()), Some(&body));
    println!(
        "verify    HTTP (hey -z 10s -c 16): {:.0} requests/s = {:.0} % of the library; {}",
        http.rps,
        100.0 * http.rps / library_verify,
        http.summary
    );

    // The transparency log's read API: grow the log past a full tile of entries, then
    // serve a full hash tile, a full entry bundle and the checkpoint.
    while state.ledger.read().unwrap().len() < 2 * 256 {
        let commitment = Fr::rand(&mut OsRng);
        c.submit(&sign(Action::CommitRecord { commitment }, &provider))
            .unwrap()
            .ok()
            .unwrap();
    }
    for (path, what) in [
        ("tile/0/000", "hash tile"),
        ("tile/entries/000", "entry bundle"),
        ("checkpoint", "checkpoint"),
    ] {
        let library = {
            let state = state.clone();
            let tile = path
                .strip_prefix("tile/")
                .map(|t| medproof_ledger::tlog::TilePath::parse(t).unwrap());
            library_rate(cores, move || {
                let l = state.ledger.read().unwrap();
                match &tile {
                    Some(t) => assert!(l.tile(t).unwrap().is_some()),
                    None => assert!(!l.tlog_checkpoint().unwrap().note.is_empty()),
                }
            })
        };
        let fetched = c.get_bytes(&format!("/{path}")).unwrap();
        assert_eq!(fetched.status, 200, "{path}");
        let bytes = fetched.body.len();
        let http = hey(&format!("{}/{path}", running.url()), None);
        println!(
            "log       GET /{path} ({what}, {bytes} bytes): library {library:.0} /s; HTTP (hey -z 10s -c 16) {:.0} requests/s = {:.0} % of the library, {:.0} MiB/s; {}",
            http.rps,
            100.0 * http.rps / library,
            http.rps * bytes as f64 / (1024.0 * 1024.0),
            http.summary
        );
    }

    // Proving: the one-thread rate in process.
    let keys = medproof_params::load(
        &medproof_service::keys_dir(&data),
        Statement::RecordInclusion,
        medproof_params::LoadOptions::default(),
    )
    .unwrap();
    let one = Prover::new([keys], 1).unwrap();
    one.build_tables();
    let (request, _) = {
        let l = state.ledger.read().unwrap();
        medproof_service::assemble::record_inclusion(&*l, record.clone(), Fr::from(7u64)).unwrap()
    };
    let request = ProofRequest::RecordInclusion(request);
    one.prove(&request).unwrap();
    let n = 8;
    let t = Instant::now();
    for _ in 0..n {
        one.prove_on_pool(&request).unwrap();
    }
    let one_rate = n as f64 / t.elapsed().as_secs_f64();
    drop(one);
    println!("prove     library, one thread: {one_rate:.2} proofs/s; goal for the service: {cores} × that = {:.2} proofs/s", cores as f64 * one_rate);

    // Proof jobs over HTTP: 4 × cores at once, polled until done.
    let jobs = 4 * cores;
    let t = Instant::now();
    let submitted: Vec<(String, Instant)> = (0..jobs)
        .map(|_| {
            let r = c
                .signed_post("/v1/proofs/record-inclusion", &input, &provider)
                .unwrap();
            assert_eq!(r.status, 202, "{}", r.body);
            (r.location.unwrap(), Instant::now())
        })
        .collect();
    let mut latencies = Vec::new();
    for (location, at) in &submitted {
        let job = c
            .wait_job(location, &provider, Duration::from_secs(600))
            .unwrap();
        assert_eq!(job["status"], "done");
        latencies.push(at.elapsed().as_secs_f64());
    }
    let elapsed = t.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let http_rate = jobs as f64 / elapsed;
    println!(
        "prove     HTTP: {jobs} jobs in {elapsed:.2} s = {http_rate:.2} jobs/s = {:.0} % of {cores} × the one-thread rate; submit to done p50 {:.2} s, p99 {:.2} s",
        100.0 * http_rate / (cores as f64 * one_rate),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );

    // Server errors, and memory.
    let metrics = c.get("/metrics").unwrap().body;
    let text = metrics.as_str().unwrap_or("");
    let errors: u64 = text
        .lines()
        .filter(|l| {
            l.starts_with("medproof_http_requests_total")
                && l.contains("status=\"5")
                && !l.contains("status=\"503\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    println!("errors    5xx other than 503: {errors}");
    println!(
        "memory    resident {:.0} MiB (service and load generator, one process)",
        rss_mib()
    );
    running.stop().unwrap();
}
