//! circom's `.r1cs` and `.wtns` out of medproof's shapes and assignments: read back
//! equal, refused when damaged. `interop/check.sh` has snarkjs read the same files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ark_bn254::Fr;
use ark_ff::UniformRand;
use medproof_circuits::commit::{key_ref, patient_ref, record_leaf, ContentDigest, RecordOpening};
use medproof_circuits::merkle::MerkleTree;
use medproof_circuits::record_inclusion::RecordInclusionCircuit;
use medproof_circuits::shape::{Assignment, CircuitShape};
use medproof_circuits::statement_shape;
use medproof_params::circom::{read_r1cs, read_wtns, write_r1cs, write_wtns, CircomError};
use medproof_verifier::statement::RecordInclusionPublic;
use medproof_verifier::Statement;
use rand::SeedableRng;

fn r1cs(shape: &CircuitShape) -> Vec<u8> {
    let mut out = Vec::new();
    write_r1cs(shape, &mut out).unwrap();
    out
}

fn format_error(e: CircomError) -> String {
    match e {
        CircomError::Format { why, .. } => why,
        other => panic!("expected a format error, got {other}"),
    }
}

#[test]
fn every_statement_reads_back_as_the_same_system() {
    for statement in Statement::ALL {
        let shape = statement_shape(statement).unwrap();
        let bytes = r1cs(&shape);
        // The header as circom writes it: 32-byte field, wires, 0 outputs, the public
        // inputs, 0 private inputs, a label per wire, the constraints.
        assert_eq!(&bytes[..4], b"r1cs");
        let header = &bytes[12 + 12..];
        let u32_at = |o: usize| u32::from_le_bytes(header[o..o + 4].try_into().unwrap());
        assert_eq!(u32_at(0), 32);
        let wires = shape.num_instance + shape.num_witness;
        assert_eq!(u32_at(36) as usize, wires);
        assert_eq!(u32_at(40), 0);
        assert_eq!(u32_at(44) as usize, shape.num_instance - 1);
        assert_eq!(u32_at(48), 0);
        assert_eq!(u32_at(60) as usize, shape.num_constraints);
        let back = read_r1cs(bytes.as_slice()).unwrap();
        assert_eq!(back, shape, "{statement:?}");
        assert_eq!(back.digest, shape.digest);
    }
}

#[test]
fn a_damaged_r1cs_is_refused_with_the_reason() {
    let shape = statement_shape(Statement::RecordInclusion).unwrap();
    let bytes = r1cs(&shape);
    let short = &bytes[..bytes.len() - 1];
    assert!(format_error(read_r1cs(short).unwrap_err()).contains("ends early"));
    let mut magic = bytes.clone();
    magic[0] = b'x';
    assert!(format_error(read_r1cs(magic.as_slice()).unwrap_err()).contains("magic"));
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(read_r1cs(longer.as_slice()).is_err());
    // The first coefficient (after the constraints section's header and the first
    // row's term count and wire) set to the modulus: not a canonical field element.
    let header_len = 4 + 32 + 4 * 4 + 8 + 4;
    let first = 12 + 12 + header_len + 12 + 4 + 4;
    assert!(!shape.matrices[0][0].is_empty());
    let mut big = bytes.clone();
    let modulus = ark_ff::BigInteger::to_bytes_le(&<Fr as ark_ff::PrimeField>::MODULUS);
    big[first..first + 32].copy_from_slice(&modulus);
    assert!(format_error(read_r1cs(big.as_slice()).unwrap_err()).contains("modulus"));
    // One coefficient changed: it reads, as another system (another digest).
    let mut other = bytes.clone();
    other[first] ^= 1;
    assert_ne!(read_r1cs(other.as_slice()).unwrap().digest, shape.digest);
}

/// A satisfying record-inclusion assignment.
fn assignment(shape: &CircuitShape) -> Assignment {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
    let committer = key_ref(&[1u8; 32]);
    let record = RecordOpening {
        patient_ref: patient_ref(Fr::rand(&mut rng), Fr::rand(&mut rng)),
        category: 3,
        content_digest: ContentDigest::of(b"a record"),
        created_at: 1_760_000_000,
        blinding: Fr::rand(&mut rng),
    };
    let mut tree = MerkleTree::new();
    tree.push(Fr::from(5u64)).unwrap();
    let index = tree
        .push(record_leaf(committer, record.commitment()))
        .unwrap();
    let public = RecordInclusionPublic::new(tree.root(), 3, Fr::from(42u64));
    let circuit = RecordInclusionCircuit::new(public, record, committer, tree.path(index).unwrap());
    shape.assign(circuit).unwrap()
}

#[test]
fn a_witness_reads_back_and_satisfies_only_untouched() {
    let shape = statement_shape(Statement::RecordInclusion).unwrap();
    let z = assignment(&shape);
    let mut bytes = Vec::new();
    write_wtns(&z, &mut bytes).unwrap();
    assert_eq!(&bytes[..4], b"wtns");
    let back = read_wtns(bytes.as_slice()).unwrap();
    assert_eq!(back, z);
    assert_eq!(shape.first_unsatisfied(&back.0), None);
    // The wire order is the keys' order: wire 1 is the first public input (the root).
    let mut tampered = back.clone();
    tampered.0[1] += Fr::from(1u64);
    assert!(shape.first_unsatisfied(&tampered.0).is_some());
    assert!(read_wtns(&bytes[..bytes.len() - 5]).is_err());
}
