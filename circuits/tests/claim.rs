//! Claim compliance: the valid witness passes, and each rule fails on its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use ark_bn254::Fr;
use ark_ff::UniformRand;
use medproof_circuits::claim::{ClaimCircuit, ClaimWitness};
use medproof_circuits::codes::{CodeSet, CODES_TREE};
use medproof_circuits::commit::{
    key_ref, patient_ref, procedure_code, record_leaf, ClaimOpening, ContentDigest, PolicyOpening,
};
use medproof_circuits::merkle::MerkleTree;
use medproof_circuits::shape::CircuitShape;
use medproof_statement::statement::ClaimPublic;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Pinned: changing the circuit changes these, and the statement's version must follow.
const CONSTRAINTS: usize = 9_117;
const DIGEST: &str = "1335932995cbad24d596ab9e5cd178721ffbf6dca5f6c05ffcef1cdcf0901022";

const START: u64 = 1_767_225_600; // 2026-01-01
const END: u64 = 1_798_761_599; // 2026-12-31T23:59:59
const LIMIT: u64 = 50_000;

struct Fixture {
    tree: MerkleTree,
    codes: CodeSet,
    policy: PolicyOpening,
    holder: Fr,
    rng: ChaCha20Rng,
}

fn fixture() -> Fixture {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let holder = patient_ref(Fr::rand(&mut rng), Fr::rand(&mut rng));
    let codes = CodeSet::new(&["99213", "99214", "J3490", "80053"]).unwrap();
    let policy = PolicyOpening {
        policyholder: holder,
        codes_root: codes.root(),
        period_start: START,
        period_end: END,
        limit: LIMIT,
        blinding: Fr::rand(&mut rng),
    };
    let mut tree = MerkleTree::new();
    for _ in 0..3 {
        tree.push(Fr::rand(&mut rng)).unwrap();
    }
    Fixture {
        tree,
        codes,
        policy,
        holder,
        rng,
    }
}

fn provider() -> Fr {
    key_ref(&[1u8; 32])
}

/// A claim with these terms, committed to the fixture's tree by the provider; its public
/// inputs and witness (the code path is that of `code` if covered, else of another code).
fn claim(
    f: &mut Fixture,
    patient: Fr,
    code: &str,
    date: u64,
    amount: u64,
) -> (ClaimPublic, ClaimWitness) {
    claim_by(f, provider(), patient, code, date, amount)
}

fn claim_by(
    f: &mut Fixture,
    committer: Fr,
    patient: Fr,
    code: &str,
    date: u64,
    amount: u64,
) -> (ClaimPublic, ClaimWitness) {
    let claim = ClaimOpening {
        patient_ref: patient,
        code: procedure_code(code).unwrap(),
        service_date: date,
        amount,
        content_digest: ContentDigest::of(b"{\"resourceType\":\"Claim\"}"),
        blinding: Fr::rand(&mut f.rng),
    };
    let index = f
        .tree
        .push(record_leaf(committer, claim.commitment()))
        .unwrap();
    let code_path = f
        .codes
        .path(claim.code)
        .unwrap_or_else(|| f.codes.path(procedure_code("99213").unwrap()).unwrap());
    let public = ClaimPublic {
        records_root: f.tree.root(),
        policy: f.policy.commitment(),
        claimed_amount: amount,
        claim_id: claim.claim_id(f.policy.commitment()),
        provider: provider(),
        binding: Fr::from(99u64),
    };
    let witness = ClaimWitness {
        record_path: f.tree.path(index).unwrap(),
        claim,
        policy: f.policy.clone(),
        code_path,
    };
    (public, witness)
}

/// Satisfaction by arkworks' checker, the shape's matrices and the native twin.
fn satisfied(shape: &CircuitShape, public: ClaimPublic, witness: ClaimWitness) -> bool {
    let c = ClaimCircuit::new(public, witness);
    let native = c.native_check();
    common::satisfied(shape, c, native)
}

#[test]
fn shape_is_pinned_and_fits_one_domain() {
    let shape = CircuitShape::of(ClaimCircuit::blank()).unwrap();
    assert_eq!(shape.num_instance, 1 + ClaimPublic::LEN);
    assert_eq!(shape.num_constraints, CONSTRAINTS);
    assert_eq!(shape.domain_size(), 16_384);
    assert_eq!(shape.digest_hex(), DIGEST);
}

#[test]
fn compliant_claims_pass_at_the_edges() {
    let shape = CircuitShape::of(ClaimCircuit::blank()).unwrap();
    let mut f = fixture();
    let holder = f.holder;
    for (code, date, amount) in [
        ("99213", START, LIMIT),
        ("J3490", END, 0),
        ("80053", START + 86_400, 12_345),
    ] {
        let (p, w) = claim(&mut f, holder, code, date, amount);
        assert!(satisfied(&shape, p, w), "{code} {date} {amount}");
    }
}

#[test]
fn each_rule_rejects_on_its_own() {
    let shape = CircuitShape::of(ClaimCircuit::blank()).unwrap();
    let mut f = fixture();
    let holder = f.holder;

    // Code not covered (with the path of a covered code, and with a forged empty leaf).
    let (p, w) = claim(&mut f, holder, "99215", START + 10, 100);
    assert!(!satisfied(&shape, p, w));
    // Date before and after the period.
    let (p, w) = claim(&mut f, holder, "99213", START - 1, 100);
    assert!(!satisfied(&shape, p, w));
    let (p, w) = claim(&mut f, holder, "99213", END + 1, 100);
    assert!(!satisfied(&shape, p, w));
    // Amount over the limit.
    let (p, w) = claim(&mut f, holder, "99213", START + 10, LIMIT + 1);
    assert!(!satisfied(&shape, p, w));
    // Not the policyholder.
    let stranger = patient_ref(Fr::from(4u64), Fr::from(5u64));
    let (p, w) = claim(&mut f, stranger, "99213", START + 10, 100);
    assert!(!satisfied(&shape, p, w));

    // From one compliant claim: amount != claimed, wrong root, wrong policy, wrong id.
    let (good, w) = claim(&mut f, holder, "99213", START + 10, 100);
    assert!(satisfied(&shape, good, w.clone()));
    let mut p = good;
    p.claimed_amount = 99;
    assert!(!satisfied(&shape, p, w.clone()));
    let mut p = good;
    p.records_root += Fr::from(1u64);
    assert!(!satisfied(&shape, p, w.clone()));
    let mut p = good;
    p.policy += Fr::from(1u64);
    assert!(!satisfied(&shape, p, w.clone()));
    let mut p = good;
    p.claim_id += Fr::from(1u64);
    assert!(!satisfied(&shape, p, w.clone()));
    // The claim id of another policy (the same record claimed from another insurer).
    let mut p = good;
    p.claim_id = w.claim.claim_id(good.policy + Fr::from(1u64));
    assert!(!satisfied(&shape, p, w.clone()));
    // The id without the policy (the old derivation).
    let mut p = good;
    p.claim_id = medproof_circuits::poseidon::hash(&[
        medproof_circuits::commit::Domain::ClaimId.tag(),
        w.claim.blinding,
    ]);
    assert!(!satisfied(&shape, p, w.clone()));
    // Another provider named.
    let mut p = good;
    p.provider = key_ref(&[2u8; 32]);
    assert!(!satisfied(&shape, p, w.clone()));
    // A policy opening with a wider period or a higher limit is not the published one.
    let mut wide = w.clone();
    wide.policy.limit = u64::MAX;
    assert!(!satisfied(&shape, good, wide));
}

/// The forgery the trust model stops: a policyholder commits a claim record with a key
/// of its own. The leaf is wrapped with that key, so the proof must name it as the
/// provider, or it does not hold.
#[test]
fn a_claim_record_committed_by_another_key_names_that_key() {
    let shape = CircuitShape::of(ClaimCircuit::blank()).unwrap();
    let mut f = fixture();
    let holder = f.holder;
    let forger = key_ref(&[9u8; 32]);
    let (p, w) = claim_by(&mut f, forger, holder, "99213", START + 10, LIMIT);
    // Claimed as the insurer's provider's record: refused.
    assert!(!satisfied(&shape, p, w.clone()));
    // Honest about who committed it: it holds, and names the forger's key.
    let mut named = p;
    named.provider = forger;
    assert!(satisfied(&shape, named, w));
}

#[test]
fn empty_code_leaf_proves_nothing() {
    let shape = CircuitShape::of(ClaimCircuit::blank()).unwrap();
    let mut f = fixture();
    let holder = f.holder;
    let (_, mut w) = claim(&mut f, holder, "99213", START + 10, 100);
    // Code 0 with the path of an empty leaf (index 4 of 4 codes) under the real root.
    w.claim.code = Fr::from(0u64);
    let codes = f.codes.clone();
    // The path of the first empty leaf: the codes (sorted) with a zero after them.
    let mut fields: Vec<Fr> = ["99213", "99214", "J3490", "80053"]
        .iter()
        .map(|c| procedure_code(c).unwrap())
        .collect();
    fields.sort();
    let mut t = MerkleTree::with_shape(CODES_TREE);
    t.extend(&fields).unwrap();
    t.push(Fr::from(0u64)).unwrap();
    let zero_path = t.path(4).unwrap();
    assert!(zero_path.verify_in(CODES_TREE, codes.root(), Fr::from(0u64)));
    w.code_path = zero_path;
    w.record_path = {
        let index = f
            .tree
            .push(record_leaf(provider(), w.claim.commitment()))
            .unwrap();
        f.tree.path(index).unwrap()
    };
    let p = ClaimPublic {
        records_root: f.tree.root(),
        policy: f.policy.commitment(),
        claimed_amount: 100,
        claim_id: w.claim.claim_id(f.policy.commitment()),
        provider: provider(),
        binding: Fr::from(1u64),
    };
    assert!(!satisfied(&shape, p, w));
}

#[test]
fn debug_hides_the_witness() {
    let mut f = fixture();
    let holder = f.holder;
    let (p, w) = claim(&mut f, holder, "99213", START, 100);
    let text = format!("{:?}", ClaimCircuit::new(p, w.clone()));
    assert!(text.contains("<redacted>"));
    assert!(!text.contains(&medproof_statement::fr_to_decimal(&w.claim.blinding)));
}
