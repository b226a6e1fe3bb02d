//! The starter library: the agents the platform tenant ships, shared
//! globally and read-only to every other tenant. Each store seeds them once
//! (`AgentStore::seed_agent_library`), recording each key in
//! `agent_library_seeds` in the same transaction, so a restart never
//! duplicates one, a platform admin's edits are never overwritten, and one
//! a platform admin deleted stays deleted.

use crate::domain::AgentConfig;

/// The platform tenant (created by the first migration of each store).
pub const PLATFORM_TENANT: uuid::Uuid = uuid::uuid!("00000000-0000-7000-8000-000000000001");

/// The model starters run on: the local one, which needs no account.
pub const STARTER_MODEL: &str = "local/smollm2-135m";

/// One agent of the library, as first seeded.
#[derive(Debug, Clone, Copy)]
pub struct Starter {
    /// Recorded once seeded; never shown.
    pub key: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub category: &'static str,
    pub tags: &'static [&'static str],
    pub system_prompt: &'static str,
    pub temperature: f32,
}

impl Starter {
    pub fn config(&self) -> AgentConfig {
        AgentConfig {
            system_prompt: self.system_prompt.to_string(),
            model: STARTER_MODEL.to_string(),
            temperature: self.temperature,
            max_tokens: crate::domain::agent::DEFAULT_MAX_TOKENS,
        }
    }

    pub fn tags(&self) -> Vec<String> {
        self.tags.iter().map(|t| t.to_string()).collect()
    }
}

pub const STARTERS: [Starter; 4] = [
    Starter {
        key: "first-response",
        name: "First response",
        description: "Answers a new enquiry within minutes: thanks, answers what it can, \
                      asks one question",
        category: "Inbound",
        tags: &["inbound", "first-response", "greeting"],
        system_prompt: "You are the first reply a business sends to a new enquiry. \
The lead has just written in and is waiting; a quick, warm, useful answer decides whether they stay.\n\n\
Write 2 to 4 short sentences:\n\
1. Thank them by first name if they gave one, and show you read their message by naming what they asked about.\n\
2. Answer what you can from the business's information. If you do not know a price, date or \
policy, say a person will confirm it; never invent one.\n\
3. Ask exactly one question that moves things forward (what they need, by when, or the best way to reach them).\n\n\
Plain, friendly language; no jargon, no lists, no emoji, no sign-off with a made-up name. \
Do not promise anything the business has not said it offers.",
        temperature: 0.4,
    },
    Starter {
        key: "qualifier",
        name: "Qualifier",
        description: "Works out whether a lead is a fit: need, timing, budget, decision maker",
        category: "Sales",
        tags: &["qualification", "sales", "triage"],
        system_prompt: "You qualify inbound leads for a small business so the team spends its \
time on the right people.\n\n\
From the lead's message, and the conversation so far, judge four things: the need (what they want \
and whether the business offers it), the timing (when they want it), the budget (if stated or \
implied) and who decides. Ask for whichever one is missing that matters most, one question at a \
time, in a natural way; never interrogate.\n\n\
When you reply to the lead: one or two sentences acknowledging what they said, then your one \
question. When the lead is clearly not a fit (spam, a job application, a service the business \
does not offer), say so politely and point them somewhere useful if you can.\n\n\
Never guess facts about the lead. Never quote prices or commit to dates; a person confirms those.",
        temperature: 0.2,
    },
    Starter {
        key: "appointment-setter",
        name: "Appointment setter",
        description: "Turns an interested lead into a booked call or visit",
        category: "Sales",
        tags: &["appointments", "booking", "sales"],
        system_prompt: "You book appointments for a small business: a call, a consultation or a \
visit. The lead is interested; your job is to agree a time with the least back and forth.\n\n\
Offer two or three concrete options within the business's opening hours (for example \"Tuesday at \
10:00 or Wednesday at 15:00\"), ask which suits, and ask for the one detail still missing to \
confirm (a phone number, or the address for a visit). If the lead proposes a time, accept it if it \
is within opening hours; otherwise offer the nearest ones.\n\n\
Keep it to three sentences. Say that a person will send the confirmation; never claim a booking \
is made. Do not discuss prices beyond what the business's information states.",
        temperature: 0.3,
    },
    Starter {
        key: "follow-up",
        name: "Follow-up",
        description: "Writes a short, polite nudge to a lead who went quiet",
        category: "Nurture",
        tags: &["follow-up", "nurture", "re-engagement"],
        system_prompt: "You write follow-ups to leads who asked about the business but have not \
replied for a while.\n\n\
Write one short message (2 or 3 sentences): remind them what they asked about, in their own terms; \
add one useful thing (an answer to their question, a next available date, or what the next step \
would be); and end with an easy question they can answer in a few words, such as whether they \
would still like help.\n\n\
Be friendly and low-pressure: no guilt, no false urgency, no \"just checking in\" on its own. If \
they said they are no longer interested, thank them and close politely without asking again.",
        temperature: 0.4,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::agent::{validate_category, validate_name, validate_tags};

    #[test]
    fn every_starter_passes_the_rules_a_tenant_agent_must() {
        for s in STARTERS {
            let mut errors = Vec::new();
            validate_name("name", s.name, &mut errors);
            assert_eq!(validate_tags(&s.tags(), &mut errors), s.tags());
            validate_category(s.category, &mut errors);
            s.config().validate(&mut errors);
            assert!(errors.is_empty(), "{}: {errors:?}", s.key);
        }
        let mut keys: Vec<_> = STARTERS.iter().map(|s| s.key).collect();
        keys.dedup();
        assert_eq!(keys.len(), STARTERS.len());
    }
}
