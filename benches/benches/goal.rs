//! Issue 12's goal run, alternated: each round proves every statement with medproof's
//! prover (keys over the smallest domain), with medproof's prove step on power-of-two
//! keys, and with ark-groth16's prover (the path before), one proof after the other,
//! then 8 record-inclusion proofs in each of three ways (`prove_many` on the whole pool,
//! one proof per core on lanes, ark-groth16's). It prints each one's median over the
//! rounds and the ratios.
//!
//! Criterion measures one benchmark's samples in a block and then the next's, so on a
//! machine whose speed drifts within minutes (a shared VM) its ratios drift with it; here
//! every contestant of a round runs within a few seconds of the others, and the order
//! reverses every other round.
//!
//! ```sh
//! MEDPROOF_GOAL_ROUNDS=25 cargo bench --locked --profile test -p medproof-benches --bench goal
//! ```

#![allow(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use medproof_benches::{fixture, stories};
use medproof_prover::{ProofRequest, Prover, Shape};
use medproof_verifier::groth16::PreparedVerifyingKey;

/// Something timed once per round.
struct Contestant<'a> {
    group: &'static str,
    name: &'static str,
    /// Proofs per run (1, or 8 for a batch).
    proofs: u32,
    run: Box<dyn Fn() + 'a>,
    /// Issue 12's goal, for medproof's prover on its own keys.
    goal: Option<Goal>,
    times: Vec<Duration>,
}

/// A goal: the most milliseconds a run may take, and the goal in words.
#[derive(Clone, Copy)]
struct Goal(f64, &'static str);

const RECORD_INCLUSION: Goal = Goal(80.0, "≤ 80 ms");
const ACCESS: Goal = Goal(110.0, "≤ 110 ms");
const CLAIM: Goal = Goal(140.0, "≤ 140 ms");
/// 12 proofs/s: 8 proofs in 667 ms.
const QUEUE: Goal = Goal(8.0 * 1e3 / 12.0, "≥ 12 proofs/s");

/// Proves `request` with `prover` and checks the proof against the prover's own
/// verifying key: every contestant must make proofs that verify.
fn check(prover: &Prover, request: &ProofRequest) {
    let statement = request.statement();
    let keys = prover.keys(statement).expect("keys");
    let pvk = PreparedVerifyingKey::new(keys.verifying_key.clone()).expect("a safe key");
    let bundle = prover.prove(request).expect("a proof");
    let decoded = bundle.decode().expect("a well-formed bundle");
    assert!(
        pvk.verify(&decoded.inputs, &decoded.proof)
            .expect("verifies"),
        "{statement}: a proof that does not verify"
    );
}

/// One proof of `r` by `p` per round.
fn one<'a>(
    group: &'static str,
    name: &'static str,
    p: &'a Prover,
    r: &'a ProofRequest,
    goal: Option<Goal>,
) -> Contestant<'a> {
    Contestant {
        group,
        name,
        proofs: 1,
        run: Box::new(move || {
            p.prove(r).unwrap();
        }),
        goal,
        times: Vec::new(),
    }
}

/// A batch of 8 proofs per round.
fn batch<'a>(name: &'static str, run: Box<dyn Fn() + 'a>, goal: Option<Goal>) -> Contestant<'a> {
    Contestant {
        group: "8 record-inclusion proofs",
        name,
        proofs: 8,
        run,
        goal,
        times: Vec::new(),
    }
}

fn main() {
    let rounds: usize = match std::env::var("MEDPROOF_GOAL_ROUNDS") {
        Err(_) => 25,
        Ok(r) => match r.parse() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!(
                    "goal: MEDPROOF_GOAL_ROUNDS must be a number of rounds above 0, not {r:?}"
                );
                std::process::exit(2);
            }
        },
    };
    // `cargo bench` passes `--bench`; a filter picks nothing here.
    if std::env::args().skip(1).any(|a| !a.starts_with('-')) {
        eprintln!("goal: takes no filter; set MEDPROOF_GOAL_ROUNDS to change the rounds");
    }
    let ri = fixture(8, 0);
    let st = stories();
    let record = &ri.requests[0];
    let access = &st.access[0].0;
    let claim = &st.claim;
    for (prover, request) in [
        (&ri.prover, record),
        (&ri.power_of_two, record),
        (&ri.ark_prover, record),
        (&st.prover, access),
        (&st.ark_prover, access),
        (&st.prover, claim),
        (&st.power_of_two, claim),
        (&st.ark_prover, claim),
    ] {
        check(prover, request);
    }

    let mut all = vec![
        one(
            "record inclusion",
            "medproof",
            &ri.prover,
            record,
            Some(RECORD_INCLUSION),
        ),
        one(
            "record inclusion",
            "medproof, power-of-two keys",
            &ri.power_of_two,
            record,
            None,
        ),
        one(
            "record inclusion",
            "ark-groth16",
            &ri.ark_prover,
            record,
            None,
        ),
        one("access", "medproof", &st.prover, access, Some(ACCESS)),
        one("access", "ark-groth16", &st.ark_prover, access, None),
        one("claim", "medproof", &st.prover, claim, Some(CLAIM)),
        one(
            "claim",
            "medproof, power-of-two keys",
            &st.power_of_two,
            claim,
            None,
        ),
        one("claim", "ark-groth16", &st.ark_prover, claim, None),
        batch(
            "medproof, prove_many",
            Box::new(|| {
                for r in ri.prover.prove_many_shaped(&ri.requests, Shape::Shared) {
                    r.unwrap();
                }
            }),
            Some(QUEUE),
        ),
        batch(
            "medproof, lanes",
            Box::new(|| {
                for r in ri.prover.prove_many_shaped(&ri.requests, Shape::Lanes) {
                    r.unwrap();
                }
            }),
            Some(QUEUE),
        ),
        batch(
            "ark-groth16, prove_many",
            Box::new(|| {
                for r in ri.ark_prover.prove_many(&ri.requests) {
                    r.unwrap();
                }
            }),
            None,
        ),
    ];

    eprintln!(
        "goal: {rounds} rounds of {} contestants on {} threads",
        all.len(),
        ri.prover.threads()
    );
    // One round unrecorded, to warm the caches and the allocator.
    for c in &all {
        (c.run)();
    }
    let started = Instant::now();
    for round in 0..rounds {
        let order: Vec<usize> = if round % 2 == 0 {
            (0..all.len()).collect()
        } else {
            (0..all.len()).rev().collect()
        };
        for i in order {
            let t = Instant::now();
            (all[i].run)();
            let elapsed = t.elapsed();
            all[i].times.push(elapsed);
        }
    }
    eprintln!("goal: {:.0} s in all", started.elapsed().as_secs_f64());

    println!("| | contestant | median | p25–p75 | ratio to ark-groth16 | goal (issue 12) |");
    println!("| --- | --- | ---: | ---: | ---: | --- |");
    let groups: Vec<&str> = {
        let mut g: Vec<&str> = all.iter().map(|c| c.group).collect();
        g.dedup();
        g
    };
    for group in groups {
        let members: Vec<&Contestant> = all.iter().filter(|c| c.group == group).collect();
        let old = members
            .iter()
            .find(|c| c.name.starts_with("ark-groth16"))
            .map(|c| quantile(&c.times, 0.5));
        for c in members {
            let (med, lo, hi) = (
                quantile(&c.times, 0.5),
                quantile(&c.times, 0.25),
                quantile(&c.times, 0.75),
            );
            let ratio = old.map_or(String::new(), |o| format!("{:.2}×", o / med));
            let median = if c.proofs == 1 {
                format!("{med:.1} ms")
            } else {
                format!(
                    "{med:.0} ms ({:.2} proofs/s)",
                    f64::from(c.proofs) * 1e3 / med
                )
            };
            let goal = match c.goal {
                Some(Goal(most, text)) if med <= most => format!("{text}: met"),
                Some(Goal(_, text)) => format!("{text}: missed"),
                None => String::new(),
            };
            println!(
                "| {group} | {} | {median} | {lo:.1}–{hi:.1} | {ratio} | {goal} |",
                c.name
            );
        }
    }
}

/// The `q` quantile of `times`, in milliseconds (nearest rank).
fn quantile(times: &[Duration], q: f64) -> f64 {
    let mut ms: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let i = ((ms.len().saturating_sub(1)) as f64 * q).round() as usize;
    ms.get(i).copied().unwrap_or(f64::NAN)
}
