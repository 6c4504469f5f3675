//! Proof jobs: a bounded queue in front of the prover's pool. As many dispatcher threads
//! as the pool has threads each take one job at a time, never on the HTTP workers, and
//! choose the pool's shape by load: while fewer jobs are in flight (running or waiting)
//! than there are threads, a job is proved on the whole pool (one proof on every core);
//! with at least as many, each dispatcher proves on a lane of its own (one proof per
//! core, no inner parallel overhead; the throughput of each shape is in
//! benches/REPORT.md). A full
//! queue is refused at once (the client retries); a panicking job fails alone; the
//! caller's tracing span follows the job. Finished jobs are kept for a while, then
//! forgotten.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use medproof_prover::{ProofRequest, Prover};
use medproof_verifier::{Checkpoint, ProofBundle};
use serde::Serialize;

/// How long a finished job's result is kept.
pub const KEEP_FINISHED: Duration = Duration::from_secs(15 * 60);

/// A job's state, as `GET /v1/jobs/{id}` answers it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for a prover thread.
    Queued,
    /// Being proved.
    Running,
    /// Proved.
    Done {
        /// The proof bundle.
        #[schema(value_type = Object)]
        bundle: Box<ProofBundle>,
    },
    /// Not proved.
    Failed {
        /// Why.
        error: String,
    },
}

struct Slot {
    owner: [u8; 32],
    state: JobState,
    finished: Option<Instant>,
}

struct Job {
    id: String,
    request: ProofRequest,
    checkpoint: Option<Checkpoint>,
    span: tracing::Span,
    queued: Instant,
}

/// Why a job was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobsError {
    /// The queue is full.
    Full,
    /// The prover has stopped.
    Stopped,
}

/// The job table and the queue to the prover threads.
pub struct Jobs {
    tx: Mutex<Option<SyncSender<Job>>>,
    table: Arc<Mutex<HashMap<String, Slot>>>,
    queued: Arc<AtomicUsize>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    capacity: usize,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Jobs {
    /// Starts one dispatcher per prover thread, with a queue of `capacity` jobs.
    /// A job still waiting `timeout` after it was queued is failed rather than started
    /// (its client has most likely given up; a proof, once started, cannot be
    /// interrupted and runs to its end).
    pub fn start(prover: Arc<Prover>, capacity: usize, timeout: Duration) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::sync_channel::<Job>(capacity.max(1));
        let rx = Arc::new(Mutex::new(rx));
        let table: Arc<Mutex<HashMap<String, Slot>>> = Arc::default();
        let queued = Arc::new(AtomicUsize::new(0));
        let running = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for i in 0..prover.threads().max(1) {
            let (rx, table, queued, running, prover) = (
                rx.clone(),
                table.clone(),
                queued.clone(),
                running.clone(),
                prover.clone(),
            );
            threads.push(
                std::thread::Builder::new()
                    .name(format!("medproof-job-{i}"))
                    .spawn(move || {
                        dispatch(i, &rx, &table, (&queued, &running), &prover, timeout)
                    })?,
            );
        }
        Ok(Self {
            tx: Mutex::new(Some(tx)),
            table,
            queued,
            threads: Mutex::new(threads),
            capacity,
        })
    }

    /// Queues `request`; the bundle will carry `checkpoint` (the one its roots are
    /// from). Returns the job's id.
    pub fn submit(
        &self,
        request: ProofRequest,
        checkpoint: Option<Checkpoint>,
        owner: [u8; 32],
    ) -> Result<String, JobsError> {
        let mut id = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id);
        let id = hex::encode(id);
        let job = Job {
            id: id.clone(),
            request,
            checkpoint,
            span: tracing::Span::current(),
            queued: Instant::now(),
        };
        {
            let mut table = lock(&self.table);
            table.retain(|_, s| s.finished.is_none_or(|t| t.elapsed() < KEEP_FINISHED));
            table.insert(
                id.clone(),
                Slot {
                    owner,
                    state: JobState::Queued,
                    finished: None,
                },
            );
        }
        // Counted before it is sent: a dispatcher may take it (and count it out) before
        // `try_send` returns, which would otherwise wrap the count below zero.
        self.queued.fetch_add(1, Ordering::SeqCst);
        let sent = match lock(&self.tx).as_ref() {
            Some(tx) => tx.try_send(job).map_err(|e| match e {
                TrySendError::Full(_) => JobsError::Full,
                TrySendError::Disconnected(_) => JobsError::Stopped,
            }),
            None => Err(JobsError::Stopped),
        };
        match sent {
            Ok(()) => Ok(id),
            Err(e) => {
                self.queued.fetch_sub(1, Ordering::SeqCst);
                lock(&self.table).remove(&id);
                Err(e)
            }
        }
    }

    /// A job's owner (the key that signed its request) and state.
    pub fn get(&self, id: &str) -> Option<([u8; 32], JobState)> {
        lock(&self.table)
            .get(id)
            .map(|s| (s.owner, s.state.clone()))
    }

    /// Jobs waiting for a prover thread.
    pub fn queue_depth(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    /// The queue's capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Stops taking jobs and waits until the queued ones are proved.
    pub fn shutdown(&self) {
        lock(&self.tx).take();
        for t in lock(&self.threads).drain(..) {
            let _ = t.join();
        }
    }
}

/// Whether a job goes to a lane of its own rather than the whole pool: when the jobs in
/// flight (running, this one included, and waiting) are at least as many as the
/// prover's threads. Counting the running ones keeps the last jobs of a burst on their
/// lanes rather than on a pool the lanes' threads are still busy beside.
fn on_lane(in_flight: usize, threads: usize) -> bool {
    threads > 1 && in_flight >= threads
}

fn dispatch(
    lane: usize,
    rx: &Mutex<Receiver<Job>>,
    table: &Mutex<HashMap<String, Slot>>,
    (queued, running): (&AtomicUsize, &AtomicUsize),
    prover: &Prover,
    timeout: Duration,
) {
    loop {
        let job = match lock(rx).recv() {
            Ok(j) => j,
            Err(_) => return,
        };
        let waiting = queued.fetch_sub(1, Ordering::SeqCst).saturating_sub(1);
        let set = |state: JobState, finished: bool| {
            if let Some(slot) = lock(table).get_mut(&job.id) {
                slot.state = state;
                slot.finished = finished.then(Instant::now);
            }
        };
        let waited = job.queued.elapsed();
        if waited >= timeout {
            super::metrics::proved(job.request.statement().name(), false, 0.0);
            set(
                JobState::Failed {
                    error: format!(
                        "timed out: waited {} ms in the queue, past the job timeout of {} s",
                        waited.as_millis(),
                        timeout.as_secs()
                    ),
                },
                true,
            );
            continue;
        }
        set(JobState::Running, false);
        let _entered = job.span.clone().entered();
        let started = Instant::now();
        let in_flight = running.fetch_add(1, Ordering::SeqCst) + 1 + waiting;
        // Both isolate a panic into this job's error, so the count is always given back.
        let proved = if on_lane(in_flight, prover.threads()) {
            prover.prove_on_lane(&job.request, lane)
        } else {
            prover.prove_on_pool(&job.request)
        };
        running.fetch_sub(1, Ordering::SeqCst);
        let state = match proved {
            Ok(bundle) => JobState::Done {
                bundle: Box::new(match &job.checkpoint {
                    Some(cp) => bundle.with_checkpoint(cp),
                    None => bundle,
                }),
            },
            Err(e) => JobState::Failed {
                error: e.to_string(),
            },
        };
        super::metrics::proved(
            job.request.statement().name(),
            matches!(state, JobState::Done { .. }),
            started.elapsed().as_secs_f64(),
        );
        tracing::info!(
            statement = %job.request.statement(),
            ok = matches!(state, JobState::Done { .. }),
            ms = started.elapsed().as_millis() as u64,
            "proof job finished"
        );
        set(state, true);
    }
}

#[cfg(test)]
mod tests {
    use super::on_lane;

    #[test]
    fn the_shape_follows_the_load() {
        // Alone, or fewer jobs in flight than threads: the whole pool.
        assert!(!on_lane(1, 2));
        assert!(!on_lane(3, 4));
        // At least as many jobs in flight as threads: a lane each.
        assert!(on_lane(2, 2));
        assert!(on_lane(4, 4));
        assert!(on_lane(10, 4));
        // One thread has no lane to spare.
        assert!(!on_lane(5, 1));
    }
}
