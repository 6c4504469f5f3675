//! Access authorization: the valid witness passes, and each rule fails on its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use ark_bn254::Fr;
use ark_ff::UniformRand;
use medproof_circuits::access::{AccessCircuit, AccessWitness};
use medproof_circuits::commit::{
    consent_leaf, key_ref, patient_ref, ConsentOpening, ContentDigest, RecordOpening,
};
use medproof_circuits::merkle::MerkleTree;
use medproof_circuits::shape::CircuitShape;
use medproof_statement::statement::AccessPublic;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Pinned: changing the circuit changes these, and the statement's version must follow.
const CONSTRAINTS: usize = 6_490;
const DIGEST: &str = "72d77b0e53b9c45f9df4e4e8252cc882de0733c27b629f01ecb69cf6b95a0797";

const FROM: u64 = 1_760_000_000;
const UNTIL: u64 = 1_790_000_000;

struct Fixture {
    tree: MerkleTree,
    w: AccessWitness,
    index: u64,
    other_patient_record: RecordOpening,
    /// Another key, that grants the same consent in the patient's name.
    forger: Fr,
    forged_index: u64,
}

fn fixture() -> Fixture {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let granter = key_ref(&[7u8; 32]);
    let forger = key_ref(&[8u8; 32]);
    let salt = Fr::rand(&mut rng);
    let patient = patient_ref(granter, salt);
    let provider = Fr::rand(&mut rng);
    let mut tree = MerkleTree::new();
    let mut consent = None;
    for i in 0..5u64 {
        let c = ConsentOpening {
            patient_ref: if i == 3 { patient } else { Fr::rand(&mut rng) },
            grantee: provider,
            category: 4,
            purpose: 1,
            valid_from: FROM,
            valid_until: UNTIL,
            blinding: Fr::rand(&mut rng),
        };
        let index = tree.push(consent_leaf(granter, c.commitment())).unwrap();
        if i == 3 {
            consent = Some((c, index));
        }
    }
    let (consent, index) = consent.unwrap();
    // The same consent, granted by another key (the ledger wraps it with that key).
    let forged_index = tree
        .push(consent_leaf(forger, consent.commitment()))
        .unwrap();
    let record = |p: Fr, rng: &mut ChaCha20Rng| RecordOpening {
        patient_ref: p,
        category: 4,
        content_digest: ContentDigest::of(b"{\"resourceType\":\"Observation\"}"),
        created_at: FROM + 5,
        blinding: Fr::rand(rng),
    };
    let w = AccessWitness {
        record: record(patient, &mut rng),
        path: tree.path(index).unwrap(),
        consent,
        granter,
        patient_salt: salt,
    };
    Fixture {
        other_patient_record: record(patient_ref(granter, Fr::rand(&mut rng)), &mut rng),
        tree,
        w,
        index,
        forger,
        forged_index,
    }
}

fn public(f: &Fixture, now: u64) -> AccessPublic {
    AccessPublic {
        consents_root: f.tree.root(),
        provider_ref: f.w.consent.grantee,
        category: 4,
        purpose: 1,
        now,
        request_binding: Fr::from(77u64),
        record: f.w.record.commitment(),
    }
}

/// Satisfaction by arkworks' checker, the shape's matrices and the native twin.
fn satisfied(shape: &CircuitShape, public: AccessPublic, w: &AccessWitness) -> bool {
    let c = AccessCircuit::new(public, w.clone());
    let native = c.native_check();
    common::satisfied(shape, c, native)
}

fn with(f: &Fixture, change: impl FnOnce(&mut AccessWitness)) -> AccessWitness {
    let mut w = f.w.clone();
    change(&mut w);
    w
}

#[test]
fn shape_is_pinned_and_fits_one_domain() {
    let shape = CircuitShape::of(AccessCircuit::blank()).unwrap();
    assert_eq!(shape.num_instance, 1 + AccessPublic::LEN);
    assert_eq!(shape.num_constraints, CONSTRAINTS);
    // 4-ary trees (issue 14) bring it under 8,192: half the FFT of the binary tree.
    assert_eq!(shape.domain_size(), 8_192);
    assert_eq!(shape.digest_hex(), DIGEST);
}

#[test]
fn valid_consent_passes_at_both_ends_of_its_period() {
    let shape = CircuitShape::of(AccessCircuit::blank()).unwrap();
    let f = fixture();
    for now in [FROM, FROM + 1000, UNTIL] {
        assert!(satisfied(&shape, public(&f, now), &f.w));
    }
}

#[test]
fn each_rule_rejects_on_its_own() {
    let shape = CircuitShape::of(AccessCircuit::blank()).unwrap();
    let f = fixture();
    let good = public(&f, FROM + 1000);
    let check = |p: AccessPublic, w: &AccessWitness| satisfied(&shape, p, w);

    // Expired, and not yet valid.
    for now in [UNTIL + 1, FROM - 1, u64::MAX, 0] {
        assert!(!check(public(&f, now), &f.w), "now {now}");
    }

    // Wrong grantee, category, purpose.
    let mut p = good;
    p.provider_ref += Fr::from(1u64);
    assert!(!check(p, &f.w));
    let mut p = good;
    p.category = 5;
    let w5 = with(&f, |w| w.record.category = 5);
    p.record = w5.record.commitment();
    assert!(!check(p, &w5), "category");
    let mut p = good;
    p.purpose = 2;
    assert!(!check(p, &f.w));

    // Wrong root, wrong leaf, flipped path bit.
    let mut p = good;
    p.consents_root += Fr::from(1u64);
    assert!(!check(p, &f.w));
    let other = with(&f, |w| w.path = f.tree.path(f.index - 1).unwrap());
    assert!(!check(good, &other));
    let flipped = with(&f, |w| w.path.index ^= 1 << 31);
    assert!(!check(good, &flipped));

    // A consent the patient did not sign: stretched validity.
    let stretched = with(&f, |w| w.consent.valid_until = u64::MAX);
    assert!(!check(public(&f, UNTIL + 1), &stretched));

    // The record belongs to another patient, or is not the public commitment.
    let mut p = good;
    p.record = f.other_patient_record.commitment();
    let other = with(&f, |w| w.record = f.other_patient_record.clone());
    assert!(!check(p, &other));
    let mut p = good;
    p.record += Fr::from(1u64);
    assert!(!check(p, &f.w));
    // A record of another category under the consent's category.
    let r = with(&f, |w| w.record.category = 5);
    let mut p = good;
    p.record = r.record.commitment();
    assert!(!check(p, &r));
}

/// The forgery the trust model stops: another key grants a consent in the patient's
/// name. Its leaf is wrapped with that key, and the patient's pseudonym is not derived
/// from it, whatever salt the forger tries.
#[test]
fn a_consent_granted_by_another_key_proves_nothing() {
    let shape = CircuitShape::of(AccessCircuit::blank()).unwrap();
    let f = fixture();
    let good = public(&f, FROM + 1000);
    let forged_path = f.tree.path(f.forged_index).unwrap();
    // The forger's leaf, opened with the forger's key: the pseudonym does not match.
    let forged = with(&f, |w| {
        w.granter = f.forger;
        w.path = forged_path.clone();
    });
    assert!(!satisfied(&shape, good, &forged));
    // The forger's leaf, claimed as the patient's: the wrapped leaf is not in the tree.
    let claimed = with(&f, |w| w.path = forged_path.clone());
    assert!(!satisfied(&shape, good, &claimed));
    // The right key with a wrong salt.
    let salted = with(&f, |w| w.patient_salt += Fr::from(1u64));
    assert!(!satisfied(&shape, good, &salted));
    // A bare commitment (not wrapped by the ledger) in the tree.
    let mut tree = f.tree.clone();
    let bare = tree.push(f.w.consent.commitment()).unwrap();
    let mut p = good;
    p.consents_root = tree.root();
    let unwrapped = with(&f, |w| w.path = tree.path(bare).unwrap());
    assert!(!satisfied(&shape, p, &unwrapped));
    // The patient's own leaf in the same tree still proves.
    let own = with(&f, |w| w.path = tree.path(f.index).unwrap());
    assert!(satisfied(&shape, p, &own));
}

#[test]
fn revoked_consent_is_under_no_later_root() {
    let shape = CircuitShape::of(AccessCircuit::blank()).unwrap();
    let mut f = fixture();
    let before = f.tree.root();
    f.tree.set(f.index, Fr::from(0u64)).unwrap();
    assert_ne!(f.tree.root(), before);
    let p = public(&f, FROM + 1000);
    // Neither the old path nor the new one (whose leaf is empty) reaches the new root.
    assert!(!satisfied(&shape, p, &f.w));
    let new = with(&f, |w| w.path = f.tree.path(f.index).unwrap());
    assert!(!satisfied(&shape, p, &new));
}

#[test]
fn debug_hides_the_witness() {
    let f = fixture();
    let c = AccessCircuit::new(public(&f, FROM), f.w.clone());
    let text = format!("{c:?}");
    assert!(text.contains("<redacted>"));
    assert!(!text.contains(&medproof_statement::fr_to_decimal(&f.w.consent.patient_ref)));
    assert!(!text.contains(&medproof_statement::fr_to_decimal(&f.w.consent.blinding)));
    assert!(!text.contains(&medproof_statement::fr_to_decimal(&f.w.patient_salt)));
}
