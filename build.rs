//! Rebuilds when a migration is added or changed: `sqlx::migrate!` embeds the
//! migration files at compile time, and cargo would not notice a new one.
fn main() {
    println!("cargo:rerun-if-changed=src/store/sqlite/migrations");
    println!("cargo:rerun-if-changed=src/store/postgres/migrations");
}
