//! params' integration tests, one module per file, in one test binary: each binary of
//! its own compiled and linked arkworks' generic code again (about a minute of a cold
//! test build on 2 cores, benches/REPORT.md).

mod circom;
mod common;
mod integrity;
mod phase1;
mod phase2;
mod ptau;
mod zkey;
