//! Phase-2 contributions and their verification: snarkjs's transcript hashing to G2 and
//! beacon generator give snarkjs's values (vectors printed by snarkjs 0.7.6's own
//! `hashToG2` and `rngFromBeaconParams`); a chain of contributions and a beacon verifies
//! and proves; a changed byte in any contribution, a dropped contribution, another
//! system's initial key, or no contribution at all is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use ark_bn254::{Fq, Fq2, Fr, G1Affine, G2Affine};
use medproof_circuits::shape::CircuitShape;
use medproof_params::phase2::{
    beacon, contribute, hash_to_g2, transcript_hash, verify, SnarkjsRng, VerifyError,
};
use medproof_params::zkey::{new_zkey, read_zkey, write_zkey, Beacon, Zkey};

use crate::common::{assignment, cube, prepared, proves, rng};

fn fq(s: &str) -> Fq {
    Fq::from_str(s).unwrap()
}

#[test]
fn transcripts_hash_to_g2_as_snarkjs_does() {
    let h: [u8; 64] = std::array::from_fn(|i| (i * 7 + 1) as u8);
    let want = G2Affine::new(
        Fq2::new(
            fq("20026856858347662869251165048881841528306058416017364010533996930649568453397"),
            fq("15414745836772200207028428209135321645454197176654388507114049486624560614357"),
        ),
        Fq2::new(
            fq("10864695726158275351974749040195326873116539513634844963854928300525464408070"),
            fq("6893327160835803426388783931821956046813547341250694182899296797825886429592"),
        ),
    );
    assert_eq!(hash_to_g2(&h), want);
}

#[test]
fn a_beacon_draws_snarkjs_s_secret_and_point() {
    let mut r = SnarkjsRng::from_beacon(&Beacon {
        hash: vec![1, 2, 3, 4, 5],
        iterations_exp: 10,
    })
    .unwrap();
    // Outside what is verified: no generator (so no hashing for ever).
    for iterations_exp in [9, 33, 63] {
        assert!(SnarkjsRng::from_beacon(&Beacon {
            hash: vec![1],
            iterations_exp
        })
        .is_none());
    }
    assert_eq!(
        r.fr(),
        Fr::from_str(
            "13030756981054368497942329201276596626914643098065708127358151725341797471282"
        )
        .unwrap()
    );
    assert_eq!(
        r.g1(),
        G1Affine::new(
            fq("9480534307987059606300426394086995504614875093844635236727919805845153802089"),
            fq("21234313849493558782556270580731039365633075327274081745147795668923108763421"),
        )
    );
}

fn initial(dir: &tempfile::TempDir, shape: &CircuitShape) -> Zkey {
    let p = prepared(3, 1);
    let path = dir.path().join("p.ptau");
    std::fs::write(&path, p).unwrap();
    new_zkey(&path, shape, &mut rng(2)).unwrap()
}

fn ceremony(dir: &tempfile::TempDir) -> (Zkey, Zkey, Vec<[u8; 64]>) {
    let z0 = initial(dir, &cube(5));
    let (z1, h1) = contribute(&z0, Some("alice"), &mut rng(10)).unwrap();
    let (z2, h2) = contribute(&z1, None, &mut rng(11)).unwrap();
    let b = Beacon {
        hash: vec![0xab; 32],
        iterations_exp: 10,
    };
    let (z3, h3) = beacon(&z2, Some("beacon"), &b).unwrap();
    (z0, z3, vec![h1, h2, h3])
}

#[test]
fn contributions_and_a_beacon_verify_and_prove() {
    let dir = tempfile::tempdir().unwrap();
    let (z0, z3, hashes) = ceremony(&dir);
    assert_eq!(verify(&z3, &z0, &mut rng(4)).unwrap(), hashes);
    let back = read_zkey(&write_zkey(&z3)).unwrap();
    assert_eq!(back, z3);
    assert_eq!(back.contributions[0].name.as_deref(), Some("alice"));
    assert!(back.contributions[2].beacon.is_some());
    assert!(proves(&z3, &cube(5), assignment(3)[1]));
    assert_ne!(transcript_hash(&z3), transcript_hash(&z0));
}

#[test]
fn a_changed_byte_a_dropped_contribution_or_another_system_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (z0, z3, _) = ceremony(&dir);
    let check = |z: &Zkey| verify(z, &z0, &mut rng(5));

    // One byte of each contribution's transcript, or its g1_sx, changed.
    for i in 0..3 {
        let mut z = z3.clone();
        z.contributions[i].transcript[17] ^= 1;
        assert!(
            matches!(check(&z), Err(VerifyError::Contribution { index, .. }) if index == i + 1),
            "{i}"
        );
        let mut z = z3.clone();
        z.contributions[i].g1_sx = z.contributions[i].g1_s;
        assert!(matches!(check(&z), Err(VerifyError::Contribution { .. })));
    }
    // The middle contribution dropped (its successors no longer chain).
    let mut z = z3.clone();
    z.contributions.remove(1);
    assert!(check(&z).is_err());
    // The last dropped: δ is no longer the last contribution's.
    let mut z = z3.clone();
    z.contributions.pop();
    assert!(check(&z).is_err());
    // One H point changed by the operator after the ceremony.
    let mut z = z3.clone();
    z.h[3] = z.h[4];
    assert_eq!(
        check(&z),
        Err(VerifyError::Key(
            "the H points are not the initial ones over δ"
        ))
    );
    // Against another constraint system's initial key.
    let other = initial(&dir, &cube(6));
    assert!(verify(&z3, &other, &mut rng(6)).is_err());
    // No contribution at all.
    assert!(matches!(
        verify(&z0, &z0, &mut rng(7)),
        Err(VerifyError::Key(why)) if why.contains("no contribution")
    ));
}

#[test]
fn names_and_beacons_out_of_snarkjs_s_bounds_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let z0 = initial(&dir, &cube(5));
    assert!(contribute(&z0, Some(&"x".repeat(65)), &mut rng(1)).is_err());
    let b = Beacon {
        hash: vec![1],
        iterations_exp: 9,
    };
    assert!(beacon(&z0, None, &b).is_err());
    // A key claiming a beacon iterated 2^63 times is refused, not verified for ages.
    let (mut z, _) = beacon(
        &z0,
        None,
        &Beacon {
            hash: vec![1],
            iterations_exp: 10,
        },
    )
    .unwrap();
    z.contributions[0].beacon.as_mut().unwrap().iterations_exp = 63;
    assert!(matches!(
        verify(&z, &z0, &mut rng(8)),
        Err(VerifyError::Contribution { index: 1, .. })
    ));
}

#[test]
fn importing_keys_of_another_system_is_refused() {
    // import_ceremony_keys verifies and checks the system itself: a caller cannot skip it.
    let dir = tempfile::tempdir().unwrap();
    let (z0, z3, _) = ceremony(&dir);
    let keys = dir.path().join("keys");
    let err = medproof_params::import_ceremony_keys(
        &keys,
        medproof_verifier::Statement::RecordInclusion,
        &z3,
        &z0,
        &mut rng(9),
    )
    .unwrap_err();
    assert!(
        matches!(err, medproof_params::ParamsError::Ceremony { .. }),
        "{err}"
    );
    assert!(!keys.join("manifest.json").exists());
}

#[test]
fn an_initial_key_with_contributions_is_not_an_initial_key() {
    let dir = tempfile::tempdir().unwrap();
    let (z0, z3, _) = ceremony(&dir);
    let (z1, _) = contribute(&z0, None, &mut rng(12)).unwrap();
    assert!(matches!(
        verify(&z3, &z1, &mut rng(13)),
        Err(VerifyError::Key(why)) if why.contains("initial")
    ));
}
