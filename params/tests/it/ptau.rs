//! Phase 1 from a `.ptau`: a file of powers of one secret reads back and passes the
//! pairing checks; each way of breaking it is refused with the section named.
//! `interop/check.sh` does the same with files that snarkjs made.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ark_bn254::{Fr, G1Affine, G1Projective};
use ark_ec::{CurveGroup, PrimeGroup};
use ark_ff::UniformRand;
use medproof_params::ptau::{from_secrets, read_ptau, read_ptau_file, write_ptau, Ptau, PtauError};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(9)
}

fn ptau() -> Ptau {
    let mut r = rng();
    from_secrets(4, Fr::rand(&mut r), Fr::rand(&mut r), Fr::rand(&mut r))
}

fn inconsistent(p: &Ptau) -> String {
    match p.check(&mut rng()) {
        Err(PtauError::Inconsistent(why)) => why.to_string(),
        other => panic!("expected an inconsistency, got {other:?}"),
    }
}

#[test]
fn powers_of_one_secret_read_back_and_pass() {
    let p = ptau();
    assert_eq!(
        (p.tau_g1.len(), p.tau_g2.len(), p.alpha_tau_g1.len()),
        (31, 16, 16)
    );
    let bytes = write_ptau(&p);
    let back = read_ptau(&bytes).unwrap();
    assert_eq!(back, p);
    back.check(&mut rng()).unwrap();
}

#[test]
fn each_broken_section_is_named() {
    let p = ptau();
    let mut q = p.clone();
    q.tau_g1.swap(5, 6);
    assert!(inconsistent(&q).contains("tauG1"));
    let mut q = p.clone();
    q.alpha_tau_g1[3] = (G1Projective::generator() * Fr::from(7u64)).into_affine();
    assert!(inconsistent(&q).contains("alphaTauG1"));
    let mut q = p.clone();
    q.beta_tau_g1[15] = q.beta_tau_g1[14];
    assert!(inconsistent(&q).contains("betaTauG1"));
    let mut q = p.clone();
    q.tau_g2[9] = q.tau_g2[8];
    assert!(inconsistent(&q).contains("tauG2"));
    let mut q = p.clone();
    q.tau_g2[1] = q.tau_g2[2];
    assert!(inconsistent(&q).contains("G1 and G2"));
    let mut q = p.clone();
    q.beta_g2 = q.tau_g2[3];
    assert!(inconsistent(&q).contains("β"));
    let mut q = p.clone();
    q.tau_g1[0] = q.tau_g1[1];
    assert!(inconsistent(&q).contains("generators"));
    let mut q = p;
    q.alpha_tau_g1 = vec![G1Affine::default(); 16];
    assert!(inconsistent(&q).contains("zero"));
}

#[test]
fn damaged_bytes_are_refused_before_any_check() {
    let bytes = write_ptau(&ptau());
    // Sections: 12-byte container header, then the 12-byte header section's frame and
    // its 44 bytes; tauG1 starts after its own 12-byte frame.
    let tau_g1 = 12 + 12 + 44 + 12;
    let mut off_curve = bytes.clone();
    off_curve[tau_g1 + 64 + 3] ^= 1; // tauG1[1].x
    match read_ptau(&off_curve) {
        Err(PtauError::Point {
            section: "tauG1",
            index: 1,
            ..
        }) => {}
        other => panic!("expected tauG1[1] refused, got {other:?}"),
    }
    let mut above = bytes.clone();
    above[tau_g1 + 64..tau_g1 + 96].fill(0xff);
    assert!(matches!(read_ptau(&above), Err(PtauError::Point { .. })));
    assert!(matches!(
        read_ptau(&bytes[..bytes.len() - 1]),
        Err(PtauError::Format(_))
    ));
    let mut power = bytes.clone();
    power[12 + 12 + 36] = 5; // the header says power 5: the sections are too short
    assert!(matches!(read_ptau(&power), Err(PtauError::Format(_))));
    // A ceremony power beyond BN254's 2^28 (it would have the checker hash for ever).
    let mut ceremony = bytes.clone();
    ceremony[12 + 12 + 40..12 + 12 + 44].copy_from_slice(&29u32.to_le_bytes());
    assert!(matches!(read_ptau(&ceremony), Err(PtauError::Format(_))));
    ceremony[12 + 12 + 40..12 + 12 + 44].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(read_ptau(&ceremony), Err(PtauError::Format(_))));
    let mut curve = bytes;
    curve[12 + 12 + 4] ^= 1; // another modulus
    assert!(matches!(read_ptau(&curve), Err(PtauError::Format(_))));
}

/// A large ceremony file serves a small statement: its first powers are read alone, and
/// they are the same as a file made at that power.
#[test]
fn the_first_powers_of_a_larger_file_are_read_alone() {
    let mut r = rng();
    let (tau, alpha, beta) = (Fr::rand(&mut r), Fr::rand(&mut r), Fr::rand(&mut r));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p4.ptau");
    std::fs::write(&path, write_ptau(&from_secrets(4, tau, alpha, beta))).unwrap();
    let small = read_ptau_file(&path, Some(2)).unwrap();
    let mut expected = from_secrets(2, tau, alpha, beta);
    expected.ceremony_power = 4;
    assert_eq!(small, expected);
    small.check(&mut rng()).unwrap();
    assert_eq!(read_ptau_file(&path, None).unwrap().power, 4);
    assert!(matches!(
        read_ptau_file(&path, Some(5)),
        Err(PtauError::Format(_))
    ));
    assert!(matches!(
        read_ptau_file(&dir.path().join("missing.ptau"), None),
        Err(PtauError::Unreadable(_))
    ));
}
