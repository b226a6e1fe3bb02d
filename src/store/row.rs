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
//! | an integer | `integer` or `bigint` | integer | [`Int`] (where PostgreSQL's is `integer`) |
//! | JSON read leniently (a value that does not parse is `None`) | `jsonb` | text | [`Lenient`] |
//! | a list of text | `text[]` | a JSON array | [`TextList`] |
//! | a list of UUIDs (an aggregate) | `uuid[]` | comma-separated text | [`IdList`] |
//! | a list of UUIDs (stored) | `uuid[]` | a JSON array | [`IdArray`] |
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
use sqlx::{Decode, Postgres, Sqlite, Type, TypeInfo, ValueRef};
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

/// An integer column: PostgreSQL's `smallint`, `integer` or `bigint`,
/// SQLite's integer, read as `i64` (so one field reads an `integer` that
/// SQLite stores as a 64-bit integer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int(pub i64);

impl Int {
    /// The value as a `u32`; out of range is an error naming `what`.
    pub fn to_u32(self, what: &str) -> Result<u32, super::StoreError> {
        u32::try_from(self.0).map_err(|_| {
            super::StoreError::Other(anyhow::anyhow!("bad {what} {} in store", self.0))
        })
    }
}

impl Type<Postgres> for Int {
    fn type_info() -> PgTypeInfo {
        <i64 as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <i16 as Type<Postgres>>::compatible(ty)
            || <i32 as Type<Postgres>>::compatible(ty)
            || <i64 as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for Int {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let name = value.type_info().name().to_string();
        Ok(Int(match name.as_str() {
            "INT2" => i64::from(<i16 as Decode<Postgres>>::decode(value)?),
            "INT4" => i64::from(<i32 as Decode<Postgres>>::decode(value)?),
            _ => <i64 as Decode<Postgres>>::decode(value)?,
        }))
    }
}

impl Type<Sqlite> for Int {
    fn type_info() -> SqliteTypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <i64 as Type<Sqlite>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Sqlite> for Int {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        <i64 as Decode<Sqlite>>::decode(value).map(Int)
    }
}

/// A list of text: PostgreSQL's `text[]`, SQLite's JSON array as text (one
/// that does not parse is a decode error).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextList(pub Vec<String>);

impl Type<Postgres> for TextList {
    fn type_info() -> PgTypeInfo {
        <Vec<String> as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <Vec<String> as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for TextList {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <Vec<String> as Decode<Postgres>>::decode(value).map(TextList)
    }
}

impl Type<Sqlite> for TextList {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Sqlite> for TextList {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(TextList(
            serde_json::from_str(text).map_err(|e| format!("bad text list {text:?}: {e}"))?,
        ))
    }
}

/// A list of text read leniently: PostgreSQL's `text[]`, SQLite's JSON
/// array as text, where text that does not parse is the empty list (as the
/// SQLite store always read a webhook's events).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextListOrEmpty(pub Vec<String>);

impl Type<Postgres> for TextListOrEmpty {
    fn type_info() -> PgTypeInfo {
        <Vec<String> as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <Vec<String> as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for TextListOrEmpty {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <Vec<String> as Decode<Postgres>>::decode(value).map(TextListOrEmpty)
    }
}

impl Type<Sqlite> for TextListOrEmpty {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Sqlite> for TextListOrEmpty {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(TextListOrEmpty(
            serde_json::from_str(text).unwrap_or_default(),
        ))
    }
}

/// UUIDs aggregated in a query: PostgreSQL's `array_agg` (`uuid[]`),
/// SQLite's `group_concat` (comma-separated text).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdList(pub Vec<Uuid>);

impl Type<Postgres> for IdList {
    fn type_info() -> PgTypeInfo {
        <Vec<Uuid> as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <Vec<Uuid> as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for IdList {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <Vec<Uuid> as Decode<Postgres>>::decode(value).map(IdList)
    }
}

impl Type<Sqlite> for IdList {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Sqlite> for IdList {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        text.split(',')
            .filter(|s| !s.is_empty())
            .map(|s| Uuid::parse_str(s).map_err(|e| format!("bad id {s:?}: {e}").into()))
            .collect::<Result<_, BoxDynError>>()
            .map(IdList)
    }
}

/// A stored list of UUIDs: PostgreSQL's `uuid[]`, SQLite's JSON array as
/// text (one that does not parse is a decode error); bound as
/// [`super::conn::Arg::Ids`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdArray(pub Vec<Uuid>);

impl Type<Postgres> for IdArray {
    fn type_info() -> PgTypeInfo {
        <Vec<Uuid> as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <Vec<Uuid> as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for IdArray {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <Vec<Uuid> as Decode<Postgres>>::decode(value).map(IdArray)
    }
}

impl Type<Sqlite> for IdArray {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Sqlite> for IdArray {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(IdArray(
            serde_json::from_str(text).map_err(|e| format!("bad id list {text:?}: {e}"))?,
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

/// JSON read into `T` where it parses, else `None` (the caller says what
/// stands in for it): PostgreSQL's `jsonb`, SQLite's text.
#[derive(Debug, Clone, PartialEq)]
pub struct Lenient<T>(pub Option<T>);

impl<T> Type<Postgres> for Lenient<T> {
    fn type_info() -> PgTypeInfo {
        <Json<serde_json::Value> as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <Json<serde_json::Value> as Type<Postgres>>::compatible(ty)
    }
}

impl<'r, T: serde::de::DeserializeOwned> Decode<'r, Postgres> for Lenient<T> {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let json = <Json<serde_json::Value> as Decode<Postgres>>::decode(value)?;
        Ok(Lenient(serde_json::from_value(json.0).ok()))
    }
}

impl<T> Type<Sqlite> for Lenient<T> {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'r, T: serde::de::DeserializeOwned> Decode<'r, Sqlite> for Lenient<T> {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(Lenient(serde_json::from_str(text).ok()))
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

use crate::domain::{
    ApiKeyScope, Channel, LeadSource, PlaygroundRole, ReplyStatus, Role, Sharing, StepKind,
    StepOutcome, TenantStatus, Tier, WorkflowStatus,
};

text_enum!(
    Role,
    Tier,
    TenantStatus,
    ApiKeyScope,
    Sharing,
    Channel,
    PlaygroundRole,
    ReplyStatus,
    WorkflowStatus,
    StepKind,
    StepOutcome,
    LeadSource,
);
