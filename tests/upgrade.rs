//! Upgrades never lose data. Databases written by earlier releases (the
//! generations under `tests/fixtures/gen-*`, made by
//! `tests/fixtures/generate.sh` with the binary of the commit each names)
//! open in today's binary and read back whole through the API; a binary
//! older than a database's schema refuses it, naming both versions.

mod upgrade {
    pub mod api;
    pub mod backup;
    pub mod check;
    pub mod downgrade;
    pub mod fakes;
    pub mod fill;
    pub mod generate;
    pub mod interrupt;
    pub mod knowledge;
    pub mod manifest;
    pub mod process;
}
