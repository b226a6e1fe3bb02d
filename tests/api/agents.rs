//! Agents (versions, restore, sharing) and workspaces.

use switchboard::domain::{
    AgentLink, AgentPatch, Channel, NewAgent, NewWorkspace, PageQuery, Role, Sharing,
    SharingChange, Tier, WorkspacePatch,
};

use switchboard::store::agent_library::{PLATFORM_TENANT, STARTERS};

use crate::common::spawn;

fn agent(name: &str) -> NewAgent {
    NewAgent {
        name: name.into(),
        description: Some("Answers new enquiries".into()),
        system_prompt: "You answer inbound leads for a dental clinic. Be brief.".into(),
        model: "local/smollm2-135m".into(),
        temperature: Some(0.2),
        max_tokens: Some(200),
        ..Default::default()
    }
}

#[tokio::test]
async fn every_prompt_edit_is_a_new_version_and_old_ones_can_be_restored() {
    let app = spawn().await;
    let t = app.tenant("Open Arms", Tier::Pro).await;
    let a = app
        .admin
        .create_agent("open-arms", &agent("Receptionist"))
        .await
        .unwrap();
    assert_eq!(a.version, 1);
    assert!(!a.read_only);
    assert_eq!(a.sharing, Sharing::Private);
    let prompt_v1 = a.config.system_prompt.clone();

    let v2 = app
        .admin
        .update_agent(
            "open-arms",
            a.id,
            &AgentPatch {
                system_prompt: Some("Be warm and brief.".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    // A rename is not a prompt edit.
    let renamed = app
        .admin
        .update_agent(
            "open-arms",
            a.id,
            &AgentPatch {
                name: Some("Front desk".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((renamed.version, renamed.name.as_str()), (2, "Front desk"));
    let versions = app.admin.agent_versions("open-arms", a.id).await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [2, 1]
    );
    assert_eq!(
        app.admin
            .agent_version("open-arms", a.id, 1)
            .await
            .unwrap()
            .config
            .system_prompt,
        prompt_v1
    );

    let restored = app
        .admin
        .restore_agent_version("open-arms", a.id, 1)
        .await
        .unwrap();
    assert_eq!(restored.version, 3);
    assert_eq!(restored.config.system_prompt, prompt_v1);
    let v3 = &app.admin.agent_versions("open-arms", a.id).await.unwrap()[0];
    assert_eq!(v3.restored_from, Some(1));
    assert_eq!(v3.created_by.as_deref(), Some("root@platform.test"));

    let bad = app
        .admin
        .update_agent(
            "open-arms",
            a.id,
            &AgentPatch {
                model: Some("llama".into()),
                temperature: Some(9.0),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    let p = bad.problem().unwrap();
    assert!(
        p.field("model").is_some() && p.field("temperature").is_some(),
        "{p}"
    );
    assert_eq!(app.admin.agent("open-arms", a.id).await.unwrap().version, 3);

    // Viewers read, managers change.
    let (_, viewer) = app.member(&t, "v@oa.test", Role::Viewer).await;
    // Its own agent, then the platform's starter library.
    let listed = viewer.list_agents("open-arms").await.unwrap();
    assert_eq!(listed.len(), 1 + STARTERS.len());
    assert_eq!(listed[0].id, a.id);
    assert!(listed[1..]
        .iter()
        .all(|x| x.read_only && x.tenant_id == PLATFORM_TENANT));
    assert_eq!(
        viewer
            .create_agent("open-arms", &agent("X"))
            .await
            .unwrap_err()
            .status(),
        Some(403)
    );
    let audit = app
        .admin
        .list_audit("open-arms", &PageQuery::default())
        .await
        .unwrap();
    let actions: Vec<&str> = audit.items.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"agent.restore") && actions.contains(&"agent.create"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn sharing_decides_who_sees_an_agent_and_only_the_owner_changes_it() {
    let app = spawn().await;
    let a = app.tenant("Alpha", Tier::Pro).await;
    let b = app.tenant("Beta", Tier::Pro).await;
    let c = app.tenant("Gamma", Tier::Pro).await;
    let (_, a_admin) = app.member(&a, "admin@alpha.test", Role::Admin).await;
    let (_, b_admin) = app.member(&b, "admin@beta.test", Role::Admin).await;
    let (_, c_viewer) = app.member(&c, "viewer@gamma.test", Role::Viewer).await;

    let private = a_admin
        .create_agent("alpha", &agent("Alpha private"))
        .await
        .unwrap();
    // Beta sees the platform's library, nothing of Alpha's.
    let b_sees = b_admin.list_agents("beta").await.unwrap();
    assert_eq!(b_sees.len(), STARTERS.len());
    assert!(b_sees.iter().all(|x| x.tenant_id == PLATFORM_TENANT));
    assert_eq!(
        b_admin
            .agent("beta", private.id)
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );

    // Tenant admins cannot make an agent global, nor share with tenants they
    // cannot see (no hint that those exist).
    let e = a_admin
        .share_agent(
            "alpha",
            private.id,
            &SharingChange {
                sharing: Sharing::Global,
                tenants: vec![],
            },
        )
        .await
        .unwrap_err();
    assert!(e.problem().unwrap().field("sharing").is_some());
    let e = a_admin
        .share_agent(
            "alpha",
            private.id,
            &SharingChange {
                sharing: Sharing::Selective,
                tenants: vec!["beta".into()],
            },
        )
        .await
        .unwrap_err();
    assert!(e.message().contains("no tenant"), "{}", e.message());

    // A platform admin shares it with Beta only.
    let shared = app
        .admin
        .share_agent(
            "alpha",
            private.id,
            &SharingChange {
                sharing: Sharing::Selective,
                tenants: vec!["beta".into()],
            },
        )
        .await
        .unwrap();
    assert_eq!(shared.shared_with, [b.id]);
    let seen = b_admin.agent("beta", private.id).await.unwrap();
    assert!(seen.read_only);
    assert!(
        seen.shared_with.is_empty(),
        "share lists are the owner's business"
    );
    assert_eq!(
        c_viewer
            .agent("gamma", private.id)
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
    let e = b_admin
        .update_agent(
            "beta",
            private.id,
            &AgentPatch {
                name: Some("Mine now".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(403));
    assert!(e.message().contains("Alpha"), "{}", e.message());
    assert_eq!(
        b_admin
            .delete_agent("beta", private.id)
            .await
            .unwrap_err()
            .status(),
        Some(403)
    );

    // The platform's global agent is visible to every tenant, read-only.
    let global = app
        .admin
        .create_agent("platform", &agent("Global helper"))
        .await
        .unwrap();
    app.admin
        .share_agent(
            "platform",
            global.id,
            &SharingChange {
                sharing: Sharing::Global,
                tenants: vec![],
            },
        )
        .await
        .unwrap();
    for (client, slug) in [
        (&a_admin, "alpha"),
        (&b_admin, "beta"),
        (&c_viewer, "gamma"),
    ] {
        let list = client.list_agents(slug).await.unwrap();
        let g = list
            .iter()
            .find(|x| x.id == global.id)
            .expect("global agent listed");
        assert!(g.read_only);
        assert_eq!(g.owner_name, "Platform");
    }

    // Unsharing takes it away again; every change was audited by the owner.
    app.admin
        .share_agent(
            "alpha",
            private.id,
            &SharingChange {
                sharing: Sharing::Private,
                tenants: vec![],
            },
        )
        .await
        .unwrap();
    assert_eq!(
        b_admin
            .agent("beta", private.id)
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
    let audit = a_admin
        .list_audit("alpha", &PageQuery::default())
        .await
        .unwrap();
    let sharing_changes = audit
        .items
        .iter()
        .filter(|e| e.action == "agent.sharing")
        .count();
    assert_eq!(sharing_changes, 2);
}

#[tokio::test]
async fn workspaces_link_usable_agents_and_say_when_one_is_gone() {
    let app = spawn().await;
    app.tenant("Alpha", Tier::Pro).await;
    let beta = app.tenant("Beta", Tier::Pro).await;
    let own = app
        .admin
        .create_agent("alpha", &agent("Own"))
        .await
        .unwrap();
    let foreign = app
        .admin
        .create_agent("beta", &agent("Beta's"))
        .await
        .unwrap();

    let e = app
        .admin
        .create_workspace(
            "alpha",
            &NewWorkspace {
                name: "Web".into(),
                channel: Channel::WebForm,
                agent_id: Some(foreign.id),
                strategy_active: false,
            },
        )
        .await
        .unwrap_err();
    assert!(e.problem().unwrap().field("agent_id").is_some());

    let ws = app
        .admin
        .create_workspace(
            "alpha",
            &NewWorkspace {
                name: "Website — Alpha".into(),
                channel: Channel::WebForm,
                agent_id: Some(own.id),
                strategy_active: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(ws.agent_link, AgentLink::Ok);
    assert_eq!(ws.agent_name.as_deref(), Some("Own"));

    // Beta shares its agent with Alpha; Alpha links it, then Beta unshares.
    app.admin
        .share_agent(
            "beta",
            foreign.id,
            &SharingChange {
                sharing: Sharing::Selective,
                tenants: vec!["alpha".into()],
            },
        )
        .await
        .unwrap();
    let chat = app
        .admin
        .create_workspace(
            "alpha",
            &NewWorkspace {
                name: "Chat".into(),
                channel: Channel::Chat,
                agent_id: Some(foreign.id),
                strategy_active: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(chat.agent_link, AgentLink::Ok);
    app.admin
        .share_agent(
            "beta",
            foreign.id,
            &SharingChange {
                sharing: Sharing::Private,
                tenants: vec![],
            },
        )
        .await
        .unwrap();
    app.admin.delete_agent("alpha", own.id).await.unwrap();
    let list = app.admin.list_workspaces("alpha").await.unwrap();
    let link = |name: &str| list.iter().find(|w| w.name == name).unwrap().agent_link;
    assert_eq!(link("Chat"), AgentLink::Unshared);
    assert_eq!(link("Website — Alpha"), AgentLink::Deleted);

    // Deactivating is fine; activating needs an agent.
    let off = app
        .admin
        .update_workspace(
            "alpha",
            ws.id,
            &WorkspacePatch {
                strategy_active: Some(false),
                agent_id: Some(None),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!off.strategy_active);
    let e = app
        .admin
        .update_workspace(
            "alpha",
            ws.id,
            &WorkspacePatch {
                strategy_active: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(e.problem().unwrap().field("strategy_active").is_some());
    // Another tenant's workspace is not found.
    assert_eq!(app.admin.list_workspaces("beta").await.unwrap().len(), 0);
    let _ = beta;
    let audit = app
        .admin
        .list_audit("alpha", &PageQuery::default())
        .await
        .unwrap();
    assert!(audit
        .items
        .iter()
        .any(|e| e.action == "workspace.deactivate"));
}

#[tokio::test]
async fn a_key_bound_to_a_workspace_lands_its_leads_there() {
    use switchboard::domain::{LeadQuery, NewApiKey};
    let app = spawn().await;
    app.tenant("Alpha", Tier::Pro).await;
    app.tenant("Beta", Tier::Pro).await;
    let ws = app
        .admin
        .create_workspace(
            "alpha",
            &NewWorkspace {
                name: "Website".into(),
                channel: Channel::WebForm,
                agent_id: None,
                strategy_active: false,
            },
        )
        .await
        .unwrap();
    let key = app
        .admin
        .create_api_key(
            "alpha",
            &NewApiKey {
                name: "site".into(),
                scope: None,
                workspace_id: Some(ws.id),
            },
        )
        .await
        .unwrap();
    assert_eq!(key.api_key.workspace_id, Some(ws.id));
    app.anon()
        .ingest_lead(&key.key, &crate::common::lead("Jane"), None)
        .await
        .unwrap();
    let leads = app
        .admin
        .list_leads("alpha", &LeadQuery::default())
        .await
        .unwrap();
    assert_eq!(leads.items[0].workspace_id, Some(ws.id));
    // Another tenant's workspace cannot be bound.
    let e = app
        .admin
        .create_api_key(
            "beta",
            &NewApiKey {
                name: "x".into(),
                scope: None,
                workspace_id: Some(ws.id),
            },
        )
        .await
        .unwrap_err();
    assert!(e.problem().unwrap().field("workspace_id").is_some());
}

#[tokio::test]
async fn the_models_list_says_which_can_answer_and_what_to_do_otherwise() {
    use switchboard::llm::{LlmConfig, Providers};
    let dir = tempfile::tempdir().unwrap();
    // The embedded model is enabled by default; its weights are not here.
    let providers = Providers::from_config(&LlmConfig::default(), dir.path()).unwrap();
    let app = crate::common::spawn_with_providers(providers).await;
    let models = app.admin.models().await.unwrap();
    let local = models
        .iter()
        .find(|m| m.id == "local/smollm2-135m")
        .expect("the embedded model is listed");
    assert!(!local.ready);
    assert!(
        local
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("switchboard model fetch"),
        "{local:?}"
    );
    assert_eq!(app.anon().models().await.unwrap_err().status(), Some(401));
}
