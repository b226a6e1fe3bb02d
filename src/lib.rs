//! Switchboard: a multi-tenant platform for inbound leads and AI agents, and
//! the terminal console that runs it.
//!
//! Dependencies point one way: `console → api → domain ← server → store`.

pub mod api;
/// Benchmarks and fault harnesses: only with the `bench` feature (developers
/// and tests), never in what users build.
#[cfg(feature = "bench")]
pub mod bench;
pub mod commands;
pub mod config;
pub mod console;
pub mod credentials;
pub mod domain;
pub mod embedded;
pub mod llm;
pub mod server;
pub mod sse;
pub mod store;
