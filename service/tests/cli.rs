//! The `medproof` binary end to end: the demo, `verify`'s exit codes on every kind of
//! bad bundle, and `hash poseidon`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use serde_json::Value;

const MODULUS: &str =
    "21888242871839275222246405745257275088548364400416034343698204186575808495617";

fn medproof(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medproof"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run medproof")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes a variant of `bundle` and runs `verify` on it; returns (exit code, stderr).
fn verify_variant(dir: &Path, name: &str, text: &str) -> (i32, String) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let o = medproof(
        &["verify", path.to_str().unwrap(), "--data-dir", "data"],
        dir,
    );
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{name}: {err}");
    (code(&o), err)
}

/// Proves record inclusion from the demo's example input (the record and a binding; the
/// path from the ledger), with the keys in `dir/data`, into `dir/out`.
fn prove_example(dir: &Path, out: &str) -> Output {
    medproof(
        &[
            "prove",
            "record-inclusion",
            "--data-dir",
            "data",
            "--input",
            "out/prove-input-example.json",
            "--out",
            out,
        ],
        dir,
    )
}

/// Copies the files of `from` into a new directory `to`.
/// `medproof witness COMMAND` for the test's witness (key `w.key`, state in `w`).
fn witness_args<'a>(command: &'a str, log_vkey: &'a str) -> Vec<&'a str> {
    vec![
        "witness",
        command,
        "--key",
        "w.key",
        "--name",
        "witness.example/w1",
        "--dir",
        "w",
        "--log-key",
        log_vkey,
    ]
}

/// Creates the test's witness key (`w.key`, `witness.example/w1`); returns its
/// cosignature verifier key.
fn witness_key(dir: &Path) -> String {
    let o = medproof(
        &[
            "witness",
            "key",
            "--key",
            "w.key",
            "--name",
            "witness.example/w1",
        ],
        dir,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

/// Runs `medproof witness serve` on the witness in `dir/w` and posts to it.
fn witness_over_http(dir: &Path, log_vkey: &str, cosigned: &[u8]) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_medproof"))
        .args(witness_args("serve", log_vkey))
        .args(["--bind", "127.0.0.1:0"])
        .current_dir(dir)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the witness printed its address")
            .unwrap();
        if let Some(u) = line.strip_prefix("medproof witness serving on ") {
            break u.to_string();
        }
    };
    let c = medproof_service::client::Client::new(&url);
    let text = String::from_utf8(cosigned.to_vec()).unwrap();
    // The log's note: the checkpoint without the witness's line.
    let note = text.rsplit_once("\u{2014} witness.example/w1 ").unwrap().0;
    let size: u64 = note.lines().nth(1).unwrap().parse().unwrap();
    let post = |body: String| {
        c.post_raw("/add-checkpoint", "text/plain", body.as_bytes())
            .unwrap()
    };
    let r = post(format!("old 0\n\n{note}"));
    // The body is the size and a newline (the client reads it as a JSON number).
    assert_eq!((r.status, r.body.as_u64()), (409, Some(size)));
    let r = post(format!("old {size}\n\n{note}"));
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r
        .body
        .as_str()
        .unwrap()
        .starts_with("\u{2014} witness.example/w1 "));
    let r = post("old 1\n".to_string());
    assert_eq!(r.status, 400);
    let metrics = c.get("/metrics").unwrap();
    let text = metrics.body.as_str().unwrap().to_string();
    assert!(
        text.contains("medproof_witness_refused_total{reason=\"conflict\"} 1"),
        "{text}"
    );
    assert!(text.contains("medproof_witness_cosigned_total 1"), "{text}");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Starts `medproof ARGS` in `dir` and waits for the stderr line that starts with
/// `prefix` (where it listens); its stderr is then read to the end on a thread (so that
/// it never blocks on a full pipe), which returns it.
fn started(
    args: &[&str],
    dir: &Path,
    prefix: &str,
) -> (std::process::Child, String, std::thread::JoinHandle<String>) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_medproof"))
        .args(args)
        .env(
            "RUST_LOG",
            "medproof_service=debug,medproof_ledger=debug,medproof_prover=debug",
        )
        .current_dir(dir)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix(prefix).map(str::to_string))
        .unwrap_or_else(|| panic!("medproof {} says where it listens", args[0]));
    let log =
        std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>().join("\n"));
    (child, url, log)
}

/// Copies a directory with its subdirectories.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        match e.file_type().unwrap().is_dir() {
            true => copy_tree(&e.path(), &to.join(e.file_name())),
            false => {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    }
}

fn edited(bundle: &Value, f: impl FnOnce(&mut Value)) -> String {
    let mut b = bundle.clone();
    f(&mut b);
    b.to_string()
}

/// Runs the demo in `dir` with `records` records, `proofs` proofs and `extra` flags; it
/// must succeed.
fn demo(dir: &Path, records: &str, proofs: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "demo",
        "--data-dir",
        "data",
        "--out",
        "out",
        "--records",
        records,
        "--proofs",
        proofs,
    ];
    args.extend(extra);
    let o = medproof(&args, dir);
    assert_eq!(
        code(&o),
        0,
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
    o
}

#[test]
fn demo_then_verify_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = demo(dir, "5", "2", &[]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    // 2 inclusion, 2 access (records 0 and 3 are lab records), 1 claim.
    assert!(
        stdout.contains(
            "all 5 proofs valid, every refusal refused, the audit named the forged access"
        ),
        "{stdout}"
    );

    let bundle_path: PathBuf = dir.join("out/record-inclusion-0.json");
    let text = std::fs::read_to_string(&bundle_path).unwrap();
    let bundle: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(verify_variant(dir, "ok.json", &text).0, 0);

    // Exit 1: a public input changed to another valid field element.
    let (c, _) = verify_variant(
        dir,
        "binding.json",
        &edited(&bundle, |b| b["public_inputs"]["binding"] = "12345".into()),
    );
    assert_eq!(c, 1);

    // Exit 2, with a reason.
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "modulus.json",
            edited(&bundle, |b| b["public_inputs"]["binding"] = MODULUS.into()),
            "modulus",
        ),
        (
            "extra.json",
            edited(&bundle, |b| b["public_inputs"]["extra"] = "1".into()),
            "unexpected public input",
        ),
        (
            "missing-input.json",
            edited(&bundle, |b| {
                b["public_inputs"]
                    .as_object_mut()
                    .unwrap()
                    .remove("category");
            }),
            "missing public input",
        ),
        (
            "missing-field.json",
            edited(&bundle, |b| {
                b.as_object_mut().unwrap().remove("vk_id");
            }),
            "missing field",
        ),
        (
            "truncated-proof.json",
            edited(&bundle, |b| {
                let p = b["proof"].as_str().unwrap().to_string();
                let bytes = base64::engine::general_purpose::STANDARD.decode(p).unwrap();
                b["proof"] = base64::engine::general_purpose::STANDARD
                    .encode(&bytes[..100])
                    .into();
            }),
            "malformed proof",
        ),
        (
            "altered-proof.json",
            edited(&bundle, |b| {
                let p = b["proof"].as_str().unwrap().to_string();
                let mut bytes = base64::engine::general_purpose::STANDARD.decode(p).unwrap();
                // A's x coordinate (little-endian, flags in the top bits of byte 31)
                // set to 2^254 - 1, above the base field modulus: not a point encoding.
                bytes[..31].fill(0xff);
                bytes[31] = 0x3f;
                b["proof"] = base64::engine::general_purpose::STANDARD
                    .encode(&bytes)
                    .into();
            }),
            "malformed proof",
        ),
        (
            "not-base64.json",
            edited(&bundle, |b| b["proof"] = "***".into()),
            "base64",
        ),
        (
            "not-json.json",
            "this is not json".to_string(),
            "not a valid proof bundle",
        ),
        (
            "wrong-type.json",
            edited(&bundle, |b| b["version"] = "one".into()),
            "invalid type",
        ),
    ];
    for (name, text, reason) in cases {
        let (c, err) = verify_variant(dir, name, &text);
        assert_eq!(c, 2, "{name}: {err}");
        assert!(err.contains(reason), "{name}: expected `{reason}` in {err}");
        assert_eq!(err.trim().lines().count(), 1, "{name}: one line: {err}");
    }
    // A file that is not there.
    let o = medproof(&["verify", "nope.json", "--data-dir", "data"], dir);
    assert_eq!(code(&o), 2);

    // Keys missing: exit 2, with the way out.
    let o = medproof(
        &[
            "verify",
            bundle_path.to_str().unwrap(),
            "--data-dir",
            "elsewhere",
        ],
        dir,
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("medproof setup"), "{}", stderr(&o));

    // The EVM exports (interop/evm.sh runs them on a node): the calldata holds the
    // bundle's inputs, in circuit order, after the 8 proof words.
    let o = medproof(
        &[
            "export",
            "calldata",
            bundle_path.to_str().unwrap(),
            "--data-dir",
            "data",
        ],
        dir,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let cd: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(cd["contract"], "RecordInclusionVerifier");
    assert_eq!(cd["function"], "verifyProof(uint256[8],uint256[3])");
    assert_eq!(cd["proof"].as_array().unwrap().len(), 8);
    let category = format!(
        "0x{:064x}",
        bundle["public_inputs"]["category"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    );
    assert_eq!(cd["input"][1], category.as_str());
    let call = cd["calldata"].as_str().unwrap();
    assert_eq!(call.len(), 2 + 2 * (4 + 32 * 11), "{call}");
    assert!(call.ends_with(&cd["input"][2].as_str().unwrap()[2..]));
    // A bundle that does not decode, or keys of another data dir: exit 2 with a reason.
    let o = medproof(&["export", "calldata", "modulus.json"], dir);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("modulus"), "{}", stderr(&o));
    let o = medproof(
        &[
            "export",
            "calldata",
            bundle_path.to_str().unwrap(),
            "--data-dir",
            "elsewhere",
        ],
        dir,
    );
    assert_eq!(code(&o), 2);
    // A bundle made for another key than the data dir's: refused, with both ids.
    let other_key = dir.join("other-key.json");
    std::fs::write(
        &other_key,
        edited(&bundle, |b| b["vk_id"] = "00".repeat(32).into()),
    )
    .unwrap();
    let o = medproof(
        &[
            "export",
            "calldata",
            other_key.to_str().unwrap(),
            "--data-dir",
            "data",
        ],
        dir,
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("was made for verifying key"),
        "{}",
        stderr(&o)
    );
    // Without --data-dir there is no key to compare with: the calldata is printed.
    let o = medproof(&["export", "calldata", other_key.to_str().unwrap()], dir);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = medproof(
        &["export", "solidity", "--data-dir", "data", "--out", "sol"],
        dir,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let vk_id = bundle["vk_id"].as_str().unwrap();
    let source = std::fs::read_to_string(dir.join("sol/RecordInclusionVerifier.sol")).unwrap();
    assert!(source.starts_with("// SPDX-License-Identifier: MIT"));
    assert!(source.contains("\ncontract RecordInclusionVerifier {"));
    assert!(source.contains(vk_id), "the contract names its key");
    let anchor = std::fs::read_to_string(dir.join("sol/MedproofAnchor.sol")).unwrap();
    assert!(anchor.contains("\ncontract MedproofAnchor {"));
    for name in ["AccessAuthorizationVerifier", "ClaimComplianceVerifier"] {
        let source = std::fs::read_to_string(dir.join(format!("sol/{name}.sol"))).unwrap();
        assert!(source.contains(&format!("\ncontract {name} {{")));
    }
    let o = medproof(
        &[
            "export",
            "solidity",
            "--data-dir",
            "elsewhere",
            "--out",
            "sol2",
        ],
        dir,
    );
    assert_eq!(code(&o), 2);
    assert!(!dir.join("sol2").exists());
}

#[test]
fn hash_poseidon_matches_circomlib_and_refuses_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let o = medproof(&["hash", "poseidon", "1", "2"], tmp.path());
    assert_eq!(code(&o), 0);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "7853200120776062878684798364095072458815029376092732009249414926327459813530"
    );
    for bad in [vec![MODULUS], vec!["-1"], vec!["0x1"]] {
        let mut args = vec!["hash", "poseidon"];
        args.extend(bad);
        let o = medproof(&args, tmp.path());
        assert_eq!(code(&o), 2, "{}", stderr(&o));
    }
    let seventeen: Vec<String> = (0..17).map(|i| i.to_string()).collect();
    let mut args = vec!["hash", "poseidon"];
    args.extend(seventeen.iter().map(String::as_str));
    assert_eq!(code(&medproof(&args, tmp.path())), 2);
}

#[test]
fn ledger_commands_and_checkpoint_checks() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Without the forged access, the demo's ledger audits clean: what fails below fails
    // for the reason the test names.
    let o = demo(dir, "3", "1", &["--no-forged-access"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains("forgery   an access"), "{out}");
    assert!(out.contains("the audit passed"), "{out}");

    // The ledger verifies; its latest checkpoint and entries show as JSON.
    let o = medproof(&["ledger", "verify", "--data-dir", "data"], dir);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let entries: u64 = out
        .strip_prefix("OK: ")
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    let o = medproof(&["ledger", "checkpoint", "--data-dir", "data"], dir);
    assert_eq!(code(&o), 0);
    let cp: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(cp["checkpoint"]["seq"], entries - 1);

    // The transparency log: its checkpoint and tiles as files a web server can serve,
    // an inclusion proof, consistency between two checkpoints of the log; a changed
    // checkpoint, and the checkpoint of a forked copy, refused with exit 1.
    let o = medproof(
        &["ledger", "log", "--data-dir", "data", "--out", "log"],
        dir,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let log: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(log["size"], entries);
    let note = std::fs::read(dir.join("log/checkpoint")).unwrap();
    assert_eq!(note, log["checkpoint"].as_str().unwrap().as_bytes());
    let bundle = std::fs::read(dir.join(format!("log/tile/entries/000.p/{entries}"))).unwrap();
    let tile = std::fs::read(dir.join(format!("log/tile/0/000.p/{entries}"))).unwrap();
    assert_eq!(tile.len() as u64, 32 * entries);
    assert_eq!(
        medproof_ledger::tlog::split_entry_bundle(&bundle)
            .unwrap()
            .len() as u64,
        entries
    );
    std::fs::write(dir.join("old.cp"), &note).unwrap();
    let o = medproof(
        &["ledger", "prove-inclusion", "3", "--data-dir", "data"],
        dir,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let proof: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (proof["index"].as_u64(), proof["size"].as_u64()),
        (Some(3), Some(entries))
    );
    let past = entries.to_string();
    let o = medproof(
        &["ledger", "prove-inclusion", &past, "--data-dir", "data"],
        dir,
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    // A witness cosigns the log as it is now.
    let witness_vkey = witness_key(dir);
    let log_vkey = log["verifier_key"].as_str().unwrap().to_string();
    let follow = |data: &Path| {
        let mut args = witness_args("follow", &log_vkey);
        args.extend(["--data-dir", data.to_str().unwrap(), "--once"]);
        medproof(&args, dir)
    };
    let o = follow(&dir.join("data"));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let copy = tempfile::tempdir().unwrap();
    copy_tree(&dir.join("data"), &copy.path().join("data"));
    for d in [dir, copy.path()] {
        let o = medproof(
            &[
                "ledger",
                "heartbeat",
                "--data-dir",
                "data",
                "--max-age",
                "0",
            ],
            d,
        );
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        // Another second: the two heartbeat entries differ, the histories fork.
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    // The witness cosigns the original's growth, then refuses the fork and keeps both
    // signed checkpoints.
    let o = follow(&dir.join("data"));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let cosigned = std::fs::read(dir.join("w/checkpoint")).unwrap();
    let v = medproof_ledger::tlog::CosignatureVerifier::from_verifier_key(&witness_vkey).unwrap();
    assert!(v.cosigned(&cosigned).is_some());
    let o = follow(&copy.path().join("data"));
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("INCONSISTENT LOG"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_dir(dir.join("w/evidence")).unwrap().count(),
        1
    );
    assert_eq!(std::fs::read(dir.join("w/checkpoint")).unwrap(), cosigned);
    // A verifier that requires the witness: a bundle with the witness's cosigned log
    // checkpoint is valid; without one, or with one the witness did not cosign, not.
    let bundle = "out/record-inclusion-0.json";
    let verify_witnessed = |b: &str| {
        medproof(
            &[
                "verify",
                b,
                "--data-dir",
                "data",
                "--witness",
                &witness_vkey,
            ],
            dir,
        )
    };
    let o = medproof(
        &[
            "ledger",
            "log-proof",
            bundle,
            "--cosigned",
            "w/checkpoint",
            "--out",
            "witnessed.json",
            "--data-dir",
            "data",
        ],
        dir,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = verify_witnessed("witnessed.json");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("witnesses"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let o = verify_witnessed(bundle);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("carries no cosigned log checkpoint"),
        "{}",
        stderr(&o)
    );
    let o = medproof(
        &[
            "ledger",
            "log-proof",
            bundle,
            "--cosigned",
            "old.cp",
            "--out",
            "unwitnessed.json",
            "--data-dir",
            "data",
        ],
        dir,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = verify_witnessed("unwitnessed.json");
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("cosigned by 0"), "{}", stderr(&o));
    let o = medproof(&["verify", "unwitnessed.json", "--data-dir", "data"], dir);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let witnessed: Value =
        serde_json::from_slice(&std::fs::read(dir.join("witnessed.json")).unwrap()).unwrap();
    let tampered = edited(&witnessed, |b| {
        b["log"]["inclusion"][0] =
            Value::String("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into())
    });
    std::fs::write(dir.join("tampered.json"), tampered).unwrap();
    let o = verify_witnessed("tampered.json");
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("inclusion proof does not verify"),
        "{}",
        stderr(&o)
    );
    // The same witness over HTTP (c2sp.org/tlog-witness): a stale old size is 409 with
    // the witness's size; the checkpoint it holds is cosigned again.
    // The audit names the witnesses that vouch for its period: the witness's cosigned
    // checkpoint holds the whole ledger; the old checkpoint holds the period up to its
    // size but no witness cosigned it; the forked copy's checkpoint (the same key, the
    // same size, another root) and one past the period's end vouch for nothing.
    let audit_witnessed = |cosigned: &str, to: Option<&str>| {
        let mut args = vec![
            "audit",
            "--data-dir",
            "data",
            "--cosigned",
            cosigned,
            "--witness",
            &witness_vkey,
            "--report",
            "witnessed-audit.json",
        ];
        if let Some(to) = to {
            args.extend(["--to", to]);
        }
        let o = medproof(&args, dir);
        let report: Value =
            serde_json::from_slice(&std::fs::read(dir.join("witnessed-audit.json")).unwrap())
                .unwrap();
        (o, report["witnesses"].clone())
    };
    let (o, w) = audit_witnessed("w/checkpoint", None);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        w["vouched"],
        serde_json::json!(["witness.example/w1"]),
        "{w}"
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("witnesses: 1 vouch"));
    let (o, w) = audit_witnessed("old.cp", Some(&past));
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(w["vouched"], serde_json::json!([]), "{w}");
    assert!(
        stderr(&o).contains("0 of 1 required witnesses"),
        "{}",
        stderr(&o)
    );
    // Without --to, the period ends where the cosigned checkpoint does: the old one
    // holds it, and vouches by nobody; asked for the whole ledger, it does not hold it.
    let (o, w) = audit_witnessed("old.cp", None);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(
        (w["log_size"].as_u64(), w["problem"].as_str()),
        (Some(entries), None)
    );
    let whole = String::from_utf8_lossy(&cosigned)
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let (o, w) = audit_witnessed("old.cp", Some(&whole));
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        w["problem"].as_str().unwrap().contains("does not hold"),
        "{w}"
    );
    let o = medproof(&["ledger", "log", "--data-dir", "data"], copy.path());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let forked: Value = serde_json::from_slice(&o.stdout).unwrap();
    std::fs::write(
        dir.join("forked.cp"),
        forked["checkpoint"].as_str().unwrap(),
    )
    .unwrap();
    let (o, w) = audit_witnessed("forked.cp", None);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(w["problem"].as_str().unwrap().contains("forked"), "{w}");
    // A static copy of the log (`ledger log --out`) only ever grows: the forked copy's
    // log extends the one published before the fork and is written over it; the
    // original's then does not extend what is published, and a changed tile is found.
    let export = |data: &Path| {
        medproof(
            &[
                "ledger",
                "log",
                "--data-dir",
                data.to_str().unwrap(),
                "--out",
                "log",
            ],
            dir,
        )
    };
    let o = export(&copy.path().join("data"));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = export(&dir.join("data"));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("does not extend"), "{}", stderr(&o));
    let tile = dir.join(format!("log/tile/entries/000.p/{}", forked["size"]));
    let mut bytes = std::fs::read(&tile).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    std::fs::write(&tile, bytes).unwrap();
    let o = export(&copy.path().join("data"));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("differs"), "{}", stderr(&o));
    witness_over_http(dir, &log_vkey, &cosigned);
    let o = medproof(
        &["ledger", "consistency", "old.cp", "--data-dir", "data"],
        dir,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let consistency: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (consistency["old"].as_u64(), consistency["new"].as_u64()),
        (Some(entries), Some(entries + 1))
    );
    let o = medproof(&["ledger", "log", "--data-dir", "data"], copy.path());
    let forked: Value = serde_json::from_slice(&o.stdout).unwrap();
    std::fs::write(
        dir.join("forked.cp"),
        forked["checkpoint"].as_str().unwrap(),
    )
    .unwrap();
    let o = medproof(
        &[
            "ledger",
            "consistency",
            "old.cp",
            "forked.cp",
            "--data-dir",
            "data",
        ],
        dir,
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("forked"), "{}", stderr(&o));
    let changed = String::from_utf8(note.clone()).unwrap().replacen(
        &format!("\n{entries}\n"),
        &format!("\n{}\n", entries - 1),
        1,
    );
    std::fs::write(dir.join("changed.cp"), changed).unwrap();
    let o = medproof(
        &["ledger", "consistency", "changed.cp", "--data-dir", "data"],
        dir,
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("not signed"), "{}", stderr(&o));
    drop(copy);
    let o = medproof(&["ledger", "verify", "--data-dir", "data"], dir);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let entries = entries + 1;
    let o = medproof(&["ledger", "checkpoint", "--data-dir", "data"], dir);
    let cp: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(cp["checkpoint"]["seq"], entries - 1);

    // The whole log audits clean, with a JSON report.
    let o = medproof(
        &["audit", "--data-dir", "data", "--report", "audit.json"],
        dir,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("audit.json")).unwrap()).unwrap();
    assert_eq!(report["accesses"], 1);
    assert_eq!(report["valid"], 1);
    assert_eq!(report["chain_ok"], true);
    assert_eq!(report["entries"], entries);
    assert_eq!(
        code(&medproof(
            &["audit", "--data-dir", "data", "--from", "9", "--to", "9"],
            dir
        )),
        2
    );
    // Seq 0 is the genesis (naming the data dir's registrar), 1 its checkpoint; the
    // demo's clients submit one at a time over HTTP, each followed by a checkpoint: 2 the
    // patient registers, 4 the registrar admits the provider, 6 the insurer; 8 is the
    // first record.
    let o = medproof(&["ledger", "entry", "0", "--data-dir", "data"], dir);
    let genesis: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(genesis["kind"], "genesis");
    let registrar_pub = std::fs::read_to_string(dir.join("data/registrar.pub")).unwrap();
    assert_eq!(genesis["registrars"][0], registrar_pub.trim());
    let o = medproof(&["ledger", "entry", "2", "--data-dir", "data"], dir);
    let registered: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (registered["kind"].as_str(), registered["role"].as_str()),
        (Some("register-key"), Some("patient"))
    );
    let o = medproof(&["ledger", "entry", "4", "--data-dir", "data"], dir);
    let admitted: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (admitted["kind"].as_str(), admitted["role"].as_str()),
        (Some("admit-key"), Some("provider"))
    );
    let o = medproof(&["ledger", "entry", "8", "--data-dir", "data"], dir);
    let entry: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(entry["kind"], "commit-record");
    let commitment = entry["commitment"].as_str().unwrap().to_string();
    let o = medproof(&["ledger", "path", &commitment, "--data-dir", "data"], dir);
    let path: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (
            path["tree"].as_str(),
            path["index"].as_u64(),
            path["current"].as_bool()
        ),
        (Some("records"), Some(0), Some(true))
    );
    assert_eq!(path["root"], cp["checkpoint"]["records_root"]);
    // The path comes with the signed checkpoint it is against.
    assert_eq!(path["checkpoint"], cp["checkpoint"]);
    assert_eq!(
        code(&medproof(
            &[
                "ledger",
                "entry",
                &(entries + 5).to_string(),
                "--data-dir",
                "data"
            ],
            dir
        )),
        2
    );
    assert_eq!(
        code(&medproof(
            &["ledger", "checkpoint", "--seq", "2", "--data-dir", "data"],
            dir
        )),
        2
    );
    assert_eq!(
        code(&medproof(
            &["ledger", "verify", "--data-dir", "nowhere"],
            dir
        )),
        2
    );

    // The demo bundle carries the checkpoint; verify checks it against the ledger key.
    let text = std::fs::read_to_string(dir.join("out/record-inclusion-0.json")).unwrap();
    let bundle: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        bundle["checkpoint"]["records_root"],
        bundle["public_inputs"]["records_root"]
    );
    let o = medproof(
        &[
            "verify",
            "out/record-inclusion-0.json",
            "--data-dir",
            "data",
        ],
        dir,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("signed by the ledger"));
    // Another ledger key: the checkpoint is not trusted.
    let other = "11".repeat(32);
    let o = medproof(
        &[
            "verify",
            "out/record-inclusion-0.json",
            "--data-dir",
            "data",
            "--ledger-key",
            &other,
        ],
        dir,
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    // A checkpoint whose root was swapped for the proof's (forged) root: bad signature.
    let forged = edited(&bundle, |b| b["checkpoint"]["records_root"] = "5".into());
    let (c, err) = verify_variant(dir, "forged-cp.json", &forged);
    assert_eq!(c, 1);
    assert!(err.contains("checkpoint signature"), "{err}");
    // A proof against another root than the checkpoint's.
    let moved = edited(&bundle, |b| b["public_inputs"]["records_root"] = "5".into());
    let (c, err) = verify_variant(dir, "moved-root.json", &moved);
    assert_eq!(c, 1);
    assert!(err.contains("not the checkpoint's root"), "{err}");
    // Attack: a bundle without a checkpoint, verified against whatever root the prover
    // chose. Refused (exit 1, with the reason) unless the verifier opts in.
    let bare = edited(&bundle, |b| {
        b.as_object_mut().unwrap().remove("checkpoint");
    });
    let (c, err) = verify_variant(dir, "bare.json", &bare);
    assert_eq!(c, 1, "{err}");
    assert!(err.contains("no ledger checkpoint"), "{err}");
    let o = medproof(
        &[
            "verify",
            "bare.json",
            "--data-dir",
            "data",
            "--allow-unanchored",
        ],
        dir,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("NOT checked"), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("unanchored"));

    // Attack: with the checkpoint but without the ledger database, freshness used not to
    // be judged at all. A verifier with only the verifying keys and the ledger's public
    // key applies the light rule: the checkpoint must be younger than the window.
    let light = dir.join("light");
    copy_tree(&dir.join("data/keys"), &light.join("keys"));
    std::fs::copy(dir.join("data/ledger.pub"), light.join("ledger.pub")).unwrap();
    let light_verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            "out/record-inclusion-0.json",
            "--data-dir",
            light.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        medproof(&args, dir)
    };
    // Without the ledger's genesis the verifier cannot tell the keys are the ledger's.
    let o = light_verify(&[]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("no genesis"), "{}", stderr(&o));
    let genesis_doc = dir.join("data/genesis.json");
    let o = light_verify(&["--genesis", genesis_doc.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // A genesis document whose readable fields were edited, or that another key signed.
    let doc: Value = serde_json::from_slice(&std::fs::read(&genesis_doc).unwrap()).unwrap();
    let edited_doc = dir.join("edited-genesis.json");
    std::fs::write(
        &edited_doc,
        edited(&doc, |d| d["keys"][0]["vk_id"] = "00".repeat(32).into()),
    )
    .unwrap();
    let o = light_verify(&["--genesis", edited_doc.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("do not say what"), "{}", stderr(&o));
    // Under another (valid) ledger key the bundle's checkpoint is not trusted: that is
    // the verdict, whatever the genesis document says.
    let not_the_ledger = std::fs::read_to_string(dir.join("data/registrar.pub")).unwrap();
    let o = light_verify(&[
        "--genesis",
        genesis_doc.to_str().unwrap(),
        "--ledger-key",
        not_the_ledger.trim(),
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("checkpoint"), "{}", stderr(&o));
    std::fs::copy(&genesis_doc, light.join("genesis.json")).unwrap();
    let o = light_verify(&[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("light rule"));
    assert!(String::from_utf8_lossy(&o.stdout).contains("genesis names"));
    let o = light_verify(&["--window", "0"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("younger than the window"),
        "{}",
        stderr(&o)
    );

    // Attack: verifiers used to need the operator's private key. Without it, verify,
    // audit and ledger verify work from ledger.pub alone, and read the database while
    // the ledger is open for writing.
    let key_file = dir.join("data/ledger.key");
    let aside = dir.join("ledger.key.aside");
    std::fs::rename(&key_file, &aside).unwrap();
    let reader = medproof_ledger::open_dir_read_only(&dir.join("data"), None).unwrap();
    for args in [
        vec![
            "verify",
            "out/record-inclusion-0.json",
            "--data-dir",
            "data",
        ],
        vec!["audit", "--data-dir", "data"],
        vec!["ledger", "verify", "--data-dir", "data"],
    ] {
        let o = medproof(&args, dir);
        assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
    }
    drop(reader);
    std::fs::rename(&aside, &key_file).unwrap();
    let writer = medproof_ledger::open_dir(
        &dir.join("data"),
        std::sync::Arc::new(medproof_ledger::SystemClock),
    )
    .unwrap();
    let o = medproof(&["audit", "--data-dir", "data"], dir);
    assert_eq!(code(&o), 0, "audit while the writer runs: {}", stderr(&o));
    drop(writer);

    // The demo's revocation receipt: the ledger holds it.
    let o = medproof(
        &[
            "ledger",
            "check-receipt",
            "out/revocation-receipt.json",
            "--data-dir",
            "data",
        ],
        dir,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let receipt: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("out/revocation-receipt.json")).unwrap(),
    )
    .unwrap();
    let altered = edited(&receipt, |r| r["checkpoint"]["time"] = 1.into());
    std::fs::write(dir.join("altered-receipt.json"), altered).unwrap();
    let o = medproof(
        &[
            "ledger",
            "check-receipt",
            "altered-receipt.json",
            "--data-dir",
            "data",
        ],
        dir,
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not a receipt of this ledger"),
        "{}",
        stderr(&o)
    );

    // `--since`: the chain must extend a checkpoint seen before.
    let o = medproof(&["ledger", "verify", "--data-dir", "data"], dir);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let since = out
        .lines()
        .find_map(|l| l.strip_prefix("keep for next time: --since "))
        .unwrap_or_else(|| panic!("{out}"))
        .to_string();
    for cmd in [&["ledger", "verify"][..], &["audit"][..]] {
        let mut args = cmd.to_vec();
        args.extend_from_slice(&["--data-dir", "data", "--since", &since]);
        let o = medproof(&args, dir);
        assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
        let (seq, _) = since.split_once(':').unwrap();
        let forged = format!("{seq}:{}", "ab".repeat(32));
        let mut args = cmd.to_vec();
        args.extend_from_slice(&["--data-dir", "data", "--since", &forged]);
        let o = medproof(&args, dir);
        assert_eq!(code(&o), 1, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("FORK"), "{}", stderr(&o));
        let mut args = cmd.to_vec();
        let gone = format!("999999:{}", "ab".repeat(32));
        args.extend_from_slice(&["--data-dir", "data", "--since", &gone]);
        let o = medproof(&args, dir);
        assert_eq!(code(&o), 1, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("rolled back"), "{}", stderr(&o));
    }

    // Attack 7: a proof presented for another request. The verifier that issued the
    // challenge names it, and another binding is not valid.
    let expecting = |binding: &str| {
        medproof(
            &[
                "verify",
                "out/record-inclusion-0.json",
                "--data-dir",
                "data",
                "--expect-binding",
                binding,
            ],
            dir,
        )
    };
    let o = expecting(bundle["public_inputs"]["binding"].as_str().unwrap());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = expecting("12345");
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("another request"), "{}", stderr(&o));

    // Proving from the ledger: the example input names only the record and a binding.
    let o = prove_example(dir, "p.json");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = medproof(&["verify", "p.json", "--data-dir", "data"], dir);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    // Attack 8: whoever can write the data dir swaps in keys of its own setup (it holds
    // their toxic waste, so it could forge any proof under them) and proves against the
    // ledger's real, signed checkpoint. The genesis names the keys the ledger started
    // with: verify (with the database or light) refuses the proof, the audit, the service
    // and the demo refuse to run, and setup will not replace keys beside a ledger.
    let o = medproof(&["setup", "--data-dir", "other"], dir);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = medproof(&["setup", "--data-dir", "data", "--force"], dir);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("genesis names"), "{}", stderr(&o));
    std::fs::rename(dir.join("data/keys"), dir.join("keys.aside")).unwrap();
    std::fs::rename(dir.join("other/keys"), dir.join("data/keys")).unwrap();
    let o = prove_example(dir, "forged.json");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = medproof(&["verify", "forged.json", "--data-dir", "data"], dir);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("does not name"), "{}", stderr(&o));
    std::fs::remove_dir_all(light.join("keys")).unwrap();
    copy_tree(&dir.join("data/keys"), &light.join("keys"));
    let o = medproof(
        &[
            "verify",
            "forged.json",
            "--data-dir",
            light.to_str().unwrap(),
        ],
        dir,
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("does not name"), "{}", stderr(&o));
    let o = medproof(&["audit", "--data-dir", "data"], dir);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("genesis names"), "{}", stderr(&o));
    let o = medproof(&["demo", "--data-dir", "data", "--out", "out2"], dir);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("genesis names"), "{}", stderr(&o));
    // Keys gone beside a ledger are not regenerated.
    std::fs::remove_dir_all(dir.join("data/keys")).unwrap();
    let o = medproof(&["demo", "--data-dir", "data", "--out", "out2"], dir);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("restore them"), "{}", stderr(&o));
    assert!(!dir.join("data/keys").exists());
    std::fs::rename(dir.join("keys.aside"), dir.join("data/keys")).unwrap();

    // An altered entry: `ledger verify` names it and exits 1.
    let store = medproof_ledger::RocksStore::open(&dir.join("data/ledger")).unwrap();
    let mut bytes = medproof_ledger::Store::get(
        &store,
        medproof_ledger::store::Cf::Entries,
        &2u64.to_be_bytes(),
    )
    .unwrap()
    .unwrap();
    bytes[60] ^= 1;
    store
        .raw_put(
            medproof_ledger::store::Cf::Entries,
            &2u64.to_be_bytes(),
            &bytes,
        )
        .unwrap();
    drop(store);
    let o = medproof(&["ledger", "verify", "--data-dir", "data"], dir);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("seq 2"), "{}", stderr(&o));
    // The audit of any period that starts at the genesis sees it too.
    let o = medproof(&["audit", "--data-dir", "data", "--to", "6"], dir);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("seq 2: Chain"));
}

/// `medproof serve` reads an optional TOML file under its flags and environment; an
/// unknown key in it is an error that names the file.
#[test]
fn serve_takes_its_settings_from_a_file() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("bad.toml"), "bnd = \"127.0.0.1:0\"\n").unwrap();
    let o = medproof(&["serve", "--config", "bad.toml"], dir);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains("bad.toml") && err.contains("bnd"), "{err}");

    // TLS needs a certificate and its key; a file that is not one is named, at once,
    // before any key is generated or any ledger created.
    let o = medproof(&["serve", "--tls-cert", "cert.pem"], dir);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--tls-key"), "{}", stderr(&o));
    std::fs::write(dir.join("cert.pem"), "not a certificate\n").unwrap();
    let o = medproof(
        &[
            "serve",
            "--data-dir",
            "t",
            "--tls-cert",
            "cert.pem",
            "--tls-key",
            "key.pem",
        ],
        dir,
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("cert.pem: no PEM certificate"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.join("t").exists());

    std::fs::write(
        dir.join("serve.toml"),
        "data-dir = \"d\"\nbind = \"127.0.0.1:0\"\nno-prover = true\nwindow = 60\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_medproof"))
        .args(["serve", "--config", "serve.toml"])
        .current_dir(dir)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let url = lines
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("medproof serving on ").map(str::to_string))
        .expect("the service says where it listens");
    let c = medproof_service::client::Client::new(&url);
    let health = c.get("/healthz").unwrap();
    let doc = c.get("/openapi.json").unwrap().body;
    let proofs = c
        .raw("POST", "/v1/proofs/access", Some("application/json"), b"{}")
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(health.status, 200);
    // The file's data dir and no-prover took effect.
    assert!(dir.join("d/ledger").is_dir());
    assert!(doc["paths"].get("/v1/proofs/access").is_none());
    assert_eq!(proofs.status, 404);
}

/// The README's story block, run as written (bash, `mp` the binary) against
/// `medproof serve` on a loopback port: the docs' commands stay true.
#[test]
fn the_readme_story_runs_against_serve() {
    let readme = include_str!("../../README.md");
    let block = readme
        .split("<!-- story: begin -->")
        .nth(1)
        .and_then(|b| b.split("<!-- story: end -->").next())
        .expect("the README has a story block");
    let script = block
        .trim()
        .strip_prefix("```sh")
        .and_then(|b| b.strip_suffix("```"))
        .expect("the story block is one sh code block");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // The service pushes its log to a witness: the ledger key is made first so that
    // the witness can pin the log's note key.
    std::fs::create_dir(dir.join("data")).unwrap();
    let (ledger_key, _) =
        medproof_ledger::keyfile::load_or_create(&dir.join("data/ledger.key")).unwrap();
    let log_vkey =
        medproof_ledger::tlog::LogVerifier::new("story.example/log", ledger_key.verifying_key())
            .unwrap()
            .verifier_key();
    let witness_vkey = witness_key(dir);
    let mut args = witness_args("serve", &log_vkey);
    args.extend(["--bind", "127.0.0.1:0"]);
    let (mut witness, witness_url, _) = started(&args, dir, "medproof witness serving on ");
    let push_to = format!("{witness_vkey}@{witness_url}");
    let serve_args = [
        "serve",
        "--data-dir",
        "data",
        "--bind",
        "127.0.0.1:0",
        "--prover-threads",
        "2",
        "--http-workers",
        "2",
        "--log-origin",
        "story.example/log",
        "--witness",
        &push_to,
    ];
    let (mut child, url, log) = started(&serve_args, dir, "medproof serving on ");
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -euo pipefail\nmp() {{ \"$MEDPROOF_BIN\" \"$@\"; }}\n{script}"
        ))
        .env("MEDPROOF_BIN", env!("CARGO_BIN_EXE_medproof"))
        .env("MEDPROOF_SERVER", &url)
        .current_dir(dir)
        .output()
        .unwrap();
    // A regulator with only the ledger's public key audits the served ledger from its
    // transparency log, in a directory of its own; a wrong key is refused.
    let ledger_pub = std::fs::read_to_string(dir.join("data/ledger.pub")).unwrap();
    let regulator = dir.join("regulator");
    std::fs::create_dir(&regulator).unwrap();
    let remote_audit = |key: &str| {
        medproof(
            &[
                "audit",
                "--url",
                &url,
                "--ledger-key",
                key.trim(),
                "--report",
                "remote.json",
            ],
            &regulator,
        )
    };
    let remote = remote_audit(&ledger_pub);
    let wrong = remote_audit(&"11".repeat(32));
    // The witness cosigned the log as the service pushed it: the inclusion proof's
    // checkpoint gets its place in a cosigned checkpoint (`GET /v1/log/proof`), and a
    // remote audit names the witness.
    let c = medproof_service::client::Client::new(&url);
    let mut inclusion: Value =
        serde_json::from_slice(&std::fs::read(dir.join("inclusion-proof.json")).unwrap()).unwrap();
    let seq = inclusion["checkpoint"]["seq"].as_u64().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let log_proof = loop {
        let r = c.get(&format!("/v1/log/proof?seq={seq}")).unwrap();
        if r.status == 200 || std::time::Instant::now() > deadline {
            break r.ok().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let cosigned = c.get_bytes("/v1/log/cosigned").unwrap();
    assert_eq!(cosigned.status, 200);
    assert_eq!(c.get("/v1/log").unwrap().ok().unwrap()["cosigned"], true);
    std::fs::write(regulator.join("cosigned.txt"), &cosigned.body).unwrap();
    let witnessed_audit = medproof(
        &[
            "audit",
            "--url",
            &url,
            "--ledger-key",
            ledger_pub.trim(),
            "--cosigned",
            "cosigned.txt",
            "--witness",
            &witness_vkey,
            "--report",
            "witnessed.json",
        ],
        &regulator,
    );
    inclusion["log"] = log_proof;
    std::fs::write(dir.join("witnessed.json"), inclusion.to_string()).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let log = log.join().unwrap();
    // Started again requiring the witness, the service's verifier takes the bundle
    // with its cosigned log proof and refuses the same bundle without it.
    let mut required = serve_args.to_vec();
    required.extend(["--verify-witness", &witness_vkey]);
    let (mut child, url, _) = started(&required, dir, "medproof serving on ");
    let client_verify =
        |bundle: &str| medproof(&["client", "--server", &url, "verify", bundle], dir);
    let with_log = client_verify("witnessed.json");
    let without = client_verify("inclusion-proof.json");
    child.kill().unwrap();
    child.wait().unwrap();
    witness.kill().unwrap();
    witness.wait().unwrap();
    assert_eq!(code(&witnessed_audit), 0, "{}", stderr(&witnessed_audit));
    let vouched: Value =
        serde_json::from_slice(&std::fs::read(regulator.join("witnessed.json")).unwrap()).unwrap();
    assert_eq!(
        vouched["witnesses"]["vouched"],
        serde_json::json!(["witness.example/w1"]),
        "{vouched}"
    );
    assert_eq!(code(&with_log), 0, "{}", stderr(&with_log));
    assert!(
        String::from_utf8_lossy(&with_log.stdout).contains("witnesses"),
        "{}",
        String::from_utf8_lossy(&with_log.stdout)
    );
    assert_eq!(code(&without), 1, "{}", stderr(&without));
    assert!(
        String::from_utf8_lossy(&without.stdout).contains("no cosigned log checkpoint")
            || stderr(&without).contains("no cosigned log checkpoint"),
        "{}{}",
        String::from_utf8_lossy(&without.stdout),
        stderr(&without)
    );

    let (out, err) = (String::from_utf8_lossy(&o.stdout), stderr(&o));
    assert!(o.status.success(), "{out}\n{err}");
    assert_eq!(code(&remote), 0, "{}", stderr(&remote));
    assert_eq!(code(&wrong), 2, "{}", stderr(&wrong));
    assert!(
        stderr(&wrong).contains("signed by the ledger key"),
        "{}",
        stderr(&wrong)
    );
    let remote: Value =
        serde_json::from_slice(&std::fs::read(regulator.join("remote.json")).unwrap()).unwrap();
    let to = remote["to"].as_u64().unwrap().to_string();
    let local = medproof(&["audit", "--to", &to, "--report", "local.json"], dir);
    assert_eq!(code(&local), 0, "{}", stderr(&local));
    let local: Value =
        serde_json::from_slice(&std::fs::read(dir.join("local.json")).unwrap()).unwrap();
    assert_eq!(
        remote, local,
        "the remote audit's report is the local one's"
    );
    assert!(remote["accesses"].as_u64().unwrap() > 0, "{remote}");
    // The service's debug log saw every request, and no opening, pseudonym or key.
    assert!(
        log.contains("entry appended") && log.contains("proof job finished"),
        "{log}"
    );
    let json = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(f)).unwrap()).unwrap()
    };
    let (record, consent) = (json("record.json"), json("consent.json"));
    let salt = std::fs::read_to_string(dir.join("patient.salt")).unwrap();
    let secrets = [
        salt.trim().to_string(),
        record["blinding"].as_str().unwrap().to_string(),
        record["patient_ref"].as_str().unwrap().to_string(),
        record["content_sha256"].as_str().unwrap().to_string(),
        consent["blinding"].as_str().unwrap().to_string(),
        hex::encode(std::fs::read(dir.join("patient.key")).unwrap()),
        hex::encode(std::fs::read(dir.join("provider.key")).unwrap()),
    ];
    for secret in &secrets {
        assert!(
            !secret.is_empty() && !log.contains(secret.as_str()),
            "the log holds a secret: {secret}"
        );
    }
    // Each step did what its comment says.
    assert!(err.contains("403 not_admitted"), "{err}");
    assert!(err.contains("409 duplicate_commitment"), "{err}");
    assert!(err.contains("422 not_provable"), "{err}");
    let provider = std::fs::read_to_string(dir.join("provider.pub")).unwrap();
    assert!(
        out.contains(&format!("\"provider\": \"{}\"", provider.trim())),
        "the history names the provider: {out}"
    );
    assert!(out.contains("\"passed\": true"), "the audit passed: {out}");
    assert_eq!(out.matches("proof      ok").count(), 3, "{out}");
    assert!(err.contains("409 claim_already_submitted"), "{err}");
    // The openings stay with the parties, readable by their owners only.
    use std::os::unix::fs::PermissionsExt;
    for f in [
        "patient.salt",
        "record.json",
        "consent.json",
        "access.json",
        "policy.json",
        "claim-record.json",
    ] {
        let mode = std::fs::metadata(dir.join(f)).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{f} is {mode:o}");
    }
}

/// The ceremony commands on a small circom system (the statements' own run in
/// `interop/ceremony.sh`): new, two contributions and a beacon verify (from the `.ptau`
/// and from the initial key); a changed byte is exit 1 with the contribution named, a
/// missing file exit 2, a ceremony for one system checked against another exit 1.
#[test]
fn ceremony_commands_exit_codes() {
    use ark_bn254::Fr;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // x³ + x + 5 = y (y public), and the same with 6: params' circom fixtures.
    // Read at run time (see params/tests/it/common.rs): a cached binary may come from another checkout.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or(env!("CARGO_MANIFEST_DIR").into());
    let fixtures = Path::new(&manifest).join("../params/tests/data");
    for (name, fixture) in [("cube.r1cs", "cube5.r1cs"), ("other.r1cs", "cube6.r1cs")] {
        std::fs::copy(fixtures.join(fixture), d.join(name)).unwrap();
    }
    std::fs::write(
        d.join("p.ptau"),
        medproof_params::ptau::prepared_from_secrets(
            3,
            Fr::from(3u64),
            Fr::from(5u64),
            Fr::from(7u64),
        ),
    )
    .unwrap();
    let run = |args: &[&str]| medproof(args, d);
    let ok = |args: &[&str]| {
        let o = run(args);
        assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    ok(&[
        "ceremony",
        "new",
        "--ptau",
        "p.ptau",
        "--r1cs",
        "cube.r1cs",
        "--out",
        "z0.zkey",
    ]);
    let h1 = ok(&[
        "ceremony",
        "contribute",
        "--in",
        "z0.zkey",
        "--out",
        "z1.zkey",
        "--name",
        "alice",
    ]);
    ok(&[
        "ceremony",
        "contribute",
        "--in",
        "z1.zkey",
        "--out",
        "z2.zkey",
        "--entropy",
        "dice",
    ]);
    ok(&[
        "ceremony",
        "beacon",
        "--in",
        "z2.zkey",
        "--out",
        "z.zkey",
        "--beacon",
        "00ff",
        "--iterations-exp",
        "10",
    ]);
    let full = ok(&[
        "ceremony",
        "verify",
        "--ptau",
        "p.ptau",
        "--r1cs",
        "cube.r1cs",
        "--zkey",
        "z.zkey",
    ]);
    let fast = ok(&[
        "ceremony",
        "verify",
        "--initial",
        "z0.zkey",
        "--r1cs",
        "cube.r1cs",
        "--zkey",
        "z.zkey",
    ]);
    assert_eq!(full, fast);
    // The hash the contributor published is the one verify lists for it.
    let published = h1.trim().rsplit(' ').next().unwrap();
    assert!(
        full.contains(&format!("contribution #1 alice: {published}")),
        "{full}"
    );

    // A changed byte in the second contribution's transcript.
    use medproof_params::zkey::{read_zkey_file, write_zkey};
    let mut z = read_zkey_file(&d.join("z.zkey")).unwrap();
    z.contributions[1].transcript[10] ^= 1;
    std::fs::write(d.join("bad.zkey"), write_zkey(&z)).unwrap();
    let o = run(&[
        "ceremony",
        "verify",
        "--initial",
        "z0.zkey",
        "--r1cs",
        "cube.r1cs",
        "--zkey",
        "bad.zkey",
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("contribution 2"), "{}", stderr(&o));

    let o = run(&[
        "ceremony",
        "verify",
        "--ptau",
        "p.ptau",
        "--r1cs",
        "other.r1cs",
        "--zkey",
        "z.zkey",
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let o = run(&[
        "ceremony",
        "verify",
        "--ptau",
        "missing.ptau",
        "--r1cs",
        "cube.r1cs",
        "--zkey",
        "z.zkey",
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let o = run(&[
        "ceremony",
        "contribute",
        "--in",
        "missing.zkey",
        "--out",
        "x.zkey",
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    // A key with no contribution is not a ceremony's result.
    let o = run(&[
        "ceremony",
        "verify",
        "--initial",
        "z0.zkey",
        "--r1cs",
        "cube.r1cs",
        "--zkey",
        "z0.zkey",
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("no contribution"), "{}", stderr(&o));
}
