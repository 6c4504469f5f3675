//! `medproof demo`: medproof's four stories end to end on synthetic data, told through
//! the real HTTP API: the demo starts `medproof serve` on a loopback port over the data
//! dir (keys and ledger created on first start) and every party acts as a client of it,
//! signing its submissions and its proof requests.
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
//!    The period also holds an access the provider logged with another request's proof
//!    (the ledger checks an entry's form, not its proof): the audit names it, and the
//!    patient's history shows it as not authorized.
//!
//! And the patient revokes: no new access proof can be made, and the earlier proof is
//! refused as stale once the freshness window has passed (the demo asks the verifier
//! what it would say at that time, rather than waiting ten minutes).
//!
//! Nothing here is real patient data. The openings go only to the provider's prover
//! (the service's prover routes); only commitments, signatures and proof bundles reach
//! the ledger and the out dir, but for the synthetic patient's wallet
//! (`patient-wallet.json`, mode 0600), which the web page's patient view imports.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use ark_ff::UniformRand;
use ed25519_dalek::SigningKey;
use medproof_circuits::codes::CodeSet;
use medproof_circuits::commit::{
    key_ref, procedure_code, ClaimOpening, ConsentOpening, PolicyOpening, RecordOpening,
};
use medproof_ledger::audit::{audit, AuditOptions, DEFAULT_BATCH};
use medproof_ledger::{Action, Clock, Role, Submission, SystemClock};
use medproof_verifier::bundle::Verifier;
use medproof_verifier::freshness::Freshness;
use medproof_verifier::statement::ClaimPublic;
use medproof_verifier::{fr_from_decimal, fr_to_decimal, Fr, ProofBundle, Statement};
use serde_json::Value;

use crate::api;
use crate::client::Client;
use crate::fhir;
use crate::input::{
    AccessInput, ClaimInput, ClaimJson, ConsentJson, PolicyJson, RecordInclusionInput, RecordJson,
};
use crate::keys_dir;
use crate::scenario::{Patient, SUBMISSION_VALIDITY_SECS};

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
    /// Whether to log an access with another request's proof, which the audit and the
    /// patient's history must name (off: a ledger whose audit passes).
    pub forged_access: bool,
}

/// What the demo measured.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// Bundles written, in order.
    pub bundles: Vec<PathBuf>,
    /// Whether every story ended as it should: valid proofs valid, refusals refused,
    /// the audit passed but for the forged access (if any), which it names.
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

/// Runs the demo, printing a summary to stdout.
pub fn run(opts: &DemoOptions) -> Result<DemoReport> {
    if opts.records == 0 || opts.proofs == 0 || opts.proofs > opts.records {
        bail!("need at least one record and one proof, and no more proofs than records");
    }
    let started = Instant::now();
    let (keys, generated) = crate::ensure_keys(&opts.data_dir)?;
    println!(
        "keys      {} in {}: {}",
        if generated { "generated" } else { "loaded" },
        keys_dir(&opts.data_dir).display(),
        keys.iter()
            .map(|k| format!("{} ({} constraints)", k.statement, k.shape.num_constraints))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let verifier = crate::verifier_of(&keys)?;
    drop(keys);
    let mut config = api::Config::new(opts.data_dir.clone());
    config.bind = "127.0.0.1:0".into();
    config.prover_threads = opts.threads;
    config.proof_queue = opts.proofs.max(16) * 2;
    let running = api::spawn(config)?;
    let result = stories(opts, &running, &verifier, started);
    running.stop()?;
    result
}

/// The parties, each a client of the service with its own key.
struct Demo<'a> {
    c: Client,
    provider: SigningKey,
    insurer: SigningKey,
    patient: Patient,
    registrar: SigningKey,
    out: &'a Path,
    paths: Vec<PathBuf>,
}

impl Demo<'_> {
    fn sign(&self, action: Action, key: &SigningKey) -> Result<Submission> {
        Ok(Submission::sign(
            action,
            key,
            self.c.envelope(SUBMISSION_VALIDITY_SECS)?,
        ))
    }

    /// Submits; the entry's answer, or the refusal as an error.
    fn submit(&self, action: Action, key: &SigningKey) -> Result<Value> {
        self.c.submit(&self.sign(action, key)?)?.ok()
    }

    /// Submits; whether the ledger refused it (4xx).
    fn refused(&self, action: Action, key: &SigningKey) -> Result<bool> {
        let r = self.c.submit(&self.sign(action, key)?)?;
        Ok((400..500).contains(&r.status))
    }

    /// Queues a proof job signed by `key`; its location.
    fn queue(&self, statement: &str, input: &Value, key: &SigningKey) -> Result<String> {
        let r = self
            .c
            .signed_post(&format!("/v1/proofs/{statement}"), input, key)?;
        if r.status != 202 {
            return Err(r.ok().err().unwrap_or_else(|| anyhow!("no job")));
        }
        r.location
            .ok_or_else(|| anyhow!("the service gave no job location"))
    }

    /// Waits for a job: its bundle, or `None` if the prover refused the witness.
    fn bundle(&self, location: &str, key: &SigningKey) -> Result<Option<ProofBundle>> {
        let job = self.c.wait_job(location, key, Duration::from_secs(600))?;
        match job["status"].as_str() {
            Some("done") => Ok(Some(serde_json::from_value(job["bundle"].clone())?)),
            _ => Ok(None),
        }
    }

    /// Whether the service refuses to prove `input`: 422 `not_provable` when the
    /// openings do not fit the ledger (a revoked consent), or a failed job when the
    /// prover finds that the witness does not satisfy the statement.
    fn unprovable(&self, statement: &str, input: &Value, key: &SigningKey) -> Result<bool> {
        let r = self
            .c
            .signed_post(&format!("/v1/proofs/{statement}"), input, key)?;
        match (r.status, r.error()) {
            (422, Some(e)) if e.error_code == "not_provable" => Ok(true),
            (202, _) => {
                let job = r
                    .location
                    .ok_or_else(|| anyhow!("the service gave no job location"))?;
                Ok(self.bundle(&job, key)?.is_none())
            }
            _ => Err(r.ok().err().unwrap_or_else(|| anyhow!("no job"))),
        }
    }

    /// Proves many, as concurrent jobs; every one must be made.
    fn prove_all(
        &self,
        statement: &str,
        inputs: &[Value],
        key: &SigningKey,
    ) -> Result<Vec<ProofBundle>> {
        let locations = inputs
            .iter()
            .map(|i| self.queue(statement, i, key))
            .collect::<Result<Vec<_>>>()?;
        locations
            .iter()
            .map(|l| {
                self.bundle(l, key)?
                    .ok_or_else(|| anyhow!("a {statement} proof job failed"))
            })
            .collect()
    }

    /// Asks the service for a bundle's verdict.
    fn valid(&self, bundle: &ProofBundle) -> Result<bool> {
        let v = self
            .c
            .post("/v1/verify", &serde_json::json!({ "bundle": bundle }))?
            .ok()?;
        Ok(v["valid"] == true)
    }

    fn write(&mut self, name: String, text: String) -> Result<()> {
        let path = self.out.join(name);
        fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        self.paths.push(path);
        Ok(())
    }

    fn entries(&self) -> Result<u64> {
        let info = self.c.get("/v1/ledger")?.ok()?;
        info["entries"]
            .as_u64()
            .ok_or_else(|| anyhow!("the service's /v1/ledger has no length"))
    }
}

fn hex_key(k: &SigningKey) -> String {
    hex::encode(k.verifying_key().to_bytes())
}

fn stories(
    opts: &DemoOptions,
    running: &api::Running,
    verifier: &Verifier,
    started: Instant,
) -> Result<DemoReport> {
    let rules = Freshness::default();
    let clock = SystemClock;
    let mut rng = rand::thread_rng();
    let mut ok = true;
    fs::create_dir_all(&opts.out)
        .with_context(|| format!("cannot create {}", opts.out.display()))?;
    let registrar =
        medproof_ledger::keyfile::load(&medproof_ledger::registrar_key_path(&opts.data_dir))
            .context(
                "the demo admits its provider and insurer with the data dir's registrar key",
            )?;
    let mut d = Demo {
        c: Client::new(&running.url()),
        provider: SigningKey::generate(&mut rng),
        insurer: SigningKey::generate(&mut rng),
        patient: Patient::generate(&mut rng),
        registrar,
        out: &opts.out,
        paths: Vec::new(),
    };
    let ledger_key =
        medproof_ledger::keyfile::load_public(&medproof_ledger::public_key_path(&opts.data_dir))?;
    let info = d.c.get("/v1/ledger")?.ok()?;
    if info["public_key"].as_str() != Some(hex::encode(ledger_key.to_bytes()).as_str()) {
        bail!("the service signs with another key than the data dir's ledger.pub");
    }
    let info: crate::wire::LedgerInfo = serde_json::from_value(info)?;
    // The service's answer is shortened for the screen without trusting its lengths.
    let short = |s: &str| s.get(..16).unwrap_or(s).to_string();
    for k in &info.keys {
        println!(
            "genesis   names {} vk {}: {}",
            k.statement,
            short(&k.vk_id),
            match &k.transcript {
                Some(t) => format!("ceremony transcript {}", short(t)),
                None => "single-party setup (whoever ran it could forge proofs)".into(),
            }
        );
    }

    // 1. Records. The patient registers itself; the registrar admits the provider and
    // the insurer.
    d.submit(
        Action::RegisterKey {
            role: Role::Patient,
        },
        &d.patient.key,
    )?;
    for (key, role) in [(&d.provider, Role::Provider), (&d.insurer, Role::Insurer)] {
        d.submit(
            Action::AdmitKey {
                key: key.verifying_key().to_bytes(),
                role,
            },
            &d.registrar,
        )?;
    }
    println!(
        "service   {} over {}: the registrar admitted the provider and the insurer, the patient registered itself; {} entries; ledger key {}",
        running.url(),
        opts.data_dir.display(),
        d.entries()?,
        &hex::encode(ledger_key.to_bytes())[..16]
    );
    let now = clock.now();
    let records: Vec<RecordOpening> = (0..opts.records)
        .map(|i| {
            let (category, resource) = if i == 0 {
                (1, OBSERVATION.to_string())
            } else {
                let name = CATEGORY_CYCLE[i % CATEGORY_CYCLE.len()];
                (
                    fhir::category_number(name).unwrap_or(0),
                    synthetic_resource(i, name),
                )
            };
            Ok(RecordOpening {
                patient_ref: d.patient.patient_ref(),
                category,
                content_digest: fhir::content_digest(&resource)?,
                created_at: now.saturating_sub(86_400 * (opts.records - i) as u64),
                blinding: Fr::rand(&mut rng),
            })
        })
        .collect::<Result<_>>()?;
    // The provider commits them concurrently: the service's one writer appends what
    // arrives together in one batch, with one checkpoint.
    let t = Instant::now();
    let submissions = records
        .iter()
        .map(|r| {
            d.sign(
                Action::CommitRecord {
                    commitment: r.commitment(),
                },
                &d.provider,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let answers: Vec<Result<Value>> = std::thread::scope(|s| {
        let handles: Vec<_> = submissions
            .chunks(submissions.len().div_ceil(8))
            .map(|chunk| {
                let c = d.c.clone();
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|sub| c.submit(sub)?.ok())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec![Err(anyhow!("a client thread panicked"))])
            })
            .collect()
    });
    let answers = answers.into_iter().collect::<Result<Vec<_>>>()?;
    let batches: std::collections::BTreeSet<u64> = answers
        .iter()
        .filter_map(|a| a["checkpoint"]["seq"].as_u64())
        .collect();
    println!(
        "records   {} committed as signed entries over HTTP in {} by 8 concurrent clients; the writer appended them in {} batches",
        records.len(),
        ms(t.elapsed()),
        batches.len()
    );
    let binding = Fr::rand(&mut rng);
    let inputs = records[..opts.proofs]
        .iter()
        .map(|r| {
            Ok(serde_json::to_value(RecordInclusionInput {
                leaves: None,
                index: None,
                committer: None,
                record: RecordJson::from_opening(r),
                binding: fr_to_decimal(&binding),
            })?)
        })
        .collect::<Result<Vec<_>>>()?;
    let t = Instant::now();
    let inclusion = d.prove_all("record-inclusion", &inputs, &d.provider)?;
    let prove_time = t.elapsed();
    println!(
        "prove     {} record-inclusion proofs as parallel jobs on the service's prover in {} ({} per proof)",
        inclusion.len(),
        ms(prove_time),
        ms(prove_time / inclusion.len() as u32)
    );
    // The verifier checks them against the ledger through the API, and as one batch
    // with its own keys.
    let t = Instant::now();
    let mut against_ledger = true;
    for b in &inclusion {
        against_ledger &= d.valid(b)?;
    }
    let http_time = t.elapsed();
    let decoded = inclusion
        .iter()
        .map(ProofBundle::decode)
        .collect::<Result<Vec<_>, _>>()?;
    let pvk = verifier
        .key(Statement::RecordInclusion)
        .ok_or_else(|| anyhow!("no record-inclusion key"))?;
    let items: Vec<(&[Fr], &_)> = decoded
        .iter()
        .map(|x| (x.inputs.as_slice(), &x.proof))
        .collect();
    let t = Instant::now();
    let batch_ok = pvk.verify_batch(&items)?;
    let batch_time = t.elapsed();
    println!(
        "verify    POST /v1/verify (signed checkpoint, fresh root, proof): {} in {} ({} per bundle); as one batch locally: {} in {}",
        yes(against_ledger),
        ms(http_time),
        ms(http_time / inclusion.len() as u32),
        yes(batch_ok),
        ms(batch_time)
    );
    ok &= against_ledger && batch_ok;
    for (i, b) in inclusion.iter().enumerate() {
        d.write(format!("record-inclusion-{i}.json"), b.to_json())?;
    }
    // An example input for `medproof client prove record-inclusion` (synthetic data).
    d.write(
        "prove-input-example.json".into(),
        serde_json::to_string_pretty(&inputs[0])?,
    )?;

    // 2. Consent and access.
    let consent_resource = CONSENT
        .replace("2026-01-01", &fhir_date(now.saturating_sub(86_400))?)
        .replace("2026-12-31", &fhir_date(now + 365 * 86_400)?);
    let mapped = fhir::consent_from_fhir(&consent_resource)?;
    if mapped.grantee != PROVIDER_REFERENCE {
        bail!("the sample consent names another provider");
    }
    let consent = ConsentOpening {
        patient_ref: d.patient.patient_ref(),
        grantee: key_ref(&d.provider.verifying_key().to_bytes()),
        category: mapped.category,
        purpose: mapped.purpose,
        valid_from: mapped.valid_from,
        valid_until: mapped.valid_until,
        blinding: Fr::rand(&mut rng),
    };
    let granted = d.submit(
        Action::GrantConsent {
            commitment: consent.commitment(),
        },
        &d.patient.key,
    )?;
    let consent_index = granted["leaf_index"]
        .as_u64()
        .ok_or_else(|| anyhow!("a grant adds a leaf"))?;
    println!(
        "consent   granted from a FHIR Consent (laboratory, TREAT, {} to {}) as consent #{consent_index}",
        fhir_date(mapped.valid_from)?,
        fhir_date(mapped.valid_until)?,
    );
    // The patient shares the opening and its pseudonym's salt with the provider, which
    // proves each access with a fresh challenge from the data holder.
    let (provider_hex, salt) = (hex_key(&d.provider), d.patient.salt);
    let access_input = |record: &RecordOpening,
                        granter: &SigningKey,
                        consent: &ConsentOpening,
                        index: u64,
                        nonce: Fr| {
        serde_json::to_value(AccessInput {
            provider: provider_hex.clone(),
            consent: ConsentJson::from_opening(consent),
            consent_index: index,
            granter: hex_key(granter),
            patient_salt: fr_to_decimal(&salt),
            record: RecordJson::from_opening(record),
            now: clock.now(),
            nonce: fr_to_decimal(&nonce),
        })
    };
    let lab: Vec<&RecordOpening> = records
        .iter()
        .filter(|r| r.category == mapped.category)
        .take(opts.proofs)
        .collect();
    let nonces: Vec<Fr> = lab.iter().map(|_| Fr::rand(&mut rng)).collect();
    let inputs = lab
        .iter()
        .zip(&nonces)
        .map(|(r, n)| access_input(r, &d.patient.key, &consent, consent_index, *n))
        .collect::<Result<Vec<_>, _>>()?;
    let t = Instant::now();
    let access = d.prove_all("access", &inputs, &d.provider)?;
    let access_time = t.elapsed();
    let mut access_ok = true;
    for b in &access {
        access_ok &= d.valid(b)?;
    }
    let audit_from = d.entries()?;
    let mut logged = Vec::new();
    for (b, nonce) in access.iter().zip(&nonces) {
        let a = d.submit(
            Action::LogAccess {
                bundle: b.to_json().into_bytes(),
                nonce: *nonce,
            },
            &d.provider,
        )?;
        logged.push(a["seq"].as_u64().unwrap_or(0));
    }
    println!(
        "access    {} access proofs in {} ({} per proof), valid and fresh: {}; logged at seq {}..={}",
        access.len(),
        ms(access_time),
        ms(access_time / access.len().max(1) as u32),
        yes(access_ok),
        logged.first().copied().unwrap_or(0),
        logged.last().copied().unwrap_or(0)
    );
    ok &= access_ok;
    // A provider logs an access whose proof answers another request: the first proof,
    // rebound to a fresh nonce. The ledger checks an entry's form, not its proof, so it
    // takes the entry; the audit (and the patient's history) must name it.
    let forged_seq = if opts.forged_access {
        let mut b = access.first().context("no access proof")?.clone();
        let nonce = Fr::rand(&mut rng);
        let input = |name: &str| -> Result<Fr> {
            let v = b
                .public_inputs
                .get(name)
                .context("an access input is missing")?;
            Ok(fr_from_decimal(v)?)
        };
        let now = medproof_verifier::statement::small_u64(&input("now")?)
            .context("an access proof's time is not an integer")?;
        let binding = medproof_circuits::commit::request_binding(
            input("provider_ref")?,
            input("record")?,
            now,
            nonce,
        );
        b.public_inputs
            .insert("request_binding".into(), fr_to_decimal(&binding));
        let a = d.submit(
            Action::LogAccess {
                bundle: b.to_json().into_bytes(),
                nonce,
            },
            &d.provider,
        )?;
        let seq = a["seq"].as_u64().context("the ledger did not say where")?;
        println!(
            "forgery   an access logged with another request's proof: taken by the ledger at seq {seq} (it checks an entry's form, not its proof); the audit must name it"
        );
        Some(seq)
    } else {
        None
    };
    // How the audit and the history name the forged access, if there is one.
    let forged_named = forged_seq.map_or(String::new(), |seq| {
        format!(" but the forged one at seq {seq}")
    });
    let audit_to = d.entries()?;
    // The patient reads who accessed their records: a signed request by their key,
    // naming the commitments of the records their provider gave them the openings of.
    let mine: Vec<String> = lab
        .iter()
        .take(crate::wire::MAX_HISTORY_RECORDS)
        .map(|r| fr_to_decimal(&r.commitment()))
        .collect();
    let history =
        d.c.signed_post(
            "/v1/history",
            &serde_json::json!({ "records": mine }),
            &d.patient.key,
        )?
        .ok()?;
    let seen = history["accesses"].as_array().cloned().unwrap_or_default();
    let history_ok = seen.len() == logged.len() + usize::from(forged_seq.is_some())
        && seen.iter().all(|a| {
            a["provider"] == provider_hex.as_str()
                && a["authorized"] == (a["seq"].as_u64() != forged_seq)
        });
    println!(
        "history   the patient reads {} accesses to their records, each by the provider for category {} and purpose {}, each authorized by the audit of its entry{forged_named}: {}",
        seen.len(),
        mapped.category,
        mapped.purpose,
        yes(history_ok)
    );
    ok &= history_ok;
    if let Some(imaging) = records.iter().find(|r| r.category != mapped.category) {
        let input = access_input(
            imaging,
            &d.patient.key,
            &consent,
            consent_index,
            Fr::rand(&mut rng),
        )?;
        let refused = d.unprovable("access", &input, &d.provider)?;
        println!(
            "access    to a record of another category under the lab consent: {}",
            if refused { "refused" } else { "ACCEPTED" }
        );
        ok &= refused;
    }
    for (i, b) in access.iter().enumerate() {
        d.write(format!("access-{i}.json"), b.to_json())?;
    }
    // The forgery the trust model stops: the provider registers a second key as a
    // patient and grants itself a consent in the patient's name (it knows the patient's
    // pseudonym from the records it committed). The ledger wraps the consent with the
    // forger's key, and the patient's pseudonym is not derived from it: no proof, with
    // the patient's key as granter or with the forger's.
    let forger = SigningKey::generate(&mut rng);
    d.submit(
        Action::RegisterKey {
            role: Role::Patient,
        },
        &forger,
    )?;
    let forged = ConsentOpening {
        blinding: Fr::rand(&mut rng),
        ..consent.clone()
    };
    let forged_index = d.submit(
        Action::GrantConsent {
            commitment: forged.commitment(),
        },
        &forger,
    )?["leaf_index"]
        .as_u64()
        .ok_or_else(|| anyhow!("a grant adds a leaf"))?;
    let mut forged_refused = true;
    for granter in [&d.patient.key, &forger] {
        let input = access_input(lab[0], granter, &forged, forged_index, Fr::rand(&mut rng))?;
        forged_refused &= d.unprovable("access", &input, &d.provider)?;
    }
    println!(
        "forgery   a consent granted in the patient's name by another key: {}",
        if forged_refused {
            "no proof can be made"
        } else {
            "PROVED"
        }
    );
    ok &= forged_refused;

    // 3. Claim. The insurer publishes a policy for the patient.
    let codes = ["99213", "99214", "80053"];
    let policy = PolicyJson {
        policyholder: fr_to_decimal(&d.patient.patient_ref()),
        codes: codes.iter().map(|c| c.to_string()).collect(),
        period_start: fhir::fhir_time("2026-01-01", "period.start", false)?,
        period_end: fhir::fhir_time("2026-12-31", "period.end", true)?,
        limit: 50_000,
        blinding: fr_to_decimal(&Fr::rand(&mut rng)),
    };
    let policy_opening = PolicyOpening {
        policyholder: d.patient.patient_ref(),
        codes_root: CodeSet::new(&codes)?.root(),
        period_start: policy.period_start,
        period_end: policy.period_end,
        limit: policy.limit,
        blinding: fr_from_decimal(&policy.blinding)?,
    };
    d.submit(
        Action::PublishPolicy {
            commitment: policy_opening.commitment(),
        },
        &d.insurer,
    )?;
    // The provider commits the claim record from a FHIR Claim and proves it meets the
    // policy, bound to the insurer's challenge.
    let claim = fhir::claim_from_fhir(CLAIM)?;
    let opening = ClaimOpening {
        patient_ref: d.patient.patient_ref(),
        code: procedure_code(&claim.code)?,
        service_date: claim.service_date,
        amount: claim.amount,
        content_digest: claim.content_digest,
        blinding: Fr::rand(&mut rng),
    };
    d.submit(
        Action::CommitRecord {
            commitment: opening.commitment(),
        },
        &d.provider,
    )?;
    let input = serde_json::to_value(ClaimInput {
        provider: hex_key(&d.provider),
        claim: ClaimJson {
            patient_ref: fr_to_decimal(&opening.patient_ref),
            code: claim.code.clone(),
            service_date: opening.service_date,
            amount: opening.amount,
            content_sha256: hex::encode(opening.content_digest.0),
            blinding: fr_to_decimal(&opening.blinding),
        },
        policy,
        binding: fr_to_decimal(&Fr::rand(&mut rng)),
    })?;
    let t = Instant::now();
    let job = d.queue("claim", &input, &d.provider)?;
    let claim_bundle = d
        .bundle(&job, &d.provider)?
        .ok_or_else(|| anyhow!("the claim proof job failed"))?;
    let claim_time = t.elapsed();
    let claim_ok = d.valid(&claim_bundle)?;
    // The proof names the provider that committed the claim record: the insurer pays
    // only providers it knows.
    let named = claim_bundle
        .public_inputs
        .get("provider")
        .map(String::as_str)
        == Some(fr_to_decimal(&key_ref(&d.provider.verifying_key().to_bytes())).as_str());
    let decoded = claim_bundle.decode()?;
    let submit = Action::SubmitClaim {
        policy: decoded.inputs[ClaimPublic::POLICY],
        claim_id: decoded.inputs[ClaimPublic::CLAIM_ID],
    };
    let submitted = d.submit(submit.clone(), &d.insurer).is_ok();
    let paid_twice = !d.refused(submit, &d.insurer)?;
    println!(
        "claim     FHIR Claim ({} USD) proved to meet the published policy in {}; insurer's check: {}; names the provider: {}; submitted once: {}, a second time: {}",
        claim.amount as f64 / 100.0,
        ms(claim_time),
        yes(claim_ok),
        yes(named),
        yes(submitted),
        if paid_twice { "ACCEPTED" } else { "refused (409)" }
    );
    ok &= claim_ok && named && submitted && !paid_twice;
    // The forgery the trust model stops: the policyholder tries to attest a service
    // itself, as a provider. Only a registrar admits providers, and a patient's key
    // commits no record.
    let as_patient = d.refused(
        Action::CommitRecord {
            commitment: Fr::from(0xc1a1u64),
        },
        &d.patient.key,
    )?;
    let own = SigningKey::generate(&mut rng);
    let self_admitted = d.refused(
        Action::RegisterKey {
            role: Role::Provider,
        },
        &own,
    )?;
    let forged_claim_refused = as_patient && self_admitted;
    println!(
        "forgery   a claim record committed by the policyholder's own key: {}",
        if forged_claim_refused {
            "refused by the ledger (403)"
        } else {
            "ACCEPTED"
        }
    );
    ok &= forged_claim_refused;
    d.write("claim.json".into(), claim_bundle.to_json())?;

    // 4. Audit: a regulator reads the ledger read-only (while the service appends), with
    // the ledger's public key only.
    let t = Instant::now();
    let report = {
        let ledger = medproof_ledger::open_dir_read_only(&opts.data_dir, Some(ledger_key))?;
        audit(
            &ledger,
            verifier,
            &ledger_key,
            &AuditOptions {
                from: audit_from,
                to: audit_to,
                rules,
                batch: DEFAULT_BATCH,
            },
            &|_, _| {},
        )?
    };
    // Everything holds but the forged access, which the audit names by its seq.
    let caught = report.chain_ok
        && report.valid == logged.len() as u64
        && report.stale == 0
        && report.problems.iter().map(|p| p.seq).collect::<Vec<_>>()
            == forged_seq.into_iter().collect::<Vec<_>>();
    println!(
        "audit     entries {}..{}: {} accesses, {} valid, {} invalid, {} stale; chain {} ({}); {}: {}",
        report.from,
        report.to,
        report.accesses,
        report.valid,
        report.invalid,
        report.stale,
        if report.chain_ok { "intact" } else { "BROKEN" },
        ms(t.elapsed()),
        match forged_seq {
            Some(seq) => format!("the forged access at seq {seq} named"),
            None => "no problem".into(),
        },
        yes(caught)
    );
    ok &= caught;
    d.write(
        "audit-report.json".into(),
        serde_json::to_string_pretty(&report)?,
    )?;

    // The patient revokes; the answer carries the receipt.
    let revoked = d.submit(Action::RevokeConsent { consent_index }, &d.patient.key)?;
    let receipt = serde_json::from_value::<medproof_verifier::checkpoint::CheckpointJson>(
        revoked["checkpoint"].clone(),
    )?
    .parse()?;
    receipt.verify(&ledger_key)?;
    let input = access_input(
        lab[0],
        &d.patient.key,
        &consent,
        consent_index,
        Fr::rand(&mut rng),
    )?;
    let new_refused = d.unprovable("access", &input, &d.provider)?;
    // What a verifier would say once the window has passed (rather than waiting).
    let later = receipt.time + rules.window_secs;
    let stale = {
        let ledger = medproof_ledger::open_dir_read_only(&opts.data_dir, Some(ledger_key))?;
        matches!(
            verifier.verify_fresh(&access[0], &ledger_key, &ledger, &rules, later),
            Err(medproof_verifier::BundleError::Freshness(_))
        )
    };
    println!(
        "revoke    consent #{consent_index} revoked at seq {}: a new access proof is {}; the earlier one, checked {} s later, is {}",
        revoked["seq"],
        if new_refused { "refused" } else { "MADE" },
        rules.window_secs,
        if stale { "refused as stale" } else { "ACCEPTED" }
    );
    ok &= new_refused && stale;
    // The revocation's receipt: the signed checkpoint that contains it. The patient keeps
    // it; `medproof ledger check-receipt` shows a rollback or an equivocation later.
    d.write(
        "revocation-receipt.json".into(),
        serde_json::to_string_pretty(&serde_json::json!({ "checkpoint": receipt.to_json() }))?,
    )?;
    // The synthetic patient's wallet, for the web page's patient view (import it there):
    // the key and salt, the commitments of the records its provider gave it, and its
    // consent's opening with the grant's receipt. Secret, so readable by its owner only.
    let wallet = serde_json::json!({
        "medproof_wallet": 1,
        "key": hex::encode(d.patient.key.to_bytes()),
        "salt": fr_to_decimal(&d.patient.salt),
        "records": records.iter().map(|r| fr_to_decimal(&r.commitment())).collect::<Vec<_>>(),
        "consents": [{
            "index": consent_index,
            "grantee_key": provider_hex,
            "commitment": fr_to_decimal(&consent.commitment()),
            "opening": ConsentJson::from_opening(&consent),
            "receipt": granted["checkpoint"],
        }],
    });
    let wallet_path = opts.out.join("patient-wallet.json");
    crate::write_secret(&wallet_path, &serde_json::to_string_pretty(&wallet)?)?;

    let proofs = inclusion.len() + access.len() + 1;
    println!(
        "bundles   {} written to {}",
        d.paths.len(),
        opts.out.display()
    );
    println!(
        "result    {} in {:.1} s",
        if ok {
            format!(
                "all {proofs} proofs valid, every refusal refused, {}",
                if forged_seq.is_some() {
                    "the audit named the forged access"
                } else {
                    "the audit passed"
                }
            )
        } else {
            "SOME STORY FAILED".to_string()
        },
        started.elapsed().as_secs_f64()
    );
    Ok(DemoReport {
        bundles: d.paths,
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
