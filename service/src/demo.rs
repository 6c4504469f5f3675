//! `medproof demo`: medproof's four stories end to end on synthetic data, on the ledger
//! in the data dir (keys generated on first start).
//!
//! 1. **Records.** A provider, a patient and an insurer register their keys. The
//!    provider commits the patient's records (a FHIR Observation from `samples/fhir` and
//!    synthetic ones) and proves, in parallel, that records of given categories are on
//!    the ledger; the proofs are checked one by one, as a batch, and against the ledger's
//!    signed checkpoint.
//! 2. **Access.** The patient grants a consent built from a FHIR `Consent` resource
//!    (lab records, for treatment, valid for a year from yesterday). The provider proves
//!    it may access each lab record now, and logs each access on the ledger with its
//!    proof; the proofs verify with freshness checks. An imaging record is refused.
//! 3. **Claim.** The insurer publishes a policy (covered codes, period, limit); the
//!    provider commits a claim record from a FHIR `Claim` and proves it meets the
//!    policy; the insurer verifies it without seeing the code, date or diagnosis.
//! 4. **Audit.** A regulator audits the period of the log that holds the accesses: the
//!    chain between signed checkpoints, every access proof batch-verified and fresh.
//!
//! And the patient revokes: no new access proof can be made, and the earlier proof is
//! refused as stale once the freshness window has passed (the demo asks the verifier
//! what it would say at that time, rather than waiting ten minutes).
//!
//! Nothing here is real patient data. The openings never leave memory; only their
//! commitments, signatures and proof bundles reach the ledger and the out dir.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use ark_ff::UniformRand;
use medproof_circuits::commit::{ContentDigest, RecordOpening};
use medproof_ledger::audit::{audit, AuditOptions, DEFAULT_BATCH};
use medproof_ledger::{Action, Clock, Role, SystemClock};
use medproof_params::{LoadOptions, Manifest, StatementKeys};
use medproof_prover::{ProofRequest, Prover};
use medproof_verifier::bundle::Verifier;
use medproof_verifier::freshness::Freshness;
use medproof_verifier::groth16::PreparedVerifyingKey;
use medproof_verifier::{fr_to_decimal, Fr, ProofBundle, Statement};

use crate::fhir;
use crate::input::{RecordInclusionInput, RecordJson};
use crate::keys_dir;
use crate::scenario::{ConsentTerms, GrantedConsent, Parties};

/// Demo settings.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Data dir (keys go to `<data_dir>/keys`).
    pub data_dir: PathBuf,
    /// Where bundles are written.
    pub out: PathBuf,
    /// Number of records to commit.
    pub records: usize,
    /// Number of inclusion proofs to make (and at most this many access proofs).
    pub proofs: usize,
    /// Prover threads (0: one per core).
    pub threads: usize,
}

/// What the demo measured.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// Bundles written, in order.
    pub bundles: Vec<PathBuf>,
    /// Whether every story ended as it should: valid proofs valid, refusals refused,
    /// the audit passed.
    pub all_valid: bool,
}

const OBSERVATION: &str = include_str!("../../samples/fhir/observation.json");
const CONSENT: &str = include_str!("../../samples/fhir/consent.json");
const CLAIM: &str = include_str!("../../samples/fhir/claim.json");
/// The demo provider's FHIR reference, as the consent names it.
const PROVIDER_REFERENCE: &str = "Organization/hospital-a";
const CATEGORY_CYCLE: [&str; 3] = ["laboratory", "imaging", "vital-signs"];

/// A synthetic FHIR R4 Observation; the demo hashes it and throws it away.
fn synthetic_resource(i: usize, category: &str) -> String {
    format!(
        r#"{{"resourceType":"Observation","id":"synthetic-{i}","status":"final","category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"{category}"}}]}}],"subject":{{"reference":"Patient/synthetic-1"}},"valueQuantity":{{"value":{v},"unit":"mmol/L"}}}}"#,
        v = 4 + i % 7
    )
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// `YYYY-MM-DD` of a Unix time, UTC.
fn fhir_date(unix: u64) -> Result<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(i64::try_from(unix)?)?;
    Ok(format!(
        "{:04}-{:02}-{:02}",
        t.year(),
        u8::from(t.month()),
        t.day()
    ))
}

/// Loads the keys of every statement, generating them first if the dir has none (or
/// has keys for fewer statements than this version proves).
pub fn ensure_keys(data_dir: &Path) -> Result<(Vec<StatementKeys>, bool)> {
    let dir = keys_dir(data_dir);
    let complete = medproof_params::exists(&dir)
        && Manifest::read(&dir)
            .map(|m| Statement::ALL.iter().all(|s| m.entry(*s).is_ok()))
            .unwrap_or(false);
    let generated = !complete;
    if generated {
        if medproof_params::exists(&dir) {
            eprintln!(
                "keys in {} lack a statement of this version: generating a full set",
                dir.display()
            );
        }
        let statements = Statement::ALL;
        medproof_params::setup(
            &dir,
            &statements,
            &crate::progress::SetupBar::new(statements.len()),
        )?;
    }
    let keys = Statement::ALL
        .iter()
        .map(|s| medproof_params::load(&dir, *s, LoadOptions::default()))
        .collect::<Result<Vec<_>, _>>()?;
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
        "keys      {} in {}: {}",
        if generated { "generated" } else { "loaded" },
        key_dir.display(),
        keys.iter()
            .map(|k| format!("{} ({} constraints)", k.statement, k.shape.num_constraints))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut verifier = Verifier::new();
    for k in &keys {
        verifier.insert(
            k.statement,
            PreparedVerifyingKey::new(k.verifying_key.clone())?,
        )?;
    }
    let prover = Prover::new(keys, opts.threads)?;
    let rules = Freshness::default();
    let clock = SystemClock;
    let mut rng = rand::thread_rng();
    let mut ok = true;
    let mut paths = Vec::new();
    fs::create_dir_all(&opts.out)
        .with_context(|| format!("cannot create {}", opts.out.display()))?;
    let mut write = |name: String, text: String| -> Result<()> {
        let path = opts.out.join(name);
        fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        paths.push(path);
        Ok(())
    };

    // 1. Records.
    let ledger = medproof_ledger::open_dir(&opts.data_dir, Arc::new(SystemClock))?;
    // The demo acts as the registrar that the data dir's genesis names.
    let registrar =
        medproof_ledger::keyfile::load(&medproof_ledger::registrar_key_path(&opts.data_dir))
            .context(
                "the demo admits its provider and insurer with the data dir's registrar key",
            )?;
    let mut parties = Parties::register(ledger, registrar, &mut rng)?;
    let ledger_key = parties.ledger.public_key();
    println!(
        "ledger    {} entries; the registrar admitted the provider and the insurer, the patient registered itself; ledger key {}",
        parties.ledger.len(),
        &hex::encode(ledger_key.to_bytes())[..16]
    );
    let now = clock.now();
    let resources: Vec<(u32, String)> = (0..opts.records)
        .map(|i| {
            if i == 0 {
                (1, OBSERVATION.to_string())
            } else {
                let name = CATEGORY_CYCLE[i % CATEGORY_CYCLE.len()];
                let category = fhir::category_number(name).unwrap_or(0);
                (category, synthetic_resource(i, name))
            }
        })
        .collect();
    let digests = resources
        .iter()
        .map(|(_, r)| fhir::content_digest(r))
        .collect::<Result<Vec<ContentDigest>, _>>()?;
    let t = Instant::now();
    let records = parties.commit_records_with_digests(
        &resources
            .iter()
            .zip(&digests)
            .enumerate()
            .map(|(i, ((category, _), digest))| {
                (
                    *category,
                    *digest,
                    now.saturating_sub(86_400 * (opts.records - i) as u64),
                )
            })
            .collect::<Vec<_>>(),
        &mut rng,
    )?;
    let checkpoint = parties.checkpoint()?;
    println!(
        "records   {} committed as signed entries in {}; checkpoint at seq {}",
        records.len(),
        ms(t.elapsed()),
        checkpoint.seq
    );
    let binding = Fr::rand(&mut rng);
    let requests = records[..opts.proofs]
        .iter()
        .map(|r| {
            let (request, at) =
                crate::assemble::record_inclusion(&parties.ledger, r.clone(), binding)?;
            if at != checkpoint {
                bail!("the ledger moved while the demo assembled its requests");
            }
            Ok(ProofRequest::RecordInclusion(request))
        })
        .collect::<Result<Vec<_>>>()?;
    let t = Instant::now();
    let inclusion: Vec<ProofBundle> = prover
        .prove_many(&requests)
        .into_iter()
        .map(|r| r.map(|b| b.with_checkpoint(&checkpoint)))
        .collect::<Result<_, _>>()?;
    let prove_time = t.elapsed();
    println!(
        "prove     {} inclusion proofs in parallel: {} ({} per proof)",
        inclusion.len(),
        ms(prove_time),
        ms(prove_time / inclusion.len() as u32)
    );
    let decoded = inclusion
        .iter()
        .map(ProofBundle::decode)
        .collect::<Result<Vec<_>, _>>()?;
    let pvk = verifier
        .key(Statement::RecordInclusion)
        .ok_or_else(|| anyhow!("no record-inclusion key"))?;
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
    let batch_ok = pvk.verify_batch(&items)?;
    let batch_time = t.elapsed();
    let mut against_ledger = true;
    for b in &inclusion {
        against_ledger &= verifier
            .verify_fresh(b, &ledger_key, &parties.ledger, &rules, clock.now())?
            .0;
    }
    println!(
        "verify    one by one: {} ({} per proof); as one batch: {} ({} per proof); signed checkpoint and fresh root: {}",
        ms(single_time),
        ms(single_time / decoded.len() as u32),
        ms(batch_time),
        ms(batch_time / decoded.len() as u32),
        yes(against_ledger)
    );
    ok &= single_ok && batch_ok && against_ledger;
    for (i, b) in inclusion.iter().enumerate() {
        write(format!("record-inclusion-{i}.json"), b.to_json())?;
    }
    // An example input for `medproof prove record-inclusion` (synthetic data).
    let example = RecordInclusionInput {
        leaves: None,
        index: None,
        committer: None,
        record: RecordJson::from_opening(&records[0]),
        binding: fr_to_decimal(&binding),
    };
    write(
        "prove-input-example.json".into(),
        serde_json::to_string_pretty(&example)?,
    )?;

    // 2. Consent and access.
    let consent_resource = CONSENT
        .replace("2026-01-01", &fhir_date(now.saturating_sub(86_400))?)
        .replace("2026-12-31", &fhir_date(now + 365 * 86_400)?);
    let mapped = fhir::consent_from_fhir(&consent_resource)?;
    if mapped.grantee != PROVIDER_REFERENCE {
        bail!("the sample consent names another provider");
    }
    let consent = parties.grant(
        ConsentTerms {
            category: mapped.category,
            purpose: mapped.purpose,
            valid_from: mapped.valid_from,
            valid_until: mapped.valid_until,
        },
        &mut rng,
    )?;
    println!(
        "consent   granted from a FHIR Consent (laboratory, TREAT, {} to {}) as consent #{}",
        fhir_date(mapped.valid_from)?,
        fhir_date(mapped.valid_until)?,
        consent.index
    );
    let lab: Vec<&RecordOpening> = records
        .iter()
        .filter(|r| r.category == mapped.category)
        .take(opts.proofs)
        .collect();
    let access_time = clock.now();
    let mut access_requests = Vec::new();
    let mut access_checkpoint = None;
    for r in &lab {
        let (request, cp) = parties.access_request(&consent, r, access_time, &mut rng)?;
        access_requests.push(ProofRequest::Access(request));
        access_checkpoint = Some(cp);
    }
    let access_checkpoint =
        access_checkpoint.ok_or_else(|| anyhow!("the demo has no lab record"))?;
    let t = Instant::now();
    let access: Vec<ProofBundle> = prover
        .prove_many(&access_requests)
        .into_iter()
        .map(|r| r.map(|b| b.with_checkpoint(&access_checkpoint)))
        .collect::<Result<_, _>>()?;
    let access_time_taken = t.elapsed();
    let mut access_ok = true;
    for b in &access {
        access_ok &= verifier
            .verify_fresh(b, &ledger_key, &parties.ledger, &rules, clock.now())?
            .0;
    }
    let audit_from = parties.ledger.len();
    let logged = parties.log_accesses(&access)?;
    let audit_to = parties.ledger.len();
    println!(
        "access    {} access proofs in {} ({} per proof), valid and fresh: {}; logged at seq {}..={}",
        access.len(),
        ms(access_time_taken),
        ms(access_time_taken / access.len() as u32),
        yes(access_ok),
        logged.first().copied().unwrap_or(0),
        logged.last().copied().unwrap_or(0)
    );
    ok &= access_ok;
    if let Some(imaging) = records.iter().find(|r| r.category != mapped.category) {
        let (request, _) = parties.access_request(&consent, imaging, clock.now(), &mut rng)?;
        let refused = prover.prove(&ProofRequest::Access(request)).is_err();
        println!(
            "access    to a record of another category under the lab consent: {}",
            if refused { "refused" } else { "ACCEPTED" }
        );
        ok &= refused;
    }
    for (i, b) in access.iter().enumerate() {
        write(format!("access-{i}.json"), b.to_json())?;
    }
    // The forgery the trust model stops: the provider registers a second key as a
    // patient and grants itself a consent in the patient's name (it knows the patient's
    // pseudonym from the records it committed). The ledger wraps the consent with the
    // forger's key, and the patient's pseudonym is not derived from it: no proof.
    let forged_refused = forged_consent_refused(&mut parties, &prover, &consent, lab[0], &mut rng)?;
    println!(
        "forgery   a consent granted in the patient's name by another key: {}",
        if forged_refused {
            "no proof can be made"
        } else {
            "PROVED"
        }
    );
    ok &= forged_refused;

    // 3. Claim.
    let policy = parties.publish_policy(
        &["99213", "99214", "80053"],
        (
            fhir::fhir_time("2026-01-01", "period.start", false)?,
            fhir::fhir_time("2026-12-31", "period.end", true)?,
        ),
        50_000,
        &mut rng,
    )?;
    let claim = fhir::claim_from_fhir(CLAIM)?;
    let opening = parties.commit_claim_digest(
        &claim.code,
        claim.service_date,
        claim.amount,
        claim.content_digest,
        &mut rng,
    )?;
    // The insurer's challenge binds the proof to this request.
    let (request, cp) = parties.claim_request(&opening, &policy, Fr::rand(&mut rng))?;
    let t = Instant::now();
    let claim_bundle = prover
        .prove(&ProofRequest::Claim(request))?
        .with_checkpoint(&cp);
    let claim_time = t.elapsed();
    let claim_ok = verifier
        .verify_fresh(
            &claim_bundle,
            &ledger_key,
            &parties.ledger,
            &rules,
            clock.now(),
        )?
        .0
        && parties
            .ledger
            .locate(&policy.opening.commitment())?
            .is_some();
    // The proof names the provider that committed the claim record: the insurer pays
    // only providers it knows.
    let named = claim_bundle
        .public_inputs
        .get("provider")
        .map(String::as_str)
        == Some(fr_to_decimal(&parties.provider_ref()).as_str());
    let submitted = parties.submit_claim(&claim_bundle).is_ok();
    let paid_twice = parties.submit_claim(&claim_bundle).is_ok();
    println!(
        "claim     FHIR Claim ({} USD) proved to meet the published policy in {}; insurer's check: {}; names the provider: {}; submitted once: {}, a second time: {}",
        claim.amount as f64 / 100.0,
        ms(claim_time),
        yes(claim_ok),
        yes(named),
        yes(submitted),
        if paid_twice { "ACCEPTED" } else { "refused" }
    );
    ok &= claim_ok && named && submitted && !paid_twice;
    // The forgery the trust model stops: the policyholder tries to attest a service
    // itself, as a provider. Only a registrar admits providers, and a patient's key
    // commits no record.
    let forged_claim_refused = forged_claim_refused(&mut parties)?;
    println!(
        "forgery   a claim record committed by the policyholder's own key: {}",
        if forged_claim_refused {
            "refused by the ledger"
        } else {
            "ACCEPTED"
        }
    );
    ok &= forged_claim_refused;
    write("claim.json".into(), claim_bundle.to_json())?;

    // 4. Audit.
    let t = Instant::now();
    let report = audit(
        &parties.ledger,
        &verifier,
        &ledger_key,
        &AuditOptions {
            from: audit_from,
            to: audit_to,
            rules,
            batch: DEFAULT_BATCH,
        },
        &|_, _| {},
    )?;
    println!(
        "audit     entries {}..{}: {} accesses, {} valid, {} invalid, {} stale; chain {} ({})",
        report.from,
        report.to,
        report.accesses,
        report.valid,
        report.invalid,
        report.stale,
        if report.chain_ok { "intact" } else { "BROKEN" },
        ms(t.elapsed())
    );
    ok &= report.passed();
    write(
        "audit-report.json".into(),
        serde_json::to_string_pretty(&report)?,
    )?;

    // The patient revokes.
    let revoked = parties.revoke(&consent)?;
    let (request, _) = parties.access_request(&consent, lab[0], clock.now(), &mut rng)?;
    let new_refused = prover.prove(&ProofRequest::Access(request)).is_err();
    let later = revoked.time + rules.window_secs;
    let stale = matches!(
        verifier.verify_fresh(&access[0], &ledger_key, &parties.ledger, &rules, later),
        Err(medproof_verifier::BundleError::Freshness(_))
    );
    println!(
        "revoke    consent #{} revoked at seq {}: a new access proof is {}; the earlier one, checked {} s later, is {}",
        consent.index,
        revoked.seq,
        if new_refused { "refused" } else { "MADE" },
        rules.window_secs,
        if stale { "refused as stale" } else { "ACCEPTED" }
    );
    ok &= new_refused && stale;
    // The revocation's receipt: the signed checkpoint that contains it. The patient keeps
    // it; `medproof ledger check-receipt` shows a rollback or an equivocation later.
    write(
        "revocation-receipt.json".into(),
        serde_json::to_string_pretty(&serde_json::json!({ "checkpoint": revoked.to_json() }))?,
    )?;

    let proofs = inclusion.len() + access.len() + 1;
    println!(
        "bundles   {} written to {}",
        paths.len(),
        opts.out.display()
    );
    println!(
        "result    {} in {:.1} s",
        if ok {
            format!("all {proofs} proofs valid, every refusal refused, audit passed")
        } else {
            "SOME STORY FAILED".to_string()
        },
        started.elapsed().as_secs_f64()
    );
    Ok(DemoReport {
        bundles: paths,
        all_valid: ok,
    })
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "NO"
    }
}

/// The provider's forged consent (see the demo): a second key registered as a patient
/// grants the provider a consent in the real patient's name. Returns whether the proof
/// was refused.
fn forged_consent_refused<R: rand::RngCore + rand::CryptoRng>(
    parties: &mut Parties<medproof_ledger::RocksStore>,
    prover: &Prover,
    consent: &GrantedConsent,
    record: &RecordOpening,
    rng: &mut R,
) -> Result<bool> {
    let forger = ed25519_dalek::SigningKey::generate(rng);
    let register = parties.sign(
        Action::RegisterKey {
            role: Role::Patient,
        },
        &forger,
    )?;
    parties.ledger.append_one(register)?;
    // The same terms, in the real patient's name, with a fresh blinding.
    let mut opening = consent.opening.clone();
    opening.blinding = Fr::rand(rng);
    let grant = parties.sign(
        Action::GrantConsent {
            commitment: opening.commitment(),
        },
        &forger,
    )?;
    let receipt = parties.ledger.append_one(grant)?;
    let forged = GrantedConsent {
        opening,
        index: receipt.leaf_indices[0].ok_or_else(|| anyhow!("a grant adds a leaf"))?,
    };
    // The provider knows the patient's salt (the patient gave it for the real consent):
    // with it and the patient's key the wrapped leaf is not found; with the forger's key
    // the pseudonym does not match.
    let (request, _) = parties.access_request(&forged, record, SystemClock.now(), rng)?;
    let with_patient_key = prover
        .prove(&ProofRequest::Access(request.clone()))
        .is_err();
    let mut as_forger = request;
    as_forger.witness.granter =
        medproof_circuits::commit::key_ref(&forger.verifying_key().to_bytes());
    let with_forger_key = prover.prove(&ProofRequest::Access(as_forger)).is_err();
    Ok(with_patient_key && with_forger_key)
}

/// The policyholder's forged claim (see the demo). Returns whether the ledger refused
/// both ways in.
fn forged_claim_refused(parties: &mut Parties<medproof_ledger::RocksStore>) -> Result<bool> {
    let commit = parties.sign(
        Action::CommitRecord {
            commitment: Fr::from(0xc1a1u64),
        },
        &parties.patient.key,
    )?;
    let as_patient = parties.ledger.append_one(commit).is_err();
    let own = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let register = parties.sign(
        Action::RegisterKey {
            role: Role::Provider,
        },
        &own,
    )?;
    let self_admitted = parties.ledger.append_one(register).is_err();
    Ok(as_patient && self_admitted)
}
