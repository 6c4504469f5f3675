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

/// A fresh key that `registrar` admits for `role` on the service behind `c`.
fn admitted(c: &Client, registrar: &SigningKey, role: Role) -> SigningKey {
    let key = SigningKey::generate(&mut OsRng);
    let r = c
        .submit(&sign(
            c,
            Action::AdmitKey {
                key: key.verifying_key().to_bytes(),
                role,
            },
            registrar,
        ))
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    key
}

/// A record `provider` commits for a new patient, as the input of its inclusion proof
/// (binding 1).
fn committed_record(c: &Client, provider: &SigningKey) -> RecordInclusionInput {
    let opening = record(&Patient::generate(&mut OsRng));
    let r = c
        .submit(&sign(
            c,
            Action::CommitRecord {
                commitment: opening.commitment(),
            },
            provider,
        ))
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    RecordInclusionInput {
        leaves: None,
        index: None,
        committer: None,
        record: RecordJson::from_opening(&opening),
        binding: "1".into(),
    }
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
    assert_eq!(
        info["registrars"][0],
        hex::encode(registrar(&data_dir()).verifying_key().to_bytes())
    );

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
    assert_eq!(path["arity"], 4);
    let siblings = path["siblings"].as_array().unwrap();
    assert_eq!(siblings.len(), 16);
    assert!(siblings.iter().all(|s| s.as_array().unwrap().len() == 3));

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
    // Proof jobs are signed requests, and only their creator reads them.
    let r = c.post("/v1/proofs/record-inclusion", &input).unwrap();
    assert_eq!((r.status, code(&r).as_str()), (401, "unauthenticated"));
    let r = c
        .signed_post("/v1/proofs/record-inclusion", &input, &provider)
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.body);
    let location = r.location.clone().unwrap();
    let r = c.signed_get(&location, &patient.key).unwrap();
    assert_eq!((r.status, code(&r).as_str()), (403, "forbidden"));
    let r = c.get(&location).unwrap();
    assert_eq!((r.status, code(&r).as_str()), (401, "unauthenticated"));
    let job = c
        .wait_job(&location, &provider, Duration::from_secs(120))
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
    let r = c
        .signed_post("/v1/proofs/record-inclusion", &stranger, &provider)
        .unwrap();
    assert_eq!((r.status, code(&r).as_str()), (422, "not_provable"));
}

const MODULUS: &str =
    "21888242871839275222246405745257275088548364400416034343698204186575808495617";

/// A request and the 4xx it must get.
struct Case {
    name: &'static str,
    signed: bool,
    method: &'static str,
    path: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
}

fn case(
    name: &'static str,
    method: &'static str,
    path: &str,
    body: Value,
    status: u16,
    code: &'static str,
) -> Case {
    Case {
        name,
        signed: false,
        method,
        path: path.into(),
        content_type: Some("application/json"),
        body: match body {
            Value::Null => Vec::new(),
            v => v.to_string().into_bytes(),
        },
        status,
        code,
    }
}

fn raw(
    name: &'static str,
    method: &'static str,
    path: &str,
    ct: Option<&'static str>,
    body: &[u8],
    status: u16,
    code: &'static str,
) -> Case {
    Case {
        name,
        signed: false,
        method,
        path: path.into(),
        content_type: ct,
        body: body.to_vec(),
        status,
        code,
    }
}

/// A submission as JSON, edited.
fn submission_with(s: &Submission, f: impl FnOnce(&mut Value)) -> Value {
    let mut v = serde_json::to_value(medproof_service::wire::SubmissionJson::of(s)).unwrap();
    f(&mut v);
    v
}

#[test]
fn malformed_requests_get_a_4xx_with_a_reason_and_the_service_stays_up() {
    let c = client();
    let key = SigningKey::generate(&mut OsRng);
    let good = sign(
        &c,
        Action::RegisterKey {
            role: Role::Patient,
        },
        &key,
    );
    let with = |f: &dyn Fn(&mut Value)| submission_with(&good, f);
    let commit_with = |commitment: &str| {
        let s = sign(
            &c,
            Action::CommitRecord {
                commitment: Fr::from(1u64),
            },
            &key,
        );
        let commitment = commitment.to_string();
        submission_with(&s, move |v| v["action"]["commitment"] = json!(commitment))
    };
    let info = c.get("/v1/ledger").unwrap().ok().unwrap();
    let time = info["time"].as_u64().unwrap();
    let envelope = c.envelope(600).unwrap();
    let other_ledger = Submission::sign(
        Action::RegisterKey {
            role: Role::Patient,
        },
        &key,
        medproof_ledger::Envelope {
            ledger_id: [7u8; 32],
            expires: envelope.expires,
        },
    );
    let expired = Submission::sign(
        Action::RegisterKey {
            role: Role::Patient,
        },
        &key,
        medproof_ledger::Envelope {
            ledger_id: envelope.ledger_id,
            expires: time - 100,
        },
    );
    // An admitted provider, so that its access entries reach the bundle checks.
    let provider = admitted(&c, &registrar(&data_dir()), Role::Provider);
    let log = |bundle: &str| {
        json_of(&sign(
            &c,
            Action::LogAccess {
                bundle: bundle.as_bytes().to_vec(),
                nonce: Fr::from(1u64),
            },
            &provider,
        ))
    };
    let bad_point = base64_of(&[0xffu8; 128]);
    let bundle = json!({
        "statement": "record-inclusion", "version": 2,
        "public_inputs": { "records_root": "1", "category": "3", "binding": "2" },
        "proof": bad_point, "vk_id": "00"
    });
    let record = json!({
        "patient_ref": "1", "category": 3, "content_sha256": "00".repeat(32),
        "created_at": 1, "blinding": "2"
    });
    let unknown_key = hex::encode([0x11u8; 32]);
    let big = vec![b' '; 70 * 1024];

    let cases = vec![
        // Submissions: the body.
        raw(
            "not JSON",
            "POST",
            "/v1/entries",
            Some("application/json"),
            b"{",
            400,
            "malformed",
        ),
        raw(
            "empty body",
            "POST",
            "/v1/entries",
            Some("application/json"),
            b"",
            400,
            "malformed",
        ),
        raw(
            "text/plain",
            "POST",
            "/v1/entries",
            Some("text/plain"),
            b"{}",
            415,
            "unsupported_media_type",
        ),
        raw(
            "xml",
            "POST",
            "/v1/entries",
            Some("application/xml"),
            b"<a/>",
            415,
            "unsupported_media_type",
        ),
        raw(
            "no content type",
            "POST",
            "/v1/entries",
            None,
            b"{}",
            415,
            "unsupported_media_type",
        ),
        raw(
            "too large",
            "POST",
            "/v1/entries",
            Some("application/json"),
            &big,
            413,
            "too_large",
        ),
        case(
            "an array",
            "POST",
            "/v1/entries",
            json!([]),
            400,
            "malformed",
        ),
        case(
            "a number",
            "POST",
            "/v1/entries",
            json!(5),
            400,
            "malformed",
        ),
        case(
            "missing signature",
            "POST",
            "/v1/entries",
            with(&|v| {
                v.as_object_mut().unwrap().remove("signature");
            }),
            400,
            "malformed",
        ),
        case(
            "unknown field",
            "POST",
            "/v1/entries",
            with(&|v| v["extra"] = json!(1)),
            400,
            "malformed",
        ),
        case(
            "unknown action",
            "POST",
            "/v1/entries",
            with(&|v| v["action"] = json!({"type": "delete-everything"})),
            400,
            "malformed",
        ),
        case(
            "action without type",
            "POST",
            "/v1/entries",
            with(&|v| v["action"] = json!({"role": "patient"})),
            400,
            "malformed",
        ),
        case(
            "unknown action field",
            "POST",
            "/v1/entries",
            with(&|v| v["action"]["x"] = json!(1)),
            400,
            "malformed",
        ),
        case(
            "expires as a string",
            "POST",
            "/v1/entries",
            with(&|v| v["expires"] = json!("soon")),
            400,
            "malformed",
        ),
        case(
            "negative expires",
            "POST",
            "/v1/entries",
            with(&|v| v["expires"] = json!(-1)),
            400,
            "malformed",
        ),
        case(
            "expires past u64",
            "POST",
            "/v1/entries",
            with(&|v| v["expires"] = json!(18446744073709551616u128 as f64)),
            400,
            "malformed",
        ),
        case(
            "short signer",
            "POST",
            "/v1/entries",
            with(&|v| v["signer"] = json!("abcd")),
            400,
            "malformed",
        ),
        case(
            "signer not hex",
            "POST",
            "/v1/entries",
            with(&|v| v["signer"] = json!("zz".repeat(32))),
            400,
            "malformed",
        ),
        case(
            "short signature",
            "POST",
            "/v1/entries",
            with(&|v| v["signature"] = json!("00".repeat(63))),
            400,
            "malformed",
        ),
        case(
            "short nonce",
            "POST",
            "/v1/entries",
            with(&|v| v["nonce"] = json!("00")),
            400,
            "malformed",
        ),
        case(
            "unknown role",
            "POST",
            "/v1/entries",
            with(&|v| v["action"]["role"] = json!("admin")),
            400,
            "malformed",
        ),
        case(
            "commitment = modulus",
            "POST",
            "/v1/entries",
            commit_with(MODULUS),
            400,
            "malformed",
        ),
        case(
            "commitment > modulus",
            "POST",
            "/v1/entries",
            commit_with(&format!("{MODULUS}0")),
            400,
            "malformed",
        ),
        case(
            "commitment in hex",
            "POST",
            "/v1/entries",
            commit_with("0x12"),
            400,
            "malformed",
        ),
        case(
            "commitment with leading zero",
            "POST",
            "/v1/entries",
            commit_with("012"),
            400,
            "malformed",
        ),
        case(
            "commitment negative",
            "POST",
            "/v1/entries",
            commit_with("-1"),
            400,
            "malformed",
        ),
        // Submissions: well-formed, refused by the rules.
        case(
            "bad signature",
            "POST",
            "/v1/entries",
            with(&|v| v["signature"] = json!("11".repeat(64))),
            400,
            "bad_signature",
        ),
        case(
            "signer not a curve point",
            "POST",
            "/v1/entries",
            with(&|v| v["signer"] = json!("ff".repeat(32))),
            400,
            "bad_signature",
        ),
        case(
            "changed after signing",
            "POST",
            "/v1/entries",
            with(&|v| v["expires"] = json!(v["expires"].as_u64().unwrap() + 1)),
            400,
            "bad_signature",
        ),
        case(
            "another ledger",
            "POST",
            "/v1/entries",
            json_of(&other_ledger),
            422,
            "other_ledger",
        ),
        case(
            "expired",
            "POST",
            "/v1/entries",
            json_of(&expired),
            422,
            "expired",
        ),
        case(
            "access bundle not JSON",
            "POST",
            "/v1/entries",
            log("not a bundle"),
            422,
            "bad_bundle",
        ),
        case(
            "access bundle with an invalid point",
            "POST",
            "/v1/entries",
            log(&bundle.to_string()),
            422,
            "bad_bundle",
        ),
        // Reads.
        raw(
            "entry seq not a number",
            "GET",
            "/v1/entries/abc",
            None,
            b"",
            400,
            "malformed",
        ),
        raw(
            "entry seq negative",
            "GET",
            "/v1/entries/-1",
            None,
            b"",
            400,
            "malformed",
        ),
        raw(
            "entry seq past u64",
            "GET",
            "/v1/entries/18446744073709551616",
            None,
            b"",
            400,
            "malformed",
        ),
        raw(
            "entry past the end",
            "GET",
            "/v1/entries/99999999",
            None,
            b"",
            404,
            "not_found",
        ),
        raw(
            "range start not a number",
            "GET",
            "/v1/entries?start=x",
            None,
            b"",
            400,
            "malformed",
        ),
        raw(
            "range limit negative",
            "GET",
            "/v1/entries?limit=-5",
            None,
            b"",
            400,
            "malformed",
        ),
        raw(
            "range unknown parameter",
            "GET",
            "/v1/entries?bogus=1",
            None,
            b"",
            400,
            "malformed",
        ),
        raw(
            "checkpoint at the genesis",
            "GET",
            "/v1/checkpoints/0",
            None,
            b"",
            404,
            "not_found",
        ),
        raw(
            "checkpoint seq not a number",
            "GET",
            "/v1/checkpoints/abc",
            None,
            b"",
            400,
            "malformed",
        ),
        raw(
            "path of the modulus",
            "GET",
            &format!("/v1/paths/{MODULUS}"),
            None,
            b"",
            400,
            "malformed",
        ),
        raw(
            "path not decimal",
            "GET",
            "/v1/paths/abc",
            None,
            b"",
            400,
            "malformed",
        ),
        raw(
            "path of an unknown commitment",
            "GET",
            "/v1/paths/12345",
            None,
            b"",
            404,
            "not_found",
        ),
        raw(
            "key not hex",
            "GET",
            "/v1/keys/zz",
            None,
            b"",
            400,
            "malformed",
        ),
        raw(
            "key unknown",
            "GET",
            &format!("/v1/keys/{unknown_key}"),
            None,
            b"",
            404,
            "not_found",
        ),
        raw(
            "no such route",
            "GET",
            "/v1/nope",
            None,
            b"",
            404,
            "not_found",
        ),
        raw(
            "no such job",
            "GET",
            "/v1/jobs/00",
            None,
            b"",
            404,
            "not_found",
        ),
        // Methods.
        raw(
            "DELETE entries",
            "DELETE",
            "/v1/entries",
            None,
            b"",
            405,
            "method_not_allowed",
        ),
        raw(
            "PUT verify",
            "PUT",
            "/v1/verify",
            Some("application/json"),
            b"{}",
            405,
            "method_not_allowed",
        ),
        raw(
            "GET verify",
            "GET",
            "/v1/verify",
            None,
            b"",
            405,
            "method_not_allowed",
        ),
        raw(
            "POST an entry",
            "POST",
            "/v1/entries/1",
            Some("application/json"),
            b"{}",
            405,
            "method_not_allowed",
        ),
        // Verify.
        case(
            "verify without bundle",
            "POST",
            "/v1/verify",
            json!({}),
            400,
            "malformed",
        ),
        case(
            "verify, bundle a string",
            "POST",
            "/v1/verify",
            json!({"bundle": "x"}),
            400,
            "malformed",
        ),
        case(
            "verify, unknown statement",
            "POST",
            "/v1/verify",
            json!({"bundle": {"statement": "x", "version": 2, "public_inputs": {}, "proof": "", "vk_id": ""}}),
            422,
            "bad_bundle",
        ),
        case(
            "verify, invalid curve point",
            "POST",
            "/v1/verify",
            json!({"bundle": bundle}),
            422,
            "bad_bundle",
        ),
        case(
            "verify, proof not base64",
            "POST",
            "/v1/verify",
            json!({"bundle": {"statement": "record-inclusion", "version": 2, "public_inputs": {"records_root": "1", "category": "3", "binding": "2"}, "proof": "!!!", "vk_id": "00"}}),
            422,
            "bad_bundle",
        ),
        case(
            "verify, input = modulus",
            "POST",
            "/v1/verify",
            json!({"bundle": {"statement": "record-inclusion", "version": 2, "public_inputs": {"records_root": MODULUS, "category": "3", "binding": "2"}, "proof": bad_point, "vk_id": "00"}}),
            422,
            "bad_bundle",
        ),
        case(
            "verify, input missing",
            "POST",
            "/v1/verify",
            json!({"bundle": {"statement": "record-inclusion", "version": 2, "public_inputs": {"category": "3", "binding": "2"}, "proof": bad_point, "vk_id": "00"}}),
            422,
            "bad_bundle",
        ),
        case(
            "verify, binding not decimal",
            "POST",
            "/v1/verify",
            json!({"bundle": bundle, "expect_binding": "x"}),
            400,
            "malformed",
        ),
        // Proof jobs.
        case(
            "prove without record",
            "POST",
            "/v1/proofs/record-inclusion",
            json!({"binding": "1"}),
            400,
            "malformed",
        ),
        case(
            "prove with leaves",
            "POST",
            "/v1/proofs/record-inclusion",
            json!({"record": record, "binding": "1", "leaves": ["1"], "index": 0}),
            422,
            "not_provable",
        ),
        case(
            "prove, digest not hex",
            "POST",
            "/v1/proofs/record-inclusion",
            json!({"record": {"patient_ref": "1", "category": 3, "content_sha256": "x", "created_at": 1, "blinding": "2"}, "binding": "1"}),
            422,
            "not_provable",
        ),
        case(
            "prove, blinding = modulus",
            "POST",
            "/v1/proofs/record-inclusion",
            json!({"record": {"patient_ref": "1", "category": 3, "content_sha256": "00".repeat(32), "created_at": 1, "blinding": MODULUS}, "binding": "1"}),
            422,
            "not_provable",
        ),
        case(
            "prove, record not on the ledger",
            "POST",
            "/v1/proofs/record-inclusion",
            json!({"record": record, "binding": "1"}),
            422,
            "not_provable",
        ),
        case(
            "prove, unsigned",
            "POST",
            "/v1/proofs/record-inclusion",
            json!({"record": record, "binding": "1"}),
            401,
            "unauthenticated",
        ),
        raw(
            "job, unsigned",
            "GET",
            "/v1/jobs/00",
            None,
            b"",
            401,
            "unauthenticated",
        ),
    ];
    // Private routes get signed requests (but for the unsigned cases).
    let mut cases = cases;
    for k in cases.iter_mut() {
        k.signed = (k.path.starts_with("/v1/proofs/") || k.path.starts_with("/v1/jobs/"))
            && !k.name.ends_with("unsigned");
    }
    assert!(cases.len() >= 40);
    let mut failures = Vec::new();
    for k in &cases {
        let r = c
            .raw_signed(
                k.method,
                &k.path,
                k.content_type,
                &k.body,
                k.signed.then_some(&provider),
            )
            .unwrap();
        let got = r.error().map(|e| (e.error_code, e.error_message));
        match &got {
            Some((code, message))
                if r.status == k.status && code == k.code && !message.is_empty() => {}
            _ => failures.push(format!(
                "{}: expected {} {}, got {} {}",
                k.name, k.status, k.code, r.status, r.body
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Proof jobs are for keys on the ledger: a fresh key (which would also escape any
    // per-key quota) is refused before anything is proved.
    let r = c
        .signed_post(
            "/v1/proofs/record-inclusion",
            &json!({"record": record, "binding": "1"}),
            &key,
        )
        .unwrap();
    assert_eq!((r.status, code(&r).as_str()), (403, "unknown_key"));
    // None of them was written (the key they were signed with is still unknown), and
    // the service is up.
    let standing = c
        .get(&format!(
            "/v1/keys/{}",
            hex::encode(key.verifying_key().to_bytes())
        ))
        .unwrap();
    assert_eq!(standing.status, 404);
    assert_eq!(c.get("/healthz").unwrap().status, 200);
    assert_eq!(c.get("/readyz").unwrap().status, 200);
}

fn json_of(s: &Submission) -> Value {
    serde_json::to_value(medproof_service::wire::SubmissionJson::of(s)).unwrap()
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A second service with a freshness window of `window` seconds, on keys copied from
/// the first (so no second key generation).
fn short_window_service(window: u64) -> (Running, tempfile::TempDir) {
    another_service(|config| {
        config.rules = medproof_verifier::freshness::Freshness {
            window_secs: window,
            skew_secs: 300,
        }
    })
}

/// Another service, configured by `f`, on keys copied from the first.
fn another_service(f: impl FnOnce(&mut Config)) -> (Running, tempfile::TempDir) {
    let _ = service();
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("data/keys");
    std::fs::create_dir_all(&keys).unwrap();
    for f in std::fs::read_dir(data_dir().join("keys")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), keys.join(f.file_name())).unwrap();
    }
    let mut config = Config::new(dir.path().join("data"));
    config.bind = "127.0.0.1:0".into();
    config.prover_threads = 2;
    config.http_workers = 2;
    f(&mut config);
    (api::spawn(config).unwrap(), dir)
}

fn prove(c: &Client, statement: &str, input: &Value, key: &SigningKey) -> Value {
    let r = c
        .signed_post(&format!("/v1/proofs/{statement}"), input, key)
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.body);
    c.wait_job(
        r.location.as_deref().unwrap(),
        key,
        Duration::from_secs(120),
    )
    .unwrap()
}

fn verdict(c: &Client, bundle: &Value) -> Value {
    c.post("/v1/verify", &json!({ "bundle": bundle }))
        .unwrap()
        .ok()
        .unwrap()
}

#[test]
fn access_revocation_and_claims_over_http() {
    use ark_ff::UniformRand;
    use medproof_circuits::commit::{key_ref, procedure_code, ClaimOpening, ConsentOpening};
    use medproof_service::input::{AccessInput, ClaimInput, ClaimJson, ConsentJson, PolicyJson};

    // Long enough for a proof and its logging on 2 loaded cores (heartbeats supersede
    // the checkpoint every half window meanwhile), short enough to wait out below.
    const WINDOW: u64 = 8;
    let (running, dir) = short_window_service(WINDOW);
    let c = Client::new(&running.url());
    let registrar = registrar(&dir.path().join("data"));
    let ok = |s: &Submission| {
        let r = c.submit(s).unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
        r.body
    };
    let patient = Patient::generate(&mut OsRng);
    let provider = SigningKey::generate(&mut OsRng);
    let insurer = SigningKey::generate(&mut OsRng);
    ok(&sign(
        &c,
        Action::RegisterKey {
            role: Role::Patient,
        },
        &patient.key,
    ));
    for (k, role) in [(&provider, Role::Provider), (&insurer, Role::Insurer)] {
        ok(&sign(
            &c,
            Action::AdmitKey {
                key: k.verifying_key().to_bytes(),
                role,
            },
            &registrar,
        ));
    }
    let opening = record(&patient);
    ok(&sign(
        &c,
        Action::CommitRecord {
            commitment: opening.commitment(),
        },
        &provider,
    ));
    let now = c.get("/v1/ledger").unwrap().ok().unwrap()["time"]
        .as_u64()
        .unwrap();
    let consent = ConsentOpening {
        patient_ref: patient.patient_ref(),
        grantee: key_ref(&provider.verifying_key().to_bytes()),
        category: opening.category,
        purpose: 1,
        valid_from: now - 100,
        valid_until: now + 86_400,
        blinding: Fr::rand(&mut OsRng),
    };
    let granted = ok(&sign(
        &c,
        Action::GrantConsent {
            commitment: consent.commitment(),
        },
        &patient.key,
    ));
    let access = |nonce: u64| AccessInput {
        provider: hex::encode(provider.verifying_key().to_bytes()),
        consent: ConsentJson::from_opening(&consent),
        consent_index: granted["leaf_index"].as_u64().unwrap(),
        granter: hex::encode(patient.key.verifying_key().to_bytes()),
        patient_salt: fr_to_decimal(&patient.salt),
        record: RecordJson::from_opening(&opening),
        now,
        nonce: nonce.to_string(),
    };

    // The provider proves its access and logs it; the same proof is logged once.
    let proved_access = |nonce: u64| {
        let job = prove(
            &c,
            "access",
            &serde_json::to_value(access(nonce)).unwrap(),
            &provider,
        );
        assert_eq!(job["status"], "done", "{job}");
        job["bundle"].clone()
    };
    let bundle = proved_access(77);
    assert_eq!(verdict(&c, &bundle)["valid"], true);
    let log = |nonce: u64| {
        sign(
            &c,
            Action::LogAccess {
                bundle: bundle.to_string().into_bytes(),
                nonce: Fr::from(nonce),
            },
            &provider,
        )
    };
    let logged = ok(&log(77));
    let r = c.submit(&log(77)).unwrap();
    assert_eq!((r.status, code(&r).as_str()), (409, "duplicate_binding"));
    assert_eq!(r.location, Some(format!("/v1/entries/{}", logged["seq"])));
    // Logged under another nonce than the proof answers: refused.
    let r = c.submit(&log(78)).unwrap();
    assert_eq!((r.status, code(&r).as_str()), (422, "binding_mismatch"));

    // The patient reads the access history of their record: who, when, for what.
    let commitment = fr_to_decimal(&opening.commitment());
    let history = |key: &SigningKey, body: Value| c.signed_post("/v1/history", &body, key).unwrap();
    let mine = history(&patient.key, json!({ "records": [commitment] }));
    assert_eq!(mine.status, 200, "{}", mine.body);
    let seen = mine.body["accesses"].as_array().unwrap();
    assert_eq!(seen.len(), 1, "{}", mine.body);
    assert_eq!(seen[0]["seq"], logged["seq"]);
    assert_eq!(seen[0]["record"], commitment.as_str());
    assert_eq!(
        seen[0]["provider"],
        hex::encode(provider.verifying_key().to_bytes())
    );
    assert_eq!(
        (seen[0]["category"].as_str(), seen[0]["purpose"].as_str()),
        (Some("3"), Some("1"))
    );
    assert_eq!(mine.body["truncated"], false);
    assert_eq!(
        (seen[0]["authorized"].as_bool(), &seen[0]["problem"]),
        (Some(true), &Value::Null),
        "{}",
        mine.body
    );
    // Attack: the provider logs an access whose proof does not verify (another proof's
    // bytes under this request's inputs). The ledger appends it, as it must (an access
    // happened), and the patient's history lists it as not authorized, with the reason.
    let mut forged = proved_access(79);
    forged["proof"] = bundle["proof"].clone();
    ok(&sign(
        &c,
        Action::LogAccess {
            bundle: forged.to_string().into_bytes(),
            nonce: Fr::from(79u64),
        },
        &provider,
    ));
    let both = history(&patient.key, json!({ "records": [commitment] }));
    let seen = both.body["accesses"].as_array().unwrap();
    assert_eq!(seen.len(), 2, "{}", both.body);
    assert_eq!(seen[0]["authorized"], true, "{}", both.body);
    assert_eq!(seen[1]["authorized"], false, "{}", both.body);
    assert!(
        seen[1]["problem"]
            .as_str()
            .is_some_and(|p| p.contains("does not verify")),
        "{}",
        both.body
    );
    // A record nobody accessed has no history.
    let other = fr_to_decimal(&record(&patient).commitment());
    let none = history(&patient.key, json!({ "records": [other] }));
    assert_eq!(none.body["accesses"], json!([]), "{}", none.body);
    // Attack: another party asks; only a registered patient's key is answered.
    let r = history(&provider, json!({ "records": [commitment] }));
    assert_eq!(
        (r.status, code(&r).as_str()),
        (403, "wrong_role"),
        "{}",
        r.body
    );
    let stranger = SigningKey::generate(&mut OsRng);
    let r = history(&stranger, json!({ "records": [commitment] }));
    assert_eq!(
        (r.status, code(&r).as_str()),
        (403, "unknown_key"),
        "{}",
        r.body
    );
    // Unsigned, or malformed: no records, too many, a value at the modulus, a repeat.
    let r = c
        .post("/v1/history", &json!({ "records": [commitment] }))
        .unwrap();
    assert_eq!((r.status, code(&r).as_str()), (401, "unauthenticated"));
    let modulus = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
    for body in [
        json!({ "records": [] }),
        json!({ "records": vec![commitment.clone(); 65] }),
        json!({ "records": [modulus] }),
        json!({ "records": [commitment, commitment] }),
        json!({ "records": [commitment], "patient": "x" }),
    ] {
        let r = history(&patient.key, body.clone());
        assert_eq!(
            (r.status, code(&r).as_str()),
            (400, "malformed"),
            "{body}: {}",
            r.body
        );
    }

    // The patient revokes: no new proof can be made, and the old one is refused once
    // the window has passed.
    ok(&sign(
        &c,
        Action::RevokeConsent {
            consent_index: granted["leaf_index"].as_u64().unwrap(),
        },
        &patient.key,
    ));
    let r = c
        .signed_post(
            "/v1/proofs/access",
            &serde_json::to_value(access(79)).unwrap(),
            &provider,
        )
        .unwrap();
    assert_eq!((r.status, code(&r).as_str()), (422, "not_provable"));
    assert!(
        r.error().unwrap().error_message.contains("revoked"),
        "{}",
        r.body
    );
    std::thread::sleep(Duration::from_secs(WINDOW + 1));
    let v = verdict(&c, &bundle);
    assert_eq!(v["valid"], false, "{v}");
    let failed = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["passed"] == false)
        .unwrap()
        .clone();
    assert_eq!(failed["name"], "freshness", "{v}");

    // Claims: the insurer publishes a policy, the provider commits a claim record and
    // proves it meets the policy; the insurer submits the claim once.
    let codes = vec!["99213".to_string(), "99214".to_string()];
    let policy = PolicyJson {
        policyholder: fr_to_decimal(&patient.patient_ref()),
        codes: codes.clone(),
        period_start: now - 86_400,
        period_end: now + 86_400,
        limit: 50_000,
        blinding: fr_to_decimal(&Fr::rand(&mut OsRng)),
    };
    let policy_opening = medproof_circuits::commit::PolicyOpening {
        policyholder: patient.patient_ref(),
        codes_root: medproof_circuits::codes::CodeSet::new(&codes)
            .unwrap()
            .root(),
        period_start: policy.period_start,
        period_end: policy.period_end,
        limit: policy.limit,
        blinding: medproof_verifier::fr_from_decimal(&policy.blinding).unwrap(),
    };
    let published = Action::PublishPolicy {
        commitment: policy_opening.commitment(),
    };
    // Only an insurer publishes policies.
    let r = c.submit(&sign(&c, published.clone(), &provider)).unwrap();
    assert_eq!((r.status, code(&r).as_str()), (403, "wrong_role"));
    ok(&sign(&c, published, &insurer));
    let claim = ClaimOpening {
        patient_ref: patient.patient_ref(),
        code: procedure_code("99213").unwrap(),
        service_date: now - 10,
        amount: 12_000,
        content_digest: ContentDigest([9u8; 32]),
        blinding: Fr::rand(&mut OsRng),
    };
    ok(&sign(
        &c,
        Action::CommitRecord {
            commitment: claim.commitment(),
        },
        &provider,
    ));
    let input = ClaimInput {
        provider: hex::encode(provider.verifying_key().to_bytes()),
        claim: ClaimJson {
            patient_ref: fr_to_decimal(&claim.patient_ref),
            code: "99213".into(),
            service_date: claim.service_date,
            amount: claim.amount,
            content_sha256: hex::encode([9u8; 32]),
            blinding: fr_to_decimal(&claim.blinding),
        },
        policy,
        binding: "31337".into(),
    };
    let job = prove(
        &c,
        "claim",
        &serde_json::to_value(&input).unwrap(),
        &provider,
    );
    assert_eq!(job["status"], "done", "{job}");
    let bundle = job["bundle"].clone();
    assert_eq!(verdict(&c, &bundle)["valid"], true);
    let inputs = &bundle["public_inputs"];
    let submit = sign(
        &c,
        Action::SubmitClaim {
            policy: medproof_verifier::fr_from_decimal(inputs["policy"].as_str().unwrap()).unwrap(),
            claim_id: medproof_verifier::fr_from_decimal(inputs["claim_id"].as_str().unwrap())
                .unwrap(),
        },
        &insurer,
    );
    let first = ok(&submit);
    let again = sign(&c, submit.action.clone(), &insurer);
    let r = c.submit(&again).unwrap();
    assert_eq!(
        (r.status, code(&r).as_str()),
        (409, "claim_already_submitted")
    );
    assert_eq!(r.location, Some(format!("/v1/entries/{}", first["seq"])));
    // A claim (on the ledger) for a code the policy does not cover cannot be proved.
    let mut uncovered = input.clone();
    uncovered.claim.code = "00000".into();
    ok(&sign(
        &c,
        Action::CommitRecord {
            commitment: ClaimOpening {
                code: procedure_code("00000").unwrap(),
                ..claim.clone()
            }
            .commitment(),
        },
        &provider,
    ));
    let job = prove(
        &c,
        "claim",
        &serde_json::to_value(&uncovered).unwrap(),
        &provider,
    );
    assert_eq!(job["status"], "failed", "{job}");
    running.stop().unwrap();
}

#[test]
fn the_openapi_document_and_swagger_ui_are_served_offline() {
    let c = client();
    let doc = c.get("/openapi.json").unwrap().ok().unwrap();
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    for p in [
        "/v1/entries",
        "/v1/entries/{seq}",
        "/v1/checkpoints/latest",
        "/v1/paths/{commitment}",
        "/v1/verify",
        "/v1/proofs/access",
        "/v1/jobs/{id}",
    ] {
        assert!(paths.iter().any(|q| q.as_str() == p), "{p} missing");
    }
    assert!(doc["components"]["schemas"]["SubmissionJson"].is_object());
    let page = c.get("/docs/").unwrap();
    assert_eq!(page.status, 200);
    let html = page.body.as_str().unwrap();
    // The page's scripts come from the binary, not a CDN.
    assert!(html.contains("swagger-ui-bundle.js"));
    assert!(!html.contains("https://"), "a remote asset: {html}");
    assert_eq!(c.get("/docs/swagger-ui-bundle.js").unwrap().status, 200);
    assert_eq!(
        c.raw("POST", "/openapi.json", None, b"").unwrap().status,
        405
    );
}

#[test]
fn a_full_proof_queue_answers_503_and_metrics_name_the_limit() {
    let (running, dir) = another_service(|config| {
        config.prover_threads = 1;
        config.proof_queue = 1;
    });
    let c = Client::new(&running.url());
    let registrar = registrar(&dir.path().join("data"));
    let provider = admitted(&c, &registrar, Role::Provider);
    let input = committed_record(&c, &provider);
    // One proving, one queued: the rest are turned away at once, with Retry-After.
    let replies: Vec<Reply> = (0..8)
        .map(|_| {
            c.signed_post("/v1/proofs/record-inclusion", &input, &provider)
                .unwrap()
        })
        .collect();
    let full: Vec<&Reply> = replies.iter().filter(|r| r.status == 503).collect();
    assert!(
        !full.is_empty(),
        "no 503 among {:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(replies.iter().all(|r| r.status == 202 || r.status == 503));
    assert_eq!(code(full[0]), "proof_queue_full");
    assert!(full[0].retry_after.is_some());
    // Accepted jobs finish; nothing acknowledged is lost.
    for r in replies.iter().filter(|r| r.status == 202) {
        let job = c
            .wait_job(
                r.location.as_deref().unwrap(),
                &provider,
                Duration::from_secs(120),
            )
            .unwrap();
        assert_eq!(job["status"], "done", "{job}");
    }
    let metrics = c.get("/metrics").unwrap();
    assert_eq!(metrics.status, 200);
    let text = metrics.body.as_str().unwrap();
    for line in [
        "medproof_refusals_total{reason=\"proof_queue_full\"}",
        "medproof_proofs_total{outcome=\"ok\",statement=\"record-inclusion\"}",
        "medproof_http_requests_total{method=\"POST\",route=\"/v1/proofs/record-inclusion\",status=\"202\"}",
        "medproof_proof_queue_depth",
        "medproof_ledger_entries",
    ] {
        assert!(text.contains(line), "{line} not in metrics");
    }
    running.stop().unwrap();
}

#[test]
fn a_key_over_its_proof_quota_gets_429_and_an_audit_runs_over_http() {
    let (running, dir) = another_service(|config| config.proof_quota = 2);
    let c = Client::new(&running.url());
    let registrar = registrar(&dir.path().join("data"));
    let provider = admitted(&c, &registrar, Role::Provider);
    let input = json!({"record": {"patient_ref": "1", "category": 3, "content_sha256": "00".repeat(32), "created_at": 1, "blinding": "2"}, "binding": "1"});
    // Two are within the quota (and refused for what they ask); the third is over it.
    for _ in 0..2 {
        let r = c
            .signed_post("/v1/proofs/record-inclusion", &input, &provider)
            .unwrap();
        assert_eq!((r.status, code(&r).as_str()), (422, "not_provable"));
    }
    let r = c
        .signed_post("/v1/proofs/record-inclusion", &input, &provider)
        .unwrap();
    assert_eq!((r.status, code(&r).as_str()), (429, "over_quota"));
    assert!(r.retry_after.unwrap() >= 1);
    // Another key has its own quota.
    let other = admitted(&c, &registrar, Role::Provider);
    let r = c
        .signed_post("/v1/proofs/record-inclusion", &input, &other)
        .unwrap();
    assert_eq!(r.status, 422);
    let metrics = c.get("/metrics").unwrap();
    assert!(metrics
        .body
        .as_str()
        .unwrap()
        .contains("medproof_refusals_total{reason=\"over_quota\"}"));

    // The audit of the whole (short) ledger passes; a period past the end or too long
    // is a 422 with a reason.
    let entries = c.get("/v1/ledger").unwrap().ok().unwrap()["entries"]
        .as_u64()
        .unwrap();
    let report = c.get("/v1/audit?from=0").unwrap().ok().unwrap();
    assert_eq!(report["chain_ok"], true, "{report}");
    assert_eq!(report["to"], entries);
    let r = c
        .get(&format!("/v1/audit?from=0&to={}", entries + 10))
        .unwrap();
    assert_eq!((r.status, code(&r).as_str()), (422, "not_auditable"));
    let r = c.get("/v1/audit?from=0&to=100000").unwrap();
    assert_eq!((r.status, code(&r).as_str()), (422, "range_too_long"));
    let r = c.get("/v1/audit").unwrap();
    assert_eq!((r.status, code(&r).as_str()), (400, "malformed"));
    running.stop().unwrap();
}

#[test]
fn a_job_that_waited_past_its_timeout_fails_instead_of_starting() {
    let (running, dir) = another_service(|config| config.job_timeout_secs = 0);
    let c = Client::new(&running.url());
    let provider = admitted(&c, &registrar(&dir.path().join("data")), Role::Provider);
    let input = committed_record(&c, &provider);
    let r = c
        .signed_post("/v1/proofs/record-inclusion", &input, &provider)
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.body);
    let job = c
        .wait_job(
            r.location.as_deref().unwrap(),
            &provider,
            Duration::from_secs(60),
        )
        .unwrap();
    assert_eq!(job["status"], "failed", "{job}");
    assert!(
        job["error"].as_str().unwrap().contains("timed out"),
        "{job}"
    );
    running.stop().unwrap();
}

#[test]
fn the_service_speaks_tls_with_a_given_certificate() {
    let certs = tempfile::tempdir().unwrap();
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
    std::fs::write(certs.path().join("cert.pem"), &cert_pem).unwrap();
    std::fs::write(certs.path().join("key.pem"), &key_pem).unwrap();
    let (running, dir) = another_service(|config| {
        config.prover = false;
        config.tls = Some(api::tls::TlsFiles {
            cert: certs.path().join("cert.pem"),
            key: certs.path().join("key.pem"),
        });
    });
    assert!(running.url().starts_with("https://"), "{}", running.url());

    // A client that trusts the certificate reads and writes.
    let c = Client::with_ca(&running.url(), cert_pem.as_bytes()).unwrap();
    assert_eq!(c.get("/healthz").unwrap().status, 200);
    let patient = SigningKey::generate(&mut OsRng);
    let r = c
        .submit(&sign(
            &c,
            Action::RegisterKey {
                role: Role::Patient,
            },
            &patient,
        ))
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    // The registrar's admission over TLS as well (a signed submission like any other).
    admitted(&c, &registrar(&dir.path().join("data")), Role::Provider);

    // One that trusts only the public authorities refuses the self-signed certificate,
    // and plain HTTP to the TLS port gets no answer.
    assert!(Client::new(&running.url()).get("/healthz").is_err());
    let plain = format!("http://{}", running.addr);
    assert!(Client::new(&plain).get("/healthz").is_err());
    // A CA file without a certificate is refused before any request.
    assert!(Client::with_ca(&running.url(), key_pem.as_bytes()).is_err());
    running.stop().unwrap();
}

/// A production ledger names outside registrars (their public keys): no registrar key
/// is made on the ledger node, and the genesis names exactly them, for good.
#[test]
fn a_ledger_names_the_registrars_it_is_given() {
    let outside = SigningKey::generate(&mut OsRng);
    let public = outside.verifying_key();
    let (running, dir) = another_service(|config| {
        config.prover = false;
        config.registrars = Some(vec![public]);
    });
    let c = Client::new(&running.url());
    let info = c.get("/v1/ledger").unwrap().ok().unwrap();
    assert_eq!(info["registrars"], json!([hex::encode(public.to_bytes())]));
    let data = dir.path().join("data");
    assert!(!medproof_ledger::registrar_key_path(&data).exists());
    // The outside registrar admits a provider over HTTP.
    admitted(&c, &outside, Role::Provider);
    running.stop().unwrap();

    // Reopened with other registrars: refused by name, not silently ignored.
    let mut config = Config::new(data.clone());
    config.prover = false;
    config.registrars = Some(vec![SigningKey::generate(&mut OsRng).verifying_key()]);
    let err = api::Service::open(config).err().unwrap().to_string();
    assert!(err.contains(&hex::encode(public.to_bytes())), "{err}");
    // Reopened without naming any: the genesis still rules.
    let mut config = Config::new(data);
    config.prover = false;
    config.bind = "127.0.0.1:0".into();
    let running = api::spawn(config).unwrap();
    let info = Client::new(&running.url())
        .get("/v1/ledger")
        .unwrap()
        .ok()
        .unwrap();
    assert_eq!(info["registrars"], json!([hex::encode(public.to_bytes())]));
}

/// The transparency log over HTTP as C2SP says: `/checkpoint` a signed note of the log's
/// key and name, tiles that recompute its root, entry bundles that hash to the level-0
/// tile, proofs that check; bad tile paths 400, tiles the log does not hold 404.
#[test]
fn the_ledger_is_served_as_a_c2sp_tiled_log() {
    use medproof_ledger::tlog::{self, Hash, LogVerifier};
    let (running, _dir) = another_service(|_| {});
    let c = Client::new(&running.url());
    let info = c.get("/v1/log").unwrap().ok().unwrap();
    // No witness is configured: the log says so, and the cosigned note is not there.
    assert_eq!(info["cosigned"], false);
    assert_eq!(c.get("/v1/log/cosigned").unwrap().status, 404);
    let ledger = c.get("/v1/ledger").unwrap().ok().unwrap();
    let key =
        medproof_ledger::keyfile::parse_public(ledger["public_key"].as_str().unwrap()).unwrap();
    // The verifier key is the log's name and the ledger's key, nothing else.
    let v = LogVerifier::from_verifier_key(info["verifier_key"].as_str().unwrap()).unwrap();
    assert_eq!(
        v.verifier_key(),
        LogVerifier::new(v.origin(), key).unwrap().verifier_key()
    );
    // The verifying keys are served, each the one the genesis names by its SHA-256;
    // another statement is 404.
    for statement in medproof_verifier::Statement::ALL {
        let vk = c
            .get_bytes(&format!("/v1/verifying-keys/{}", statement.name()))
            .unwrap();
        assert_eq!(vk.status, 200);
        use sha2::Digest;
        let id = hex::encode(sha2::Sha256::digest(&vk.body));
        let named = ledger["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["statement"] == statement.name())
            .unwrap();
        assert_eq!(named["vk_id"].as_str().unwrap(), id, "{named}");
    }
    assert_eq!(
        c.get_bytes("/v1/verifying-keys/whatever").unwrap().status,
        404
    );
    let cp = c.get_bytes("/checkpoint").unwrap();
    assert_eq!(cp.status, 200);
    assert_eq!(cp.content_type, "text/plain; charset=utf-8");
    assert_eq!(cp.cache_control, "max-age=1");
    let signed = v.open(&cp.body).unwrap();
    assert_eq!(signed.size, info["size"].as_u64().unwrap());
    assert!(signed.size >= 2, "a genesis and its checkpoint");
    // The entries, hashed, make the level-0 tile and the checkpoint's root.
    let n = signed.size;
    let bundle = c.get_bytes(&format!("/tile/entries/000.p/{n}")).unwrap();
    assert_eq!(bundle.status, 200);
    assert_eq!(bundle.content_type, "application/octet-stream");
    assert!(
        bundle.cache_control.contains("immutable"),
        "{}",
        bundle.cache_control
    );
    let entries = tlog::split_entry_bundle(&bundle.body).unwrap();
    assert_eq!(entries.len() as u64, n);
    let tile = c.get_bytes(&format!("/tile/0/000.p/{n}")).unwrap();
    let leaves: Vec<Hash> = tile
        .body
        .chunks(32)
        .map(|h| Hash(h.try_into().unwrap()))
        .collect();
    for (e, h) in entries.iter().zip(&leaves) {
        assert_eq!(tlog::leaf_hash(e), *h);
    }
    let one = c.get("/v1/log/inclusion?index=0").unwrap().ok().unwrap();
    let proof = medproof_service::wire::hashes_from_b64(
        &serde_json::from_value::<Vec<String>>(one["proof"].clone()).unwrap(),
    )
    .unwrap();
    tlog::check_inclusion(&proof, n, signed.root, 0, leaves[0]).unwrap();
    let cons = c
        .get(&format!("/v1/log/consistency?old=1&new={n}"))
        .unwrap()
        .ok()
        .unwrap();
    assert_eq!(cons["new_root"].as_str().unwrap(), signed.root.to_string());
    // What is not a tile, and what the log does not hold yet.
    for bad in [
        "/tile/64/000",
        "/tile/0/0",
        "/tile/0/000.p/0",
        "/tile/0/000.p/256",
        "/tile/entries/x000/001",
        "/tile/data/000",
    ] {
        let r = c.get(bad).unwrap();
        assert_eq!((r.status, code(&r).as_str()), (400, "malformed"), "{bad}");
    }
    for missing in ["/tile/0/000", "/tile/1/000.p/1", "/tile/entries/001"] {
        let r = c.get(missing).unwrap();
        assert_eq!(
            (r.status, code(&r).as_str()),
            (404, "not_found"),
            "{missing}"
        );
    }
    for bad in [
        format!("/v1/log/inclusion?index={n}"),
        format!("/v1/log/consistency?old=0&new={n}"),
        format!("/v1/log/consistency?old=1&new={}", n + 1),
    ] {
        let r = c.get(&bad).unwrap();
        assert_eq!((r.status, code(&r).as_str()), (400, "malformed"), "{bad}");
    }
}
