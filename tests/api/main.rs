//! Black-box HTTP tests: a real server on port 0, the real typed client.

mod agents;
mod analytics;
mod attacks_events;
mod attacks_fairness;
mod attacks_identity;
mod attacks_postgres;
mod attacks_robustness;
mod audit;
mod auth;
mod common;
mod email;
mod ingest;
mod isolation;
mod keys;
mod leads;
mod matrix;
mod members;
mod outbound_shared;
mod playground;
mod postgres;
mod processes;
mod receivers;
mod retention;
mod tenants;
mod webhooks;
mod workflows;
