//! Prompt evaluations: eval sets (named lists of cases: a lead's message,
//! optional lead fields, and what a good answer must do), runs of a set
//! against one or two versions of an agent, and what a run found.
//!
//! The rules that judge a reply ([`check`]), summarise a run and compare two
//! versions live in `check.rs`; reading cases from CSV or JSON in
//! `import.rs`. The server and the CLI share all of it.

mod check;
mod import;
mod run;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::agent::Channel;
use super::problem::FieldError;

pub use check::{check, compare, differing, summarize, CaseOutcome, LaneCounts};
pub use import::{parse_csv, CSV_COLUMNS, PHRASE_SEPARATOR};
pub use run::*;

/// Longest set name, in characters.
pub const MAX_NAME_CHARS: usize = 80;
/// Longest set description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// Sets one tenant may keep.
pub const MAX_SETS: u32 = 100;
/// Cases one set may hold (and so one import may bring).
pub const MAX_CASES: u32 = 200;
/// Longest case message, in characters (a lead's message is as long).
pub const MAX_MESSAGE_CHARS: usize = 10_000;
/// Longest lead name or company, in characters.
pub const MAX_LEAD_FIELD_CHARS: usize = 200;
/// Phrases one list (must / must not contain) may hold.
pub const MAX_PHRASES: usize = 10;
/// Longest phrase, in characters.
pub const MAX_PHRASE_CHARS: usize = 200;
/// The largest `max_chars` a case may ask for.
pub const MAX_REPLY_CHARS: u32 = 20_000;
/// Runs one tenant may have running at once (each runs one model call at a
/// time, so the playground keeps room under the generation cap).
pub const MAX_ACTIVE_RUNS: u32 = 3;
/// Runs a listing returns, newest first.
pub const RECENT_RUNS: u32 = 100;

/// The categories a qualify step answers, as an eval case expects one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Hot,
    Warm,
    Cold,
    Spam,
    Support,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Hot,
        Category::Warm,
        Category::Cold,
        Category::Spam,
        Category::Support,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Hot => "hot",
            Category::Warm => "warm",
            Category::Cold => "cold",
            Category::Spam => "spam",
            Category::Support => "support",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
    }
}

/// The lead a case plays: who writes, and through which channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EvalLead {
    /// Shown to the model as the sender (default "A lead").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200)]
    pub company: Option<String>,
    /// Default `web_form`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
}

impl EvalLead {
    /// The sender's name as the prompt shows it.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or("A lead")
    }

    pub fn channel(&self) -> Channel {
        self.channel.unwrap_or(Channel::WebForm)
    }
}

/// What a good answer to a case does. Phrases match case-insensitively,
/// with runs of whitespace read as one space.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EvalExpectations {
    /// The category qualification must give the lead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// Phrases the reply must contain, each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 10)]
    pub must_contain: Vec<Phrase>,
    /// Phrases the reply must not contain, any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 10)]
    pub must_not_contain: Vec<Phrase>,
    /// The reply's longest acceptable length, in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 20000)]
    pub max_chars: Option<u32>,
}

/// A phrase a reply is checked for: 1 to 200 characters, not blank.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phrase(pub String);

// By hand: utoipa takes no length or pattern on a newtype's own schema.
impl utoipa::PartialSchema for Phrase {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(MAX_PHRASE_CHARS))
            .pattern(Some(crate::domain::validate::NOT_BLANK))
            .into()
    }
}

impl ToSchema for Phrase {}

impl EvalExpectations {
    pub fn is_empty(&self) -> bool {
        self.category.is_none()
            && self.must_contain.is_empty()
            && self.must_not_contain.is_empty()
            && self.max_chars.is_none()
    }
}

/// Where a case came from, when it was added from one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CaseSource {
    Lead { lead_id: Uuid },
    Playground { session_id: Uuid, message_id: Uuid },
}

/// A case as stored: its message, lead and expectations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvalCase {
    pub id: Uuid,
    pub set_id: Uuid,
    /// Its place in the set (1, 2, …), in the order cases were added.
    pub position: u32,
    pub message: String,
    pub lead: EvalLead,
    pub expect: EvalExpectations,
    pub source: Option<CaseSource>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A case as a run keeps it with its result: what was run, even after the
/// case is edited or deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseSnapshot {
    pub position: u32,
    pub message: String,
    pub lead: EvalLead,
    pub expect: EvalExpectations,
}

impl From<&EvalCase> for CaseSnapshot {
    fn from(c: &EvalCase) -> Self {
        CaseSnapshot {
            position: c.position,
            message: c.message.clone(),
            lead: c.lead.clone(),
            expect: c.expect.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvalSet {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub description: String,
    /// How many cases it holds.
    pub cases: u32,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A set with its cases, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvalSetDetail {
    pub set: EvalSet,
    pub cases: Vec<EvalCase>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewEvalSet {
    /// Unique in the tenant (ignoring case).
    #[schema(max_length = 80, pattern = r"\S")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Cases to start with (at most 200).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 200)]
    pub cases: Vec<EvalCaseInput>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvalSetPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 80, pattern = r"\S")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

/// A case written out: its message, the lead, the expectations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvalCaseInput {
    /// The lead's message.
    #[schema(max_length = 10000, pattern = r"\S")]
    pub message: String,
    #[serde(default, deserialize_with = "crate::domain::validate::object")]
    pub lead: EvalLead,
    #[serde(default, deserialize_with = "crate::domain::validate::object")]
    pub expect: EvalExpectations,
}

/// A playground message to make a case of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlaygroundMessageRef {
    pub session_id: Uuid,
    /// One of the lead's messages (the user's), not an agent's reply.
    pub message_id: Uuid,
}

/// `POST …/evals/{id}/cases`: a case written out (`message`), or made from
/// an existing lead (`from_lead`) or playground message (`from_playground`),
/// whose message and lead fields it copies. Exactly one of the three.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewEvalCase {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 10000, pattern = r"\S")]
    pub message: Option<String>,
    /// With `message` only.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::domain::validate::optional_object"
    )]
    pub lead: Option<EvalLead>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_lead: Option<Uuid>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::domain::validate::optional_object"
    )]
    pub from_playground: Option<PlaygroundMessageRef>,
    #[serde(default)]
    pub expect: EvalExpectations,
}

/// Where a new case's message comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseOrigin {
    Written(EvalCaseInput),
    Lead(Uuid),
    Playground(PlaygroundMessageRef),
}

impl NewEvalCase {
    /// Which of the three ways the case is given, or the field errors.
    pub fn origin(&self) -> Result<CaseOrigin, Vec<FieldError>> {
        if self.lead.is_some() && self.message.is_none() {
            return Err(vec![FieldError::new(
                "lead",
                "goes with message only: a case from a lead or a playground message copies \
                 its lead fields",
            )]);
        }
        match (&self.message, self.from_lead, self.from_playground) {
            (Some(message), None, None) => Ok(CaseOrigin::Written(EvalCaseInput {
                message: message.clone(),
                lead: self.lead.clone().unwrap_or_default(),
                expect: self.expect.clone(),
            })),
            (None, Some(lead), None) => Ok(CaseOrigin::Lead(lead)),
            (None, None, Some(pg)) => Ok(CaseOrigin::Playground(pg)),
            _ => Err(vec![FieldError::new(
                "message",
                "give exactly one of message, from_lead and from_playground",
            )]),
        }
    }
}

/// `PATCH …/cases/{case}`: any of the message, the lead, the expectations
/// (each replaced whole).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvalCasePatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 10000, pattern = r"\S")]
    pub message: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::domain::validate::optional_object"
    )]
    pub lead: Option<EvalLead>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::domain::validate::optional_object"
    )]
    pub expect: Option<EvalExpectations>,
}

impl EvalCasePatch {
    /// The case after this patch, validated.
    pub fn applied(&self, before: &EvalCase) -> Result<EvalCaseInput, Vec<FieldError>> {
        EvalCaseInput {
            message: self
                .message
                .clone()
                .unwrap_or_else(|| before.message.clone()),
            lead: self.lead.clone().unwrap_or_else(|| before.lead.clone()),
            expect: self.expect.clone().unwrap_or_else(|| before.expect.clone()),
        }
        .validated("")
    }
}

/// `POST …/evals/{id}/import` as JSON: cases written out, all or none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvalImport {
    #[schema(max_items = 200)]
    pub cases: Vec<EvalCaseInput>,
}

/// What an import added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvalImportReport {
    pub imported: u32,
    pub cases: Vec<EvalCase>,
}

/// Text as stored: trimmed, NUL (which PostgreSQL text cannot hold) as U+FFFD.
fn clean(s: &str) -> String {
    s.trim().replace("\r\n", "\n").replace('\0', "\u{fffd}")
}

fn clean_opt(s: &Option<String>) -> Option<String> {
    s.as_deref().map(clean).filter(|s| !s.is_empty())
}

fn check_name(name: &str, field: &str, errors: &mut Vec<FieldError>) {
    let n = name.trim().chars().count();
    if n == 0 || n > MAX_NAME_CHARS {
        errors.push(FieldError::new(
            field,
            format!("needs 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
}

fn check_description(d: &Option<String>, errors: &mut Vec<FieldError>) {
    if d.as_deref()
        .is_some_and(|d| d.trim().chars().count() > MAX_DESCRIPTION_CHARS)
    {
        errors.push(FieldError::new(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
}

/// A set's name and description as the store writes them.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalSetInput {
    pub name: String,
    pub description: String,
}

impl NewEvalSet {
    /// The set and its cases, or every field error (a case's fields named
    /// `cases[i].…`, from 1).
    pub fn validated(&self) -> Result<(EvalSetInput, Vec<EvalCaseInput>), Vec<FieldError>> {
        let mut errors = Vec::new();
        check_name(&self.name, "name", &mut errors);
        check_description(&self.description, &mut errors);
        let cases = validate_cases(&self.cases, |i| format!("cases[{i}]."), &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok((
            EvalSetInput {
                name: clean(&self.name),
                description: clean_opt(&self.description).unwrap_or_default(),
            },
            cases,
        ))
    }
}

impl EvalSetPatch {
    pub fn applied(&self, before: &EvalSet) -> Result<EvalSetInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        if let Some(name) = &self.name {
            check_name(name, "name", &mut errors);
        }
        check_description(&self.description, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(EvalSetInput {
            name: self
                .name
                .as_deref()
                .map(clean)
                .unwrap_or_else(|| before.name.clone()),
            description: match &self.description {
                Some(d) => clean(d),
                None => before.description.clone(),
            },
        })
    }
}

impl EvalImport {
    /// Every case, or every field error (named `row N.…`, from 1): an
    /// import with one bad case imports nothing.
    pub fn validated(&self) -> Result<Vec<EvalCaseInput>, Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.cases.is_empty() {
            errors.push(FieldError::new("cases", "holds no case; add at least one"));
        }
        let cases = validate_cases(&self.cases, |i| format!("row {i}."), &mut errors);
        if errors.is_empty() {
            Ok(cases)
        } else {
            Err(errors)
        }
    }
}

/// Validates a list of cases, naming each case's fields with `prefix(i)`
/// (i from 1); at most [`MAX_CASES`].
fn validate_cases(
    cases: &[EvalCaseInput],
    prefix: impl Fn(usize) -> String,
    errors: &mut Vec<FieldError>,
) -> Vec<EvalCaseInput> {
    if cases.len() > MAX_CASES as usize {
        errors.push(FieldError::new(
            "cases",
            format!(
                "holds {} cases; a set holds at most {MAX_CASES}: split them into several sets",
                cases.len()
            ),
        ));
        return Vec::new();
    }
    let mut out = Vec::with_capacity(cases.len());
    for (i, case) in cases.iter().enumerate() {
        match case.validated(&prefix(i + 1)) {
            Ok(c) => out.push(c),
            Err(e) => errors.extend(e),
        }
    }
    out
}

impl EvalCaseInput {
    /// Trimmed and checked; each error's field starts with `prefix`.
    pub fn validated(&self, prefix: &str) -> Result<EvalCaseInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        let field = |f: &str| format!("{prefix}{f}");
        let n = self.message.trim().chars().count();
        if n == 0 {
            errors.push(FieldError::new(
                field("message"),
                "write the lead's message first",
            ));
        } else if n > MAX_MESSAGE_CHARS {
            errors.push(FieldError::new(
                field("message"),
                format!("is {n} characters; at most {MAX_MESSAGE_CHARS}"),
            ));
        }
        for (name, value) in [
            ("lead.name", &self.lead.name),
            ("lead.company", &self.lead.company),
        ] {
            if value
                .as_deref()
                .is_some_and(|v| v.trim().chars().count() > MAX_LEAD_FIELD_CHARS)
            {
                errors.push(FieldError::new(
                    field(name),
                    format!("must be at most {MAX_LEAD_FIELD_CHARS} characters"),
                ));
            }
        }
        let expect = &self.expect;
        for (name, phrases) in [
            ("expect.must_contain", &expect.must_contain),
            ("expect.must_not_contain", &expect.must_not_contain),
        ] {
            if phrases.len() > MAX_PHRASES {
                errors.push(FieldError::new(
                    field(name),
                    format!("lists {} phrases; at most {MAX_PHRASES}", phrases.len()),
                ));
            }
            for p in phrases {
                let n = p.0.trim().chars().count();
                if n == 0 || n > MAX_PHRASE_CHARS {
                    errors.push(FieldError::new(
                        field(name),
                        format!("each phrase needs 1 to {MAX_PHRASE_CHARS} characters"),
                    ));
                    break;
                }
            }
        }
        if let Some(max) = expect.max_chars {
            if max == 0 || max > MAX_REPLY_CHARS {
                errors.push(FieldError::new(
                    field("expect.max_chars"),
                    format!("must be between 1 and {MAX_REPLY_CHARS}"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let phrases =
            |ps: &[Phrase]| -> Vec<Phrase> { ps.iter().map(|p| Phrase(clean(&p.0))).collect() };
        Ok(EvalCaseInput {
            message: clean(&self.message),
            lead: EvalLead {
                name: clean_opt(&self.lead.name),
                company: clean_opt(&self.lead.company),
                channel: self.lead.channel,
            },
            expect: EvalExpectations {
                category: expect.category,
                must_contain: phrases(&expect.must_contain),
                must_not_contain: phrases(&expect.must_not_contain),
                max_chars: expect.max_chars,
            },
        })
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_case_s_lead_and_expectations_must_be_objects_not_arrays_of_their_fields() {
        let parse = |v: serde_json::Value| serde_json::from_value::<EvalCaseInput>(v);
        let array = parse(serde_json::json!({"message": "Hi", "lead": [null, null]}));
        assert!(array.is_err(), "an array for lead was taken: {array:?}");
        let array = parse(serde_json::json!({"message": "Hi", "expect": [null, 1]}));
        assert!(array.is_err(), "an array for expect was taken: {array:?}");
        let object =
            parse(serde_json::json!({"message": "Hi", "lead": {}, "expect": {"max_chars": 5}}))
                .expect("objects");
        assert_eq!(object.expect.max_chars, Some(5));
        assert!(
            parse(serde_json::json!({"message": "Hi"})).is_ok(),
            "both may be left out"
        );
    }
    use super::*;

    #[test]
    fn a_case_is_given_exactly_one_way() {
        let mut new = NewEvalCase::default();
        assert!(new.origin().is_err(), "none given");
        new.message = Some("Hi".into());
        assert!(matches!(new.origin(), Ok(CaseOrigin::Written(_))));
        new.from_lead = Some(Uuid::nil());
        assert!(new.origin().is_err(), "two given");
        new.message = None;
        assert_eq!(new.origin(), Ok(CaseOrigin::Lead(Uuid::nil())));
        new.lead = Some(EvalLead::default());
        assert_eq!(new.origin().unwrap_err()[0].field, "lead");
    }

    #[test]
    fn every_bad_case_of_a_set_is_named() {
        let good = EvalCaseInput {
            message: " Hello \0 ".into(),
            ..Default::default()
        };
        let bad = EvalCaseInput {
            message: " ".into(),
            expect: EvalExpectations {
                must_contain: vec![Phrase(" ".into())],
                max_chars: Some(0),
                ..Default::default()
            },
            ..Default::default()
        };
        let set = NewEvalSet {
            name: "FAQ".into(),
            cases: vec![good.clone(), bad],
            ..Default::default()
        };
        let errors = set.validated().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "cases[2].message",
                "cases[2].expect.must_contain",
                "cases[2].expect.max_chars"
            ]
        );
        let ok = EvalImport { cases: vec![good] }.validated().unwrap();
        assert_eq!(ok[0].message, "Hello \u{fffd}");
        let too_many = EvalImport {
            cases: vec![ok[0].clone(); MAX_CASES as usize + 1],
        };
        assert_eq!(too_many.validated().unwrap_err()[0].field, "cases");
    }

    #[test]
    fn categories_read_their_names_in_any_case() {
        for c in Category::ALL {
            assert_eq!(Category::parse(&c.as_str().to_uppercase()), Some(c));
        }
        assert_eq!(Category::parse("lukewarm"), None);
        let names: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names, crate::domain::workflow::CATEGORIES);
    }
}
