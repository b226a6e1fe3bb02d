//! The knowledge base over HTTP, on whichever store the suite runs on:
//! documents are chunked and found by the store's own full-text search,
//! bad input changes nothing, roles follow the access table, agents say
//! which knowledge they may use, and one tenant's documents never appear
//! in another's search.

use switchboard::api::ApiError;
use switchboard::domain::knowledge::MAX_BODY_CHARS;
use switchboard::domain::{
    AgentKnowledge, KnowledgeFormat, KnowledgeMode, KnowledgePatch, NewAgent, NewKnowledgeDocument,
    Role, Tier,
};
use uuid::Uuid;

use crate::common::spawn;

fn doc(title: &str, body: &str) -> NewKnowledgeDocument {
    NewKnowledgeDocument {
        title: title.into(),
        body: body.into(),
        format: None,
    }
}

fn status<T: std::fmt::Debug>(r: Result<T, ApiError>) -> u16 {
    r.expect_err("refused").status().expect("an HTTP answer")
}

const HOURS: &str = "# Opening hours\nWe are open Monday to Friday, 8:00 to 18:00.\n\n\
                     Saturday mornings by appointment.";

#[tokio::test]
async fn documents_are_chunked_indexed_and_found_then_edited_and_deleted() {
    let app = spawn().await;
    let t = app.tenant("Open Arms", Tier::Pro).await;
    let admin = &app.admin;
    let mut body = String::from(HOURS);
    for i in 0..12 {
        body.push_str(&format!(
            "\n\n## Service {i}\nWe offer treatment number {i}, with a check-up and a cleaning \
             that takes about forty minutes and costs {} euros.",
            40 + i
        ));
    }
    body.push_str("\n\n## Whitening\nTeeth whitening costs 250 euros.");
    let created = admin
        .create_knowledge(&t.slug, &doc("  Clinic FAQ ", &body))
        .await
        .unwrap();
    assert_eq!(created.title, "Clinic FAQ");
    assert_eq!(created.format, KnowledgeFormat::Markdown);
    assert!(created.chunks > 1, "{} chunks", created.chunks);

    let found = admin
        .search_knowledge(&t.slug, "How much is whitening?", None)
        .await
        .unwrap();
    assert!(!found.is_empty());
    assert!(
        found[0].text.contains("Teeth whitening costs 250 euros"),
        "{found:?}"
    );
    assert_eq!(found[0].document_id, created.id);
    assert!(found[0].text.chars().count() <= 700);
    // Stemming: "openings" finds "open".
    let hours = admin
        .search_knowledge(&t.slug, "openings on saturday?", Some(1))
        .await
        .unwrap();
    assert_eq!(hours.len(), 1);
    assert!(hours[0].text.contains("Saturday mornings"), "{hours:?}");
    // Query syntax is only words to the index.
    let odd = admin
        .search_knowledge(&t.slug, "\"whitening\" OR NEAR(x) * -) AND", None)
        .await
        .unwrap();
    assert!(odd.iter().any(|s| s.text.contains("whitening")));

    let list = admin.knowledge(&t.slug).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].chunks, created.chunks);
    assert_eq!(list[0].chars as usize, body.chars().count());

    // An edit replaces the index: the old words are gone, the new ones found.
    let patch = KnowledgePatch {
        body: Some("Bleaching is 199 euros.".into()),
        format: Some(KnowledgeFormat::Text),
        ..Default::default()
    };
    let edited = admin
        .update_knowledge(&t.slug, created.id, &patch)
        .await
        .unwrap();
    assert_eq!((edited.chunks, edited.format), (1, KnowledgeFormat::Text));
    assert_eq!(edited.title, "Clinic FAQ");
    assert!(admin
        .search_knowledge(&t.slug, "whitening", None)
        .await
        .unwrap()
        .is_empty());
    let bleach = admin
        .search_knowledge(&t.slug, "bleaching price", None)
        .await
        .unwrap();
    assert_eq!(bleach.len(), 1);

    admin.delete_knowledge(&t.slug, created.id).await.unwrap();
    assert!(admin
        .search_knowledge(&t.slug, "bleaching", None)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        status(admin.knowledge_document(&t.slug, created.id).await),
        404
    );
    assert_eq!(
        status(admin.delete_knowledge(&t.slug, created.id).await),
        404
    );
}

#[tokio::test]
async fn bad_documents_are_refused_with_the_reason_and_change_nothing() {
    let app = spawn().await;
    let t = app.tenant("Open Arms", Tier::Pro).await;
    let admin = &app.admin;
    let kept = admin
        .create_knowledge(&t.slug, &doc("Hours", HOURS))
        .await
        .unwrap();

    let long = "word ".repeat(MAX_BODY_CHARS / 5 + 10);
    let err = admin
        .create_knowledge(&t.slug, &doc("Huge", &long))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    let p = err.problem().expect("a problem");
    assert_eq!(p.errors[0].field, "body");
    assert!(p.errors[0].message.contains("split it"), "{p:?}");
    // Over the request limit: 413 before anything is read.
    let huge = "x".repeat(300 * 1024);
    assert_eq!(
        status(admin.create_knowledge(&t.slug, &doc("Huge", &huge)).await),
        413
    );
    let err = admin
        .create_knowledge(&t.slug, &doc("  ", "  "))
        .await
        .unwrap_err();
    let fields: Vec<&str> = err
        .problem()
        .expect("a problem")
        .errors
        .iter()
        .map(|e| e.field.as_str())
        .collect();
    assert_eq!(fields, ["title", "body"]);
    let blank = KnowledgePatch {
        body: Some(" \n ".into()),
        ..Default::default()
    };
    assert_eq!(
        status(admin.update_knowledge(&t.slug, kept.id, &blank).await),
        422
    );
    assert_eq!(
        status(admin.search_knowledge(&t.slug, "  ", None).await),
        422
    );
    assert_eq!(
        status(admin.search_knowledge(&t.slug, "hours", Some(21)).await),
        422
    );

    let list = admin.knowledge(&t.slug).await.unwrap();
    assert_eq!(list.len(), 1);
    let same = admin.knowledge_document(&t.slug, kept.id).await.unwrap();
    assert_eq!(same, kept);
}

#[tokio::test]
async fn roles_follow_the_access_table() {
    let app = spawn().await;
    let t = app.tenant("Open Arms", Tier::Pro).await;
    let (_, manager) = app.member(&t, "m@oa.test", Role::Manager).await;
    let (_, agent) = app.member(&t, "a@oa.test", Role::Agent).await;
    let (_, viewer) = app.member(&t, "v@oa.test", Role::Viewer).await;
    let made = manager
        .create_knowledge(&t.slug, &doc("Hours", HOURS))
        .await
        .unwrap();
    // Agents read and search, and cannot change anything.
    assert_eq!(agent.knowledge(&t.slug).await.unwrap().len(), 1);
    assert_eq!(
        agent
            .search_knowledge(&t.slug, "monday", None)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        status(agent.create_knowledge(&t.slug, &doc("X", "y")).await),
        403
    );
    assert_eq!(status(agent.delete_knowledge(&t.slug, made.id).await), 403);
    // Viewers do not use agents: no knowledge either.
    assert_eq!(status(viewer.knowledge(&t.slug).await), 403);
    assert_eq!(
        status(viewer.search_knowledge(&t.slug, "monday", None).await),
        403
    );
    assert_eq!(manager.knowledge(&t.slug).await.unwrap().len(), 1);
}

#[tokio::test]
async fn another_tenants_documents_never_appear() {
    let app = spawn().await;
    let a = app.tenant("Alpha", Tier::Pro).await;
    let b = app.tenant("Beta", Tier::Pro).await;
    let (_, alpha) = app.member(&a, "admin@alpha.test", Role::Admin).await;
    let (_, beta) = app.member(&b, "admin@beta.test", Role::Admin).await;
    let mine = alpha
        .create_knowledge(&a.slug, &doc("Prices", "A cleaning costs 80 euros."))
        .await
        .unwrap();
    let theirs = beta
        .create_knowledge(&b.slug, &doc("Prices", "A cleaning costs 999 euros."))
        .await
        .unwrap();
    let found = alpha
        .search_knowledge(&a.slug, "cleaning costs euros", Some(20))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].document_id, mine.id);
    assert!(!found[0].text.contains("999"));
    // B's documents are not there for A, by id or through A's path.
    assert_eq!(
        status(alpha.knowledge_document(&a.slug, theirs.id).await),
        404
    );
    assert_eq!(
        status(alpha.knowledge_document(&b.slug, theirs.id).await),
        404
    );
    assert_eq!(
        status(alpha.search_knowledge(&b.slug, "cleaning", None).await),
        404
    );
    let patch = KnowledgePatch {
        title: Some("Mine now".into()),
        ..Default::default()
    };
    assert_eq!(
        status(alpha.update_knowledge(&a.slug, theirs.id, &patch).await),
        404
    );
    assert_eq!(
        status(alpha.delete_knowledge(&a.slug, theirs.id).await),
        404
    );
    assert_eq!(alpha.knowledge(&a.slug).await.unwrap().len(), 1);
    // Nor can an agent of A be limited to B's document.
    let agent = alpha
        .create_agent(
            &a.slug,
            &NewAgent {
                name: "Desk".into(),
                system_prompt: "Answer leads.".into(),
                model: "test/good".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let link = AgentKnowledge {
        mode: KnowledgeMode::Documents,
        documents: vec![theirs.id],
    };
    let err = alpha
        .set_agent_knowledge(&a.slug, agent.id, &link)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    assert_eq!(
        status(beta.set_agent_knowledge(&b.slug, agent.id, &link).await),
        404
    );
    // B's copy is untouched.
    let still = beta.knowledge_document(&b.slug, theirs.id).await.unwrap();
    assert_eq!(still, theirs);
}

#[tokio::test]
async fn an_agent_says_which_knowledge_it_may_use() {
    let app = spawn().await;
    let t = app.tenant("Open Arms", Tier::Pro).await;
    let admin = &app.admin;
    let d = admin
        .create_knowledge(&t.slug, &doc("Hours", HOURS))
        .await
        .unwrap();
    let agent = admin
        .create_agent(
            &t.slug,
            &NewAgent {
                name: "Desk".into(),
                system_prompt: "Answer leads.".into(),
                model: "test/good".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let link = admin.agent_knowledge(&t.slug, agent.id).await.unwrap();
    assert_eq!(link, AgentKnowledge::default());
    assert_eq!(link.mode, KnowledgeMode::All);

    let only = AgentKnowledge {
        mode: KnowledgeMode::Documents,
        documents: vec![d.id, d.id],
    };
    let saved = admin
        .set_agent_knowledge(&t.slug, agent.id, &only)
        .await
        .unwrap();
    assert_eq!(saved.documents, [d.id]);
    assert_eq!(
        admin.agent_knowledge(&t.slug, agent.id).await.unwrap(),
        saved
    );

    for bad in [
        AgentKnowledge {
            mode: KnowledgeMode::Documents,
            documents: vec![],
        },
        AgentKnowledge {
            mode: KnowledgeMode::None,
            documents: vec![d.id],
        },
        AgentKnowledge {
            mode: KnowledgeMode::Documents,
            documents: vec![Uuid::now_v7()],
        },
    ] {
        let err = admin
            .set_agent_knowledge(&t.slug, agent.id, &bad)
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(422), "{bad:?}");
    }
    assert_eq!(
        admin.agent_knowledge(&t.slug, agent.id).await.unwrap(),
        saved
    );
    let none = AgentKnowledge {
        mode: KnowledgeMode::None,
        documents: vec![],
    };
    assert_eq!(
        admin
            .set_agent_knowledge(&t.slug, agent.id, &none)
            .await
            .unwrap(),
        none
    );
    assert_eq!(
        status(admin.agent_knowledge(&t.slug, Uuid::now_v7()).await),
        404
    );
}

#[tokio::test]
async fn initialize_tenant_can_write_a_starter_document_from_the_business_description() {
    let app = spawn().await;
    let t = app.tenant("Open Arms", Tier::Starter).await;
    let admin = &app.admin;
    assert_eq!(
        admin
            .write_starter_knowledge(&t.slug, &t.name, "   ")
            .await
            .unwrap(),
        None
    );
    assert!(admin.knowledge(&t.slug).await.unwrap().is_empty());
    let doc = admin
        .write_starter_knowledge(&t.slug, &t.name, "a family dental clinic in Porto")
        .await
        .unwrap()
        .expect("a document");
    assert_eq!(doc.title, "About Open Arms");
    let found = admin
        .search_knowledge(&t.slug, "Is this a dental clinic?", None)
        .await
        .unwrap();
    assert_eq!(found[0].document_id, doc.id);
    assert!(found[0].text.contains("a family dental clinic in Porto"));
}

#[tokio::test]
async fn the_openapi_document_states_the_knowledge_limits() {
    let app = spawn().await;
    let doc = app.anon().openapi().await.unwrap();
    let schemas = &doc["components"]["schemas"];
    let new = &schemas["NewKnowledgeDocument"]["properties"];
    assert_eq!(new["body"]["maxLength"], MAX_BODY_CHARS);
    assert_eq!(new["title"]["maxLength"], 200);
    let search = &doc["paths"]["/api/v1/tenants/{tenant}/knowledge/search"]["get"];
    let q = search["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "q")
        .expect("a q parameter");
    assert_eq!(
        (q["required"].clone(), q["schema"]["maxLength"].clone()),
        (true.into(), 500.into())
    );
    for status in ["403", "404", "422"] {
        assert!(
            search["responses"][status].is_object(),
            "search: no {status}"
        );
    }
    let create = &doc["paths"]["/api/v1/tenants/{tenant}/knowledge"]["post"];
    for status in ["201", "403", "409", "413", "422"] {
        assert!(
            create["responses"][status].is_object(),
            "create: no {status}"
        );
    }
    let link = &doc["paths"]["/api/v1/tenants/{tenant}/agents/{id}/knowledge"];
    assert!(link["get"].is_object() && link["put"].is_object());
}
