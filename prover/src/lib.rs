//! medproof's prover: from a witness to a proof bundle.
//!
//! For each request it synthesizes the circuit with its witness (without rebuilding the
//! constraint matrices), evaluates the matrices built once when the keys were loaded and
//! checks every constraint there, and only then runs the MSMs ([`groth16`], against the
//! keys' fixed-base tables of [`msm`]; or ark-groth16's prover with the same matrices
//! while the tables are not built, and for [`Prover::without_tables`]). An unsatisfied
//! witness is an error naming the failing constraint, not a proof that fails later.
//!
//! [`Prover::prove_many`] proves independent requests in parallel; a panic inside one
//! job fails that job only. [`Prover::prove_many_shaped`] chooses how they share the
//! cores ([`Shape`]): every proof on the whole pool (what `prove_many` and the service
//! do), or one proof per core, each on a lane (a pool of one thread). On 2 cores the
//! lanes were no faster (benches/REPORT.md); the choice is kept for measuring it on more.

#![forbid(unsafe_code)]

pub mod fft;
pub mod groth16;
pub mod msm;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use ark_bn254::{Bn254, Fr};
use ark_ff::UniformRand;
use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
use ark_groth16::Groth16;
use ark_relations::gr1cs::ConstraintSynthesizer;
use medproof_circuits::access::{AccessCircuit, AccessWitness};
use medproof_circuits::claim::{ClaimCircuit, ClaimWitness};
use medproof_circuits::commit::RecordOpening;
use medproof_circuits::merkle::MerklePath;
use medproof_circuits::record_inclusion::RecordInclusionCircuit;
use medproof_circuits::shape::AssignError;
use medproof_circuits::AnyCircuit;
use medproof_params::reduction::{CircomReduction, MixedRadixReduction};
use medproof_params::{Reduction, StatementKeys};
use medproof_verifier::groth16::Proof;
use medproof_verifier::statement::{AccessPublic, ClaimPublic, RecordInclusionPublic};
use medproof_verifier::{ProofBundle, Statement};

use crate::groth16::ProvingTables;
use rayon::prelude::*;

/// Why a proof could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProveError {
    /// No keys are loaded for the statement.
    #[error("no proving key loaded for statement `{0}`")]
    NoKeys(Statement),
    /// The witness is missing, malformed, or does not satisfy the statement.
    #[error(transparent)]
    Witness(#[from] AssignError),
    /// Groth16 itself failed.
    #[error("proving failed: {0}")]
    Groth16(String),
    /// The job panicked; other jobs are unaffected.
    #[error("proving job panicked: {0}")]
    Panicked(String),
    /// The thread pool could not be built.
    #[error("cannot build the proving thread pool: {0}")]
    Pool(String),
}

/// A request to prove record inclusion.
#[derive(Debug, Clone)]
pub struct RecordInclusionRequest {
    /// The statement's public inputs.
    pub public: RecordInclusionPublic,
    /// The record's opening (secret).
    pub record: RecordOpening,
    /// The key_ref of the key that committed it (the ledger wrapped its leaf with it).
    pub committer: Fr,
    /// The wrapped leaf's Merkle path (secret).
    pub path: MerklePath,
}

/// A request to prove access authorization.
#[derive(Clone)]
pub struct AccessRequest {
    /// The statement's public inputs.
    pub public: AccessPublic,
    /// The consent, its granter, the patient's salt, the path and the record (secret).
    pub witness: AccessWitness,
}

impl std::fmt::Debug for AccessRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessRequest")
            .field("public", &self.public)
            .field("witness", &"<redacted>")
            .finish()
    }
}

/// A request to prove claim compliance.
#[derive(Clone)]
pub struct ClaimRequest {
    /// The statement's public inputs.
    pub public: ClaimPublic,
    /// The claim record, the policy and their paths (secret).
    pub witness: ClaimWitness,
}

impl std::fmt::Debug for ClaimRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimRequest")
            .field("public", &self.public)
            .field("witness", &"<redacted>")
            .finish()
    }
}

/// Any proof request.
#[derive(Debug, Clone)]
pub enum ProofRequest {
    /// Record inclusion.
    RecordInclusion(RecordInclusionRequest),
    /// Access authorization.
    Access(AccessRequest),
    /// Claim compliance.
    Claim(ClaimRequest),
}

impl ProofRequest {
    /// The statement the request is for.
    pub fn statement(&self) -> Statement {
        match self {
            ProofRequest::RecordInclusion(_) => Statement::RecordInclusion,
            ProofRequest::Access(_) => Statement::AccessAuthorization,
            ProofRequest::Claim(_) => Statement::ClaimCompliance,
        }
    }

    /// The circuit with the request's assignment.
    pub fn circuit(&self) -> AnyCircuit {
        match self {
            ProofRequest::RecordInclusion(r) => {
                AnyCircuit::RecordInclusion(RecordInclusionCircuit::new(
                    r.public,
                    r.record.clone(),
                    r.committer,
                    r.path.clone(),
                ))
            }
            ProofRequest::Access(r) => {
                AnyCircuit::Access(AccessCircuit::new(r.public, r.witness.clone()))
            }
            ProofRequest::Claim(r) => {
                AnyCircuit::Claim(ClaimCircuit::new(r.public, r.witness.clone()))
            }
        }
    }

    /// The bundle of `proof`, with the request's typed public inputs.
    fn bundle(&self, proof: &Proof, vk_id: &str) -> ProofBundle {
        match self {
            ProofRequest::RecordInclusion(r) => ProofBundle::new(&r.public, proof, vk_id),
            ProofRequest::Access(r) => ProofBundle::new(&r.public, proof, vk_id),
            ProofRequest::Claim(r) => ProofBundle::new(&r.public, proof, vk_id),
        }
    }
}

/// How proofs share the prover's cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Each proof on the whole pool: its MSMs and FFTs split over every core, and the
    /// proofs in flight sharing the cores by work stealing.
    Shared,
    /// One proof per core, each on a lane of its own (a pool of one thread): no proof
    /// waits on another's parallel work. For as many proofs as cores or more; on 2
    /// cores it measured no faster than `Shared`.
    Lanes,
}

/// Keys by statement, their fixed-base tables, and the pools to prove on.
pub struct Prover {
    keys: BTreeMap<Statement, Arc<StatementKeys>>,
    /// Each statement's fixed-base tables, built in the background from its first
    /// proof on; `None` for a prover made [`Prover::without_tables`].
    tables: Option<BTreeMap<Statement, Arc<TableSlot>>>,
    pool: rayon::ThreadPool,
    /// One pool of one thread per thread of `pool` ([`Shape::Lanes`]).
    lanes: Vec<rayon::ThreadPool>,
}

impl std::fmt::Debug for Prover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prover")
            .field("statements", &self.keys.keys().collect::<Vec<_>>())
            .field("threads", &self.pool.current_num_threads())
            .field("table_bytes", &self.table_bytes())
            .finish()
    }
}

/// A statement's fixed-base tables: built once, by one builder, and read without ever
/// blocking a prover thread. `Some(None)`: the build failed (logged), and the statement
/// proves with ark-groth16's prover.
#[derive(Default)]
struct TableSlot {
    tables: OnceLock<Option<ProvingTables>>,
    started: AtomicBool,
}

impl Prover {
    /// A prover over `keys`, with a pool of `threads` workers (0: one per core), that
    /// proves with fixed-base tables of the proving keys (memory:
    /// [`Prover::table_bytes`]). A statement's tables are built in the background from
    /// its first proof on (seconds: about 255 doublings per base of the key), on a pool
    /// of their own, while its proofs use ark-groth16's prover; [`Prover::build_tables`]
    /// builds them all now. For a service, which proves many times.
    ///
    /// No prover thread ever waits for a table: a rayon thread that waited on one being
    /// built by work it had itself stolen (a proof inside another proof's join) would
    /// wait forever.
    pub fn new(
        keys: impl IntoIterator<Item = StatementKeys>,
        threads: usize,
    ) -> Result<Self, ProveError> {
        let mut prover = Self::without_tables(keys, threads)?;
        prover.tables = Some(
            prover
                .keys
                .keys()
                .map(|s| (*s, Arc::new(TableSlot::default())))
                .collect(),
        );
        Ok(prover)
    }

    /// A prover with no fixed-base tables: it proves with ark-groth16's own prover
    /// (variable-base MSMs) and starts at once; for a single proof.
    pub fn without_tables(
        keys: impl IntoIterator<Item = StatementKeys>,
        threads: usize,
    ) -> Result<Self, ProveError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("medproof-prover-{i}"))
            .build()
            .map_err(|e| ProveError::Pool(e.to_string()))?;
        let lanes = (0..pool.current_num_threads())
            .map(|lane| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .thread_name(move |_| format!("medproof-lane-{lane}"))
                    .build()
                    .map_err(|e| ProveError::Pool(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            keys: keys
                .into_iter()
                .map(|k| (k.statement, Arc::new(k)))
                .collect(),
            tables: None,
            pool,
            lanes,
        })
    }

    /// Builds every statement's tables now and returns when they are ready (a build
    /// already started in the background is waited for). Call it from outside the
    /// prover's pool.
    pub fn build_tables(&self) {
        let Some(slots) = &self.tables else {
            return;
        };
        for (statement, slot) in slots {
            if slot.started.swap(true, Ordering::SeqCst) {
                slot.tables.wait();
            } else if let Some(keys) = self.keys.get(statement) {
                let tables = self.pool.install(|| build(*statement, &keys.proving_key));
                let _ = slot.tables.set(tables);
            }
        }
    }

    /// The bytes the fixed-base tables built so far hold, all statements together.
    pub fn table_bytes(&self) -> usize {
        self.tables
            .iter()
            .flatten()
            .filter_map(|(_, slot)| slot.tables.get()?.as_ref())
            .map(ProvingTables::memory_bytes)
            .sum()
    }

    /// `statement`'s tables if they are built; if not, starts building them in the
    /// background (once) and returns `None`.
    fn tables_of(&self, statement: Statement) -> Option<&ProvingTables> {
        let slot = self.tables.as_ref()?.get(&statement)?;
        if let Some(tables) = slot.tables.get() {
            return tables.as_ref();
        }
        if !slot.started.swap(true, Ordering::SeqCst) {
            let (building, keys) = (slot.clone(), self.keys.get(&statement)?.clone());
            let threads = self.pool.current_num_threads();
            let spawned = std::thread::Builder::new()
                .name("medproof-tables".into())
                .spawn(move || {
                    // A pool of its own: nothing of the prover's runs on it.
                    let tables = match rayon::ThreadPoolBuilder::new().num_threads(threads).build()
                    {
                        Ok(pool) => pool.install(|| build(statement, &keys.proving_key)),
                        Err(_) => build(statement, &keys.proving_key),
                    };
                    let _ = building.tables.set(tables);
                });
            if let Err(e) = spawned {
                tracing::warn!(%statement, error = %e, "cannot start building the fixed-base tables");
                slot.started.store(false, Ordering::SeqCst);
            }
        }
        None
    }

    /// The keys of `statement`.
    pub fn keys(&self, statement: Statement) -> Option<&StatementKeys> {
        self.keys.get(&statement).map(Arc::as_ref)
    }

    /// Proves one request on the calling thread (inner MSMs and FFTs still use rayon).
    pub fn prove(&self, request: &ProofRequest) -> Result<ProofBundle, ProveError> {
        let statement = request.statement();
        let keys = self
            .keys
            .get(&statement)
            .ok_or(ProveError::NoKeys(statement))?;
        let _span = tracing::debug_span!("prove", %statement).entered();
        let proof = match self.tables_of(statement) {
            Some(tables) => {
                let z = keys.shape.synthesize(request.circuit())?;
                let mut rng = rand::thread_rng();
                let (r, s) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
                groth16::prove(
                    &keys.proving_key,
                    tables,
                    &keys.shape,
                    keys.reduction,
                    &z.0,
                    r,
                    s,
                )?
            }
            None => ark_groth16_prove(keys, request.circuit())?,
        };
        Ok(request.bundle(&proof, &keys.vk_id))
    }

    /// Proves one request on the prover's pool (its MSMs and FFTs on the pool's
    /// threads), the caller waiting; a panic inside it is this request's error. A
    /// service calls this from as many threads as the pool has, one proof each.
    pub fn prove_on_pool(&self, request: &ProofRequest) -> Result<ProofBundle, ProveError> {
        self.pool.install(|| isolate(|| self.prove(request)))
    }

    /// Proves one request alone on lane `lane` (modulo the lanes): one thread, its MSMs
    /// and FFTs run in turn, the caller waiting; a panic inside it is this request's
    /// error. For one proof per core ([`Shape::Lanes`]), called from as many threads as
    /// there are lanes, each with its own lane.
    pub fn prove_on_lane(
        &self,
        request: &ProofRequest,
        lane: usize,
    ) -> Result<ProofBundle, ProveError> {
        self.lanes[lane % self.lanes.len()].install(|| isolate(|| self.prove(request)))
    }

    /// The prover pool's threads (and lanes).
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Proves independent requests in parallel on the prover's pool. Results come back
    /// in request order; a failing or panicking job fails alone.
    pub fn prove_many(&self, requests: &[ProofRequest]) -> Vec<Result<ProofBundle, ProveError>> {
        self.prove_many_shared(requests)
    }

    /// [`Prover::prove_many`] in a given shape.
    pub fn prove_many_shaped(
        &self,
        requests: &[ProofRequest],
        shape: Shape,
    ) -> Vec<Result<ProofBundle, ProveError>> {
        match shape {
            Shape::Shared => self.prove_many_shared(requests),
            Shape::Lanes => self.prove_many_on_lanes(requests),
        }
    }

    /// One thread per lane takes the next request until none is left.
    fn prove_many_on_lanes(
        &self,
        requests: &[ProofRequest],
    ) -> Vec<Result<ProofBundle, ProveError>> {
        let next = AtomicUsize::new(0);
        let results = Mutex::new((0..requests.len()).map(|_| None).collect::<Vec<_>>());
        let (next, slots) = (&next, &results);
        std::thread::scope(|scope| {
            for lane in 0..self.lanes.len().min(requests.len()) {
                scope.spawn(move || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(request) = requests.get(i) else {
                        return;
                    };
                    let result = self.prove_on_lane(request, lane);
                    slots.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(result);
                });
            }
        });
        results
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(ProveError::Panicked("the lane stopped".into()))))
            .collect()
    }

    fn prove_many_shared(&self, requests: &[ProofRequest]) -> Vec<Result<ProofBundle, ProveError>> {
        // In waves of one request per thread: a thread that waits inside one proof's
        // parallel MSM or FFT steals work, and with every request queued at once it
        // would start another whole proof on top of its stack, and another, until the
        // stack overflows (1,024 access proofs did). A wave bounds that nesting to the
        // proofs in flight, and idle threads still help with their inner parallelism.
        let wave = self.pool.current_num_threads().max(1);
        self.pool.install(|| {
            requests
                .chunks(wave)
                .flat_map(|chunk| {
                    chunk
                        .par_iter()
                        .map(|req| isolate(|| self.prove(req)))
                        .collect::<Vec<_>>()
                })
                .collect()
        })
    }
}

/// `statement`'s tables, on the current pool, logged; `None` if the build panicked
/// (then the statement keeps proving with ark-groth16's prover).
fn build(statement: Statement, pk: &ark_groth16::ProvingKey<Bn254>) -> Option<ProvingTables> {
    let _span = tracing::info_span!("fixed-base tables", %statement).entered();
    let started = std::time::Instant::now();
    match catch_unwind(AssertUnwindSafe(|| ProvingTables::new(pk))) {
        Ok(tables) => {
            tracing::info!(
                bytes = tables.memory_bytes(),
                ms = started.elapsed().as_millis() as u64,
                "built"
            );
            Some(tables)
        }
        Err(_) => {
            tracing::error!("building the fixed-base tables failed; proving without them");
            None
        }
    }
}

/// Runs one job, turning a panic inside it into that job's error.
fn isolate<T>(job: impl FnOnce() -> Result<T, ProveError>) -> Result<T, ProveError> {
    catch_unwind(AssertUnwindSafe(job)).unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(ProveError::Panicked(msg))
    })
}

/// ark-groth16's prover: checks the witness against the cached matrices, then proves
/// with them.
fn ark_groth16_prove<C: ConstraintSynthesizer<Fr>>(
    keys: &StatementKeys,
    circuit: C,
) -> Result<Proof, ProveError> {
    let z = keys.shape.assign(circuit)?;
    let p = match keys.reduction {
        Reduction::Libsnark => prove_with::<LibsnarkReduction>(keys, &z.0),
        Reduction::LibsnarkMixedRadix => prove_with::<MixedRadixReduction>(keys, &z.0),
        Reduction::Circom => prove_with::<CircomReduction>(keys, &z.0),
    }
    .map_err(|e| ProveError::Groth16(e.to_string()))?;
    Ok(Proof {
        a: p.a,
        b: p.b,
        c: p.c,
    })
}

/// A Groth16 proof of the assignment `z` with the reduction `Q` the keys were made for.
fn prove_with<Q: R1CSToQAP>(
    keys: &StatementKeys,
    z: &[Fr],
) -> Result<ark_groth16::Proof<Bn254>, ark_relations::gr1cs::SynthesisError> {
    let mut rng = rand::thread_rng();
    let (r, s) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
    let shape = &keys.shape;
    Groth16::<Bn254, Q>::create_proof_with_reduction_and_matrices(
        &keys.proving_key,
        r,
        s,
        &shape.matrices,
        shape.num_instance,
        shape.num_constraints,
        z,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_job_fails_alone() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let results: Vec<Result<u32, ProveError>> = pool.install(|| {
            (0..4u32)
                .into_par_iter()
                .map(|i| {
                    isolate(|| {
                        if i == 2 {
                            panic!("job {i} exploded");
                        }
                        Ok(i)
                    })
                })
                .collect()
        });
        assert_eq!(results[0], Ok(0));
        assert_eq!(results[1], Ok(1));
        assert_eq!(
            results[2],
            Err(ProveError::Panicked("job 2 exploded".into()))
        );
        assert_eq!(results[3], Ok(3));
    }
}
