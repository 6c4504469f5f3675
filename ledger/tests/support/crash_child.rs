//! Test helper for the crash test: appends record commitments to the ledger in
//! `DATA_DIR` forever, printing each acknowledged seq on its own line after the synced
//! append returns. The test kills it with SIGKILL at random moments.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use medproof_ledger::{open_dir, Action, Role, Submission, SystemClock};
use medproof_verifier::Fr;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: ledger-crash-child DATA_DIR");
    let mut ledger = open_dir(std::path::Path::new(&dir), Arc::new(SystemClock)).expect("open");
    let provider = SigningKey::from_bytes(&[7u8; 32]);
    if ledger
        .role_of(&provider.verifying_key().to_bytes())
        .is_none()
    {
        ledger
            .append_one(Submission::sign(
                Action::RegisterKey {
                    role: Role::Provider,
                },
                &provider,
            ))
            .expect("register");
    }
    let mut out = std::io::stdout().lock();
    let mut n = ledger.records().len();
    loop {
        n += 1;
        let batch: Vec<Submission> = (0..(n % 3 + 1))
            .map(|i| {
                Submission::sign(
                    Action::CommitRecord {
                        commitment: Fr::from(n * 10 + i),
                    },
                    &provider,
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
