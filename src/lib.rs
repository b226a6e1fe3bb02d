//! Switchboard: a multi-tenant platform for inbound leads and AI agents, and
//! the terminal console that runs it.

pub mod api;
pub mod console;
pub mod domain;
pub mod store;
