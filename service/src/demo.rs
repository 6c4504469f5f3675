//! `medproof demo`: the whole record-inclusion story on synthetic data.
//!
//! It generates keys if the data dir has none, registers a provider key and commits
//! synthetic FHIR-like records to the ledger as signed entries, proves inclusion for
//! several of them in parallel against the ledger's signed checkpoint, verifies the
//! proofs one by one, as a batch and against the ledger's public key, writes the
//! bundles, and prints a summary with timings. Nothing here is real patient data; the
//! synthetic resources never leave memory, only their commitments and the proof bundles
//! are written.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ark_ff::UniformRand;
use ed25519_dalek::SigningKey;
use medproof_circuits::commit::{patient_ref, ContentDigest, RecordOpening};
use medproof_ledger::{Action, Role, Submission, SystemClock};
use medproof_params::{LoadOptions, StatementKeys};
use medproof_prover::{ProofRequest, Prover, RecordInclusionRequest};
use medproof_verifier::bundle::Verifier;
use medproof_verifier::groth16::PreparedVerifyingKey;
use medproof_verifier::statement::RecordInclusionPublic;
use medproof_verifier::{fr_to_decimal, Fr, ProofBundle, Statement};
use std::sync::Arc;

use crate::input::{RecordInclusionInput, RecordJson};
use crate::keys_dir;

/// Demo settings.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Data dir (keys go to `<data_dir>/keys`).
    pub data_dir: PathBuf,
    /// Where bundles are written.
    pub out: PathBuf,
    /// Number of synthetic records to commit.
    pub records: usize,
    /// Number of inclusion proofs to make.
    pub proofs: usize,
    /// Prover threads (0: one per core).
    pub threads: usize,
}

/// What the demo measured.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// Bundles written, in order.
    pub bundles: Vec<PathBuf>,
    /// Whether every proof verified singly and in the batch.
    pub all_valid: bool,
}

const CATEGORIES: [(u32, &str); 3] = [(1, "laboratory"), (2, "imaging"), (3, "medication")];

/// A synthetic FHIR R4 Observation; the demo hashes it and throws it away.
fn synthetic_resource(i: usize, category: &str) -> String {
    format!(
        r#"{{"resourceType":"Observation","id":"synthetic-{i}","status":"final","category":[{{"text":"{category}"}}],"subject":{{"reference":"Patient/synthetic-{p}"}},"valueQuantity":{{"value":{v},"unit":"mmol/L"}}}}"#,
        p = i % 5,
        v = 4 + i % 7
    )
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// Loads the keys of record inclusion, generating them first if the dir has none.
pub fn ensure_keys(data_dir: &Path) -> Result<(StatementKeys, bool)> {
    let dir = keys_dir(data_dir);
    let generated = !medproof_params::exists(&dir);
    if generated {
        let statements = Statement::ALL;
        medproof_params::setup(
            &dir,
            &statements,
            &medproof_params::Bar::new(statements.len()),
        )?;
    }
    let keys = medproof_params::load(&dir, Statement::RecordInclusion, LoadOptions::default())?;
    Ok((keys, generated))
}

/// Runs the demo, printing a summary to stdout.
pub fn run(opts: &DemoOptions) -> Result<DemoReport> {
    if opts.records == 0 || opts.proofs == 0 || opts.proofs > opts.records {
        bail!("need at least one record and one proof, and no more proofs than records");
    }
    let started = Instant::now();
    let (keys, generated) = ensure_keys(&opts.data_dir)?;
    let key_dir = keys_dir(&opts.data_dir);
    println!(
        "keys      {} ({}, {} constraints, vk {})",
        if generated { "generated" } else { "loaded" },
        key_dir.display(),
        keys.shape.num_constraints,
        &keys.vk_id[..16]
    );
    let pvk = PreparedVerifyingKey::new(keys.verifying_key.clone());

    // A provider's records: only their commitments will leave this function.
    let mut rng = rand::thread_rng();
    let secrets: Vec<Fr> = (0..5).map(|_| Fr::rand(&mut rng)).collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let records: Vec<RecordOpening> = (0..opts.records)
        .map(|i| {
            let (category, name) = CATEGORIES[i % CATEGORIES.len()];
            RecordOpening {
                patient_ref: patient_ref(secrets[i % secrets.len()]),
                category,
                content_digest: ContentDigest::of(synthetic_resource(i, name).as_bytes()),
                created_at: now.saturating_sub(86_400 * (opts.records - i) as u64),
                blinding: Fr::rand(&mut rng),
            }
        })
        .collect();
    // The provider registers its key and commits the records as signed entries; the
    // ledger answers with a signed checkpoint.
    let mut ledger = medproof_ledger::open_dir(&opts.data_dir, Arc::new(SystemClock))?;
    let provider = SigningKey::generate(&mut rand::rngs::OsRng);
    let mut batch = vec![Submission::sign(
        Action::RegisterKey {
            role: Role::Provider,
        },
        &provider,
    )];
    batch.extend(records.iter().map(|r| {
        Submission::sign(
            Action::CommitRecord {
                commitment: r.commitment(),
            },
            &provider,
        )
    }));
    let t = Instant::now();
    let receipt = ledger.append(&batch)?;
    let checkpoint = receipt.checkpoint;
    let leaf_index: Vec<u64> = receipt.leaf_indices[1..]
        .iter()
        .map(|i| i.unwrap_or(u64::MAX))
        .collect();
    println!(
        "ledger    {} records committed as signed entries (seq {}..={}) in {}; checkpoint at seq {}, ledger key {}",
        records.len(),
        receipt.seqs[1],
        receipt.seqs[receipt.seqs.len() - 1],
        ms(t.elapsed()),
        checkpoint.seq,
        &hex::encode(ledger.public_key().to_bytes())[..16]
    );
    let root = checkpoint.records_root;

    // A verifier's challenge binds every proof to this session.
    let binding = Fr::rand(&mut rng);
    let requests: Vec<ProofRequest> = (0..opts.proofs)
        .map(|i| {
            Ok(ProofRequest::RecordInclusion(RecordInclusionRequest {
                public: RecordInclusionPublic::new(root, records[i].category, binding),
                record: records[i].clone(),
                path: ledger.records().path(leaf_index[i])?,
            }))
        })
        .collect::<Result<_>>()?;
    let prover = Prover::new([keys], opts.threads)?;
    let t = Instant::now();
    let results = prover.prove_many(&requests);
    let prove_time = t.elapsed();
    let bundles: Vec<ProofBundle> = results
        .into_iter()
        .map(|r| r.map(|b| b.with_checkpoint(&checkpoint)))
        .collect::<Result<_, _>>()?;
    println!(
        "prove     {} inclusion proofs in parallel: {} ({} per proof)",
        bundles.len(),
        ms(prove_time),
        ms(prove_time / bundles.len() as u32)
    );

    // The verifier sees only the bundles and trusts only the ledger's public key: each
    // checkpoint must be signed by it and hold the proof's root.
    let mut verifier = Verifier::new();
    verifier.insert(Statement::RecordInclusion, pvk.clone())?;
    let mut against_ledger = true;
    for b in &bundles {
        against_ledger &= verifier.verify_against(b, &ledger.public_key())?.0;
    }
    let decoded = bundles
        .iter()
        .map(ProofBundle::decode)
        .collect::<Result<Vec<_>, _>>()?;
    let t = Instant::now();
    let mut single_ok = true;
    for d in &decoded {
        single_ok &= pvk.verify(&d.inputs, &d.proof)?;
    }
    let single_time = t.elapsed();
    let items: Vec<(&[Fr], &_)> = decoded
        .iter()
        .map(|d| (d.inputs.as_slice(), &d.proof))
        .collect();
    let t = Instant::now();
    let batch_ok = pvk.verify_batch(&items, &mut rng)?;
    let batch_time = t.elapsed();
    println!(
        "verify    one by one: {} ({} per proof); as one batch: {} ({} per proof)",
        ms(single_time),
        ms(single_time / decoded.len() as u32),
        ms(batch_time),
        ms(batch_time / decoded.len() as u32)
    );

    fs::create_dir_all(&opts.out)
        .with_context(|| format!("cannot create {}", opts.out.display()))?;
    let mut paths = Vec::new();
    for (i, b) in bundles.iter().enumerate() {
        let path = opts.out.join(format!("record-inclusion-{i}.json"));
        fs::write(&path, b.to_json())
            .with_context(|| format!("cannot write {}", path.display()))?;
        paths.push(path);
    }
    // An example input for `medproof prove record-inclusion` (synthetic data).
    let example = RecordInclusionInput {
        leaves: None,
        index: None,
        record: RecordJson::from_opening(&records[0]),
        binding: fr_to_decimal(&binding),
    };
    let example_path = opts.out.join("prove-input-example.json");
    fs::write(&example_path, serde_json::to_string_pretty(&example)?)
        .with_context(|| format!("cannot write {}", example_path.display()))?;
    println!(
        "bundles   {} written to {} (and {})",
        paths.len(),
        opts.out.display(),
        example_path.display()
    );
    println!(
        "ledger    every bundle's checkpoint is signed by the ledger and holds its proof's root: {}",
        if against_ledger { "yes" } else { "NO" }
    );
    let all_valid = single_ok && batch_ok && against_ledger;
    println!(
        "result    {} in {:.1} s",
        if all_valid {
            format!("all {} proofs valid", bundles.len())
        } else {
            "SOME PROOFS FAILED".to_string()
        },
        started.elapsed().as_secs_f64()
    );
    Ok(DemoReport {
        bundles: paths,
        all_valid,
    })
}
