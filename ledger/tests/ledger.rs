//! The ledger's contract: both backends agree, bad submissions change nothing,
//! revocation empties a leaf, checkpoints keep their history, and a store altered
//! outside medproof is caught by `verify` (naming the seq) and at open.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use medproof_circuits::commit::{consent_leaf, key_ref, record_leaf};
use medproof_ledger::entry::Genesis;
use medproof_ledger::ledger::Refusal;
use medproof_ledger::store::Cf;
use medproof_ledger::verify::verify;
use medproof_ledger::{
    Action, Clock, Envelope, Ledger, LedgerError, MemStore, RocksStore, Role, Store, Submission,
};
use medproof_verifier::statement::{AccessPublic, RecordInclusionPublic};
use medproof_verifier::{Fr, ProofBundle, Statement};

#[derive(Debug)]
struct ManualClock(AtomicU64);

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn clock(t: u64) -> Arc<ManualClock> {
    Arc::new(ManualClock(AtomicU64::new(t)))
}

fn ledger_key() -> SigningKey {
    SigningKey::from_bytes(&[42u8; 32])
}

fn registrar() -> SigningKey {
    SigningKey::from_bytes(&[43u8; 32])
}

/// When every test ledger is created.
const T0: u64 = 1_700_000_000;

/// A new ledger in `store`, created at T0 with the test registrar.
fn created<S: Store>(store: S, c: Arc<ManualClock>) -> Ledger<S> {
    Ledger::create(store, ledger_key(), c, &[registrar().verifying_key()], &[]).unwrap()
}

/// The id of every test ledger: the hash of its genesis, created at T0.
fn envelope() -> Envelope {
    let genesis = Genesis::entry(
        &ledger_key(),
        &[registrar().verifying_key().to_bytes()],
        &[],
        T0,
    );
    Envelope {
        ledger_id: genesis.hash(),
        expires: u64::MAX,
    }
}

struct Actors {
    provider: SigningKey,
    patient: SigningKey,
    other_patient: SigningKey,
    insurer: SigningKey,
}

fn actors() -> Actors {
    Actors {
        provider: SigningKey::from_bytes(&[1u8; 32]),
        patient: SigningKey::from_bytes(&[2u8; 32]),
        other_patient: SigningKey::from_bytes(&[3u8; 32]),
        insurer: SigningKey::from_bytes(&[4u8; 32]),
    }
}

fn sub(action: Action, key: &SigningKey, n: u8) -> Submission {
    Submission::sign_with_nonce(action, key, envelope(), [n; 16])
}

/// The registrar admits `key` for `role`.
fn admit(key: &SigningKey, role: Role, n: u8) -> Submission {
    sub(
        Action::AdmitKey {
            key: key.verifying_key().to_bytes(),
            role,
        },
        &registrar(),
        n,
    )
}

/// A record commitment `c`, signed by `key` with nonce `n`.
fn commit(c: u64, key: &SigningKey, n: u8) -> Submission {
    sub(
        Action::CommitRecord {
            commitment: Fr::from(c),
        },
        key,
        n,
    )
}

/// A fixed script of operations, deterministic (fixed nonces and clock).
fn script<S: Store>(l: &mut Ledger<S>, c: &ManualClock, a: &Actors) {
    let reg = |k: &SigningKey, role, n| sub(Action::RegisterKey { role }, k, n);
    l.append(&[
        admit(&a.provider, Role::Provider, 1),
        reg(&a.patient, Role::Patient, 2),
        reg(&a.other_patient, Role::Patient, 3),
        admit(&a.insurer, Role::Insurer, 4),
    ])
    .unwrap();
    c.0.fetch_add(10, Ordering::SeqCst);
    for i in 0..5u64 {
        l.append_one(sub(
            Action::CommitRecord {
                commitment: Fr::from(100 + i),
            },
            &a.provider,
            10 + i as u8,
        ))
        .unwrap();
    }
    c.0.fetch_add(10, Ordering::SeqCst);
    l.append(&[
        sub(
            Action::GrantConsent {
                commitment: Fr::from(200u64),
            },
            &a.patient,
            20,
        ),
        sub(
            Action::GrantConsent {
                commitment: Fr::from(201u64),
            },
            &a.other_patient,
            21,
        ),
        sub(
            Action::PublishPolicy {
                commitment: Fr::from(300u64),
            },
            &a.insurer,
            22,
        ),
    ])
    .unwrap();
    c.0.fetch_add(10, Ordering::SeqCst);
    l.append_one(sub(
        Action::RevokeConsent { consent_index: 0 },
        &a.patient,
        30,
    ))
    .unwrap();
}

fn state<S: Store>(l: &Ledger<S>) -> (u64, [u8; 32], Fr, Fr) {
    (
        l.len(),
        l.chain_head(),
        l.records().root(),
        l.consents().root(),
    )
}

#[test]
fn memory_and_rocksdb_agree_across_reopen() {
    let a = actors();
    let c = clock(T0);
    let mut mem = created(MemStore::new(), c.clone());
    script(&mut mem, &c, &a);

    let (dir, rocks) = rocks_ledger();
    assert_eq!(state(&mem), state(&rocks));
    let before = state(&rocks);
    drop(rocks);

    let rocks = Ledger::open(
        RocksStore::open(dir.path()).unwrap(),
        ledger_key(),
        clock(0),
    )
    .unwrap();
    assert_eq!(state(&rocks), before);
    let mem = Ledger::open(mem.into_store(), ledger_key(), c.clone()).unwrap();
    assert_eq!(state(&mem), before);
    assert_eq!(
        verify(rocks.store(), &ledger_key().verifying_key())
            .unwrap()
            .entries,
        before.0
    );
    assert_eq!(
        verify(mem.store(), &ledger_key().verifying_key())
            .unwrap()
            .chain_head,
        before.1
    );

    // The latest checkpoint vouches for the trees, and paths verify against it.
    let cp = rocks.latest_checkpoint().unwrap().unwrap();
    assert_eq!(cp.checkpoint.records_root, rocks.records().root());
    assert!(cp.checkpoint.verify(&ledger_key().verifying_key()).is_ok());
    let (tree, index, path) = rocks.locate(&Fr::from(103u64)).unwrap().unwrap();
    assert_eq!((tree, index), (medproof_ledger::TreeId::Records, 3));
    // The leaf is the commitment wrapped with the committing provider's key.
    let path = path.unwrap();
    let committer = key_ref(&a.provider.verifying_key().to_bytes());
    assert!(path.verify(
        cp.checkpoint.records_root,
        record_leaf(committer, Fr::from(103u64))
    ));
    assert!(!path.verify(cp.checkpoint.records_root, Fr::from(103u64)));
    // Read together with the checkpoint it is against.
    let anchored = rocks.anchored_path(&Fr::from(103u64)).unwrap().unwrap();
    assert_eq!(anchored.checkpoint, cp.checkpoint);
    assert_eq!(
        (anchored.path, anchored.leaf),
        (path, record_leaf(committer, Fr::from(103u64)))
    );
    assert_eq!(anchored.added_by, a.provider.verifying_key().to_bytes());
    // A policy is in no tree.
    assert!(rocks.anchored_path(&Fr::from(300u64)).unwrap().is_none());
}

#[test]
fn refused_submissions_change_nothing() {
    let a = actors();
    let c = clock(T0);
    let mut l = created(MemStore::new(), c.clone());
    script(&mut l, &c, &a);
    let before = state(&l);
    let refused = |l: &mut Ledger<MemStore>, s: Submission| match l.append_one(s) {
        Err(LedgerError::Refused { reason, .. }) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    };

    // Wrong key: signed by the patient, claiming the provider's key.
    let mut wrong_key = sub(
        Action::CommitRecord {
            commitment: Fr::from(900u64),
        },
        &a.patient,
        90,
    );
    wrong_key.signer = a.provider.verifying_key().to_bytes();
    assert_eq!(refused(&mut l, wrong_key), Refusal::BadSignature);
    // Wrong payload: the commitment changed after signing.
    let mut wrong_payload = sub(
        Action::CommitRecord {
            commitment: Fr::from(901u64),
        },
        &a.provider,
        91,
    );
    wrong_payload.action = Action::CommitRecord {
        commitment: Fr::from(902u64),
    };
    assert_eq!(refused(&mut l, wrong_payload), Refusal::BadSignature);
    // Replay of an accepted submission.
    assert_eq!(
        refused(&mut l, commit(100, &a.provider, 10)),
        Refusal::Replay
    );
    // Revocation by someone who did not grant it.
    assert_eq!(
        refused(
            &mut l,
            sub(Action::RevokeConsent { consent_index: 1 }, &a.patient, 92)
        ),
        Refusal::NotGranter(1)
    );
    // Revoking twice, a consent that does not exist.
    assert_eq!(
        refused(
            &mut l,
            sub(Action::RevokeConsent { consent_index: 0 }, &a.patient, 93)
        ),
        Refusal::AlreadyRevoked(0)
    );
    assert_eq!(
        refused(
            &mut l,
            sub(Action::RevokeConsent { consent_index: 9 }, &a.patient, 94)
        ),
        Refusal::NoSuchConsent(9)
    );
    // Unknown key, wrong role, duplicate commitment, junk access bundle.
    let stranger = SigningKey::from_bytes(&[9u8; 32]);
    assert_eq!(
        refused(&mut l, commit(903, &stranger, 95)),
        Refusal::UnknownKey
    );
    assert!(matches!(
        refused(&mut l, commit(904, &a.patient, 96)),
        Refusal::WrongRole { .. }
    ));
    assert_eq!(
        refused(&mut l, commit(100, &a.provider, 97)),
        Refusal::DuplicateCommitment
    );
    assert!(matches!(
        refused(
            &mut l,
            sub(
                Action::LogAccess {
                    bundle: b"not a bundle".to_vec(),
                    nonce: Fr::from(1u64),
                },
                &a.provider,
                98
            )
        ),
        Refusal::BadBundle(_)
    ));
    // A batch with one bad submission lands nothing, and names it.
    let batch = [
        sub(
            Action::CommitRecord {
                commitment: Fr::from(905u64),
            },
            &a.provider,
            99,
        ),
        sub(
            Action::CommitRecord {
                commitment: Fr::from(906u64),
            },
            &stranger,
            100,
        ),
    ];
    assert!(matches!(
        l.append(&batch),
        Err(LedgerError::Refused {
            index: 1,
            reason: Refusal::UnknownKey
        })
    ));
    assert!(matches!(l.append(&[]), Err(LedgerError::EmptyBatch)));
    assert_eq!(state(&l), before);
    assert!(verify(l.store(), &ledger_key().verifying_key()).is_ok());
}

#[test]
fn revocation_empties_the_leaf_and_checkpoints_keep_history() {
    let a = actors();
    let c = clock(T0);
    let mut l = created(MemStore::new(), c.clone());
    script(&mut l, &c, &a);
    // Consent 0 was revoked: its leaf is empty and its old path no longer proves it.
    assert_eq!(l.consents().leaf(0), Some(Fr::from(0u64)));
    let granted_by =
        |k: &SigningKey, c: u64| consent_leaf(key_ref(&k.verifying_key().to_bytes()), Fr::from(c));
    let (_, _, path) = l.locate(&Fr::from(200u64)).unwrap().unwrap();
    assert!(!path
        .unwrap()
        .verify(l.consents().root(), granted_by(&a.patient, 200)));
    let (_, _, path) = l.locate(&Fr::from(201u64)).unwrap().unwrap();
    assert!(path
        .unwrap()
        .verify(l.consents().root(), granted_by(&a.other_patient, 201)));

    // One checkpoint after the genesis and per append; each superseded at the time of
    // the next.
    let history = l.checkpoint_history();
    assert_eq!(history.len(), 9);
    assert_eq!(history.last().unwrap().1, None);
    for w in history.windows(2) {
        let next = l.checkpoint_at(w[1].0).unwrap().unwrap();
        assert_eq!(w[0].1, Some(next.checkpoint.time));
    }
    let first = l.checkpoint_at(history[1].0).unwrap().unwrap();
    assert_eq!(first.superseded_at, Some(1_700_000_010));
    assert!(
        l.checkpoint_at(0).unwrap().is_none(),
        "seq 0 is the genesis, not a checkpoint"
    );
}

/// A RocksDB ledger in a temporary dir after the script.
fn rocks_ledger() -> (tempfile::TempDir, Ledger<RocksStore>) {
    let dir = tempfile::tempdir().unwrap();
    let c = clock(T0);
    let mut l = created(RocksStore::open(dir.path()).unwrap(), c.clone());
    script(&mut l, &c, &actors());
    (dir, l)
}

fn verify_dir(
    dir: &std::path::Path,
) -> Result<medproof_ledger::verify::VerifyReport, medproof_ledger::verify::VerifyFailure> {
    verify(
        &RocksStore::open(dir).unwrap(),
        &ledger_key().verifying_key(),
    )
}

#[test]
fn tampering_is_detected_with_the_seq_named() {
    // Altering one byte of a stored entry, at several places in it.
    for (seq, byte) in [
        (5u64, 60usize),
        (6, 20),
        (9, 50),
        (12, 10),
        (10, 12),
        (15, 30),
    ] {
        let (dir, _) = rocks_ledger();
        let store = RocksStore::open(dir.path()).unwrap();
        let mut bytes = store.get(Cf::Entries, &seq.to_be_bytes()).unwrap().unwrap();
        let at = byte % bytes.len();
        bytes[at] ^= 0x01;
        store
            .raw_put(Cf::Entries, &seq.to_be_bytes(), &bytes)
            .unwrap();
        drop(store);
        let err = verify_dir(dir.path()).unwrap_err();
        assert_eq!(err.seq, Some(seq), "altered byte {byte} of {seq}: {err}");
    }
    // Deleting an entry.
    let (dir, _) = rocks_ledger();
    RocksStore::open(dir.path())
        .unwrap()
        .raw_delete(Cf::Entries, &7u64.to_be_bytes())
        .unwrap();
    let err = verify_dir(dir.path()).unwrap_err();
    assert_eq!(err.seq, Some(7), "{err}");
    assert!(err.reason.contains("missing"), "{err}");
    // Swapping two entries.
    let (dir, _) = rocks_ledger();
    let store = RocksStore::open(dir.path()).unwrap();
    let e3 = store
        .get(Cf::Entries, &3u64.to_be_bytes())
        .unwrap()
        .unwrap();
    let e8 = store
        .get(Cf::Entries, &8u64.to_be_bytes())
        .unwrap()
        .unwrap();
    store
        .raw_put(Cf::Entries, &3u64.to_be_bytes(), &e8)
        .unwrap();
    store
        .raw_put(Cf::Entries, &8u64.to_be_bytes(), &e3)
        .unwrap();
    drop(store);
    let err = verify_dir(dir.path()).unwrap_err();
    assert_eq!(err.seq, Some(3), "{err}");
}

#[test]
fn a_deleted_replay_row_is_caught_by_verify() {
    // Without its `Seen` row, the writer would take a replay of that submission; the
    // chain still says it was taken, and `verify` checks the index against it.
    let c = clock(T0);
    let mut l = created(MemStore::new(), c.clone());
    script(&mut l, &c, &actors());
    let mut store = l.into_store();
    let first = store.raw_mut(Cf::Seen).keys().next().unwrap().clone();
    store.raw_mut(Cf::Seen).remove(&first);
    let err = verify(&store, &ledger_key().verifying_key()).unwrap_err();
    assert!(err.reason.contains("replay index"), "{err}");
}

#[test]
fn opening_an_altered_store_reports_it() {
    let (dir, l) = rocks_ledger();
    let last = l.len() - 1;
    drop(l);
    // Alter the last entry (a checkpoint): the quick check at open catches it.
    let store = RocksStore::open(dir.path()).unwrap();
    let mut bytes = store
        .get(Cf::Entries, &last.to_be_bytes())
        .unwrap()
        .unwrap();
    let n = bytes.len();
    bytes[n - 70] ^= 1;
    store
        .raw_put(Cf::Entries, &last.to_be_bytes(), &bytes)
        .unwrap();
    let err = Ledger::open(store, ledger_key(), clock(0)).unwrap_err();
    assert!(
        matches!(err, LedgerError::Corrupt { seq: Some(s), .. } if s == last),
        "{err}"
    );

    // A tree node altered: the trees no longer match the last checkpoint.
    let (dir, _) = rocks_ledger();
    let store = RocksStore::open(dir.path()).unwrap();
    let mut key = vec![0u8, 32];
    key.extend_from_slice(&0u64.to_be_bytes());
    store.raw_put(Cf::Nodes, &key, &[7u8; 32]).unwrap();
    let err = Ledger::open(store, ledger_key(), clock(0)).unwrap_err();
    assert!(matches!(err, LedgerError::Corrupt { .. }), "{err}");

    // Opened with another ledger key: its checkpoints are not ours.
    let (dir, _) = rocks_ledger();
    let err = Ledger::open(
        RocksStore::open(dir.path()).unwrap(),
        SigningKey::from_bytes(&[1u8; 32]),
        clock(0),
    )
    .unwrap_err();
    assert!(matches!(err, LedgerError::Corrupt { .. }), "{err}");
}

/// Opening to append never creates a ledger: only `open_dir_with` does, with the
/// genesis it is given (whose verifying keys are named then, never by default).
#[test]
fn opening_a_data_dir_without_a_ledger_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let err =
        medproof_ledger::open_dir(dir.path(), Arc::new(medproof_ledger::SystemClock)).unwrap_err();
    assert!(
        matches!(err, medproof_ledger::OpenError::NoLedger(_)),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_ledger_whose_key_is_gone_is_not_rekeyed() {
    let dir = tempfile::tempdir().unwrap();
    let l = medproof_ledger::open_dir_with(
        dir.path(),
        Arc::new(medproof_ledger::SystemClock),
        Some(medproof_ledger::NewLedger::default()),
    )
    .unwrap();
    drop(l);
    std::fs::remove_file(medproof_ledger::key_path(dir.path())).unwrap();
    let err = medproof_ledger::open_dir_with(
        dir.path(),
        Arc::new(medproof_ledger::SystemClock),
        Some(medproof_ledger::NewLedger::default()),
    )
    .unwrap_err();
    assert!(matches!(err, medproof_ledger::OpenError::Key(_)), "{err}");
    assert!(!medproof_ledger::key_path(dir.path()).exists());
}

#[test]
fn grant_and_revoke_in_one_batch() {
    let a = actors();
    let c = clock(T0);
    let mut l = created(MemStore::new(), c.clone());
    script(&mut l, &c, &a);
    let next = l.consents().len();
    let receipt = l
        .append(&[
            sub(
                Action::GrantConsent {
                    commitment: Fr::from(210u64),
                },
                &a.patient,
                40,
            ),
            sub(
                Action::GrantConsent {
                    commitment: Fr::from(211u64),
                },
                &a.patient,
                41,
            ),
            sub(
                Action::RevokeConsent {
                    consent_index: next,
                },
                &a.patient,
                42,
            ),
            sub(
                Action::CommitRecord {
                    commitment: Fr::from(110u64),
                },
                &a.provider,
                43,
            ),
        ])
        .unwrap();
    assert_eq!(
        receipt.leaf_indices,
        vec![Some(next), Some(next + 1), Some(next), Some(5)]
    );
    assert_eq!(l.consents().leaf(next), Some(Fr::from(0u64)));
    assert_eq!(
        l.consents().leaf(next + 1),
        Some(consent_leaf(
            key_ref(&a.patient.verifying_key().to_bytes()),
            Fr::from(211u64)
        ))
    );
    let mut naive = medproof_circuits::merkle::MerkleTree::new();
    for i in 0..l.consents().len() {
        naive.push(l.consents().leaf(i).unwrap()).unwrap();
    }
    assert_eq!(naive.root(), l.consents().root());
    assert_eq!(receipt.checkpoint.consents_root, naive.root());
    assert!(verify(l.store(), &ledger_key().verifying_key()).is_ok());
}

#[test]
fn a_store_of_another_format_is_refused_by_name() {
    let c = clock(T0);
    let a = actors();
    let mut l = created(MemStore::new(), c.clone());
    script(&mut l, &c, &a);
    let mut store = l.into_store();
    // What an older medproof wrote: no format key.
    store.raw_mut(Cf::Meta).remove(b"format".as_slice());
    match Ledger::open(store.clone(), ledger_key(), c.clone()) {
        Err(LedgerError::Format { found: 1 }) => {}
        other => panic!("expected a format error, got {:?}", other.map(|_| ())),
    }
    // Format 5: binary trees, whose nodes a 4-ary reading would misplace.
    for old in [2u32, 5] {
        store
            .raw_mut(Cf::Meta)
            .insert(b"format".to_vec(), old.to_be_bytes().to_vec());
        let err = Ledger::open(store.clone(), ledger_key(), c.clone())
            .err()
            .unwrap();
        assert!(
            err.to_string().contains(&format!("format is {old}")),
            "{err}"
        );
    }
}

/// A well-formed bundle of `statement` naming `provider` (its proof does not verify:
/// the ledger checks form and signer, the audit checks proofs).
fn bundle_for(statement: Statement, provider: &SigningKey) -> Vec<u8> {
    bundle_bound(statement, provider, Fr::from(5u64))
}

/// [`bundle_for`], its request binding computed with `nonce`.
fn bundle_bound(statement: Statement, provider: &SigningKey, nonce: Fr) -> Vec<u8> {
    let binding = medproof_circuits::commit::request_binding(
        medproof_circuits::commit::provider_ref(&provider.verifying_key().to_bytes()),
        Fr::from(3u64),
        1_000,
        nonce,
    );
    use ark_ec::AffineRepr;
    let proof = medproof_verifier::Proof {
        a: ark_bn254::G1Affine::generator(),
        b: ark_bn254::G2Affine::generator(),
        c: ark_bn254::G1Affine::generator(),
    };
    let provider = medproof_circuits::commit::provider_ref(&provider.verifying_key().to_bytes());
    let b = match statement {
        Statement::AccessAuthorization => ProofBundle::new(
            &AccessPublic {
                consents_root: Fr::from(1u64),
                provider_ref: provider,
                category: 1,
                purpose: 1,
                now: 1_000,
                request_binding: binding,
                record: Fr::from(3u64),
            },
            &proof,
            "vk",
        ),
        _ => ProofBundle::new(
            &RecordInclusionPublic::new(Fr::from(1u64), 1, Fr::from(2u64)),
            &proof,
            "vk",
        ),
    };
    b.to_json().into_bytes()
}

#[test]
fn access_entries_carry_the_signers_access_proof() {
    let c = clock(T0);
    let a = actors();
    let mut l = created(MemStore::new(), c.clone());
    script(&mut l, &c, &a);
    let nonce = Fr::from(5u64);
    let log = |bundle: Vec<u8>, n: u8| sub(Action::LogAccess { bundle, nonce }, &a.provider, n);
    let len = l.len();
    let refusal = |l: &mut Ledger<MemStore>, s: Submission| match l.append_one(s) {
        Err(LedgerError::Refused { reason, .. }) => reason,
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    };
    assert!(matches!(
        refusal(
            &mut l,
            log(bundle_for(Statement::RecordInclusion, &a.provider), 1)
        ),
        Refusal::NotAnAccessProof(_)
    ));
    let stranger = SigningKey::from_bytes(&[42u8; 32]);
    assert!(matches!(
        refusal(
            &mut l,
            log(bundle_for(Statement::AccessAuthorization, &stranger), 2)
        ),
        Refusal::NotTheSignersAccess
    ));
    assert_eq!(l.len(), len);
    // Attack: a proof presented for another request (its binding was made with another
    // nonce than the one the entry names).
    assert_eq!(
        refusal(
            &mut l,
            log(
                bundle_bound(Statement::AccessAuthorization, &a.provider, Fr::from(6u64)),
                4
            )
        ),
        Refusal::BindingMismatch
    );
    l.append_one(log(
        bundle_for(Statement::AccessAuthorization, &a.provider),
        3,
    ))
    .unwrap();
    // Attack: the same proof logged twice.
    assert_eq!(
        refusal(
            &mut l,
            log(bundle_for(Statement::AccessAuthorization, &a.provider), 5)
        ),
        Refusal::DuplicateBinding
    );
    assert!(verify(l.store(), &ledger_key().verifying_key()).is_ok());

    // The access history of a record: the one access to record 3, none to another.
    let logged = l.len() - 2; // the access entry, then its checkpoint
    let history = l.accesses_of(&Fr::from(3u64), 10).unwrap();
    assert_eq!(
        history.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![logged]
    );
    assert!(l.accesses_of(&Fr::from(4u64), 10).unwrap().is_empty());
    assert!(l.accesses_of(&Fr::from(3u64), 0).unwrap().is_empty());

    // Attack on the index (write access to the data dir): a hint that points at an
    // entry that is no access to the record is caught when read and by `ledger verify`;
    // a hint removed is caught by `ledger verify`.
    let mut store = l.into_store();
    let mut forged = medproof_verifier::checkpoint::fr_to_be32(&Fr::from(4u64)).to_vec();
    forged.extend_from_slice(&2u64.to_be_bytes());
    store.raw_mut(Cf::Accesses).insert(forged, Vec::new());
    let err = verify(&store, &ledger_key().verifying_key()).unwrap_err();
    assert!(err.to_string().contains("access"), "{err}");
    let l = Ledger::open(store, ledger_key(), c.clone()).unwrap();
    let err = l.accesses_of(&Fr::from(4u64), 10).unwrap_err();
    assert!(err.to_string().contains("not an access"), "{err}");
    let mut store = l.into_store();
    store.raw_mut(Cf::Accesses).clear();
    let err = verify(&store, &ledger_key().verifying_key()).unwrap_err();
    assert!(err.to_string().contains("access"), "{err}");
}

/// Attack: an access entry whose bundle is a valid proof bundle padded past the size an
/// entry may hold. Were it accepted, the entry would be written and then never decode:
/// the ledger would no longer open.
#[test]
fn an_oversized_access_bundle_is_refused_before_it_is_written() {
    let c = clock(T0);
    let a = actors();
    let mut l = created(MemStore::new(), c.clone());
    script(&mut l, &c, &a);
    let mut bundle = bundle_for(Statement::AccessAuthorization, &a.provider);
    bundle.resize(medproof_ledger::entry::MAX_BUNDLE_BYTES + 1, b' ');
    let s = sub(
        Action::LogAccess {
            bundle,
            nonce: Fr::from(5u64),
        },
        &a.provider,
        1,
    );
    let len = l.len();
    match l.append_one(s) {
        Err(LedgerError::Refused {
            reason: Refusal::BadBundle(why),
            ..
        }) => assert!(why.contains("larger than"), "{why}"),
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
    assert_eq!(l.len(), len);
    assert!(verify(l.store(), &ledger_key().verifying_key()).is_ok());
}

#[test]
fn append_each_lands_the_accepted_and_refuses_the_others_alone() {
    let c = clock(T0);
    let a = actors();
    let mut l = created(MemStore::new(), c.clone());
    script(&mut l, &c, &a);
    let stranger = SigningKey::from_bytes(&[9u8; 32]);
    let first = commit(950, &a.provider, 1);
    let batch = [
        first.clone(),
        commit(951, &stranger, 2),
        // The same commitment as the first, in the same batch: the first one is taken.
        commit(950, &a.provider, 3),
        commit(952, &a.provider, 4),
    ];
    let len = l.len();
    let out = l.append_each(&batch).unwrap();
    let cp = out.checkpoint.expect("two were accepted");
    assert_eq!(out.results[0].clone().unwrap().seq, len);
    assert_eq!(out.results[1], Err(Refusal::UnknownKey));
    assert_eq!(out.results[2], Err(Refusal::DuplicateCommitment));
    assert_eq!(out.results[3].clone().unwrap().seq, len + 1);
    assert_eq!(cp.seq, len + 2);
    assert_eq!(l.len(), len + 3);
    assert!(verify(l.store(), &ledger_key().verifying_key()).is_ok());

    // A duplicate or a replay names the entry that holds it; nothing is written.
    let again = l
        .append_each(&[first.clone(), commit(950, &a.provider, 5)])
        .unwrap();
    assert_eq!(again.checkpoint, None);
    assert_eq!(again.results[0], Err(Refusal::Replay));
    assert_eq!(
        l.existing_entry(&first, &Refusal::Replay).unwrap(),
        Some(len)
    );
    let dup = commit(950, &a.provider, 5);
    assert_eq!(
        l.existing_entry(&dup, &Refusal::DuplicateCommitment)
            .unwrap(),
        Some(len)
    );
    assert_eq!(l.existing_entry(&dup, &Refusal::UnknownKey).unwrap(), None);
    assert_eq!(l.len(), len + 3);
}

// The transparency log (C2SP): an RFC 6962 tree over the entries' encodings, a signed
// C2SP checkpoint per append, tiles, proofs, and what a fork or a changed hash looks like.

use medproof_ledger::tlog::{self, Hash, LogVerifier, TilePath};

/// RFC 6962's Merkle Tree Hash by its definition, over `entries`.
fn mth(entries: &[Vec<u8>]) -> Hash {
    use sha2::Digest;
    match entries.len() {
        0 => Hash(sha2::Sha256::digest([]).into()),
        1 => tlog::leaf_hash(&entries[0]),
        n => {
            let k = 1 << (n - 1).ilog2();
            let (l, r) = (mth(&entries[..k]), mth(&entries[k..]));
            let mut h = sha2::Sha256::new();
            h.update([1u8]);
            h.update(l.0);
            h.update(r.0);
            Hash(h.finalize().into())
        }
    }
}

fn encodings<S: Store>(store: &S) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    store
        .scan(Cf::Entries, &mut |_, v| {
            out.push(v.to_vec());
            Ok(())
        })
        .unwrap();
    out
}

#[test]
fn each_append_signs_a_c2sp_checkpoint_of_the_rfc6962_tree_over_every_entry() {
    let c = clock(T0);
    let a = actors();
    let mut l = created(MemStore::new(), c.clone());
    let mut seen = vec![l.tlog_checkpoint().unwrap()];
    l.append_one(admit(&a.provider, Role::Provider, 90))
        .unwrap();
    seen.push(l.tlog_checkpoint().unwrap());
    for i in 0..6u8 {
        l.append(&[
            commit(500 + u64::from(i), &a.provider, 100 + i),
            commit(600 + u64::from(i), &a.provider, 110 + i),
        ])
        .unwrap();
        seen.push(l.tlog_checkpoint().unwrap());
    }
    let entries = encodings(l.store());
    let latest = l.tlog_checkpoint().unwrap();
    assert_eq!(latest.size, l.len());
    assert_eq!(latest.root, mth(&entries));
    // The default name, and the note verifies under the ledger's key alone.
    let id = l.id().unwrap();
    assert_eq!(l.origin(), format!("medproof/{}", hex::encode(&id[..8])));
    let v = LogVerifier::new(l.origin(), ledger_key().verifying_key()).unwrap();
    assert_eq!(v.open(&latest.note).unwrap(), latest);
    assert!(LogVerifier::new(l.origin(), registrar().verifying_key())
        .unwrap()
        .open(&latest.note)
        .is_err());
    // Every entry is in the tree; the last is the medproof checkpoint the C2SP one
    // commits to.
    for (i, e) in entries.iter().enumerate() {
        let proof = l.inclusion_proof(i as u64, latest.size).unwrap();
        tlog::check_inclusion(
            &proof,
            latest.size,
            latest.root,
            i as u64,
            tlog::leaf_hash(e),
        )
        .unwrap();
    }
    let last = l.entry(latest.size - 1).unwrap().unwrap();
    assert!(last.checkpoint().is_some());
    // A light verifier rebuilds a checkpoint entry's leaf from the checkpoint alone.
    for seq in 0..latest.size {
        let e = l.entry(seq).unwrap().unwrap();
        if let Some(cp) = e.checkpoint() {
            assert_eq!(cp.entry_encoding(), e.encode(), "seq {seq}");
        }
    }
    // Each earlier checkpoint is a prefix of the latest, and no later one of an earlier.
    for old in &seen {
        assert_eq!(old.root, mth(&entries[..old.size as usize]));
        let proof = l.consistency_proof(old.size, latest.size).unwrap();
        tlog::check_consistency(&proof, old.size, old.root, latest.size, latest.root).unwrap();
    }
    assert!(l.consistency_proof(latest.size, latest.size + 1).is_err());
    assert!(l.inclusion_proof(latest.size, latest.size).is_err());
    assert!(verify(l.store(), &ledger_key().verifying_key()).is_ok());
}

#[test]
fn tiles_carry_the_entries_and_their_hashes() {
    let c = clock(T0);
    let a = actors();
    let mut l = created(MemStore::new(), c.clone());
    script(&mut l, &c, &a);
    let entries = encodings(l.store());
    let n = l.len();
    let bundle = l.tile(&TilePath::entries(0, n).unwrap()).unwrap().unwrap();
    let split = tlog::split_entry_bundle(&bundle).unwrap();
    assert_eq!(split, entries.iter().map(Vec::as_slice).collect::<Vec<_>>());
    let hashes = l
        .tile(&TilePath::hashes(0, 0, n).unwrap())
        .unwrap()
        .unwrap();
    for (e, h) in entries.iter().zip(hashes.chunks(32)) {
        assert_eq!(tlog::leaf_hash(e).0, h);
    }
    // A prefix is served (C2SP's partial tiles stay valid); what the log lacks is not.
    assert_eq!(
        l.tile(&TilePath::entries(0, 2).unwrap()).unwrap().unwrap(),
        tlog::entry_bundle(entries[..2].iter().map(Vec::as_slice)).unwrap()
    );
    assert!(l
        .tile(&TilePath::entries(0, n + 1).unwrap())
        .unwrap()
        .is_none());
    assert!(l
        .tile(&TilePath::hashes(0, 0, 256).unwrap())
        .unwrap()
        .is_none());
    assert!(l
        .tile(&TilePath::hashes(1, 0, 1).unwrap())
        .unwrap()
        .is_none());
}

/// Attack: the operator forks the ledger (or rolls it back and appends again). Both
/// histories are signed by the ledger's key, so the signatures alone cannot tell; a
/// consistency proof from what a party saw on one to the other cannot be made.
#[test]
fn a_fork_has_no_consistency_proof_to_the_other_history() {
    let c = clock(T0);
    let a = actors();
    let mut base = created(MemStore::new(), c.clone());
    script(&mut base, &c, &a);
    let before = base.tlog_checkpoint().unwrap();
    let store = base.into_store();
    let mut one = Ledger::open(store.clone(), ledger_key(), c.clone()).unwrap();
    let mut two = Ledger::open(store, ledger_key(), c.clone()).unwrap();
    one.append_one(commit(901, &a.provider, 91)).unwrap();
    two.append_one(commit(902, &a.provider, 92)).unwrap();
    let seen_on_one = one.tlog_checkpoint().unwrap();
    two.append_one(commit(903, &a.provider, 93)).unwrap();
    let two_now = two.tlog_checkpoint().unwrap();
    let v = LogVerifier::new(one.origin(), ledger_key().verifying_key()).unwrap();
    assert!(v.open(&seen_on_one.note).is_ok() && v.open(&two_now.note).is_ok());
    assert_ne!(two.tlog_root(seen_on_one.size).unwrap(), seen_on_one.root);
    let proof = two
        .consistency_proof(seen_on_one.size, two_now.size)
        .unwrap();
    assert!(tlog::check_consistency(
        &proof,
        seen_on_one.size,
        seen_on_one.root,
        two_now.size,
        two_now.root
    )
    .is_err());
    // What both histories share is consistent with each.
    for l in [&one, &two] {
        let now = l.tlog_checkpoint().unwrap();
        let p = l.consistency_proof(before.size, now.size).unwrap();
        tlog::check_consistency(&p, before.size, before.root, now.size, now.root).unwrap();
    }
}

#[test]
fn a_changed_log_hash_or_checkpoint_is_caught() {
    let c = clock(T0);
    let a = actors();
    let mut l = created(MemStore::new(), c.clone());
    script(&mut l, &c, &a);
    let store = l.into_store();
    // Any stored hash: the walk rebuilds them all.
    let mut changed = store.clone();
    let (k, v) = changed
        .raw_mut(Cf::Tlog)
        .iter()
        .nth(5)
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap();
    let mut v = v;
    v[0] ^= 1;
    changed.raw_mut(Cf::Tlog).insert(k, v);
    let err = verify(&changed, &ledger_key().verifying_key()).unwrap_err();
    assert!(err.reason.contains("transparency log"), "{err}");
    // A checkpoint the ledger's key did not sign: refused at open and by the walk.
    let other = SigningKey::from_bytes(&[9u8; 32]);
    let mut forged = store.clone();
    let note = {
        let l = Ledger::open(store.clone(), ledger_key(), c.clone()).unwrap();
        let cp = l.tlog_checkpoint().unwrap();
        let text = String::from_utf8(cp.note).unwrap();
        let body = text.split("\n\n").next().unwrap();
        // The same text, signed by another key under the log's name.
        let sig = ed25519_dalek::Signer::sign(&other, format!("{body}\n").as_bytes());
        let mut id = vec![1u8];
        id.extend_from_slice(other.verifying_key().as_bytes());
        use sha2::Digest;
        let kid = sha2::Sha256::digest([l.origin().as_bytes(), b"\n", &id].concat());
        let mut line = kid[..4].to_vec();
        line.extend_from_slice(&sig.to_bytes());
        use base64::Engine;
        format!(
            "{body}\n\n\u{2014} {} {}\n",
            l.origin(),
            base64::engine::general_purpose::STANDARD.encode(line)
        )
    };
    forged
        .raw_mut(Cf::Meta)
        .insert(b"tlog-checkpoint".to_vec(), note.into_bytes());
    let err = Ledger::open(forged.clone(), ledger_key(), c.clone())
        .err()
        .unwrap();
    assert!(err.to_string().contains("C2SP checkpoint"), "{err}");
    assert!(verify(&forged, &ledger_key().verifying_key()).is_err());
}

#[test]
fn a_format_6_ledger_gets_its_log_when_opened_to_write() {
    let c = clock(T0);
    let a = actors();
    let mut l = created(MemStore::new(), c.clone());
    script(&mut l, &c, &a);
    let expected = l.tlog_checkpoint().unwrap();
    let mut store = l.into_store();
    // What format 6 wrote: no log.
    store.raw_mut(Cf::Tlog).clear();
    store.raw_mut(Cf::Meta).remove(b"origin".as_slice());
    store
        .raw_mut(Cf::Meta)
        .remove(b"tlog-checkpoint".as_slice());
    store
        .raw_mut(Cf::Meta)
        .insert(b"format".to_vec(), 6u32.to_be_bytes().to_vec());
    match Ledger::open_read_only(store.clone(), ledger_key().verifying_key()) {
        Err(e @ LedgerError::NeedsUpgrade { found: 6 }) => {
            assert!(e.to_string().contains("medproof serve"), "{e}")
        }
        other => panic!("expected NeedsUpgrade, got {:?}", other.map(|_| ())),
    }
    let l = Ledger::open(store, ledger_key(), c.clone()).unwrap();
    assert_eq!(l.tlog_checkpoint().unwrap(), expected);
    assert!(verify(l.store(), &ledger_key().verifying_key()).is_ok());
    let l = Ledger::open_read_only(l.into_store(), ledger_key().verifying_key()).unwrap();
    assert_eq!(l.tlog_checkpoint().unwrap().root, expected.root);
}

#[test]
fn a_named_log_keeps_its_name() {
    let c = clock(T0);
    assert!(Ledger::create_named(
        MemStore::new(),
        ledger_key(),
        c.clone(),
        &[registrar().verifying_key()],
        &[],
        Some("has space"),
    )
    .is_err());
    let l = Ledger::create_named(
        MemStore::new(),
        ledger_key(),
        c.clone(),
        &[registrar().verifying_key()],
        &[],
        Some("ledger.example.org/medproof"),
    )
    .unwrap();
    let l = Ledger::open(l.into_store(), ledger_key(), c).unwrap();
    assert_eq!(l.origin(), "ledger.example.org/medproof");
    let note = String::from_utf8(l.tlog_checkpoint().unwrap().note).unwrap();
    assert!(note.starts_with("ledger.example.org/medproof\n"), "{note}");
}
