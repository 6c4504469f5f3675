//! No plaintext on disk: records and consents built from source data with distinctive
//! strings go through the ledger (RocksDB), and none of those strings appears in any
//! file under the data dir, in any of the encodings a careless implementation would use.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use ark_ff::UniformRand;
use ed25519_dalek::SigningKey;
use medproof_circuits::commit::{key_ref, patient_ref, ContentDigest, RecordOpening};
use medproof_ledger::{open_dir_with, Action, NewLedger, Role, Submission, SystemClock};
use medproof_verifier::Fr;

const NAME: &str = "Zelda Quixote-Marchbanks";
const MRN: &str = "MRN-00451977";
const BIRTH: &str = "1987-03-14";
const DIAGNOSIS: &str = "E11.65 Type 2 diabetes with hyperglycemia";

#[test]
fn no_source_string_reaches_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = open_dir_with(
        dir.path(),
        Arc::new(SystemClock),
        Some(NewLedger::default()),
    )
    .unwrap();
    let provider = SigningKey::from_bytes(&[5u8; 32]);
    let patient = SigningKey::from_bytes(&[6u8; 32]);
    let registrar =
        medproof_ledger::keyfile::load(&medproof_ledger::registrar_key_path(dir.path())).unwrap();
    let env = ledger.envelope(600).unwrap();
    ledger
        .append(&[
            Submission::sign(
                Action::AdmitKey {
                    key: provider.verifying_key().to_bytes(),
                    role: Role::Provider,
                },
                &registrar,
                env,
            ),
            Submission::sign(
                Action::RegisterKey {
                    role: Role::Patient,
                },
                &patient,
                env,
            ),
        ])
        .unwrap();

    let mut rng = rand::thread_rng();
    let resource = format!(
        r#"{{"resourceType":"Condition","subject":{{"display":"{NAME}","identifier":"{MRN}"}},"birthDate":"{BIRTH}","code":{{"text":"{DIAGNOSIS}"}}}}"#
    );
    let salt = Fr::rand(&mut rng);
    let record = RecordOpening {
        patient_ref: patient_ref(key_ref(&patient.verifying_key().to_bytes()), salt),
        category: 7,
        content_digest: ContentDigest::of(resource.as_bytes()),
        created_at: 1_710_000_000,
        blinding: Fr::rand(&mut rng),
    };
    // A consent commitment stands in for the consent statement's own (next issue).
    let consent = medproof_circuits::poseidon::hash(&[
        record.patient_ref,
        Fr::from(7u64),
        Fr::rand(&mut rng),
    ]);
    ledger
        .append(&[Submission::sign(
            Action::CommitRecord {
                commitment: record.commitment(),
            },
            &provider,
            env,
        )])
        .unwrap();
    ledger
        .append_one(Submission::sign(
            Action::GrantConsent {
                commitment: consent,
            },
            &patient,
            env,
        ))
        .unwrap();
    drop(ledger);

    let needles: Vec<Vec<u8>> = [
        NAME,
        MRN,
        BIRTH,
        DIAGNOSIS,
        "00451977",
        "Quixote",
        "Marchbanks",
    ]
    .iter()
    .flat_map(|s| {
        let utf16: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        [s.as_bytes().to_vec(), s.to_lowercase().into_bytes(), utf16]
    })
    .collect();
    let mut files = 0;
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        files += 1;
        for n in &needles {
            assert!(
                !bytes.windows(n.len()).any(|w| w == n.as_slice()),
                "{} contains {:?}",
                entry.display(),
                String::from_utf8_lossy(n)
            );
        }
    }
    assert!(
        files >= 3,
        "the data dir should hold RocksDB files and the key"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
