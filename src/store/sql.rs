//! SQL written once for both backends: what differs is said by [`Dialect`].

/// How the two backends write the same statement: placeholders, the
/// two-argument minimum and maximum, and byte-order collation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// Writes `sql` for this backend: `$n` stays for PostgreSQL and becomes
    /// `?n` for SQLite; `LEAST`/`GREATEST` become SQLite's `min`/`max`;
    /// `COLLATE "C"` (byte order, whatever the database's collation) is
    /// SQLite's `BINARY`; a row lock (`FOR UPDATE`, PostgreSQL's) is
    /// dropped (so is `FOR NO KEY UPDATE`), as SQLite's write transaction
    /// holds the whole database.
    pub(crate) fn write(self, sql: &str) -> String {
        match self {
            Dialect::Postgres => sql.to_string(),
            Dialect::Sqlite => sql
                .replace('$', "?")
                .replace("LEAST(", "min(")
                .replace("GREATEST(", "max(")
                .replace("COLLATE \"C\"", "COLLATE BINARY")
                .replace(" FOR NO KEY UPDATE", "")
                .replace(" FOR UPDATE", ""),
        }
    }
}
