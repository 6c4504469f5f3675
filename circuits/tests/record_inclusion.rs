//! Record inclusion: the valid witness passes, and every constraint that matters fails
//! on its own when its input is wrong.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use ark_bn254::Fr;
use ark_ff::UniformRand;
use medproof_circuits::commit::{key_ref, patient_ref, record_leaf, ContentDigest, RecordOpening};
use medproof_circuits::merkle::{MerklePath, MerkleTree};
use medproof_circuits::record_inclusion::RecordInclusionCircuit;
use medproof_circuits::shape::CircuitShape;
use medproof_statement::statement::RecordInclusionPublic;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Pinned: changing the circuit changes these, and the statement's version must follow.
const CONSTRAINTS: usize = 5_502;
const DIGEST: &str = "d7ad69d78e4ca674c4c538b25b12fbfe5fa705d97e5fb65176657d182ee9862b";

struct Fixture {
    tree: MerkleTree,
    record: RecordOpening,
    committer: Fr,
    index: u64,
    /// The same record, committed by another key.
    other_committer: Fr,
    other_index: u64,
}

fn fixture() -> Fixture {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut tree = MerkleTree::new();
    let mut target = None;
    let committer = key_ref(&[1u8; 32]);
    let other_committer = key_ref(&[2u8; 32]);
    for i in 0..7u64 {
        let record = RecordOpening {
            patient_ref: patient_ref(Fr::rand(&mut rng), Fr::rand(&mut rng)),
            category: (i % 3) as u32,
            content_digest: ContentDigest::of(format!("record {i}").as_bytes()),
            created_at: 1_700_000_000 + i,
            blinding: Fr::rand(&mut rng),
        };
        let index = tree
            .push(record_leaf(committer, record.commitment()))
            .unwrap();
        if i == 4 {
            target = Some((record, index));
        }
    }
    let (record, index) = target.unwrap();
    let other_index = tree
        .push(record_leaf(other_committer, record.commitment()))
        .unwrap();
    Fixture {
        tree,
        record,
        committer,
        index,
        other_committer,
        other_index,
    }
}

fn good(f: &Fixture) -> (RecordInclusionPublic, RecordOpening, MerklePath) {
    let public = RecordInclusionPublic::new(f.tree.root(), f.record.category, Fr::from(42u64));
    (public, f.record.clone(), f.tree.path(f.index).unwrap())
}

/// Satisfaction by arkworks' checker, the shape's matrices and the native twin.
fn satisfied(
    shape: &CircuitShape,
    public: RecordInclusionPublic,
    record: RecordOpening,
    path: MerklePath,
) -> bool {
    satisfied_by(shape, public, record, key_ref(&[1u8; 32]), path)
}

fn satisfied_by(
    shape: &CircuitShape,
    public: RecordInclusionPublic,
    record: RecordOpening,
    committer: Fr,
    path: MerklePath,
) -> bool {
    let c = RecordInclusionCircuit::new(public, record, committer, path);
    let native = c.native_check();
    common::satisfied(shape, c, native)
}

#[test]
fn shape_is_pinned() {
    let shape = CircuitShape::of(RecordInclusionCircuit::blank()).unwrap();
    assert_eq!(shape.num_instance, 1 + RecordInclusionPublic::LEN);
    assert_eq!(shape.num_constraints, CONSTRAINTS);
    // 4-ary trees (issue 14) take it from just past 8,192 (binary, 8,382) to 8,192.
    assert_eq!(shape.domain_size(), 8_192);
    assert_eq!(shape.digest_hex(), DIGEST);
}

#[test]
fn valid_witness_passes_and_each_wrong_input_fails() {
    let shape = CircuitShape::of(RecordInclusionCircuit::blank()).unwrap();
    let f = fixture();
    let (public, record, path) = good(&f);
    assert!(satisfied(&shape, public, record.clone(), path.clone()));

    // Wrong root.
    let wrong_root = RecordInclusionPublic::new(
        public.records_root() + Fr::from(1u64),
        public.category(),
        public.binding(),
    );
    assert!(!satisfied(&shape, wrong_root, record.clone(), path.clone()));

    // Wrong leaf: another record's opening, and this record with another blinding.
    let other = f.tree.path(f.index - 1).unwrap();
    assert!(!satisfied(&shape, public, record.clone(), other));
    let mut reblinded = record.clone();
    reblinded.blinding += Fr::from(1u64);
    assert!(!satisfied(&shape, public, reblinded, path.clone()));

    // A flipped path bit, at the bottom and at the top.
    for bit in [0, 31] {
        let mut flipped = path.clone();
        flipped.index ^= 1 << bit;
        assert!(
            !satisfied(&shape, public, record.clone(), flipped),
            "bit {bit}"
        );
    }

    // The 4-ary path's own ways to go wrong: the node at each other position of its
    // level; two siblings swapped (the same set, another order); an index past the
    // tree's 2^32 leaves (a digit beyond the top level), and a path of the binary shape.
    for digit in 0..4u64 {
        let mut moved = path.clone();
        moved.index = (moved.index & !0b11) | digit;
        let ok = moved.index == path.index;
        assert_eq!(
            satisfied(&shape, public, record.clone(), moved),
            ok,
            "digit {digit}"
        );
    }
    // (At levels 0 and 1 of this eight-leaf tree the swapped siblings differ; above, all
    // three are the empty subtree's hash, and the order is moot.)
    for level in [0, 1] {
        let mut permuted = path.clone();
        permuted.siblings[level].swap(0, 2);
        assert_ne!(permuted.siblings[level][0], permuted.siblings[level][2]);
        assert!(!satisfied(&shape, public, record.clone(), permuted));
    }
    let mut beyond = path.clone();
    beyond.index += 1 << 32;
    assert!(!satisfied(&shape, public, record.clone(), beyond));
    let binary = MerklePath {
        index: path.index,
        siblings: vec![vec![Fr::from(0u64)]; 32],
    };
    assert!(!satisfied(&shape, public, record.clone(), binary));

    // A wrong disclosed category.
    let wrong_cat = RecordInclusionPublic::new(
        public.records_root(),
        public.category() + 1,
        public.binding(),
    );
    assert!(!satisfied(&shape, wrong_cat, record.clone(), path.clone()));

    // The leaf is wrapped with the committer's key: the record under another key's leaf
    // opens only with that key, and a bare commitment in the tree opens with none.
    let other_path = f.tree.path(f.other_index).unwrap();
    assert!(!satisfied_by(
        &shape,
        public,
        record.clone(),
        f.committer,
        other_path.clone()
    ));
    assert!(satisfied_by(
        &shape,
        public,
        record.clone(),
        f.other_committer,
        other_path
    ));
    assert!(!satisfied_by(
        &shape,
        public,
        record.clone(),
        f.other_committer,
        path.clone()
    ));
    let mut tree = f.tree.clone();
    let bare = tree.push(record.commitment()).unwrap();
    let bare_public = RecordInclusionPublic::new(tree.root(), record.category, Fr::from(42u64));
    for committer in [f.committer, Fr::from(0u64)] {
        assert!(!satisfied_by(
            &shape,
            bare_public,
            record.clone(),
            committer,
            tree.path(bare).unwrap()
        ));
    }
}

#[test]
fn debug_hides_the_witness() {
    let f = fixture();
    let (public, record, path) = good(&f);
    let text = format!(
        "{:?}",
        RecordInclusionCircuit::new(public, record.clone(), f.committer, path)
    );
    assert!(text.contains("<redacted>"));
    let blinding = medproof_statement::fr_to_decimal(&record.blinding);
    assert!(!text.contains(&blinding));
}

/// A subscriber that enables everything and counts the spans opened under it.
struct CountSpans(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl tracing::Subscriber for CountSpans {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::span::Id::from_u64(n + 1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// The spans opened by `f` under a subscriber that enables every span.
fn spans_opened(f: impl FnOnce()) -> u64 {
    let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    tracing::subscriber::with_default(CountSpans(count.clone()), f);
    count.load(std::sync::atomic::Ordering::Relaxed)
}

/// arkworks' gadgets open a span per operation and never close their namespaces'; under
/// `RUST_LOG=info` the service's subscriber kept them all (the demo was killed at 24 GB).
/// The shape's syntheses, the ones the prover and key generation run, open none.
#[test]
fn synthesis_opens_no_span_under_a_subscriber() {
    use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
    let f = fixture();
    let (public, record, path) = good(&f);
    let circuit = RecordInclusionCircuit::new(public, record, f.committer, path);
    // The leak this guards against: arkworks' own synthesis, left traced.
    let raw = spans_opened(|| {
        let cs = ConstraintSystem::<Fr>::new_ref();
        circuit.clone().generate_constraints(cs).unwrap();
    });
    assert!(raw > 1_000, "{raw} spans");
    let mut shape = None;
    let opened = spans_opened(|| {
        let s = CircuitShape::of(RecordInclusionCircuit::blank()).unwrap();
        s.assign(circuit).unwrap();
        shape = Some(s);
    });
    assert_eq!(opened, 0);
    assert_eq!(shape.unwrap().digest_hex(), DIGEST);
}
