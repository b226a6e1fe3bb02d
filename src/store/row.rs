//! Reading rows into types, one way for both backends.
//!
//! A query's row is one `#[derive(sqlx::FromRow)]` struct, written once in
//! `store/<resource>.rs` beside the trait. The derive is generic over the row
//! type, so both backends read it with `sqlx::query_as::<_, FooRow>(sql)`;
//! only the SQL differs. Its columns are named by the struct's fields (alias
//! them in the SELECT, never `try_get("column")` by string). Where the two
//! backends store a value differently, the field's type says how to read it:
//!
//! | value | PostgreSQL | SQLite | field type |
//! |---|---|---|---|
//! | a UUID | `uuid` | text | [`Id`] (`Option<Id>` when nullable) |
//! | a time | `timestamptz` | epoch milliseconds | [`Time`] |
//! | a boolean | `boolean` | 0 / 1 | `bool` (sqlx reads both) |
//! | JSON | `jsonb` | text | the type itself with `#[sqlx(json)]` |
//! | an enum (role, tier, status…) | text | text | the domain enum, listed in this module's `text_enum!` |
//!
//! Turning the row into its domain type, with whatever rules that takes
//! (a count capped at zero, a limit from the tier), is one `From` impl beside
//! the row type, so neither backend writes it. A value no variant reads, or
//! JSON that does not parse, fails the read as a decode error naming it.

use chrono::{DateTime, TimeZone, Utc};
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteTypeInfo, SqliteValueRef};
use sqlx::types::Json;
use sqlx::{Decode, Postgres, Sqlite, Type};
use uuid::Uuid;

/// A UUID column: PostgreSQL's `uuid`, SQLite's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Id(pub Uuid);

impl From<Id> for Uuid {
    fn from(id: Id) -> Uuid {
        id.0
    }
}

impl Type<Postgres> for Id {
    fn type_info() -> PgTypeInfo {
        <Uuid as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <Uuid as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for Id {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <Uuid as Decode<Postgres>>::decode(value).map(Id)
    }
}

impl Type<Sqlite> for Id {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Sqlite> for Id {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(Id(
            Uuid::parse_str(text).map_err(|e| format!("bad id {text:?}: {e}"))?
        ))
    }
}

/// A time column: PostgreSQL's `timestamptz`, SQLite's epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time(pub DateTime<Utc>);

impl From<Time> for DateTime<Utc> {
    fn from(t: Time) -> DateTime<Utc> {
        t.0
    }
}

impl Type<Postgres> for Time {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <DateTime<Utc> as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for Time {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <DateTime<Utc> as Decode<Postgres>>::decode(value).map(Time)
    }
}

impl Type<Sqlite> for Time {
    fn type_info() -> SqliteTypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <i64 as Type<Sqlite>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Sqlite> for Time {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let ms = <i64 as Decode<Sqlite>>::decode(value)?;
        // As the SQLite store always read them: out of range is the epoch.
        Ok(Time(
            Utc.timestamp_millis_opt(ms).single().unwrap_or_default(),
        ))
    }
}

/// JSON that reads as null where it does not parse (PostgreSQL `jsonb`
/// always parses; SQLite text is read as the SQLite store always read the
/// audit log's changes).
#[derive(Debug, Clone, PartialEq)]
pub struct JsonOrNull(pub serde_json::Value);

impl Type<Postgres> for JsonOrNull {
    fn type_info() -> PgTypeInfo {
        <Json<serde_json::Value> as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <Json<serde_json::Value> as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for JsonOrNull {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <Json<serde_json::Value> as Decode<Postgres>>::decode(value).map(|j| JsonOrNull(j.0))
    }
}

impl Type<Sqlite> for JsonOrNull {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Sqlite> for JsonOrNull {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(JsonOrNull(
            serde_json::from_str(text).unwrap_or(serde_json::Value::Null),
        ))
    }
}

/// Lets a domain enum stored as text (the same text on both backends) be a
/// row field: read with the type's `parse(&str) -> Option<Self>`; a value no
/// variant reads is a decode error. List a new enum in the call below.
macro_rules! text_enum {
    ($($ty:ty),* $(,)?) => {$(
        impl ::sqlx::Type<::sqlx::Postgres> for $ty {
            fn type_info() -> ::sqlx::postgres::PgTypeInfo {
                <String as ::sqlx::Type<::sqlx::Postgres>>::type_info()
            }
            fn compatible(ty: &::sqlx::postgres::PgTypeInfo) -> bool {
                <String as ::sqlx::Type<::sqlx::Postgres>>::compatible(ty)
            }
        }
        impl<'r> ::sqlx::Decode<'r, ::sqlx::Postgres> for $ty {
            fn decode(
                value: ::sqlx::postgres::PgValueRef<'r>,
            ) -> Result<Self, ::sqlx::error::BoxDynError> {
                let text = <&str as ::sqlx::Decode<::sqlx::Postgres>>::decode(value)?;
                <$ty>::parse(text)
                    .ok_or_else(|| format!("bad {} {text:?}", stringify!($ty)).into())
            }
        }
        impl ::sqlx::Type<::sqlx::Sqlite> for $ty {
            fn type_info() -> ::sqlx::sqlite::SqliteTypeInfo {
                <String as ::sqlx::Type<::sqlx::Sqlite>>::type_info()
            }
            fn compatible(ty: &::sqlx::sqlite::SqliteTypeInfo) -> bool {
                <String as ::sqlx::Type<::sqlx::Sqlite>>::compatible(ty)
            }
        }
        impl<'r> ::sqlx::Decode<'r, ::sqlx::Sqlite> for $ty {
            fn decode(
                value: ::sqlx::sqlite::SqliteValueRef<'r>,
            ) -> Result<Self, ::sqlx::error::BoxDynError> {
                let text = <&str as ::sqlx::Decode<::sqlx::Sqlite>>::decode(value)?;
                <$ty>::parse(text)
                    .ok_or_else(|| format!("bad {} {text:?}", stringify!($ty)).into())
            }
        }
    )*};
}

use crate::domain::{ApiKeyScope, Role, TenantStatus, Tier};

text_enum!(Role, Tier, TenantStatus, ApiKeyScope);
