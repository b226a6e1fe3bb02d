//! Knowledge (schema sqlite 9+, postgres 12+): documents per tenant, agents'
//! links to them, and the draft policy. The generator writes and records
//! them only when the binary it drives serves `…/knowledge`, so the same
//! code still regenerates the older generations.

use serde_json::{json, Value};

use super::api::Api;
use super::fill::{id, t};
use super::manifest::{self as m, Resource};

/// Whether the binary behind `admin` has the knowledge API.
pub async fn served(admin: &Api, slug: &str) -> bool {
    admin.get(&t(slug, "/knowledge")).await.is_ok()
}

/// Settings of tenant `i` that only a knowledge-aware binary accepts.
pub fn settings(i: usize, settings: &mut Value) {
    if i == 3 {
        // Cold leads get a draft too in this tenant (the default is hot, warm).
        settings["draft_categories"] = json!(["hot", "warm", "cold"]);
    }
}

/// Two documents per tenant (Markdown and plain text, non-ASCII included);
/// a third in the first tenant, edited after it was written.
pub async fn documents(admin: &Api, slug: &str, name: &str, i: usize) {
    let docs = [
        json!({"title": "Opening hours and prices",
               "body": format!("# {name}\n\nOpen Monday to Friday, 08:00–18:00; Saturday 09:00–13:00.\n\n\
                                - First visit: 60 €\n- Follow-up: 40 €\n\nClosed on public holidays."),
               "format": "markdown"}),
        json!({"title": "Services",
               "body": format!("{name} offers consultations, follow-ups and same-week appointments. \
                                Parking behind the building. Se habla español. 日本語も可。"),
               "format": "text"}),
    ];
    for doc in docs {
        admin.post(&t(slug, "/knowledge"), doc).await;
    }
    if i == 0 {
        let faq = admin
            .post(
                &t(slug, "/knowledge"),
                json!({"title": "FAQ", "body": "Do you take walk-ins? Yes, before noon.", "format": "text"}),
            )
            .await;
        admin
            .patch(
                &t(slug, &format!("/knowledge/{}", id(&faq))),
                json!({"body": "Do you take walk-ins? Yes, before noon, Monday to Friday."}),
            )
            .await;
    }
}

/// Links the tenant's own agents to its knowledge: one tenant's first agent
/// to one document, another's to none; the rest keep the default (all).
pub async fn links(admin: &Api, slug: &str, i: usize) {
    let agents = own_agents(admin, slug).await;
    let Some(first) = agents.first() else { return };
    let path = t(slug, &format!("/agents/{}/knowledge", id(first)));
    match i {
        1 => {
            let docs = admin.rows(&t(slug, "/knowledge")).await.unwrap();
            admin
                .put(
                    &path,
                    json!({"mode": "documents", "documents": [docs[0]["id"]]}),
                )
                .await;
        }
        2 => {
            admin.put(&path, json!({"mode": "none"})).await;
        }
        _ => {}
    }
}

async fn own_agents(admin: &Api, slug: &str) -> Vec<Value> {
    let tenant = admin.get(&t(slug, "")).await.unwrap();
    admin
        .rows(&t(slug, "/agents"))
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a["tenant_id"] == tenant["id"])
        .collect()
}

/// What the API answers about the tenant's knowledge: the list, each
/// document whole, each own agent's link.
pub async fn record(admin: &Api, slug: &str) -> Vec<Resource> {
    if !served(admin, slug).await {
        return Vec::new();
    }
    let mut out = Vec::new();
    let (r, docs) = m::record(admin, &m::KNOWLEDGE, &t(slug, "/knowledge"), None).await;
    out.push(r);
    for d in &docs {
        let path = t(slug, &format!("/knowledge/{}", id(d)));
        out.push(
            m::record(admin, &m::KNOWLEDGE_DOCUMENT, &path, None)
                .await
                .0,
        );
    }
    for a in own_agents(admin, slug).await {
        let path = t(slug, &format!("/agents/{}/knowledge", id(&a)));
        out.push(m::record(admin, &m::AGENT_KNOWLEDGE, &path, None).await.0);
    }
    out
}
