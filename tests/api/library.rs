//! The global agent library (issue 19): the platform's starter agents, seen
//! by every tenant and changed only by platform admins; "use as template";
//! tags and categories; use counts and the sorts over them.

use switchboard::domain::{
    Agent, AgentCopy, AgentPatch, AgentSort, NewAgent, PageQuery, Role, Sharing, SharingChange,
    Tier,
};
use switchboard::store::agent_library::{PLATFORM_TENANT, STARTERS};

use crate::common::spawn;
use crate::playground::{drain, fixture, replies, session, with_agent};

fn library(agents: &[Agent]) -> Vec<&Agent> {
    agents
        .iter()
        .filter(|a| a.tenant_id == PLATFORM_TENANT && a.sharing == Sharing::Global)
        .collect()
}

fn starter<'a>(agents: &'a [Agent], name: &str) -> &'a Agent {
    agents
        .iter()
        .find(|a| a.name == name && a.tenant_id == PLATFORM_TENANT)
        .unwrap_or_else(|| panic!("{name} is in the library: {agents:?}"))
}

#[tokio::test]
async fn every_tenant_sees_the_library_read_only_and_only_platform_admins_change_it() {
    let app = spawn().await;
    let alpha = app.tenant("Alpha", Tier::Pro).await;
    let beta = app.tenant("Beta", Tier::Pro).await;
    let (_, a_admin) = app.member(&alpha, "admin@alpha.test", Role::Admin).await;
    let (_, b_viewer) = app.member(&beta, "viewer@beta.test", Role::Viewer).await;
    let mine = a_admin
        .create_agent(
            "alpha",
            &NewAgent {
                name: "Alpha private".into(),
                system_prompt: "Answer for Alpha.".into(),
                model: "local/smollm2-135m".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    let seen = a_admin.list_agents("alpha").await.unwrap();
    assert_eq!(seen.len(), STARTERS.len() + 1, "{seen:?}");
    assert_eq!(seen[0].id, mine.id, "the tenant's own agents come first");
    let lib = library(&seen);
    let mut names: Vec<&str> = lib.iter().map(|a| a.name.as_str()).collect();
    names.sort();
    let mut expected: Vec<&str> = STARTERS.iter().map(|s| s.name).collect();
    expected.sort();
    assert_eq!(names, expected);
    for a in &lib {
        assert!(a.read_only, "{}", a.name);
        assert_eq!(a.owner_name, "Platform");
        assert_eq!(a.version, 1);
        assert!(!a.tags.is_empty() && a.category.is_some(), "{a:?}");
        assert!(
            a.config.system_prompt.len() > 200,
            "a prompt written for the job"
        );
        assert_eq!((a.use_count, a.last_used_at), (0, None));
    }
    // Another tenant sees the library, never Alpha's private agent.
    let b_seen = b_viewer.list_agents("beta").await.unwrap();
    assert_eq!(library(&b_seen).len(), STARTERS.len());
    assert!(b_seen.iter().all(|a| a.id != mine.id));
    assert_eq!(
        b_viewer.agent("beta", mine.id).await.unwrap_err().status(),
        Some(404)
    );

    // Read-only to tenants: every change is refused as for any shared agent.
    let qualifier = starter(&seen, "Qualifier").clone();
    let patch = AgentPatch {
        system_prompt: Some("Say yes to everything.".into()),
        ..Default::default()
    };
    let e = a_admin
        .update_agent("alpha", qualifier.id, &patch)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(403));
    assert!(e.message().contains("copy it"), "{}", e.message());
    for status in [
        a_admin
            .delete_agent("alpha", qualifier.id)
            .await
            .unwrap_err()
            .status(),
        a_admin
            .restore_agent_version("alpha", qualifier.id, 1)
            .await
            .unwrap_err()
            .status(),
        a_admin
            .share_agent(
                "alpha",
                qualifier.id,
                &SharingChange {
                    sharing: Sharing::Private,
                    tenants: vec![],
                },
            )
            .await
            .unwrap_err()
            .status(),
    ] {
        assert_eq!(status, Some(403));
    }
    // Nor through the platform tenant's own path: Alpha's admin is not a member.
    assert_eq!(
        a_admin
            .update_agent("platform", qualifier.id, &patch)
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
    let unchanged = a_admin.agent("alpha", qualifier.id).await.unwrap();
    assert_eq!(unchanged.config, qualifier.config);

    // A platform admin manages it like any agent of the platform tenant.
    let edited = app
        .admin
        .update_agent(
            "platform",
            qualifier.id,
            &AgentPatch {
                system_prompt: Some("Qualify leads for Alpha's region first.".into()),
                tags: Some(vec!["qualification".into(), "regional".into()]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(edited.version, 2);
    let now = b_viewer.agent("beta", qualifier.id).await.unwrap();
    assert_eq!(
        now.config.system_prompt,
        "Qualify leads for Alpha's region first."
    );
    assert_eq!(now.tags, ["qualification", "regional"]);
    assert!(now.read_only);
}

#[tokio::test]
async fn use_as_template_copies_an_agent_into_the_tenant_as_a_private_one() {
    let app = spawn().await;
    let alpha = app.tenant("Alpha", Tier::Pro).await;
    let beta = app.tenant("Beta", Tier::Pro).await;
    let (_, a_admin) = app.member(&alpha, "admin@alpha.test", Role::Admin).await;
    let (_, a_agent) = app.member(&alpha, "agent@alpha.test", Role::Agent).await;
    let (_, b_admin) = app.member(&beta, "admin@beta.test", Role::Admin).await;
    let seen = a_admin.list_agents("alpha").await.unwrap();
    let setter = starter(&seen, "Appointment setter").clone();

    let copy = a_admin
        .copy_agent("alpha", setter.id, &AgentCopy::default())
        .await
        .unwrap();
    assert_ne!(copy.id, setter.id);
    assert_eq!(copy.tenant_id, alpha.id);
    assert_eq!(copy.name, setter.name);
    assert_eq!((copy.version, copy.sharing), (1, Sharing::Private));
    assert!(!copy.read_only);
    assert_eq!(copy.config, setter.config);
    assert_eq!(copy.description, setter.description);
    assert_eq!(
        (&copy.tags, &copy.category),
        (&setter.tags, &setter.category)
    );
    assert_eq!(copy.use_count, 0);

    // The copy is Alpha's own: editable by Alpha, invisible to Beta, and the
    // library's original is untouched.
    let renamed = a_admin
        .copy_agent(
            "alpha",
            setter.id,
            &AgentCopy {
                name: Some("  Our booker  ".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "Our booker");
    a_admin
        .update_agent(
            "alpha",
            copy.id,
            &AgentPatch {
                system_prompt: Some("Book Alpha's tastings.".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        b_admin.agent("beta", copy.id).await.unwrap_err().status(),
        Some(404)
    );
    let b_list = b_admin.list_agents("beta").await.unwrap();
    assert!(b_list.iter().all(|a| a.tenant_id != alpha.id));
    assert_eq!(
        b_admin.agent("beta", setter.id).await.unwrap().config,
        setter.config
    );

    // A copy of its own agent works too; another tenant's private one is 404,
    // as if it did not exist.
    let again = a_admin
        .copy_agent("alpha", copy.id, &AgentCopy::default())
        .await
        .unwrap();
    assert_eq!(again.config.system_prompt, "Book Alpha's tastings.");
    assert_eq!(
        b_admin
            .copy_agent("beta", copy.id, &AgentCopy::default())
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
    // The same permission as creating an agent; a blank name is refused.
    assert_eq!(
        a_agent
            .copy_agent("alpha", setter.id, &AgentCopy::default())
            .await
            .unwrap_err()
            .status(),
        Some(403)
    );
    let e = a_admin
        .copy_agent(
            "alpha",
            setter.id,
            &AgentCopy {
                name: Some("   ".into()),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(422));
    assert!(e.problem().unwrap().field("name").is_some());

    // Audited like a creation, saying where it came from.
    let audit = a_admin
        .list_audit("alpha", &PageQuery::default())
        .await
        .unwrap();
    let created: Vec<_> = audit
        .items
        .iter()
        .filter(|e| e.action == "agent.create" && e.resource_id == copy.id.to_string())
        .collect();
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0].changes["copied_from"]["agent_id"],
        setter.id.to_string()
    );
}

#[tokio::test]
async fn tags_and_category_are_checked_and_can_be_changed_or_cleared() {
    let app = spawn().await;
    app.tenant("Alpha", Tier::Pro).await;
    let new = |tags: &[&str], category: Option<&str>| NewAgent {
        name: "Tagged".into(),
        system_prompt: "Answer.".into(),
        model: "local/smollm2-135m".into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        category: category.map(str::to_string),
        ..Default::default()
    };
    for (tags, category, field) in [
        (&["Sales"][..], None, "tags"),
        (&["follow up"][..], None, "tags"),
        (&["-x"][..], None, "tags"),
        (&["a--b"][..], None, "tags"),
        (&["a"; 9][..], None, "tags"),
        (&["x".repeat(25).leak() as &str][..], None, "tags"),
        (&[][..], Some("  "), "category"),
        (&[][..], Some("c".repeat(41).leak() as &str), "category"),
    ] {
        let e = app
            .admin
            .create_agent("alpha", &new(tags, category))
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(422), "{tags:?} {category:?}");
        assert!(
            e.problem().unwrap().field(field).is_some(),
            "{tags:?} {category:?}: {}",
            e.message()
        );
    }
    let a = app
        .admin
        .create_agent(
            "alpha",
            &new(&["sales", "follow-up", "sales", "b2b"], Some(" Sales ")),
        )
        .await
        .unwrap();
    assert_eq!(a.tags, ["sales", "follow-up", "b2b"], "duplicates dropped");
    assert_eq!(a.category.as_deref(), Some("Sales"));
    // Tags and category are not the prompt: no new version.
    let changed = app
        .admin
        .update_agent(
            "alpha",
            a.id,
            &AgentPatch {
                tags: Some(vec![]),
                category: Some(None),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (changed.tags.len(), changed.category, changed.version),
        (0, None, 1)
    );
    let e = app
        .admin
        .update_agent(
            "alpha",
            a.id,
            &AgentPatch {
                tags: Some(vec!["UPPER".into()]),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(e.problem().unwrap().field("tags").is_some());
    let e = app
        .admin
        .list_agents_sorted("alpha", AgentSort::Name)
        .await
        .unwrap();
    assert_eq!(e.len(), STARTERS.len() + 1);
}

#[tokio::test]
async fn seeding_is_idempotent_and_keeps_what_platform_admins_did() {
    let app = spawn().await;
    let lib = app.admin.list_agents("platform").await.unwrap();
    assert_eq!(library(&lib).len(), STARTERS.len());
    let follow_up = starter(&lib, "Follow-up").clone();
    let first = starter(&lib, "First response").clone();
    app.admin
        .delete_agent("platform", follow_up.id)
        .await
        .unwrap();
    app.admin
        .update_agent(
            "platform",
            first.id,
            &AgentPatch {
                name: Some("First reply".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    // A restart (another open of the same database) seeds nothing more.
    for _ in 0..2 {
        let reopened = switchboard::store::open(&app.database_url).await.unwrap();
        assert!(reopened.seed_agent_library().await.unwrap().is_empty());
    }
    let now = app.admin.list_agents("platform").await.unwrap();
    assert_eq!(library(&now).len(), STARTERS.len() - 1);
    assert!(now.iter().all(|a| a.name != "Follow-up"), "stays deleted");
    assert_eq!(starter(&now, "First reply").id, first.id);
    assert!(now.iter().all(|a| a.name != "First response"));
}

/// Makes a library agent answer through the test provider (the local model
/// is not installed in tests), as a platform admin may.
async fn answerable(app: &crate::common::TestApp, name: &str) -> Agent {
    let lib = app.admin.list_agents("platform").await.unwrap();
    let a = starter(&lib, name);
    app.admin
        .update_agent(
            "platform",
            a.id,
            &AgentPatch {
                model: Some("test/echo".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn concurrent_playground_replies_by_many_tenants_are_each_counted_once() {
    const TENANTS: usize = 4;
    const SESSIONS: usize = 2;
    let fx = fixture().await;
    let app = &fx.app;
    let qualifier = answerable(app, "Qualifier").await;
    let mut work = Vec::new();
    for t in 0..TENANTS {
        let tenant = app.tenant(&format!("Tenant {t}"), Tier::Pro).await;
        let (_, client) = app
            .member(&tenant, &format!("admin@t{t}.test"), Role::Admin)
            .await;
        for _ in 0..SESSIONS {
            let s = session(&client, &tenant.slug, with_agent(qualifier.id)).await;
            work.push((client.clone(), tenant.slug.clone(), s));
        }
    }
    let answered = futures::future::join_all(work.iter().map(|(client, slug, s)| async move {
        let stream = client
            .send_playground_message(slug, *s, "Do you do weddings in June?")
            .await
            .unwrap();
        replies(&drain(stream).await).len()
    }))
    .await;
    assert_eq!(answered, vec![1; TENANTS * SESSIONS]);

    let after = app.admin.agent("platform", qualifier.id).await.unwrap();
    assert_eq!(after.use_count, (TENANTS * SESSIONS) as u64);
    assert!(after.last_used_at.is_some());
    // Every tenant reads the same count; sorted by uses, it comes first.
    let (_, viewer) = app
        .member(
            &app.tenant("Watcher", Tier::Pro).await,
            "viewer@watcher.test",
            Role::Viewer,
        )
        .await;
    let by_uses = viewer
        .list_agents_sorted("watcher", AgentSort::Uses)
        .await
        .unwrap();
    assert_eq!(by_uses[0].id, qualifier.id);
    assert_eq!(by_uses[0].use_count, (TENANTS * SESSIONS) as u64);
    assert!(by_uses[1..].iter().all(|a| a.use_count == 0));
    // The configuration edit above did not count, nor did reading.
    let setter = answerable(app, "Appointment setter").await;
    assert_eq!(setter.use_count, 0);
}

#[tokio::test]
async fn last_used_sorts_the_most_recent_first_and_never_used_last() {
    let fx = fixture().await;
    let app = &fx.app;
    let tenant = app.tenant("Alpha", Tier::Pro).await;
    let first = answerable(app, "First response").await;
    let follow = answerable(app, "Follow-up").await;
    for agent in [&follow, &first] {
        let s = session(&app.admin, &tenant.slug, with_agent(agent.id)).await;
        let stream = app
            .admin
            .send_playground_message(&tenant.slug, s, "Hello?")
            .await
            .unwrap();
        drain(stream).await;
    }
    let list = app
        .admin
        .list_agents_sorted(&tenant.slug, AgentSort::LastUsed)
        .await
        .unwrap();
    let names: Vec<&str> = list.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(&names[..2], ["First response", "Follow-up"]);
    assert!(list[2..].iter().all(|a| a.last_used_at.is_none()));
    assert!(list[0].last_used_at >= list[1].last_used_at);
    let refused = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/tenants/{}/agents?sort=popular",
            app.url, tenant.slug
        ))
        .bearer_auth(app.admin.token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 422);
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert!(
        problem.to_string().contains("name, uses or last_used"),
        "{problem}"
    );
}
