//! What the matrix calls act on: each made fresh through the store, so every
//! call would succeed if allowed.

use super::*;

pub(super) struct Fixture {
    pub(super) app: TestApp,
    pub(super) n: std::sync::atomic::AtomicUsize,
    pub(super) tenant_id: Uuid,
    pub(super) target_user: Uuid,
    pub(super) agent: Uuid,
}

pub(super) fn new_agent(n: usize) -> NewAgent {
    NewAgent {
        name: format!("Agent {n}"),
        system_prompt: "Answer leads.".into(),
        model: "local/smollm2-135m".into(),
        ..Default::default()
    }
}

pub(super) fn new_workspace(n: usize) -> NewWorkspace {
    NewWorkspace {
        name: format!("Workspace {n}"),
        channel: Channel::WebForm,
        agent_id: None,
        strategy_active: false,
    }
}

impl Fixture {
    /// A new agent of alpha, made through the store.
    pub(super) async fn agent(&self) -> Uuid {
        let n = self.next();
        let new = new_agent(n);
        let config = AgentConfig {
            system_prompt: new.system_prompt,
            model: new.model,
            temperature: 0.3,
            max_tokens: 100,
        };
        let actor = Actor::system();
        let row = switchboard::store::AgentRow {
            name: new.name,
            description: String::new(),
            config,
            tags: Vec::new(),
            category: None,
            copied_from: None,
        };
        let a = self.app.store.create_agent(&actor, self.tenant_id, &row);
        a.await.unwrap().id
    }

    /// A new knowledge document of alpha, made through the store.
    pub(super) async fn knowledge(&self) -> Uuid {
        let input = switchboard::domain::knowledge::KnowledgeInput::new(
            &format!("Hours {}", self.next()),
            "Open Monday to Friday.",
            switchboard::domain::KnowledgeFormat::Markdown,
        );
        let actor = Actor::system();
        let doc =
            self.app
                .store
                .create_knowledge(&actor, self.tenant_id, input, chrono::Utc::now());
        doc.await.unwrap().id
    }

    /// A new workspace of alpha, made through the store.
    pub(super) async fn workspace(&self) -> Uuid {
        let row = WorkspaceRow {
            name: format!("Workspace {}", self.next()),
            channel: Channel::Email,
            agent: None,
            strategy_active: false,
        };
        let actor = Actor::system();
        let ws = self.app.store.create_workspace(&actor, self.tenant_id, row);
        ws.await.unwrap().id
    }

    /// A new lead in alpha, assigned to the agent so every role may see it.
    pub(super) async fn lead(&self) -> Uuid {
        let now = chrono::Utc::now();
        let row = NewLeadRow {
            input: crate::common::lead(&format!("Lead {}", self.next())),
            source: LeadSource::Manual,
            stage: "new".into(),
            spam_reason: None,
            sla_due_at: now + chrono::Duration::hours(24),
            sla_at_risk_at: now + chrono::Duration::hours(18),
            received_at: None,
            workspace_id: None,
            import_key: None,
        };
        let limit = LeadLimit {
            tier: Tier::Enterprise,
            limit: None,
        };
        let actor = Actor::system();
        let IngestOutcome::Created(lead) = self
            .app
            .store
            .insert_lead(&actor, self.tenant_id, row, limit, None, now)
            .await
            .unwrap()
        else {
            panic!("lead not created")
        };
        let change = LeadChange {
            assignee_id: Some(Some(self.agent)),
            ..Default::default()
        };
        self.app
            .store
            .update_lead(&actor, self.tenant_id, lead.id, change, now)
            .await
            .unwrap();
        lead.id
    }

    /// A new playground session of alpha with one user message, made
    /// through the store; returns (session, message).
    pub(super) async fn playground(&self) -> (Uuid, Uuid) {
        let agent = self.agent().await;
        let row = PlaygroundSessionRow {
            title: format!("Session {}", self.next()),
            workspace: None,
            channel: Channel::WebForm,
            lanes: vec![PlaygroundLane {
                agent_id: agent,
                agent_name: "Agent".into(),
                version: None,
            }],
        };
        let store = &self.app.store;
        let actor = Actor::system();
        let session = store
            .create_playground_session(&actor, self.tenant_id, row)
            .await
            .unwrap();
        let text = PlaygroundMessageRow::User("Do you ship to Norway?".into());
        let message = store
            .add_playground_message(self.tenant_id, session.id, text)
            .await
            .unwrap();
        (session.id, message.id)
    }

    /// A workflow of alpha in `status`, on a new lead, made through the store.
    pub(super) async fn workflow(&self, status: WorkflowStatus) -> Uuid {
        let store = &self.app.store;
        let row = NewWorkflowRow {
            lead_id: self.lead().await,
            workspace_id: None,
            agent_id: self.agent().await,
        };
        let now = chrono::Utc::now();
        let wf = store
            .create_workflow(&Actor::system(), self.tenant_id, row, now)
            .await
            .unwrap();
        if status != WorkflowStatus::Queued {
            let from = &[WorkflowStatus::Queued];
            let mut t = WorkflowTransition::new(Actor::system(), from, status, now);
            t.draft = Some("Thanks, we will call you.".into());
            t.error = Some(Some("provider down".into()));
            store
                .transition_workflow(self.tenant_id, wf.id, t)
                .await
                .unwrap();
        }
        wf.id
    }

    /// A new webhook of alpha (to a closed port), made through the store.
    pub(super) async fn webhook(&self) -> Uuid {
        let row = WebhookRow {
            url: "http://127.0.0.1:9/hook".into(),
            events: vec!["lead.created".into()],
            enabled: true,
            secret: secret::generate("whsec_"),
        };
        let actor = Actor::system();
        let now = chrono::Utc::now();
        let w = self
            .app
            .store
            .create_webhook(&actor, self.tenant_id, row, now);
        w.await.unwrap().id
    }

    /// A webhook of alpha with one delivery; returns (webhook, delivery).
    pub(super) async fn delivery(&self) -> (Uuid, Uuid) {
        let webhook = self.webhook().await;
        self.lead().await;
        let page = PageQuery::default();
        let store = &self.app.store;
        let deliveries = store.list_deliveries(self.tenant_id, webhook, &page);
        (webhook, deliveries.await.unwrap().items[0].id)
    }

    /// A new tenant where the caller is a member exactly as in alpha (the
    /// same role, grants and withdrawals; nothing for a stranger or a
    /// platform admin): its slug.
    pub(super) async fn doomed_like_alpha(&self, client: &Client, n: usize) -> String {
        let slug = format!("doomed-{n}");
        self.app
            .admin
            .create_tenant(&NewTenant {
                name: format!("Doomed {n}"),
                slug: Some(slug.clone()),
                tier: Some(Tier::Enterprise),
                ..Default::default()
            })
            .await
            .unwrap();
        let Ok(me) = client.me().await else {
            return slug;
        };
        // Someone else keeps it managed, so the caller's grants and
        // withdrawals never meet the last-admin rule.
        let keeper = format!("keeper{n}@doomed.test");
        self.app
            .store
            .create_user(&keeper, "x", None, false)
            .await
            .unwrap();
        let admin = NewMember {
            email: keeper,
            role: Role::Admin,
        };
        self.app.admin.add_member(&slug, &admin).await.unwrap();
        // Not a member of alpha (a stranger, a platform admin): 404.
        let Ok(alpha) = self.app.admin.member_permissions("alpha", me.user.id).await else {
            return slug;
        };
        self.app
            .admin
            .add_member(
                &slug,
                &NewMember {
                    email: me.user.email.clone(),
                    role: alpha.role,
                },
            )
            .await
            .unwrap();
        self.app
            .admin
            .set_member_permissions(&slug, me.user.id, &alpha.grants)
            .await
            .unwrap();
        slug
    }

    pub(super) fn next(&self) -> usize {
        self.n.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}
