//! Access authorization: the valid witness passes, and each rule fails on its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use ark_bn254::Fr;
use ark_ff::UniformRand;
use medproof_circuits::access::AccessCircuit;
use medproof_circuits::commit::{patient_ref, ConsentOpening, ContentDigest, RecordOpening};
use medproof_circuits::merkle::{MerklePath, MerkleTree};
use medproof_circuits::shape::CircuitShape;
use medproof_verifier::statement::AccessPublic;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Pinned: changing the circuit changes these, and the statement's version must follow.
const CONSTRAINTS: usize = 8_853;
const DIGEST: &str = "685934511968174241138856fe951453f27dae87fab6aadfdc62e99ae3758070";

const FROM: u64 = 1_760_000_000;
const UNTIL: u64 = 1_790_000_000;

struct Fixture {
    tree: MerkleTree,
    consent: ConsentOpening,
    index: u64,
    record: RecordOpening,
    other_patient_record: RecordOpening,
}

fn fixture() -> Fixture {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let patient = patient_ref(Fr::rand(&mut rng));
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
        let index = tree.push(c.commitment()).unwrap();
        if i == 3 {
            consent = Some((c, index));
        }
    }
    let (consent, index) = consent.unwrap();
    let record = |p: Fr, rng: &mut ChaCha20Rng| RecordOpening {
        patient_ref: p,
        category: 4,
        content_digest: ContentDigest::of(b"{\"resourceType\":\"Observation\"}"),
        created_at: FROM + 5,
        blinding: Fr::rand(rng),
    };
    Fixture {
        record: record(patient, &mut rng),
        other_patient_record: record(patient_ref(Fr::rand(&mut rng)), &mut rng),
        tree,
        consent,
        index,
    }
}

fn public(f: &Fixture, now: u64) -> AccessPublic {
    AccessPublic {
        consents_root: f.tree.root(),
        provider_ref: f.consent.grantee,
        category: 4,
        purpose: 1,
        now,
        request_binding: Fr::from(77u64),
        record: f.record.commitment(),
    }
}

/// Satisfaction by arkworks' checker, the shape's matrices and the native twin.
fn satisfied(
    shape: &CircuitShape,
    public: AccessPublic,
    consent: &ConsentOpening,
    path: &MerklePath,
    record: &RecordOpening,
) -> bool {
    let c = AccessCircuit::new(public, consent.clone(), path.clone(), record.clone());
    let native = c.native_check();
    common::satisfied(shape, c, native)
}

#[test]
fn shape_is_pinned_and_fits_one_domain() {
    let shape = CircuitShape::of(AccessCircuit::blank()).unwrap();
    assert_eq!(shape.num_instance, 1 + AccessPublic::LEN);
    assert_eq!(shape.num_constraints, CONSTRAINTS);
    assert!(shape.num_constraints + AccessPublic::LEN < 16_384);
    assert_eq!(shape.digest_hex(), DIGEST);
}

#[test]
fn valid_consent_passes_at_both_ends_of_its_period() {
    let shape = CircuitShape::of(AccessCircuit::blank()).unwrap();
    let f = fixture();
    let path = f.tree.path(f.index).unwrap();
    for now in [FROM, FROM + 1000, UNTIL] {
        assert!(satisfied(
            &shape,
            public(&f, now),
            &f.consent,
            &path,
            &f.record
        ));
    }
}

#[test]
fn each_rule_rejects_on_its_own() {
    let shape = CircuitShape::of(AccessCircuit::blank()).unwrap();
    let f = fixture();
    let path = f.tree.path(f.index).unwrap();
    let good = public(&f, FROM + 1000);
    let check = |p: AccessPublic, c: &ConsentOpening, path: &MerklePath, r: &RecordOpening| {
        satisfied(&shape, p, c, path, r)
    };

    // Expired, and not yet valid.
    assert!(!check(public(&f, UNTIL + 1), &f.consent, &path, &f.record));
    assert!(!check(public(&f, FROM - 1), &f.consent, &path, &f.record));
    assert!(!check(public(&f, u64::MAX), &f.consent, &path, &f.record));
    assert!(!check(public(&f, 0), &f.consent, &path, &f.record));

    // Wrong grantee, category, purpose.
    let mut p = good;
    p.provider_ref += Fr::from(1u64);
    assert!(!check(p, &f.consent, &path, &f.record));
    let mut p = good;
    p.category = 5;
    let mut r5 = f.record.clone();
    r5.category = 5;
    p.record = r5.commitment();
    assert!(!check(p, &f.consent, &path, &r5), "category");
    let mut p = good;
    p.purpose = 2;
    assert!(!check(p, &f.consent, &path, &f.record));

    // Wrong root, wrong leaf, flipped path bit.
    let mut p = good;
    p.consents_root += Fr::from(1u64);
    assert!(!check(p, &f.consent, &path, &f.record));
    let other = f.tree.path(f.index - 1).unwrap();
    assert!(!check(good, &f.consent, &other, &f.record));
    let mut flipped = path.clone();
    flipped.index ^= 1 << 31;
    assert!(!check(good, &f.consent, &flipped, &f.record));

    // A consent the patient did not sign: stretched validity.
    let mut stretched = f.consent.clone();
    stretched.valid_until = u64::MAX;
    assert!(!check(public(&f, UNTIL + 1), &stretched, &path, &f.record));

    // The record belongs to another patient, or is not the public commitment.
    let mut p = good;
    p.record = f.other_patient_record.commitment();
    assert!(!check(p, &f.consent, &path, &f.other_patient_record));
    let mut p = good;
    p.record += Fr::from(1u64);
    assert!(!check(p, &f.consent, &path, &f.record));
    // A record of another category under the consent's category.
    let mut r = f.record.clone();
    r.category = 5;
    let mut p = good;
    p.record = r.commitment();
    assert!(!check(p, &f.consent, &path, &r));
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
    let old = fixture().tree.path(f.index).unwrap();
    assert!(!satisfied(&shape, p, &f.consent, &old, &f.record));
    let new = f.tree.path(f.index).unwrap();
    assert!(!satisfied(&shape, p, &f.consent, &new, &f.record));
}

#[test]
fn debug_hides_the_witness() {
    let f = fixture();
    let c = AccessCircuit::new(
        public(&f, FROM),
        f.consent.clone(),
        f.tree.path(f.index).unwrap(),
        f.record.clone(),
    );
    let text = format!("{c:?}");
    assert!(text.contains("<redacted>"));
    assert!(!text.contains(&medproof_verifier::fr_to_decimal(&f.consent.patient_ref)));
    assert!(!text.contains(&medproof_verifier::fr_to_decimal(&f.consent.blinding)));
}
