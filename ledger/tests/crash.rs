//! Crash test: a child process appends in a loop and reports each acknowledged seq; it
//! is killed with SIGKILL at random moments, 20 times. After each kill the ledger opens,
//! `verify` passes, and every acknowledged entry is there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use medproof_ledger::verify::verify;
use medproof_ledger::{key_path, open_dir, SystemClock};
use rand::{Rng, SeedableRng};

#[test]
fn acknowledged_entries_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2026);
    let mut acked: Vec<u64> = Vec::new();
    for round in 0..20 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ledger-crash-child"))
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line.trim().parse::<u64>().unwrap()).is_err() {
                    break;
                }
            }
        });
        // Wait for the first acknowledgement, then kill at a random moment.
        let first = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("child acknowledged nothing");
        acked.push(first);
        std::thread::sleep(Duration::from_millis(rng.gen_range(0..120)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        acked.extend(rx.try_iter());

        let ledger = open_dir(dir.path(), Arc::new(SystemClock))
            .unwrap_or_else(|e| panic!("round {round}: reopen failed: {e}"));
        let report = verify(ledger.store(), &ledger.public_key())
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        let last = *acked.last().unwrap();
        assert!(
            report.entries > last,
            "round {round}: acknowledged seq {last} is gone"
        );
        for seq in acked.iter().rev().take(50) {
            assert!(
                ledger.entry(*seq).unwrap().is_some(),
                "round {round}: seq {seq} lost"
            );
        }
    }
    assert!(key_path(dir.path()).exists());
    assert!(acked.len() >= 20);
}
