//! params' integration tests, one module per file, in one test binary: as six binaries
//! each compiled and linked arkworks' generic code again (their test build took 115 s
//! on 2 cores against 29 s as one; README).

mod circom;
mod common;
mod integrity;
mod phase1;
mod phase2;
mod ptau;
mod zkey;
