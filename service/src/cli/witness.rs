//! `medproof witness …`: a witness of a ledger's transparency log (c2sp.org/tlog-witness).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use medproof_ledger::tlog::{Cosigner, LogVerifier};
use medproof_ledger::{keyfile, Clock, SystemClock};
use medproof_service::witness::{self, Followed, Published, Source};

use super::Failure;

/// What every witness command names.
#[derive(clap::Args)]
pub struct Identity {
    /// The witness's Ed25519 key file (created with `witness key`).
    #[arg(long)]
    key: PathBuf,
    /// The witness's name: a schema-less URL (e.g. `witness.example.org/w1`).
    #[arg(long)]
    name: String,
}

/// The witness of one log.
#[derive(clap::Args)]
pub struct Witnessing {
    #[command(flatten)]
    id: Identity,
    /// The directory of its state (the last checkpoint it cosigned), the published
    /// cosigned checkpoint (`checkpoint`) and the evidence of a misbehaving log.
    #[arg(long)]
    dir: PathBuf,
    /// The log's note verifier key (`origin+keyid+base64`, from `medproof ledger log`
    /// or `GET /v1/log`).
    #[arg(long)]
    log_key: String,
}

#[derive(Subcommand)]
pub enum Command {
    /// Create the witness's key if it has none, and print its cosignature verifier key
    /// (what verifiers that require this witness are given).
    Key(Identity),
    /// Follow a ledger: cosign its latest checkpoint when it extends the last one
    /// cosigned, every --interval seconds (or --once). Exit 1 if the log forked, was
    /// rolled back or changed an entry: the evidence is kept in DIR/evidence.
    Follow {
        #[command(flatten)]
        witness: Witnessing,
        /// The service's URL.
        #[arg(
            long,
            conflicts_with = "data_dir",
            required_unless_present = "data_dir"
        )]
        url: Option<String>,
        /// Or the ledger's data dir (opened read-only).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Seconds between two looks.
        #[arg(long, default_value_t = 60)]
        interval: u64,
        /// Look once and exit.
        #[arg(long)]
        once: bool,
    },
    /// Serve `POST /add-checkpoint` (c2sp.org/tlog-witness) and `GET /metrics`.
    Serve {
        #[command(flatten)]
        witness: Witnessing,
        /// Address to listen on; port 0 picks a free one.
        #[arg(long, default_value = "127.0.0.1:8081")]
        bind: String,
    },
}

fn open(w: &Witnessing) -> anyhow::Result<Published> {
    let key = keyfile::load(&w.id.key)?;
    let log = LogVerifier::from_verifier_key(&w.log_key).context("--log-key")?;
    Published::open(&w.id.name, key, log, &w.dir)
}

/// Runs the command.
pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Key(id) => {
            let (key, created) = keyfile::load_or_create(&id.key).map_err(anyhow::Error::from)?;
            let cosigner = Cosigner::new(&id.name, key).map_err(anyhow::Error::from)?;
            if created {
                eprintln!("created the witness key {}", id.key.display());
            }
            println!("{}", cosigner.verifier().verifier_key());
            Ok(())
        }
        Command::Follow {
            witness: w,
            url,
            data_dir,
            interval,
            once,
        } => {
            let source = match (url, data_dir) {
                (Some(u), _) => Source::Url(u),
                (None, Some(d)) => Source::DataDir(d),
                (None, None) => return Err(anyhow::anyhow!("--url or --data-dir").into()),
            };
            let mut published = open(&w)?;
            loop {
                match witness::follow_once(&mut published, &source, SystemClock.now())? {
                    Followed::Cosigned { size, before } => println!(
                        "cosigned {size} entries of {} (before: {before})",
                        published.witness().log().origin()
                    ),
                    Followed::Refused(e) => return Err(Failure::Invalid(e.to_string())),
                }
                if once {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_secs(interval.max(1)));
            }
        }
        Command::Serve { witness: w, bind } => {
            let published = open(&w)?;
            witness::serve(published, &bind, |addr| {
                eprintln!("medproof witness serving on http://{addr}");
            })?;
            Ok(())
        }
    }
}
