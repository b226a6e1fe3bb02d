//! Black-box HTTP tests: a real server on port 0, the real typed client.

mod agents;
mod analytics;
mod audit;
mod auth;
mod common;
mod ingest;
mod isolation;
mod keys;
mod leads;
mod matrix;
mod members;
mod playground;
mod postgres;
mod processes;
mod tenants;
mod workflows;
