//! The service over real HTTP: the app started on port 0, driven by the client the CLI
//! uses. Every story's submissions (registration, admission, records, consents,
//! revocation), refusals with their stable codes (role, admission, granter), repeats
//! (409 with the existing entry's `Location`), proof jobs and verification, and the
//! answers to malformed requests (always a 4xx with a JSON reason, never a 5xx).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use medproof_circuits::commit::{ContentDigest, RecordOpening};
use medproof_ledger::{Action, Role, Submission};
use medproof_service::api::{self, Config, Running};
use medproof_service::client::{Client, Reply};
use medproof_service::input::{RecordInclusionInput, RecordJson};
use medproof_service::scenario::Patient;
use medproof_verifier::{fr_to_decimal, Fr};
use rand::rngs::OsRng;
use serde_json::{json, Value};

/// One service per test binary (key generation is the slow part), on loopback port 0.
fn service() -> &'static (Running, tempfile::TempDir) {
    static S: OnceLock<(Running, tempfile::TempDir)> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new(dir.path().join("data"));
        config.bind = "127.0.0.1:0".into();
        config.prover_threads = 2;
        config.http_workers = 2;
        config.max_body = 64 * 1024;
        (api::spawn(config).unwrap(), dir)
    })
}

fn client() -> Client {
    Client::new(&service().0.url())
}

fn registrar(data: &Path) -> SigningKey {
    medproof_ledger::keyfile::load(&medproof_ledger::registrar_key_path(data)).unwrap()
}

fn data_dir() -> std::path::PathBuf {
    service().1.path().join("data")
}

fn sign(c: &Client, action: Action, key: &SigningKey) -> Submission {
    Submission::sign(action, key, c.envelope(600).unwrap())
}

fn code(r: &Reply) -> String {
    r.error()
        .unwrap_or_else(|| panic!("expected an error body, got {} {}", r.status, r.body))
        .error_code
}

fn record(patient: &Patient) -> RecordOpening {
    use ark_ff::UniformRand;
    RecordOpening {
        patient_ref: patient.patient_ref(),
        category: 3,
        content_digest: ContentDigest([7u8; 32]),
        created_at: 1_760_000_000,
        blinding: Fr::rand(&mut OsRng),
    }
}

#[test]
fn every_story_over_http() {
    let c = client();
    let info = c.get("/v1/ledger").unwrap().ok().unwrap();
    assert_eq!(info["ledger_id"].as_str().unwrap().len(), 64);

    // A patient registers itself: 201, the entry's Location, and a receipt.
    let patient = Patient::generate(&mut OsRng);
    let r = c
        .submit(&sign(
            &c,
            Action::RegisterKey {
                role: Role::Patient,
            },
            &patient.key,
        ))
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let seq = r.body["seq"].as_u64().unwrap();
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/v1/entries/{seq}").as_str())
    );
    assert!(r.body["checkpoint"]["seq"].as_u64().unwrap() > seq);

    // A provider cannot register itself: a registrar admits it.
    let provider = SigningKey::generate(&mut OsRng);
    let r = c
        .submit(&sign(
            &c,
            Action::RegisterKey {
                role: Role::Provider,
            },
            &provider,
        ))
        .unwrap();
    assert_eq!((r.status, code(&r).as_str()), (403, "not_admitted"));
    let admit = sign(
        &c,
        Action::AdmitKey {
            key: provider.verifying_key().to_bytes(),
            role: Role::Provider,
        },
        &registrar(&data_dir()),
    );
    assert_eq!(c.submit(&admit).unwrap().status, 201);
    let standing = c
        .get(&format!(
            "/v1/keys/{}",
            hex::encode(provider.verifying_key().to_bytes())
        ))
        .unwrap()
        .ok()
        .unwrap();
    assert_eq!(standing["role"], "provider");
    assert_eq!(standing["suspended"], false);
    // Only a registrar admits.
    let r = c
        .submit(&sign(
            &c,
            Action::AdmitKey {
                key: [5u8; 32],
                role: Role::Provider,
            },
            &provider,
        ))
        .unwrap();
    assert_eq!((r.status, code(&r).as_str()), (403, "not_registrar"));

    // The provider commits a record; the same signed submission again is a replay, and
    // the same commitment signed anew is a duplicate: both 409 with the entry's Location.
    let opening = record(&patient);
    let commit = sign(
        &c,
        Action::CommitRecord {
            commitment: opening.commitment(),
        },
        &provider,
    );
    let r = c.submit(&commit).unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let record_seq = r.body["seq"].as_u64().unwrap();
    let entries_before = c.get("/v1/ledger").unwrap().ok().unwrap()["entries"].clone();
    let r = c.submit(&commit).unwrap();
    assert_eq!((r.status, code(&r).as_str()), (409, "replay"));
    assert_eq!(r.location, Some(format!("/v1/entries/{record_seq}")));
    let again = sign(
        &c,
        Action::CommitRecord {
            commitment: opening.commitment(),
        },
        &provider,
    );
    let r = c.submit(&again).unwrap();
    assert_eq!((r.status, code(&r).as_str()), (409, "duplicate_commitment"));
    assert_eq!(r.location, Some(format!("/v1/entries/{record_seq}")));
    assert_eq!(
        c.get("/v1/ledger").unwrap().ok().unwrap()["entries"],
        entries_before,
        "a refused submission writes nothing"
    );
    // A patient cannot commit records.
    let r = c
        .submit(&sign(
            &c,
            Action::CommitRecord {
                commitment: Fr::from(99u64),
            },
            &patient.key,
        ))
        .unwrap();
    assert_eq!((r.status, code(&r).as_str()), (403, "wrong_role"));

    // The patient grants a consent; another patient cannot revoke it; the patient can.
    let granted = c
        .submit(&sign(
            &c,
            Action::GrantConsent {
                commitment: Fr::from(123_456u64),
            },
            &patient.key,
        ))
        .unwrap();
    assert_eq!(granted.status, 201, "{}", granted.body);
    let index = granted.body["leaf_index"].as_u64().unwrap();
    let other = Patient::generate(&mut OsRng);
    c.submit(&sign(
        &c,
        Action::RegisterKey {
            role: Role::Patient,
        },
        &other.key,
    ))
    .unwrap()
    .ok()
    .unwrap();
    let revoke = |key: &SigningKey| {
        c.submit(&sign(
            &c,
            Action::RevokeConsent {
                consent_index: index,
            },
            key,
        ))
        .unwrap()
    };
    let r = revoke(&other.key);
    assert_eq!((r.status, code(&r).as_str()), (403, "not_granter"));
    let r = revoke(&patient.key);
    assert_eq!(r.status, 201, "{}", r.body);
    let r = revoke(&patient.key);
    assert_eq!((r.status, code(&r).as_str()), (409, "already_revoked"));

    // Reads: the entry (immutable, with an ETag), a range, the checkpoint, the path.
    let e = c.get(&format!("/v1/entries/{record_seq}")).unwrap();
    assert_eq!(e.status, 200);
    assert_eq!(e.body["kind"], "commit-record");
    assert_eq!(e.body["commitment"], fr_to_decimal(&opening.commitment()));
    let page = c.get("/v1/entries?start=0&limit=2").unwrap().ok().unwrap();
    assert_eq!(page["entries"].as_array().unwrap().len(), 2);
    assert_eq!(page["next"], 2);
    let latest = c.get("/v1/checkpoints/latest").unwrap().ok().unwrap();
    let cp_seq = latest["checkpoint"]["seq"].as_u64().unwrap();
    assert_eq!(latest["superseded_at"], Value::Null);
    assert_eq!(
        c.get(&format!("/v1/checkpoints/{cp_seq}"))
            .unwrap()
            .ok()
            .unwrap(),
        latest
    );
    let path = c
        .get(&format!(
            "/v1/paths/{}",
            fr_to_decimal(&opening.commitment())
        ))
        .unwrap()
        .ok()
        .unwrap();
    assert_eq!(path["tree"], "records");
    assert_eq!(path["current"], true);
    assert_eq!(path["siblings"].as_array().unwrap().len(), 32);

    // A record-inclusion proof job: 202 and the job's Location; the bundle carries the
    // checkpoint and verifies; with another root or binding it does not.
    let binding = Fr::from(4242u64);
    let input = RecordInclusionInput {
        leaves: None,
        index: None,
        committer: None,
        record: RecordJson::from_opening(&opening),
        binding: fr_to_decimal(&binding),
    };
    let r = c.post("/v1/proofs/record-inclusion", &input).unwrap();
    assert_eq!(r.status, 202, "{}", r.body);
    let job = c
        .wait_job(r.location.as_deref().unwrap(), Duration::from_secs(120))
        .unwrap();
    assert_eq!(job["status"], "done", "{job}");
    let bundle = job["bundle"].clone();
    assert!(bundle["checkpoint"].is_object());
    let verdict = c
        .post(
            "/v1/verify",
            &json!({ "bundle": bundle, "expect_binding": "4242" }),
        )
        .unwrap()
        .ok()
        .unwrap();
    assert_eq!(verdict["valid"], true, "{verdict}");
    let verdict = c
        .post(
            "/v1/verify",
            &json!({ "bundle": bundle, "expect_binding": "4243" }),
        )
        .unwrap()
        .ok()
        .unwrap();
    assert_eq!(verdict["valid"], false);
    assert_eq!(verdict["checks"][0]["name"], "binding");
    let mut tampered = bundle.clone();
    tampered["public_inputs"]["category"] = json!("4");
    let verdict = c
        .post("/v1/verify", &json!({ "bundle": tampered }))
        .unwrap()
        .ok()
        .unwrap();
    assert_eq!(verdict["valid"], false, "{verdict}");
    // A record that is not on the ledger cannot be proved.
    let mut stranger = input.clone();
    stranger.record = RecordJson::from_opening(&record(&patient));
    let r = c.post("/v1/proofs/record-inclusion", &stranger).unwrap();
    assert_eq!((r.status, code(&r).as_str()), (422, "not_provable"));
}
