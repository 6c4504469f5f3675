//! The ledger against its own operator and whoever can write its data dir: a restored
//! backup or a cut-back database is refused (the high-water mark), an equivocation shows
//! on a receipt, indexes are only hints, and verifiers need no private key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use medproof_ledger::{
    open_dir_read_only, open_dir_with, Action, Continuity, LedgerError, NewLedger, OpenError, Role,
    Submission, SystemClock,
};
use medproof_verifier::Fr;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn replace_dir(from: &Path, to: &Path) {
    std::fs::remove_dir_all(to).unwrap();
    copy_dir(from, to);
}

fn open(dir: &Path) -> Result<medproof_ledger::Ledger<medproof_ledger::RocksStore>, OpenError> {
    open_dir_with(dir, Arc::new(SystemClock), Some(NewLedger::default()))
}

/// `action` signed by `key` for the ledger `l`.
fn signed(
    l: &medproof_ledger::Ledger<medproof_ledger::RocksStore>,
    action: Action,
    key: &SigningKey,
) -> Submission {
    Submission::sign(action, key, l.envelope(600).unwrap())
}

/// The data dir's registrar admits `key` as a provider.
fn admit_provider(
    dir: &Path,
    l: &medproof_ledger::Ledger<medproof_ledger::RocksStore>,
    key: &SigningKey,
) -> Submission {
    let registrar =
        medproof_ledger::keyfile::load(&medproof_ledger::registrar_key_path(dir)).unwrap();
    signed(
        l,
        Action::AdmitKey {
            key: key.verifying_key().to_bytes(),
            role: Role::Provider,
        },
        &registrar,
    )
}

#[test]
fn a_restored_backup_is_refused_and_an_equivocation_shows_on_the_receipt() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, backup) = (tmp.path().join("data"), tmp.path().join("backup"));
    let patient = SigningKey::from_bytes(&[2; 32]);
    let mut l = open(&data).unwrap();
    l.append_one(signed(
        &l,
        Action::RegisterKey {
            role: Role::Patient,
        },
        &patient,
    ))
    .unwrap();
    l.append_one(signed(
        &l,
        Action::GrantConsent {
            commitment: Fr::from(7u64),
        },
        &patient,
    ))
    .unwrap();
    let key = l.public_key();
    drop(l);
    copy_dir(&data, &backup);

    // The patient revokes and keeps the receipt: the checkpoint that contains it.
    let mut l = open(&data).unwrap();
    let revoke = signed(&l, Action::RevokeConsent { consent_index: 0 }, &patient);
    let receipt = l.append_one(revoke).unwrap().checkpoint;
    assert_eq!(
        l.extends_checkpoint(&receipt, &key).unwrap(),
        Continuity::Extends
    );
    assert_eq!(
        l.extends(receipt.seq, &receipt.chain_head, &key).unwrap(),
        Continuity::Extends
    );
    drop(l);
    let mark_after = tmp.path().join("mark-after-revocation");
    std::fs::copy(data.join("ledger.hwm"), &mark_after).unwrap();

    // The operator restores the database from before the revocation: refused, by the
    // writer and by a read-only verifier alike.
    replace_dir(&backup.join("ledger"), &data.join("ledger"));
    let err = open(&data).unwrap_err();
    assert!(
        matches!(
            err,
            OpenError::Ledger(LedgerError::RolledBack {
                mark: 7,
                entries: 6
            })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("undo revocations"), "{err}");
    assert!(matches!(
        open_dir_read_only(&data, None).unwrap_err(),
        OpenError::Ledger(LedgerError::RolledBack { .. })
    ));
    // Deleting the mark does not help, nor writing an empty one (it needs no signature).
    std::fs::remove_file(data.join("ledger.hwm")).unwrap();
    assert!(matches!(
        open(&data).unwrap_err(),
        OpenError::Ledger(LedgerError::WatermarkMissing(_))
    ));
    medproof_ledger::Watermark::in_dir(&data)
        .store(None)
        .unwrap();
    for err in [
        open(&data).unwrap_err(),
        open_dir_read_only(&data, None).unwrap_err(),
    ] {
        assert!(
            matches!(err, OpenError::Ledger(LedgerError::WatermarkMissing(_))),
            "{err}"
        );
    }

    // Restoring the mark as well (the operator controls the data dir) opens it, but the
    // next append signs a second checkpoint at the receipt's seq: the receipt shows it.
    std::fs::copy(backup.join("ledger.hwm"), data.join("ledger.hwm")).unwrap();
    let mut l = open(&data).unwrap();
    let other = signed(
        &l,
        Action::RegisterKey {
            role: Role::Patient,
        },
        &SigningKey::from_bytes(&[3; 32]),
    );
    l.append_one(other).unwrap();
    match l.extends_checkpoint(&receipt, &key).unwrap() {
        Continuity::Forked { ledger: Some(cp) } => {
            assert_eq!(cp.seq, receipt.seq);
            assert_ne!(cp, receipt);
            assert!(cp.verify(&key).is_ok() && receipt.verify(&key).is_ok());
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        l.extends(receipt.seq, &receipt.chain_head, &key).unwrap(),
        Continuity::Forked { .. }
    ));
    drop(l);
    // The forked database beside the mark it went past: the entry at the mark's seq is
    // not the checkpoint the mark holds.
    std::fs::copy(&mark_after, data.join("ledger.hwm")).unwrap();
    assert!(matches!(
        open(&data).unwrap_err(),
        OpenError::Ledger(LedgerError::Diverged(7))
    ));
    // A database cut back before the receipt: rolled back.
    replace_dir(&backup.join("ledger"), &data.join("ledger"));
    std::fs::copy(backup.join("ledger.hwm"), data.join("ledger.hwm")).unwrap();
    let l = open_dir_read_only(&data, None).unwrap();
    assert_eq!(
        l.extends_checkpoint(&receipt, &key).unwrap(),
        Continuity::RolledBack { entries: 6 }
    );
}

#[test]
fn a_mark_that_names_another_checkpoint_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let key = SigningKey::from_bytes(&[9; 32]);
    for dir in [&a, &b] {
        let mut l = open(dir).unwrap();
        let s = signed(
            &l,
            Action::RegisterKey {
                role: Role::Patient,
            },
            &key,
        );
        l.append_one(s).unwrap();
    }
    // Ledger b's mark in ledger a: signed by another key, so not a mark of this ledger.
    std::fs::copy(b.join("ledger.hwm"), a.join("ledger.hwm")).unwrap();
    let err = open(&a).unwrap_err();
    assert!(err.to_string().contains("not a high-water mark"), "{err}");
}

#[test]
fn verifiers_need_only_the_public_key_and_read_while_the_writer_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let provider = SigningKey::from_bytes(&[1; 32]);
    let mut writer = open(&data).unwrap();
    let admit = admit_provider(&data, &writer, &provider);
    writer.append_one(admit).unwrap();
    // While the writer holds the database, a verifier opens it read-only with the
    // public key alone.
    let reader = open_dir_read_only(&data, None).unwrap();
    assert!(reader.is_read_only());
    assert_eq!(reader.len(), writer.len());
    let latest = reader.latest_checkpoint().unwrap().unwrap().checkpoint;
    assert!(latest.verify(&reader.public_key()).is_ok());
    drop(reader);
    drop(writer);

    // Without the private key at all.
    std::fs::remove_file(medproof_ledger::key_path(&data)).unwrap();
    let mut reader = open_dir_read_only(&data, None).unwrap();
    let store =
        medproof_ledger::RocksStore::open_read_only(&medproof_ledger::db_dir(&data)).unwrap();
    assert!(medproof_ledger::verify::verify(&store, &reader.public_key()).is_ok());
    let commit = signed(
        &reader,
        Action::CommitRecord {
            commitment: Fr::from(1u64),
        },
        &provider,
    );
    let err = reader.append_one(commit).unwrap_err();
    assert!(matches!(err, LedgerError::ReadOnly), "{err}");
    assert!(matches!(reader.heartbeat(), Err(LedgerError::ReadOnly)));
    // A verifier trusts the key it is given, not the data dir's: under another key the
    // ledger's own checkpoints do not open.
    let other = SigningKey::from_bytes(&[5; 32]).verifying_key();
    assert!(open_dir_read_only(&data, Some(other)).is_err());
}

#[test]
fn heartbeats_sign_a_fresh_checkpoint_only_when_the_latest_is_old() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut l = open(&data).unwrap();
    // A new ledger's genesis is followed by a checkpoint: recent enough.
    let first = l.latest_checkpoint().unwrap().unwrap().checkpoint;
    assert_eq!(first.seq, 1);
    assert!(l.heartbeat_if_older(300).unwrap().is_none());
    // Old enough (max age 0): a new checkpoint right after the last, linking to it.
    let next = l.heartbeat_if_older(0).unwrap().unwrap();
    assert_eq!(next.seq, 2);
    assert_eq!(
        next.chain_head,
        medproof_ledger::Entry::of_checkpoint(&first).hash()
    );
    drop(l);
    let store =
        medproof_ledger::RocksStore::open_read_only(&medproof_ledger::db_dir(&data)).unwrap();
    let key =
        medproof_ledger::keyfile::load_public(&medproof_ledger::public_key_path(&data)).unwrap();
    let report = medproof_ledger::verify::verify(&store, &key).unwrap();
    assert_eq!((report.entries, report.checkpoints), (3, 2));
}
