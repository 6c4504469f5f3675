//! The access and claim stories end to end on a ledger, with real proofs: every rule of
//! access authorization, revocation and freshness, and claim compliance rejects on its
//! own, at the prover (a witness that breaks a rule is refused) and at the verifier (a
//! proof whose public inputs are changed is refused).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use ark_ff::UniformRand;
use ed25519_dalek::SigningKey;
use medproof_circuits::commit::{
    key_ref, procedure_code, ClaimOpening, ContentDigest, RecordOpening,
};
use medproof_ledger::audit::{
    audit, check_references, AuditOptions, AuditReport, ProblemKind, ReferenceError,
};
use medproof_ledger::entry::Body;
use medproof_ledger::ledger::Refusal;
use medproof_ledger::store::Cf;
use medproof_ledger::{Action, LedgerError, Role};
use medproof_ledger::{Clock, GenesisKey, Ledger, MemStore};
use medproof_params::{insecure_seeded_setup, load, LoadOptions};
use medproof_prover::{ProofRequest, ProveError, Prover};
use medproof_service::scenario::{ConsentTerms, GrantedConsent, Parties, Policy};
use medproof_verifier::bundle::{BundleError, Verifier};
use medproof_verifier::freshness::{Freshness, FreshnessError};
use medproof_verifier::groth16::PreparedVerifyingKey;
use medproof_verifier::{fr_from_decimal, fr_to_decimal, Checkpoint, Fr, ProofBundle, Statement};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const T0: u64 = 1_780_000_000;
const DAY: u64 = 86_400;
const LAB: u32 = 1;
const TREATMENT: u32 = 1;
const RESEARCH: u32 = 2;

/// A ledger clock the test moves by hand.
struct ManualClock(AtomicU64);

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Keys for both statements, made once per test binary, and what a genesis names of them.
fn keys() -> &'static (Prover, Verifier, Vec<GenesisKey>) {
    static KEYS: OnceLock<(Prover, Verifier, Vec<GenesisKey>)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let statements = [Statement::AccessAuthorization, Statement::ClaimCompliance];
        insecure_seeded_setup(dir.path(), &statements, 21).unwrap();
        let opts = LoadOptions {
            allow_insecure: true,
        };
        let mut verifier = Verifier::new();
        let mut all = Vec::new();
        for s in statements {
            let k = load(dir.path(), s, opts).unwrap();
            verifier
                .insert(
                    s,
                    PreparedVerifyingKey::new(k.verifying_key.clone()).expect("a safe key"),
                )
                .unwrap();
            all.push(k);
        }
        let named = medproof_service::genesis_keys(&all).unwrap();
        (Prover::new(all, 2).unwrap(), verifier, named)
    })
}

struct Story {
    parties: Parties<MemStore>,
    ledger_key: SigningKey,
    clock: Arc<ManualClock>,
    rng: ChaCha20Rng,
    record: RecordOpening,
    consent: GrantedConsent,
}

/// A provider with one lab record of the patient, and the patient's consent for lab
/// records, for treatment, from T0 - 1 day to T0 + 30 days.
fn story(seed: u64) -> Story {
    story_naming(seed, &keys().2)
}

/// [`story`] on a ledger whose genesis names the verifying keys `named`.
fn story_naming(seed: u64, named: &[GenesisKey]) -> Story {
    let clock = Arc::new(ManualClock(AtomicU64::new(T0)));
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let ledger_key = SigningKey::generate(&mut rng);
    let registrar = SigningKey::generate(&mut rng);
    let ledger = Ledger::create(
        MemStore::default(),
        ledger_key.clone(),
        clock.clone(),
        &[registrar.verifying_key()],
        named,
    )
    .unwrap();
    let mut parties = Parties::register(ledger, registrar, &mut rng).unwrap();
    let record = parties
        .commit_records(
            &[(LAB, b"{\"resourceType\":\"Observation\"}", T0 - DAY)],
            &mut rng,
        )
        .unwrap()
        .remove(0);
    let consent = parties
        .grant(
            ConsentTerms {
                category: LAB,
                purpose: TREATMENT,
                valid_from: T0 - DAY,
                valid_until: T0 + 30 * DAY,
            },
            &mut rng,
        )
        .unwrap();
    Story {
        parties,
        ledger_key,
        clock,
        rng,
        record,
        consent,
    }
}

impl Story {
    fn now(&self) -> u64 {
        self.clock.now()
    }

    fn advance(&self, secs: u64) {
        self.clock.0.fetch_add(secs, Ordering::SeqCst);
    }

    /// Proves access to the story's record under `consent` at `now`.
    fn prove_access(
        &mut self,
        consent: &GrantedConsent,
        now: u64,
    ) -> Result<ProofBundle, ProveError> {
        let (request, checkpoint) = self
            .parties
            .access_request(consent, &self.record, now, &mut self.rng)
            .unwrap();
        proved(ProofRequest::Access(request), &checkpoint)
    }

    /// Verifies with freshness at the ledger clock.
    fn check(&self, bundle: &ProofBundle) -> Result<bool, BundleError> {
        self.check_at(bundle, self.now())
    }

    fn check_at(&self, bundle: &ProofBundle, at: u64) -> Result<bool, BundleError> {
        let ledger = &self.parties.ledger;
        keys()
            .1
            .verify_fresh(
                bundle,
                &ledger.public_key(),
                ledger,
                &Freshness::default(),
                at,
            )
            .map(|(ok, _)| ok)
    }
}

/// Proves `request` and attaches the checkpoint it was made against.
fn proved(request: ProofRequest, checkpoint: &Checkpoint) -> Result<ProofBundle, ProveError> {
    keys()
        .0
        .prove(&request)
        .map(|b| b.with_checkpoint(checkpoint))
}

fn with_input(b: &ProofBundle, name: &str, value: &str) -> ProofBundle {
    let mut b = b.clone();
    b.public_inputs.insert(name.into(), value.into());
    b
}

fn plus_one(b: &ProofBundle, name: &str) -> ProofBundle {
    let x = fr_from_decimal(&b.public_inputs[name]).unwrap() + Fr::from(1u64);
    with_input(b, name, &fr_to_decimal(&x))
}

fn refused(r: Result<ProofBundle, ProveError>) -> bool {
    matches!(r, Err(ProveError::Witness(_)))
}

#[test]
fn access_is_proved_logged_and_each_rule_rejects() {
    let mut s = story(1);
    let consent = s.consent.clone();
    let bundle = s.prove_access(&consent, s.now()).unwrap();
    assert!(s.check(&bundle).unwrap());
    // The logged entry carries the bundle: no patient_ref, no consent, no record fields.
    let seq = s.parties.log_access(&bundle).unwrap();
    let entry = s.parties.ledger.entry(seq).unwrap().unwrap();
    let text = format!("{entry:?}");
    for secret in [
        s.parties.patient.patient_ref(),
        s.parties.patient.salt,
        consent.opening.blinding,
        s.record.blinding,
    ] {
        assert!(!text.contains(&fr_to_decimal(&secret)));
        assert!(!bundle.to_json().contains(&fr_to_decimal(&secret)));
    }

    // Expired, not yet valid: the prover refuses the witness; a valid proof whose `now`
    // is moved outside the period does not verify.
    assert!(refused(s.prove_access(&consent, T0 + 30 * DAY + 1)));
    assert!(refused(s.prove_access(&consent, T0 - DAY - 1)));
    let moved = with_input(&bundle, "now", &(T0 + 31 * DAY).to_string());
    assert!(!keys().1.verify(&moved).unwrap());

    // Wrong grantee: another provider's reference in the inputs, or a consent granted
    // to someone else.
    assert!(!s.check(&plus_one(&bundle, "provider_ref")).unwrap());
    let mut other = consent.clone();
    other.opening.grantee += Fr::from(1u64);
    assert!(refused(s.prove_access(&other, s.now())));

    // Wrong category, wrong purpose.
    assert!(!s.check(&with_input(&bundle, "category", "2")).unwrap());
    assert!(!s
        .check(&with_input(&bundle, "purpose", &RESEARCH.to_string()))
        .unwrap());
    let mut research = consent.clone();
    research.opening.purpose = RESEARCH;
    assert!(refused(s.prove_access(&research, s.now())));

    // Changed binding; changed record.
    assert!(!s.check(&plus_one(&bundle, "request_binding")).unwrap());
    assert!(!s.check(&plus_one(&bundle, "record")).unwrap());

    // `now` outside the skew of the verifier's clock, either way.
    let skew = Freshness::default().skew_secs;
    assert!(matches!(
        s.check_at(&bundle, s.now() + skew + 1),
        Err(BundleError::Freshness(FreshnessError::Skew { .. }))
    ));
    let future = s.prove_access(&consent, s.now() + skew + 1).unwrap();
    assert!(matches!(
        s.check(&future),
        Err(BundleError::Freshness(FreshnessError::Skew { .. }))
    ));

    // A public input at or above the modulus; a missing and an extra input.
    let p = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
    for name in ["consents_root", "request_binding", "record", "now"] {
        assert!(matches!(
            s.check(&with_input(&bundle, name, p)),
            Err(BundleError::Inputs(_))
        ));
    }
    let mut missing = bundle.clone();
    missing.public_inputs.remove("purpose");
    assert!(matches!(s.check(&missing), Err(BundleError::Inputs(_))));
    assert!(matches!(
        s.check(&with_input(&bundle, "patient", "1")),
        Err(BundleError::Inputs(_))
    ));
    // A root the prover chose instead of the checkpoint's.
    assert!(matches!(
        s.check(&plus_one(&bundle, "consents_root")),
        Err(BundleError::RootMismatch { .. })
    ));
}

#[test]
fn revocation_stops_access_once_the_window_has_passed() {
    let mut s = story(2);
    let consent = s.consent.clone();
    let window = Freshness::default().window_secs;
    let revoked_at = T0 + 60;
    // Before the revocation, the provider prepares proofs against the current root for
    // two later times: one inside the window after the revocation, one after it.
    let inside = revoked_at + window - 30;
    let after = revoked_at + window + 30;
    let early = s.prove_access(&consent, inside).unwrap();
    let late = s.prove_access(&consent, after).unwrap();

    s.advance(60);
    s.parties.revoke(&consent).unwrap();
    // No new proof: the consent's leaf is empty under every later root.
    assert!(refused(s.prove_access(&consent, s.now())));
    // Inside the window, the superseded root is still accepted...
    assert!(s.check_at(&early, inside).unwrap());
    // ...once it has passed, the revoked consent yields no accepted proof.
    assert!(matches!(
        s.check_at(&late, after),
        Err(BundleError::Freshness(FreshnessError::Stale { .. }))
    ));
}

#[test]
fn stale_root_is_refused_and_window_starts_at_supersession() {
    let mut s = story(3);
    let consent = s.consent.clone();
    let rules = Freshness {
        window_secs: 600,
        skew_secs: 10 * DAY,
    };
    let check = |s: &Story, b: &ProofBundle, at: u64| {
        let ledger = &s.parties.ledger;
        keys()
            .1
            .verify_fresh(b, &ledger.public_key(), ledger, &rules, at)
            .map(|(ok, _)| ok)
    };
    // The root made at T0 stays the latest for a day: a proof against it is fresh.
    s.advance(DAY);
    let bundle = s.prove_access(&consent, s.now()).unwrap();
    assert!(check(&s, &bundle, s.now()).unwrap());
    // A new entry supersedes it now; the window runs from here.
    s.parties
        .commit_records(&[(LAB, b"another", T0)], &mut s.rng)
        .unwrap();
    assert!(check(&s, &bundle, s.now() + 599).unwrap());
    assert!(matches!(
        check(&s, &bundle, s.now() + 600),
        Err(BundleError::Freshness(FreshnessError::Stale {
            age: 600,
            ..
        }))
    ));
    // The supersession time is read from the signed chain: an index edited to say the
    // root was never superseded changes nothing.
    let at = s.now() + 600;
    s.tamper(|store| {
        for v in store.raw_mut(Cf::Checkpoints).values_mut() {
            v[8..16].copy_from_slice(&u64::MAX.to_be_bytes());
        }
    });
    assert!(s
        .parties
        .ledger
        .checkpoint_history()
        .iter()
        .all(|(_, sup)| sup.is_none()));
    assert!(matches!(
        check(&s, &bundle, at),
        Err(BundleError::Freshness(FreshnessError::Stale {
            age: 600,
            ..
        }))
    ));
}

fn claim_story(seed: u64) -> (Story, Policy) {
    let mut s = story(seed);
    let policy = s
        .parties
        .publish_policy(
            &["99213", "80053"],
            (T0 - 100 * DAY, T0 + 265 * DAY),
            50_000,
            &mut s.rng,
        )
        .unwrap();
    (s, policy)
}

fn prove_claim(
    s: &mut Story,
    policy: &Policy,
    code: &str,
    date: u64,
    amount: u64,
) -> Result<ProofBundle, ProveError> {
    let claim = s
        .parties
        .commit_claim(
            code,
            date,
            amount,
            b"{\"resourceType\":\"Claim\"}",
            &mut s.rng,
        )
        .unwrap();
    let (request, checkpoint) = s
        .parties
        .claim_request(&claim, policy, Fr::from(4242u64))
        .unwrap();
    proved(ProofRequest::Claim(request), &checkpoint)
}

#[test]
fn claim_meets_its_policy_and_each_rule_rejects() {
    let (mut s, policy) = claim_story(4);
    let bundle = prove_claim(&mut s, &policy, "99213", T0 - DAY, 12_500).unwrap();
    assert!(s.check(&bundle).unwrap());
    assert!(!bundle.to_json().contains("99213"));

    // Code not covered; date outside the period; amount over the limit.
    assert!(refused(prove_claim(&mut s, &policy, "99215", T0, 100)));
    assert!(refused(prove_claim(
        &mut s,
        &policy,
        "99213",
        T0 - 101 * DAY,
        100
    )));
    assert!(refused(prove_claim(
        &mut s,
        &policy,
        "99213",
        T0 + 266 * DAY,
        100
    )));
    assert!(refused(prove_claim(&mut s, &policy, "80053", T0, 50_001)));
    // Amount != claimed: the proof with another claimed amount does not verify.
    assert!(!s
        .check(&with_input(&bundle, "claimed_amount", "12499"))
        .unwrap());
    assert!(!s
        .check(&with_input(&bundle, "claimed_amount", "50000"))
        .unwrap());
    // Not the policyholder: a policy for another patient.
    let mut other = policy.clone();
    other.opening.policyholder += Fr::from(1u64);
    let claim = s
        .parties
        .commit_claim("99213", T0, 100, b"x", &mut s.rng)
        .unwrap();
    let (request, _) = s
        .parties
        .claim_request(&claim, &other, Fr::from(1u64))
        .unwrap();
    assert!(refused(keys().0.prove(&ProofRequest::Claim(request))));
    // Another policy commitment or claim id in the inputs.
    assert!(!s.check(&plus_one(&bundle, "policy")).unwrap());
    assert!(!s.check(&plus_one(&bundle, "claim_id")).unwrap());
    assert!(matches!(
        s.check(&with_input(
            &bundle,
            "claimed_amount",
            "18446744073709551616"
        )),
        Err(BundleError::Inputs(_))
    ));
}

impl Story {
    fn audit(&self, from: u64, to: u64) -> AuditReport {
        let opts = AuditOptions {
            from,
            to,
            rules: Freshness::default(),
            batch: 4,
        };
        let ledger = &self.parties.ledger;
        audit(ledger, &keys().1, &ledger.public_key(), &opts, &|_, _| {}).unwrap()
    }

    /// Proves and logs `n` valid accesses to the story's record, 10 s apart. Returns
    /// their seqs and bundles.
    fn log_valid_accesses(&mut self, n: usize) -> (Vec<u64>, Vec<ProofBundle>) {
        let consent = self.consent.clone();
        let mut seqs = Vec::new();
        let mut bundles = Vec::new();
        for _ in 0..n {
            self.advance(10);
            let b = self.prove_access(&consent, self.now()).unwrap();
            seqs.push(self.parties.log_access(&b).unwrap());
            bundles.push(b);
        }
        (seqs, bundles)
    }

    /// A valid access proof, under the story's consent, to a record of the patient that
    /// the provider never committed (the story's record with another blinding).
    fn prove_access_to_an_uncommitted_record(&mut self) -> (ProofBundle, Checkpoint) {
        let consent = self.consent.clone();
        let mut fabricated = self.record.clone();
        fabricated.blinding += Fr::from(1u64);
        let (request, cp) = self
            .parties
            .access_request(&consent, &fabricated, self.now(), &mut self.rng)
            .unwrap();
        (proved(ProofRequest::Access(request), &cp).unwrap(), cp)
    }

    /// Takes the ledger's store, lets `tamper` change it, and reopens the ledger.
    fn tamper(&mut self, tamper: impl FnOnce(&mut MemStore)) {
        let placeholder = Ledger::open(
            MemStore::default(),
            self.ledger_key.clone(),
            self.clock.clone(),
        )
        .unwrap();
        let ledger = std::mem::replace(&mut self.parties.ledger, placeholder);
        let mut store = ledger.into_store();
        tamper(&mut store);
        self.parties.ledger =
            Ledger::open(store, self.ledger_key.clone(), self.clock.clone()).unwrap();
    }
}

#[test]
fn audit_counts_valid_invalid_and_stale_accesses() {
    let mut s = story(5);
    let consent = s.consent.clone();
    let from = s.parties.ledger.len();
    let (logged, bundles) = s.log_valid_accesses(5);
    let clean_to = s.parties.ledger.len();

    // An access logged with another access's proof bytes: well formed, not valid.
    let fresh = s.prove_access(&consent, s.now()).unwrap();
    let mut swapped = fresh.clone();
    swapped.proof = bundles[2].proof.clone();
    let invalid_seq = s.parties.log_access(&swapped).unwrap();

    // An access logged with a proof against a root superseded more than the window
    // before the entry's time.
    let window = Freshness::default().window_secs;
    let then = s.now() + window + 30;
    let old_root = s.prove_access(&consent, then).unwrap();
    s.parties
        .commit_records(&[(LAB, b"later", T0)], &mut s.rng)
        .unwrap();
    s.advance(window + 30);
    let stale_seq = s.parties.log_access(&old_root).unwrap();
    let to = s.parties.ledger.len();

    let clean = s.audit(from, clean_to);
    assert!(clean.passed(), "{}", clean.summary());
    assert_eq!((clean.accesses, clean.valid), (5, 5));
    assert!(clean.chain_ok && clean.chain_head.is_some());

    let report = s.audit(from, to);
    assert!(!report.passed());
    assert_eq!(report.entries, to - from);
    assert_eq!(
        (report.accesses, report.valid, report.invalid, report.stale),
        (7, 5, 1, 1),
        "{}",
        report.summary()
    );
    assert!(report.chain_ok);
    let kinds: Vec<(u64, ProblemKind)> = report.problems.iter().map(|p| (p.seq, p.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            (invalid_seq, ProblemKind::Invalid),
            (stale_seq, ProblemKind::Stale)
        ]
    );
    // The JSON report names no patient value.
    let json = serde_json::to_string(&report).unwrap();
    assert!(!json.contains(&fr_to_decimal(&s.parties.patient.patient_ref())));
    assert!(json.contains("\"stale\":1"));

    // One entry at a time, as a patient's history judges each access: the same verdicts.
    let ledger = &s.parties.ledger;
    let mut seqs = logged.clone();
    // An entry that is not an access is not an authorized access.
    seqs.extend([invalid_seq, stale_seq, logged[0] + 1]);
    let verdicts = medproof_ledger::audit::check_logged_accesses(
        ledger,
        &keys().1,
        &ledger.public_key(),
        &seqs,
        Freshness::default(),
    )
    .unwrap();
    let n = logged.len();
    assert!(verdicts[..n].iter().all(Option::is_none), "{verdicts:?}");
    let invalid = verdicts[n].as_ref().unwrap();
    assert_eq!(
        (invalid.seq, invalid.kind),
        (invalid_seq, ProblemKind::Invalid)
    );
    assert_eq!(verdicts[n + 1].as_ref().unwrap().kind, ProblemKind::Stale);
    assert!(verdicts[n + 2].is_some());

    // An index edited to say no checkpoint was ever superseded does not fool the audit:
    // supersession times come from the signed chain.
    s.tamper(|store| {
        for v in store.raw_mut(Cf::Checkpoints).values_mut() {
            v[8..16].copy_from_slice(&u64::MAX.to_be_bytes());
        }
    });
    let again = s.audit(from, to);
    assert_eq!(
        (again.valid, again.invalid, again.stale),
        (5, 1, 1),
        "{}",
        again.summary()
    );

    // Out of range.
    let opts = AuditOptions {
        from: to,
        to: to + 1,
        rules: Freshness::default(),
        batch: 4,
    };
    let ledger = &s.parties.ledger;
    let key = ledger.public_key();
    assert!(audit(ledger, &keys().1, &key, &opts, &|_, _| {}).is_err());
    // A regulator who trusts another ledger key sees every checkpoint refused.
    let opts = AuditOptions { from, to, ..opts };
    let other = SigningKey::from_bytes(&[9u8; 32]).verifying_key();
    let report = audit(ledger, &keys().1, &other, &opts, &|_, _| {}).unwrap();
    assert!(!report.passed() && !report.chain_ok);
    assert!(logged.iter().all(|seq| (from..clean_to).contains(seq)));
}

/// A monitor that holds only the ledger's public key rebuilds the ledger from its
/// transparency log (the signed C2SP checkpoint and the entries) and audits it: the same
/// report as the operator's. Entries that are not the ones the checkpoint commits to
/// (one changed, one missing, one more) or a checkpoint not signed by the ledger key
/// are refused before anything is built.
#[test]
fn a_ledger_rebuilt_from_its_log_audits_the_same() {
    use medproof_ledger::verify::rebuild;
    use medproof_ledger::Store;
    let mut s = story(6);
    let consent = s.consent.clone();
    let from = s.parties.ledger.len();
    let (_, bundles) = s.log_valid_accesses(3);
    let fresh = s.prove_access(&consent, s.now()).unwrap();
    let mut swapped = fresh.clone();
    swapped.proof = bundles[1].proof.clone();
    let invalid_seq = s.parties.log_access(&swapped).unwrap();
    let ledger = &s.parties.ledger;
    let to = ledger.len();
    let mut entries = Vec::new();
    ledger
        .store()
        .scan(Cf::Entries, &mut |_, v| {
            entries.push(v.to_vec());
            Ok(())
        })
        .unwrap();
    let note = ledger.tlog_checkpoint().unwrap().note;
    let (origin, key) = (ledger.origin().to_string(), ledger.public_key());

    let replica = rebuild(entries.clone(), &origin, &note, &key).unwrap();
    assert_eq!(replica.len(), to);
    assert_eq!(replica.chain_head(), ledger.chain_head());
    assert_eq!(replica.records().root(), ledger.records().root());
    assert_eq!(replica.consents().root(), ledger.consents().root());
    let opts = AuditOptions {
        from,
        to,
        rules: Freshness::default(),
        batch: 4,
    };
    let remote = audit(&replica, &keys().1, &key, &opts, &|_, _| {}).unwrap();
    let local = s.audit(from, to);
    assert_eq!(remote, local);
    assert_eq!((local.valid, local.invalid), (3, 1), "{}", local.summary());
    assert_eq!(local.problems[0].seq, invalid_seq);
    // What `ledger verify` checks holds for the rebuilt store too.
    medproof_ledger::verify::verify(replica.store(), &key).unwrap();

    // Negative twins: none of these builds a ledger.
    let mut changed = entries.clone();
    let last = changed[invalid_seq as usize].len() - 1;
    changed[invalid_seq as usize][last] ^= 1;
    let mut missing = entries.clone();
    missing.remove(invalid_seq as usize);
    let mut more = entries.clone();
    more.push(entries[invalid_seq as usize].clone());
    for (what, bad) in [("changed", changed), ("missing", missing), ("more", more)] {
        let e = rebuild(bad, &origin, &note, &key).unwrap_err();
        assert!(e.reason.contains("another root"), "an entry {what}: {e}");
    }
    let other = SigningKey::from_bytes(&[9u8; 32]).verifying_key();
    let e = rebuild(entries.clone(), &origin, &note, &other).unwrap_err();
    assert!(e.reason.contains("C2SP checkpoint"), "{e}");
    let e = rebuild(entries, "example.com/another-log", &note, &key).unwrap_err();
    assert!(e.reason.contains("C2SP checkpoint"), "{e}");
}

#[test]
fn audit_detects_a_gap_and_an_altered_entry() {
    let mut s = story(6);
    let from = s.parties.ledger.len();
    let (logged, _) = s.log_valid_accesses(3);
    let to = s.parties.ledger.len();
    assert!(s.audit(from, to).passed());

    // An altered access entry: one byte of its bundle changed. The next entry no longer
    // links to it.
    let target = logged[1];
    s.tamper(|store| {
        let entries = store.raw_mut(Cf::Entries);
        let bytes = entries.get_mut(&target.to_be_bytes().to_vec()).unwrap();
        let at = bytes.len() - 200;
        bytes[at] ^= 0x01;
    });
    let report = s.audit(from, to);
    assert!(!report.passed() && !report.chain_ok, "{}", report.summary());
    let chain: Vec<&medproof_ledger::audit::Problem> = report
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::Chain)
        .collect();
    assert_eq!(chain.len(), 1);
    assert!(
        chain[0].seq == target || chain[0].seq == target + 1,
        "{:?}",
        chain[0]
    );
    assert!(chain[0].reason.contains(&target.to_string()));
}

#[test]
fn audit_detects_a_missing_entry() {
    let mut s = story(7);
    let from = s.parties.ledger.len();
    let (logged, _) = s.log_valid_accesses(3);
    let to = s.parties.ledger.len();
    let gone = logged[1];
    s.tamper(|store| {
        store
            .raw_mut(Cf::Entries)
            .remove(&gone.to_be_bytes().to_vec());
    });
    let report = s.audit(from, to);
    assert!(!report.passed() && !report.chain_ok);
    assert_eq!(report.problems[0].seq, gone, "{}", report.summary());
    assert_eq!(report.problems[0].kind, ProblemKind::Chain);
    assert!(report.problems[0].reason.contains("missing"));
}

#[test]
fn commitments_a_proof_names_must_be_on_the_ledger() {
    let (mut s, policy) = claim_story(8);
    let consent = s.consent.clone();
    // A record of the patient that the provider never committed: the circuit accepts
    // the opening, the ledger check does not.
    let (bundle, cp) = s.prove_access_to_an_uncommitted_record();
    assert!(s.check(&bundle).unwrap());
    assert_eq!(
        check_references(&s.parties.ledger, &bundle.decode().unwrap(), &cp),
        Err(ReferenceError::RecordMissing)
    );
    // A record committed after the checkpoint the proof was made against does not count
    // either: the consents root did not change, so the proof verifies against the old
    // checkpoint, but the record was not on the ledger at that checkpoint.
    let late = s
        .parties
        .commit_records(&[(LAB, b"late", T0)], &mut s.rng)
        .unwrap()
        .remove(0);
    let (request, _) = s
        .parties
        .access_request(&consent, &late, s.now(), &mut s.rng)
        .unwrap();
    let late_bundle = proved(ProofRequest::Access(request), &cp).unwrap();
    assert!(s.check(&late_bundle).unwrap());
    assert_eq!(
        check_references(&s.parties.ledger, &late_bundle.decode().unwrap(), &cp),
        Err(ReferenceError::RecordMissing)
    );
    let from = s.parties.ledger.len();
    let seq = s.parties.log_access(&bundle).unwrap();
    let report = s.audit(from, s.parties.ledger.len());
    assert_eq!((report.accesses, report.invalid), (1, 1));
    assert_eq!(report.problems[0].seq, seq);
    assert!(report.problems[0].reason.contains("not committed"));

    // A policy opening with the published terms but another blinding: its commitment
    // was never published.
    let mut unpublished = policy.clone();
    unpublished.opening.blinding += Fr::from(1u64);
    let claim = s
        .parties
        .commit_claim("99213", T0, 100, b"c", &mut s.rng)
        .unwrap();
    for (p, expected) in [
        (&policy, Ok(())),
        (&unpublished, Err(ReferenceError::PolicyMissing)),
    ] {
        let (request, cp) = s.parties.claim_request(&claim, p, Fr::from(7u64)).unwrap();
        let bundle = proved(ProofRequest::Claim(request), &cp).unwrap();
        assert!(s.check(&bundle).unwrap());
        assert_eq!(
            check_references(&s.parties.ledger, &bundle.decode().unwrap(), &cp),
            expected
        );
    }
}

/// Attack: whoever can write the data dir rewrites the checkpoint index so that the
/// checkpoint signed right after a revocation is skipped; the root from before the
/// revocation would then look superseded only days later, and a proof from the revoked
/// consent would pass. Supersession is read from the signed chain, not the index.
#[test]
fn a_rewritten_checkpoint_index_does_not_revive_a_revoked_consent() {
    let mut s = story(11);
    let consent = s.consent.clone();
    let rules = Freshness {
        window_secs: 600,
        skew_secs: 10 * DAY,
    };
    let later = s.now() + 2 * DAY;
    let bundle = s.prove_access(&consent, later).unwrap();
    let proof_cp = bundle.checkpoint.as_ref().unwrap().seq;
    s.advance(60);
    s.parties.revoke(&consent).unwrap();
    s.advance(2 * DAY);
    s.parties
        .commit_records(&[(LAB, b"another", T0)], &mut s.rng)
        .unwrap();
    let check = |s: &Story| {
        let ledger = &s.parties.ledger;
        keys()
            .1
            .verify_fresh(&bundle, &ledger.public_key(), ledger, &rules, later)
            .map(|(ok, _)| ok)
    };
    assert!(matches!(
        check(&s),
        Err(BundleError::Freshness(FreshnessError::Stale { .. }))
    ));
    // Shift every row after the proof's checkpoint down by one and drop the last: the
    // index still increases and ends at the last entry, but skips the revocation's
    // checkpoint.
    s.tamper(|store| {
        let rows = store.raw_mut(Cf::Checkpoints);
        let keys: Vec<Vec<u8>> = rows.keys().cloned().collect();
        let seq_of = |v: &Vec<u8>| u64::from_be_bytes(v[..8].try_into().unwrap());
        let k = keys
            .iter()
            .position(|key| seq_of(&rows[key]) == proof_cp)
            .unwrap();
        for j in k + 1..keys.len() - 1 {
            let next = rows[&keys[j + 1]][..8].to_vec();
            rows.get_mut(&keys[j]).unwrap()[..8].copy_from_slice(&next);
        }
        rows.remove(keys.last().unwrap());
    });
    let history = s.parties.ledger.checkpoint_history();
    let i = history
        .iter()
        .position(|(seq, _)| *seq == proof_cp)
        .unwrap();
    assert!(
        history[i + 1].0 > proof_cp + 3,
        "the index skips a checkpoint"
    );
    assert!(matches!(
        check(&s),
        Err(BundleError::Freshness(FreshnessError::Stale { .. }))
    ));
    // An index whose seqs do not increase is refused when the ledger opens.
    let mut store = std::mem::replace(
        &mut s.parties.ledger,
        Ledger::open(MemStore::default(), s.ledger_key.clone(), s.clock.clone()).unwrap(),
    )
    .into_store();
    let rows = store.raw_mut(Cf::Checkpoints);
    let first = rows.keys().next().unwrap().clone();
    rows.get_mut(&first).unwrap()[..8].copy_from_slice(&u64::MAX.to_be_bytes());
    let err = Ledger::open(store, s.ledger_key.clone(), s.clock.clone()).unwrap_err();
    assert!(err.to_string().contains("checkpoint index"), "{err}");
}

/// Attack: one added row in the commitment index makes a record that was never
/// committed look committed. The entry the index names is read from the signed chain,
/// and it does not add that record.
#[test]
fn an_added_index_row_does_not_make_a_record_committed() {
    let mut s = story(12);
    let (bundle, cp) = s.prove_access_to_an_uncommitted_record();
    let fabricated = fr_from_decimal(&bundle.public_inputs["record"]).unwrap();
    let from = s.parties.ledger.len();
    let seq = s.parties.log_access(&bundle).unwrap();
    let to = s.parties.ledger.len();
    let (_, index, record_seq) = s
        .parties
        .ledger
        .committed_at(&s.record.commitment())
        .unwrap()
        .unwrap();
    s.tamper(|store| {
        let mut v = vec![0u8];
        v.extend_from_slice(&index.to_be_bytes());
        v.extend_from_slice(&record_seq.to_be_bytes());
        store.raw_mut(Cf::Leaves).insert(
            medproof_verifier::checkpoint::fr_to_be32(&fabricated).to_vec(),
            v,
        );
    });
    assert!(s
        .parties
        .ledger
        .committed_at(&fabricated)
        .unwrap()
        .is_some());
    assert_eq!(
        check_references(&s.parties.ledger, &bundle.decode().unwrap(), &cp),
        Err(ReferenceError::RecordMissing)
    );
    let report = s.audit(from, to);
    assert_eq!(
        (report.accesses, report.invalid),
        (1, 1),
        "{}",
        report.summary()
    );
    assert_eq!(report.problems[0].seq, seq);
    assert!(report.problems[0].reason.contains("not committed"));
}

// Attacks on the trust model: each worked before the trust model, and each is refused.

fn refusal(r: anyhow::Result<impl std::fmt::Debug>) -> Refusal {
    match r {
        Err(e) => match e.downcast_ref::<LedgerError>() {
            Some(LedgerError::Refused { reason, .. }) => reason.clone(),
            _ => panic!("expected a refusal, got {e:#}"),
        },
        Ok(v) => panic!("expected a refusal, got {v:?}"),
    }
}

/// Attack 1: the provider knows the patient's pseudonym (it is in every record it
/// commits). It cannot register a second key as a provider, but it can register one as
/// a patient and grant itself a consent in the patient's name. The ledger wraps that
/// consent with the forger's key, and the patient's pseudonym is not derived from it: no
/// access proof can be made, whichever key the provider claims granted it.
#[test]
fn attack_1_a_consent_in_another_patients_name_proves_nothing() {
    let mut s = story(21);
    let forger = SigningKey::generate(&mut s.rng);
    let register = |s: &Story, role| {
        s.parties
            .sign(Action::RegisterKey { role }, &forger)
            .unwrap()
    };
    let as_provider = register(&s, Role::Provider);
    assert_eq!(
        refusal(s.parties.ledger.append_one(as_provider).map_err(Into::into)),
        Refusal::NeedsAdmission("provider")
    );
    let as_patient = register(&s, Role::Patient);
    s.parties.ledger.append_one(as_patient).unwrap();
    // The same terms as the real consent, in the real patient's name.
    let mut opening = s.consent.opening.clone();
    opening.blinding += Fr::from(1u64);
    let grant = s
        .parties
        .sign(
            Action::GrantConsent {
                commitment: opening.commitment(),
            },
            &forger,
        )
        .unwrap();
    let receipt = s.parties.ledger.append_one(grant).unwrap();
    let forged = GrantedConsent {
        opening,
        index: receipt.leaf_indices[0].unwrap(),
    };
    let (request, _) = s
        .parties
        .access_request(&forged, &s.record, s.now(), &mut s.rng)
        .unwrap();
    // With the patient's key as granter the wrapped leaf is not in the tree; with the
    // forger's key the pseudonym does not match.
    assert!(refused(
        keys().0.prove(&ProofRequest::Access(request.clone()))
    ));
    let mut as_forger = request;
    as_forger.witness.granter = key_ref(&forger.verifying_key().to_bytes());
    assert!(refused(keys().0.prove(&ProofRequest::Access(as_forger))));
    // The patient's own consent still proves.
    let consent = s.consent.clone();
    let bundle = s.prove_access(&consent, s.now()).unwrap();
    assert!(s.check(&bundle).unwrap());
}

/// Attack 2: the policyholder attests a service itself. Its key cannot be a provider
/// (self-registration is for patients, and a patient commits no record). A key the
/// registrar admitted, but not the insurer's provider, can commit the claim record; the
/// proof then names that key, so the insurer sees who attested the service.
#[test]
fn attack_2_a_claim_names_the_provider_that_committed_it() {
    let (mut s, policy) = claim_story(22);
    let own = SigningKey::generate(&mut s.rng);
    let as_provider = s
        .parties
        .sign(
            Action::RegisterKey {
                role: Role::Provider,
            },
            &own,
        )
        .unwrap();
    assert_eq!(
        refusal(s.parties.ledger.append_one(as_provider).map_err(Into::into)),
        Refusal::NeedsAdmission("provider")
    );
    let by_patient = s
        .parties
        .sign(
            Action::CommitRecord {
                commitment: Fr::from(77u64),
            },
            &s.parties.patient.key,
        )
        .unwrap();
    assert!(matches!(
        refusal(s.parties.ledger.append_one(by_patient).map_err(Into::into)),
        Refusal::WrongRole { .. }
    ));
    // Another admitted provider commits a claim record for the policy's full limit.
    let rogue = SigningKey::generate(&mut s.rng);
    s.parties
        .admit(&rogue.verifying_key(), Role::Provider)
        .unwrap();
    let claim = ClaimOpening {
        patient_ref: s.parties.patient.patient_ref(),
        code: procedure_code("99213").unwrap(),
        service_date: T0,
        amount: policy.opening.limit,
        content_digest: ContentDigest::of(b"made up"),
        blinding: Fr::rand(&mut s.rng),
    };
    let commit = s
        .parties
        .sign(
            Action::CommitRecord {
                commitment: claim.commitment(),
            },
            &rogue,
        )
        .unwrap();
    s.parties.ledger.append_one(commit).unwrap();
    // Claimed as the insurer's provider's record: no proof.
    let (request, cp) = s
        .parties
        .claim_request(&claim, &policy, Fr::from(1u64))
        .unwrap();
    assert!(refused(proved(ProofRequest::Claim(request.clone()), &cp)));
    // Naming the key that committed it: it verifies, and the insurer reads the rogue's
    // key_ref where it expects its provider's.
    let mut named = request;
    named.public.provider = key_ref(&rogue.verifying_key().to_bytes());
    let bundle = proved(ProofRequest::Claim(named), &cp).unwrap();
    assert!(s.check(&bundle).unwrap());
    assert_ne!(
        bundle.public_inputs["provider"],
        fr_to_decimal(&s.parties.provider_ref())
    );
}

/// Attack 7: a proof presented for another request, or logged twice. The access entry
/// names its request's nonce; the ledger and the audit recompute the binding.
#[test]
fn attack_7_an_access_proof_answers_one_request() {
    let mut s = story(23);
    let consent = s.consent.clone();
    let bundle = s.prove_access(&consent, s.now()).unwrap();
    // Logged with another nonce than the request's: refused.
    let other_nonce = s
        .parties
        .log_accesses_with_nonces(&[(bundle.clone(), Fr::from(99u64))]);
    assert_eq!(refusal(other_nonce), Refusal::BindingMismatch);
    let from = s.parties.ledger.len();
    let seq = s.parties.log_access(&bundle).unwrap();
    // The nonce the entry names.
    let nonce = match s.parties.ledger.entry(seq).unwrap().unwrap().body {
        Body::Submission(sub) => match sub.action {
            Action::LogAccess { nonce, .. } => nonce,
            _ => unreachable!(),
        },
        _ => unreachable!(),
    };
    let duplicate = (bundle, nonce);
    // Logged again, with the request's own nonce: refused.
    assert_eq!(
        refusal(
            s.parties
                .log_accesses_with_nonces(std::slice::from_ref(&duplicate))
        ),
        Refusal::DuplicateBinding
    );
    let report = s.audit(from, s.parties.ledger.len());
    assert!(report.passed(), "{}", report.summary());
    // Written into the store past the ledger's rules (a party with write access): the
    // audit recomputes the binding and names the duplicate.
    let mut store = std::mem::replace(
        &mut s.parties.ledger,
        Ledger::open(MemStore::default(), s.ledger_key.clone(), s.clock.clone()).unwrap(),
    )
    .into_store();
    store.raw_mut(Cf::Bindings).clear();
    s.parties.ledger = Ledger::open(store, s.ledger_key.clone(), s.clock.clone()).unwrap();
    s.parties.log_accesses_with_nonces(&[duplicate]).unwrap();
    let report = s.audit(from, s.parties.ledger.len());
    assert_eq!((report.accesses, report.valid, report.invalid), (2, 1, 1));
    assert!(report.problems[0].reason.contains("logged again"));
    // ledger verify sees the rule broken, too.
    let err =
        medproof_ledger::verify::verify(s.parties.ledger.store(), &s.ledger_key.verifying_key())
            .unwrap_err();
    assert!(err.to_string().contains("logged before"), "{err}");
}

/// Attack 8: the same claim paid twice, or by two insurers. The claim id is bound to the
/// policy (another policy's id does not verify), and the ledger records each id the
/// insurer accepts, refusing it the second time.
#[test]
fn attack_8_a_claim_is_paid_once() {
    let (mut s, policy) = claim_story(24);
    let bundle = prove_claim(&mut s, &policy, "99213", T0 - DAY, 12_500).unwrap();
    assert!(s.check(&bundle).unwrap());
    s.parties.submit_claim(&bundle).unwrap();
    assert_eq!(
        refusal(s.parties.submit_claim(&bundle)),
        Refusal::ClaimAlreadySubmitted
    );
    // The id of the same record under another policy is another id, and the proof does
    // not verify with it.
    let claim_id = fr_from_decimal(&bundle.public_inputs["claim_id"]).unwrap();
    let other = with_input(
        &bundle,
        "claim_id",
        &fr_to_decimal(&(claim_id + Fr::from(1u64))),
    );
    assert!(!s.check(&other).unwrap());
    // Another insurer cannot submit it under a policy it did not publish.
    let rival = SigningKey::generate(&mut s.rng);
    s.parties
        .admit(&rival.verifying_key(), Role::Insurer)
        .unwrap();
    let submit = s
        .parties
        .sign(
            Action::SubmitClaim {
                policy: policy.opening.commitment(),
                claim_id: claim_id + Fr::from(5u64),
            },
            &rival,
        )
        .unwrap();
    assert_eq!(
        refusal(s.parties.ledger.append_one(submit).map_err(Into::into)),
        Refusal::NotYourPolicy
    );
}

/// The verify use case says which checks passed, and stops at the first that fails.
#[test]
fn the_verify_use_case_names_each_check() {
    use medproof_service::verify::{verify_bundle, Anchor, FreshnessRule};
    let mut s = story(25);
    let consent = s.consent.clone();
    let bundle = s.prove_access(&consent, s.now()).unwrap();
    let binding = fr_from_decimal(&bundle.public_inputs["request_binding"]).unwrap();
    let anchor = |s: &Story, at: u64, expect: Option<Fr>| -> medproof_service::verify::Verdict {
        let a = Anchor {
            key: Some(s.parties.ledger.public_key()),
            ledger: Some(&s.parties.ledger),
            rules: Freshness::default(),
            now: at,
            expect_binding: expect,
            allow_unanchored: false,
            genesis: None,
            witnesses: &[],
            required_witnesses: 0,
        };
        verify_bundle(&keys().1, &bundle, &a).unwrap()
    };
    let names = |v: &medproof_service::verify::Verdict| -> Vec<(&str, bool)> {
        v.checks.iter().map(|c| (c.name, c.passed)).collect()
    };
    let ok = anchor(&s, s.now(), Some(binding));
    assert!(ok.valid && ok.freshness == FreshnessRule::History);
    assert_eq!(
        names(&ok),
        [
            ("binding", true),
            ("checkpoint", true),
            ("key", true),
            ("freshness", true),
            ("references", true),
            ("proof", true)
        ]
    );
    // Another request's binding: stops there.
    let other = anchor(&s, s.now(), Some(binding + Fr::from(1u64)));
    assert_eq!(names(&other), [("binding", false)]);
    // After a revocation and the window: stale, named, and nothing after it checked.
    s.advance(10);
    s.parties.revoke(&consent).unwrap();
    let later = s.now() + Freshness::default().window_secs + 10;
    let stale = anchor(&s, later, None);
    assert!(!stale.valid);
    assert_eq!(
        names(&stale),
        [("checkpoint", true), ("key", true), ("freshness", false)]
    );
    assert!(stale.reason().unwrap().contains("stale root"));
}

/// Keys swapped in after the ledger was created (whoever made them may hold their toxic
/// waste): the ledger's genesis names other keys, so a proof under the loaded ones is
/// refused by the verify use case (light or with the database) and the audit will not
/// run with them. Its twin, the same story on a ledger naming these keys, is valid.
#[test]
fn keys_the_genesis_does_not_name_are_refused() {
    use medproof_ledger::audit::AuditError;
    use medproof_service::verify::{verify_bundle, Anchor};
    let mut named = keys().2.clone();
    for k in &mut named {
        k.vk_id[0] ^= 1;
        k.transcript = Some([7; 64]);
    }
    for (naming, expect_valid) in [(keys().2.clone(), true), (named, false)] {
        let mut s = story_naming(41, &naming);
        let consent = s.consent.clone();
        let bundle = s.prove_access(&consent, s.now()).unwrap();
        let genesis = s.parties.ledger.genesis().unwrap().clone();
        for with_database in [true, false] {
            let a = Anchor {
                key: Some(s.parties.ledger.public_key()),
                ledger: with_database.then_some(&s.parties.ledger),
                rules: Freshness::default(),
                now: s.now(),
                expect_binding: None,
                allow_unanchored: false,
                genesis: Some(&genesis),
                witnesses: &[],
                required_witnesses: 0,
            };
            let v = verify_bundle(&keys().1, &bundle, &a).unwrap();
            let key = v.checks.iter().find(|c| c.name == "key").unwrap();
            assert_eq!((v.valid, key.passed), (expect_valid, expect_valid), "{v:?}");
            if !expect_valid {
                assert_eq!(v.checks.last().unwrap().name, "key");
                assert!(key.detail.contains("does not name"));
            }
        }
        s.advance(10);
        s.parties.log_access(&bundle).unwrap();
        let len = s.parties.ledger.len();
        let opts = AuditOptions {
            from: 0,
            to: len,
            rules: Freshness::default(),
            batch: 4,
        };
        let ledger = &s.parties.ledger;
        let report = audit(ledger, &keys().1, &ledger.public_key(), &opts, &|_, _| {});
        match expect_valid {
            true => assert!(report.unwrap().passed()),
            false => assert!(matches!(report, Err(AuditError::KeyNotNamed { .. }))),
        }
    }
    // Without the database and without a genesis, an anchored bundle is not valid.
    let mut s = story(42);
    let consent = s.consent.clone();
    let bundle = s.prove_access(&consent, s.now()).unwrap();
    let a = Anchor::<MemStore> {
        key: Some(s.parties.ledger.public_key()),
        ledger: None,
        rules: Freshness::default(),
        now: s.now(),
        expect_binding: None,
        allow_unanchored: false,
        genesis: None,
        witnesses: &[],
        required_witnesses: 0,
    };
    let v = verify_bundle(&keys().1, &bundle, &a).unwrap();
    assert!(!v.valid);
    assert_eq!(v.checks.last().unwrap().name, "key");
}
