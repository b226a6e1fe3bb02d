//! What each mode of the binary does; `main.rs` only picks one.

pub mod account;
pub mod backup;
#[cfg(feature = "bench")]
pub mod bench;
pub mod completions;
pub mod console;
pub mod context;
pub mod doctor;
pub mod eval;
pub mod exit;
pub mod logging;
pub mod login;
pub mod migrate;
pub mod serve;
pub mod user;
