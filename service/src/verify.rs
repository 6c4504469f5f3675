//! Verifying a bundle against a ledger: the use case behind `medproof verify` (and the
//! service's verify endpoint to come). It fails closed, and its [`Verdict`] says which
//! checks passed and why the first one that failed did.
//!
//! The checks, in order: the binding the verifier expects (if it names one); the
//! checkpoint (present, signed by the trusted ledger key, holding the proof's root); the
//! verifying key (the one the ledger's genesis names for the statement); its
//! freshness (by the ledger's checkpoint history when the database is at hand, else the
//! light rule: the checkpoint is younger than the window) and the proof's `now` within
//! the skew; the records and policies the proof names, on the signed chain (with the
//! database); and the Groth16 proof. A bundle without a checkpoint is not valid, unless
//! the caller allows an unanchored check of the proof alone.

use ed25519_dalek::VerifyingKey;
use medproof_ledger::entry::Genesis;
use medproof_ledger::{Ledger, Store};
use medproof_verifier::bundle::{BundleError, CheckpointHistory, DecodedBundle, Verifier};
use medproof_verifier::freshness::Freshness;
use medproof_verifier::tlog::CosignatureVerifier;
use medproof_verifier::{Checkpoint, Fr, ProofBundle};
use serde::Serialize;

/// What to check a bundle against.
pub struct Anchor<'a, S: Store> {
    /// The trusted ledger public key (needed for any bundle that carries a checkpoint).
    pub key: Option<VerifyingKey>,
    /// The ledger database, if at hand (full freshness rule, references).
    pub ledger: Option<&'a Ledger<S>>,
    /// Window and skew.
    pub rules: Freshness,
    /// The verifier's clock, Unix seconds.
    pub now: u64,
    /// The binding the proof must answer (the verifier's challenge, or the request
    /// binding it computed).
    pub expect_binding: Option<Fr>,
    /// Check the proof alone when the bundle carries no checkpoint.
    pub allow_unanchored: bool,
    /// The ledger's genesis, checked under `key`, when the database is not at hand: the
    /// verifying keys it names are the only ones accepted (with the database, its own
    /// genesis is used). Neither: an anchored bundle is not valid.
    pub genesis: Option<&'a Genesis>,
    /// Witnesses whose cosignatures count (C2SP tlog-cosignature keys).
    pub witnesses: &'a [CosignatureVerifier],
    /// How many of them must have cosigned a C2SP checkpoint that holds the bundle's
    /// checkpoint (carried in the bundle's `log`); 0: none required.
    pub required_witnesses: usize,
}

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Check {
    /// Its name: `binding`, `checkpoint`, `log`, `witnesses`, `key`, `freshness`,
    /// `references` or `proof`.
    pub name: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// What it established, or why it failed.
    pub detail: String,
}

/// How freshness was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FreshnessRule {
    /// By the ledger's checkpoint history.
    History,
    /// By the checkpoint's age (no ledger database).
    Light,
    /// Not judged: the bundle has no checkpoint and the caller allowed it.
    Unanchored,
}

/// The outcome of checking a well-formed bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Verdict {
    /// The statement.
    pub statement: String,
    /// Whether every check passed.
    pub valid: bool,
    /// The checks made, in order; checking stops at the first that fails.
    pub checks: Vec<Check>,
    /// How freshness was judged.
    pub freshness: FreshnessRule,
    /// The checkpoint's seq and time, when the bundle carries a trusted one.
    #[schema(value_type = Option<Vec<u64>>)]
    pub checkpoint: Option<(u64, u64)>,
}

impl Verdict {
    /// Why it is not valid: the failed check's detail.
    pub fn reason(&self) -> Option<&str> {
        self.checks
            .iter()
            .find(|c| !c.passed)
            .map(|c| c.detail.as_str())
    }
}

struct Checks {
    statement: String,
    done: Vec<Check>,
    freshness: FreshnessRule,
    checkpoint: Option<(u64, u64)>,
}

impl Checks {
    fn pass(&mut self, name: &'static str, detail: impl Into<String>) {
        self.done.push(Check {
            name,
            passed: true,
            detail: detail.into(),
        });
    }

    fn fail(mut self, name: &'static str, detail: impl Into<String>) -> Verdict {
        self.done.push(Check {
            name,
            passed: false,
            detail: detail.into(),
        });
        self.verdict()
    }

    fn verdict(self) -> Verdict {
        Verdict {
            valid: self.done.iter().all(|c| c.passed),
            statement: self.statement,
            checks: self.done,
            freshness: self.freshness,
            checkpoint: self.checkpoint,
        }
    }
}

/// Checks `bundle` against `anchor` (see the module docs). `Err` means the bundle is
/// malformed or made for another key (exit 2 in the CLI, a 4xx over HTTP); a verdict
/// that is not valid says why.
pub fn verify_bundle<S: Store>(
    verifier: &Verifier,
    bundle: &ProofBundle,
    anchor: &Anchor<'_, S>,
) -> Result<Verdict, BundleError> {
    let (decoded, key) = verifier.prepare(bundle)?;
    let statement = decoded.statement;
    let mut checks = Checks {
        statement: statement.name().to_string(),
        done: Vec::new(),
        freshness: if bundle.checkpoint.is_none() {
            FreshnessRule::Unanchored
        } else if anchor.ledger.is_some() {
            FreshnessRule::History
        } else {
            FreshnessRule::Light
        },
        checkpoint: None,
    };
    if let Some(expected) = anchor.expect_binding {
        let name = statement.input_names()[statement.binding_input()];
        if decoded.inputs[statement.binding_input()] != expected {
            return Ok(checks.fail(
                "binding",
                format!(
                    "the proof answers another request: its `{name}` is not the expected binding"
                ),
            ));
        }
        checks.pass("binding", format!("`{name}` is the expected binding"));
    }
    if bundle.checkpoint.is_none() && !anchor.allow_unanchored {
        return Ok(checks.fail(
            "checkpoint",
            "the bundle carries no ledger checkpoint, so its root cannot be vouched for (--allow-unanchored checks the proof alone)",
        ));
    }
    if bundle.checkpoint.is_some() {
        let Some(trusted) = anchor.key else {
            return Ok(checks.fail(
                "checkpoint",
                "no trusted ledger key to check the bundle's checkpoint against",
            ));
        };
        let checkpoint = match Verifier::check_checkpoint(bundle, &decoded, &trusted) {
            Ok(cp) => cp,
            Err(e) if e.is_verdict() => return Ok(checks.fail("checkpoint", e.to_string())),
            Err(e) => return Err(e),
        };
        checks.checkpoint = Some((checkpoint.seq, checkpoint.time));
        checks.pass(
            "checkpoint",
            format!(
                "checkpoint seq {} (time {}) is signed by the ledger and holds the proof's root",
                checkpoint.seq, checkpoint.time
            ),
        );
        if let Err(reason) = witnessed(anchor, bundle, &checkpoint, &trusted, &mut checks) {
            return Ok(checks.fail(reason.0, reason.1));
        }
        // The genesis of the database when it is at hand, else the one given.
        let Some(genesis) = anchor.ledger.and_then(Ledger::genesis).or(anchor.genesis) else {
            return Ok(checks.fail(
                "key",
                "no genesis of the ledger at hand to check the verifying key against (the data dir's genesis.json, or --genesis FILE: `medproof ledger entry 0`)",
            ));
        };
        // The key the proof was checked under (the bundle's `vk_id` had to name it).
        match genesis.key(statement) {
            Some(k) if genesis.names(statement, key.id()) => checks.pass(
                "key",
                format!("the verifying key is the one the ledger's genesis names ({})", k.origin()),
            ),
            _ => {
                return Ok(checks.fail(
                    "key",
                    format!(
                        "the proof is made under a verifying key ({}) that the ledger's genesis does not name for {statement}: whoever made that key may forge proofs under it",
                        key.id()
                    ),
                ))
            }
        }
        if let Err(reason) = fresh(anchor, &decoded, &checkpoint) {
            return Ok(checks.fail("freshness", reason));
        }
        checks.pass(
            "freshness",
            match anchor.ledger {
                Some(_) => "fresh by the ledger's checkpoint history",
                None => "younger than the freshness window (no ledger database here: light rule)",
            },
        );
        if let Some(ledger) = anchor.ledger {
            if let Err(e) = medproof_ledger::audit::check_references(ledger, &decoded, &checkpoint)
            {
                return Ok(checks.fail("references", e.to_string()));
            }
            checks.pass(
                "references",
                "what the proof names is on the signed chain before its checkpoint",
            );
        }
    }
    if !key.verify(&decoded.inputs, &decoded.proof)? {
        return Ok(checks.fail(
            "proof",
            "the proof does not verify against these public inputs",
        ));
    }
    checks.pass("proof", format!("{statement} proof verifies"));
    Ok(checks.verdict())
}

/// The bundle's place in the transparency log (checked when it carries one) and the
/// witnesses that vouch for it (required when the anchor says so).
fn witnessed<S: Store>(
    anchor: &Anchor<'_, S>,
    bundle: &ProofBundle,
    checkpoint: &Checkpoint,
    trusted: &VerifyingKey,
    checks: &mut Checks,
) -> Result<(), (&'static str, String)> {
    let required = anchor.required_witnesses;
    let Some(log) = &bundle.log else {
        if required == 0 {
            return Ok(());
        }
        return Err((
            "witnesses",
            format!(
                "{required} witness cosignatures are required, and the bundle carries no cosigned log checkpoint (`log`)"
            ),
        ));
    };
    let logged = log
        .check(checkpoint, trusted, anchor.witnesses)
        .map_err(|e| ("log", format!("the bundle's log checkpoint: {e}")))?;
    checks.pass(
        "log",
        format!(
            "checkpoint seq {} is entry {} of the log `{}` in its C2SP checkpoint of {} entries, signed by the ledger",
            checkpoint.seq, checkpoint.seq, logged.origin, logged.size
        ),
    );
    if required == 0 {
        return Ok(());
    }
    let n = logged.cosigned_by.len();
    if n < required {
        return Err((
            "witnesses",
            format!(
                "the log checkpoint is cosigned by {n} of the witnesses given ({}), {required} required",
                match n {
                    0 => "none".to_string(),
                    _ => logged.cosigned_by.join(", "),
                }
            ),
        ));
    }
    checks.pass(
        "witnesses",
        format!(
            "cosigned by {n} of the witnesses given ({required} required): {}",
            logged.cosigned_by.join(", ")
        ),
    );
    Ok(())
}

/// The freshness rule that applies: the root's (history or light) and the proof's `now`.
fn fresh<S: Store>(
    anchor: &Anchor<'_, S>,
    decoded: &DecodedBundle,
    checkpoint: &Checkpoint,
) -> Result<(), String> {
    let rules = &anchor.rules;
    match anchor.ledger {
        Some(ledger) => {
            let superseded_at = ledger
                .superseded_at(checkpoint)
                .map_err(|e| e.to_string())?;
            rules
                .check_root(checkpoint.seq, checkpoint.time, superseded_at, anchor.now)
                .map_err(|e| e.to_string())?;
        }
        None => rules
            .check_recent(checkpoint.seq, checkpoint.time, anchor.now)
            .map_err(|e| e.to_string())?,
    }
    if let Some(now) = decoded.now() {
        rules
            .check_now(now, anchor.now)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
