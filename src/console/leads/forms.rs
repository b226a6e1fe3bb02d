//! The Leads pane's forms: a manual lead, and a note or reply on a lead.

use uuid::Uuid;

use crate::console::app::App;
use crate::console::effect::Request;
use crate::console::widgets::form::{Field, Form};
use crate::domain::{LeadInput, NewNote};

/// The note form's second field: a reply is what stops the SLA clock.
const NOTE_KINDS: [&str; 2] = ["internal note", "reply to the lead"];

/// What a lead form's save sends: the request, its toasts, the tenant.
pub(crate) type Submit = (Request, String, String, Option<Uuid>);

impl App {
    pub(crate) fn new_lead_fields() -> (String, Vec<Field>) {
        (
            "New lead".to_string(),
            vec![
                Field::line("name", "Name", ""),
                Field::line("email", "Email", ""),
                Field::line("phone", "Phone", ""),
                Field::line("company", "Company", ""),
                Field::multi("message", "Message", ""),
            ],
        )
    }

    pub(crate) fn note_fields(&self, lead: Uuid) -> (String, Vec<Field>) {
        let name = self
            .leads
            .detail
            .as_ref()
            .filter(|d| d.lead.id == lead)
            .map_or("the lead".to_string(), |d| d.lead.name.clone());
        (
            format!("Note on {name}"),
            vec![
                Field::multi("body", "Note", ""),
                Field::choice("is_reply", "Kind", &NOTE_KINDS, NOTE_KINDS[0]),
            ],
        )
    }

    pub(crate) fn submit_new_lead(form: &Form, tenant: Uuid) -> Submit {
        let opt = |name: &str| {
            let v = form.value(name).trim().to_string();
            (!v.is_empty()).then_some(v)
        };
        let input = LeadInput {
            name: form.value("name").trim().to_string(),
            email: opt("email"),
            phone: opt("phone"),
            company: opt("company"),
            message: form.value("message").trim().to_string(),
            ..LeadInput::default()
        };
        let ok = format!("Added lead {}", input.name);
        (
            Request::CreateLead {
                tenant: tenant.to_string(),
                input,
            },
            ok,
            "Could not add the lead".into(),
            Some(tenant),
        )
    }

    pub(crate) fn submit_note(form: &Form, tenant: Uuid, lead: Uuid) -> Submit {
        let is_reply = form.value("is_reply") == NOTE_KINDS[1];
        let note = NewNote {
            body: form.value("body").trim().to_string(),
            is_reply,
        };
        let ok = if is_reply {
            "Reply recorded"
        } else {
            "Note added"
        };
        (
            Request::AddNote {
                tenant: tenant.to_string(),
                id: lead,
                note,
            },
            ok.into(),
            "Could not add the note".into(),
            Some(tenant),
        )
    }
}
