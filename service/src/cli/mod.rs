//! The `medproof` commands, one file each (the older commands still live in `main.rs`
//! and move here one by one).

pub mod client;
pub mod serve;
