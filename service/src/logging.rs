//! The process's log output: `RUST_LOG`'s filter, on stderr, less the wire dumps.
//!
//! The HTTP client's protocol crate writes every byte it sends and receives as a hex
//! dump at TRACE level (target `ureq_proto::util`). A proof request's body is a party's
//! secret openings (patient reference, blindings, dates, amounts), so `RUST_LOG=trace`
//! put them in the log of the demo and of every CLI command that asks a prover. Those
//! events are dropped whatever `RUST_LOG` says; nothing else is. (arkworks' tracing
//! inside constraint synthesis is off at its source: `medproof_circuits::shape::untraced`.)

use tracing_subscriber::filter::{FilterExt, LevelFilter, Targets};
use tracing_subscriber::layer::{Filter, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// Targets whose events carry the bytes on the wire.
const WIRE_DUMPS: &[&str] = &["ureq_proto::util"];

/// `env`, less the wire dumps (matched by target prefix, decided once per callsite).
pub fn filter<S>(env: EnvFilter) -> impl Filter<S>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    let wire = WIRE_DUMPS.iter().fold(
        Targets::new().with_default(LevelFilter::TRACE),
        |t, target| t.with_target(*target, LevelFilter::OFF),
    );
    env.and(wire)
}

/// Installs the process's subscriber: `RUST_LOG` (errors only when unset), on stderr.
pub fn init() {
    tracing_subscriber::registry()
        .with(
            fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter(EnvFilter::from_default_env())),
        )
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::ErrorKind::Other)?
                .extend(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What a subscriber built as [`init`]'s writes for these events under `directives`.
    fn logged(directives: &str) -> String {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::registry().with(
            fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .with_filter(filter(EnvFilter::new(directives))),
        );
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "ureq_proto::util", "7b22 626c  {{\"bl secret-opening");
            tracing::trace!(target: "medproof_service::client", "kept at trace");
            tracing::info!(target: "ureq::run", "POST /v1/proofs/access");
        });
        let bytes = out.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn wire_dumps_never_reach_the_log() {
        for directives in ["trace", "ureq_proto=trace", "ureq_proto::util=trace,trace"] {
            let log = logged(directives);
            assert!(!log.contains("secret-opening"), "{directives}: {log}");
        }
        // The rest of RUST_LOG holds: the filter is not off altogether.
        let log = logged("trace");
        assert!(log.contains("kept at trace"), "{log}");
        assert!(log.contains("POST /v1/proofs/access"), "{log}");
        assert!(!logged("info").contains("kept at trace"));
    }
}
