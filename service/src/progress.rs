//! Progress bars on stderr (indicatif), at the edge: the libraries report progress
//! through small traits and callbacks, and only the command line draws.

use medproof_params::Progress;
use medproof_verifier::Statement;

/// A bar over the statements of a key setup, one step per statement.
pub struct SetupBar(indicatif::ProgressBar);

impl SetupBar {
    /// A bar over `n` statements.
    pub fn new(n: usize) -> Self {
        let bar = indicatif::ProgressBar::new(n as u64);
        bar.set_style(style(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
        ));
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Self(bar)
    }
}

impl Progress for SetupBar {
    fn stage(&self, statement: Statement, stage: &str) {
        self.0.set_message(format!("{statement}: {stage}"));
    }
    fn done(&self, _: Statement) {
        self.0.inc(1);
        if self.0.position() == self.0.length().unwrap_or(0) {
            self.0.finish_with_message("keys written");
        }
    }
}

/// A bar over the entries of an audit, fed by the audit's `progress(done, total)`.
pub fn entries_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(style(
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} entries",
    ));
    bar
}

fn style(template: &str) -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
}

/// A bar over the entry bundles of a remote log being fetched.
pub fn tiles_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(style(
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} entry bundles fetched",
    ));
    bar
}
