//! The one writer: a thread that owns appending to the ledger. Handlers queue signed
//! submissions; the writer takes whatever is queued (up to a batch), appends the ones
//! the rules accept in one synced write with one checkpoint, and answers each one alone
//! (a refused submission does not fail the others of its batch). While the ledger is
//! quiet it signs a heartbeat checkpoint every half freshness window, so that light
//! verifiers always find a recent one. When the service stops, the writer appends what
//! was queued before it exits: nothing acknowledged is lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use medproof_ledger::{Appended, Ledger, Refusal, RocksStore, Submission};
use medproof_verifier::Checkpoint;
use tokio::sync::oneshot;

/// Submissions appended together at most.
pub const MAX_BATCH: usize = 1024;

/// What became of one submission.
#[derive(Debug)]
pub enum Outcome {
    /// It landed, followed by this checkpoint.
    Appended(Appended, Checkpoint),
    /// The rules refused it; the entry that already holds what it repeats, if any.
    Refused(Refusal, Option<u64>),
    /// The ledger could not write (nothing of the batch was written).
    Failed(String),
}

struct Job {
    submission: Submission,
    reply: oneshot::Sender<Outcome>,
}

/// Why a submission was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueError {
    /// The queue is full.
    Full,
    /// The writer has stopped.
    Stopped,
}

/// A handle to queue submissions to the writer.
#[derive(Clone)]
pub struct Writer {
    tx: SyncSender<Job>,
    alive: Arc<AtomicBool>,
    stopping: Arc<AtomicBool>,
}

/// The writer thread; joining it waits until what was queued is appended.
pub struct WriterThread(Option<JoinHandle<()>>);

impl WriterThread {
    /// Waits for the writer to finish (after every [`Writer`] handle is dropped).
    pub fn join(mut self) {
        if let Some(h) = self.0.take() {
            let _ = h.join();
        }
    }
}

impl Writer {
    /// Starts the writer over `ledger` with a queue of `capacity` submissions; it signs
    /// a heartbeat when the latest checkpoint is `heartbeat_secs` old (0: never).
    pub fn start(
        ledger: Arc<RwLock<Ledger<RocksStore>>>,
        capacity: usize,
        heartbeat_secs: u64,
    ) -> std::io::Result<(Self, WriterThread)> {
        let (tx, rx) = mpsc::sync_channel::<Job>(capacity.max(1));
        let alive = Arc::new(AtomicBool::new(true));
        let stopping = Arc::new(AtomicBool::new(false));
        let (flag, stop) = (alive.clone(), stopping.clone());
        let handle = std::thread::Builder::new()
            .name("medproof-writer".into())
            .spawn(move || {
                run(&ledger, &rx, heartbeat_secs, &stop);
                flag.store(false, Ordering::SeqCst);
            })?;
        Ok((
            Self {
                tx,
                alive,
                stopping,
            },
            WriterThread(Some(handle)),
        ))
    }

    /// Queues `submission`; the receiver gets its outcome.
    pub fn submit(&self, submission: Submission) -> Result<oneshot::Receiver<Outcome>, QueueError> {
        let (reply, rx) = oneshot::channel();
        if self.stopping.load(Ordering::SeqCst) {
            return Err(QueueError::Stopped);
        }
        match self.tx.try_send(Job { submission, reply }) {
            Ok(()) => Ok(rx),
            Err(TrySendError::Full(_)) => Err(QueueError::Full),
            Err(TrySendError::Disconnected(_)) => Err(QueueError::Stopped),
        }
    }

    /// Asks the writer to append what is queued and stop; later submissions are refused.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// Whether the writer thread is running.
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }
}

fn run(
    ledger: &RwLock<Ledger<RocksStore>>,
    rx: &mpsc::Receiver<Job>,
    heartbeat_secs: u64,
    stopping: &AtomicBool,
) {
    let mut last_heartbeat_check = Instant::now();
    let heartbeat_tick = Duration::from_secs((heartbeat_secs / 4).clamp(1, 60));
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(first) => {
                let mut jobs = vec![first];
                while jobs.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(j) => jobs.push(j),
                        Err(_) => break,
                    }
                }
                write(ledger, jobs);
            }
            Err(RecvTimeoutError::Timeout) => {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
        // While the ledger is quiet, a heartbeat keeps its latest checkpoint recent.
        if heartbeat_secs > 0 && last_heartbeat_check.elapsed() >= heartbeat_tick {
            last_heartbeat_check = Instant::now();
            heartbeat(ledger, heartbeat_secs);
        }
    }
}

fn write(ledger: &RwLock<Ledger<RocksStore>>, jobs: Vec<Job>) {
    let (submissions, replies): (Vec<_>, Vec<_>) =
        jobs.into_iter().map(|j| (j.submission, j.reply)).unzip();
    let mut l = match ledger.write() {
        Ok(l) => l,
        Err(poisoned) => poisoned.into_inner(),
    };
    let outcomes: Vec<Outcome> = match l.append_each(&submissions) {
        Ok(out) => out
            .results
            .into_iter()
            .zip(&submissions)
            .map(|(r, s)| match (r, &out.checkpoint) {
                (Ok(a), Some(cp)) => Outcome::Appended(a, *cp),
                (Ok(_), None) => Outcome::Failed("no checkpoint after an accepted entry".into()),
                (Err(refusal), _) => {
                    let existing = l.existing_entry(s, &refusal).ok().flatten();
                    Outcome::Refused(refusal, existing)
                }
            })
            .collect(),
        Err(e) => {
            tracing::error!("ledger append failed: {e}");
            let msg = e.to_string();
            submissions
                .iter()
                .map(|_| Outcome::Failed(msg.clone()))
                .collect()
        }
    };
    drop(l);
    let appended = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Appended(..)))
        .count();
    tracing::debug!(batch = replies.len(), appended, "batch written");
    super::metrics::batch(replies.len());
    for (reply, outcome) in replies.into_iter().zip(outcomes) {
        // A client that went away still has its entry on the ledger.
        let _ = reply.send(outcome);
    }
}

fn heartbeat(ledger: &RwLock<Ledger<RocksStore>>, max_age: u64) {
    let mut l = match ledger.write() {
        Ok(l) => l,
        Err(poisoned) => poisoned.into_inner(),
    };
    match l.heartbeat_if_older(max_age) {
        Ok(Some(cp)) => tracing::info!(seq = cp.seq, "signed heartbeat checkpoint"),
        Ok(None) => {}
        Err(e) => tracing::error!("heartbeat failed: {e}"),
    }
}
