//! Test helper for the crash test: appends record commitments to the ledger in
//! `DATA_DIR` forever, printing each acknowledged seq on its own line after the synced
//! append returns. The test kills it with SIGKILL at random moments.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use medproof_ledger::{open_dir_with, Action, NewLedger, Role, Submission, SystemClock};
use medproof_verifier::Fr;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: ledger-crash-child DATA_DIR");
    let mut ledger = open_dir_with(
        std::path::Path::new(&dir),
        Arc::new(SystemClock),
        Some(NewLedger::default()),
    )
    .expect("open");
    let provider = SigningKey::from_bytes(&[7u8; 32]);
    if ledger
        .role_of(&provider.verifying_key().to_bytes())
        .is_none()
    {
        // The data dir's registrar admits the provider.
        let registrar = medproof_ledger::keyfile::load(&medproof_ledger::registrar_key_path(
            std::path::Path::new(&dir),
        ))
        .expect("registrar key");
        let env = ledger.envelope(3_600).expect("envelope");
        ledger
            .append_one(Submission::sign(
                Action::AdmitKey {
                    key: provider.verifying_key().to_bytes(),
                    role: Role::Provider,
                },
                &registrar,
                env,
            ))
            .expect("admit");
    }
    let mut out = std::io::stdout().lock();
    let mut n = ledger.records().len();
    loop {
        n += 1;
        let env = ledger.envelope(3_600).expect("envelope");
        let batch: Vec<Submission> = (0..(n % 3 + 1))
            .map(|i| {
                Submission::sign(
                    Action::CommitRecord {
                        commitment: Fr::from(n * 10 + i),
                    },
                    &provider,
                    env,
                )
            })
            .collect();
        let receipt = ledger.append(&batch).expect("append");
        for seq in receipt.seqs {
            writeln!(out, "{seq}").expect("stdout");
        }
        out.flush().expect("flush");
    }
}
