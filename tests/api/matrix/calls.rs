//! Each route called once: what `walk` runs for every route and caller.

use super::fixture::{new_agent, new_workspace};
use super::*;

impl Fixture {
    /// Calls `route` on tenant "alpha" as `client`; creates what the call
    /// consumes first, so every call would succeed if allowed.
    pub(super) async fn call(&self, route: Route, client: &Client) -> u16 {
        let ok = route.success();
        let t = "alpha";
        let actor = Actor::system();
        let n = self.next();
        match route {
            Route::Me => status(client.me().await, ok),
            Route::ListTenants => status(client.list_tenants(&PageQuery::default()).await, ok),
            Route::CreateTenant => {
                let new = NewTenant {
                    name: format!("Made {n}"),
                    ..Default::default()
                };
                status(client.create_tenant(&new).await, ok)
            }
            Route::GetTenant => status(client.tenant(t).await, ok),
            Route::PatchTenant => {
                let patch = TenantPatch {
                    name: Some(format!("Alpha {n}")),
                    ..Default::default()
                };
                status(client.update_tenant(t, &patch).await, ok)
            }
            Route::Suspend => {
                let s = status(client.suspend_tenant(t).await, ok);
                let store = &self.app.store;
                store
                    .set_tenant_status(
                        &actor,
                        self.tenant_id,
                        switchboard::domain::TenantStatus::Active,
                    )
                    .await
                    .unwrap();
                s
            }
            Route::Reactivate => status(client.reactivate_tenant(t).await, ok),
            Route::SetLimits => {
                // Limits no walk reaches: alpha must keep answering.
                let limits = switchboard::domain::usage::RateOverrides {
                    api_per_minute: Some(1_000_000),
                    ingest_per_minute: Some(1_000_000),
                };
                status(client.set_tenant_limits(t, &limits).await, ok)
            }
            Route::DeleteTenant => {
                // Alpha must live on: the caller deletes a tenant of its
                // own, where it is what it is in alpha.
                let doomed = self.doomed_like_alpha(client, n).await;
                status(client.delete_tenant(&doomed).await, ok)
            }
            Route::ListMembers => status(client.list_members(t, &PageQuery::default()).await, ok),
            Route::AddMember => {
                let email = format!("add{n}@alpha.test");
                self.app
                    .store
                    .create_user(&email, "x", None, false)
                    .await
                    .unwrap();
                status(
                    client
                        .add_member(
                            t,
                            &NewMember {
                                email,
                                role: Role::Viewer,
                            },
                        )
                        .await,
                    ok,
                )
            }
            Route::ChangeTier => {
                let patch = |tier| TenantPatch {
                    tier: Some(tier),
                    ..Default::default()
                };
                let s = status(client.update_tenant(t, &patch(Tier::Pro)).await, ok);
                let back = patch(Tier::Enterprise);
                self.app.admin.update_tenant(t, &back).await.unwrap();
                s
            }
            Route::OwnPermissions => match client.me().await {
                Ok(me) => status(client.member_permissions(t, me.user.id).await, ok),
                Err(e) => status::<()>(Err(e), ok),
            },
            Route::MemberPermissions => {
                status(client.member_permissions(t, self.target_user).await, ok)
            }
            Route::SetMemberPermissions => {
                let grants = Grants {
                    granted: if n % 2 == 0 {
                        vec![Permission::AuditView]
                    } else {
                        vec![]
                    },
                    withdrawn: vec![],
                };
                let r = client.set_member_permissions(t, self.target_user, &grants);
                status(r.await, ok)
            }
            Route::ChangeRole => {
                let role = if n % 2 == 0 {
                    Role::Agent
                } else {
                    Role::Viewer
                };
                status(client.change_role(t, self.target_user, role).await, ok)
            }
            Route::RemoveMember => {
                let user = self
                    .app
                    .store
                    .create_user(&format!("rm{n}@alpha.test"), "x", None, false)
                    .await
                    .unwrap();
                self.app
                    .store
                    .add_member(
                        &actor,
                        self.tenant_id,
                        user.id,
                        Role::Viewer,
                        None,
                        Tier::Enterprise,
                    )
                    .await
                    .unwrap();
                status(client.remove_member(t, user.id).await, ok)
            }
            Route::ListInvitations => {
                status(client.list_invitations(t, &PageQuery::default()).await, ok)
            }
            Route::Invite => {
                let new = NewInvitation {
                    email: format!("inv{n}@alpha.test"),
                    role: Role::Agent,
                };
                status(client.create_invitation(t, &new).await, ok)
            }
            Route::RevokeInvitation => {
                let inv = self
                    .app
                    .store
                    .create_invitation(
                        &actor,
                        self.tenant_id,
                        NewInvitationRow {
                            email: format!("rev{n}@alpha.test"),
                            role: Role::Agent,
                            token_hash: secret::hash(&secret::generate("sbi_")),
                            expires_at: chrono::Utc::now() + chrono::Duration::days(1),
                        },
                    )
                    .await
                    .unwrap();
                status(client.revoke_invitation(t, inv.id).await, ok)
            }
            Route::ListKeys => status(client.list_api_keys(t, &PageQuery::default()).await, ok),
            Route::CreateKey => {
                let new = NewApiKey {
                    name: format!("k{n}"),
                    scope: None,
                    workspace_id: None,
                };
                status(client.create_api_key(t, &new).await, ok)
            }
            Route::RevokeKey => {
                let key = self
                    .app
                    .store
                    .create_api_key(
                        &actor,
                        self.tenant_id,
                        NewApiKeyRow {
                            name: format!("k{n}"),
                            prefix: "sbk_xxxxxx".into(),
                            last_four: "xxxx".into(),
                            key_hash: secret::hash(&secret::generate("sbk_")),
                            scope: ApiKeyScope::LeadsIngest,
                            workspace_id: None,
                        },
                    )
                    .await
                    .unwrap();
                status(client.revoke_api_key(t, key.id).await, ok)
            }
            Route::RotateKey => {
                let key = self
                    .app
                    .store
                    .create_api_key(
                        &actor,
                        self.tenant_id,
                        NewApiKeyRow {
                            name: format!("k{n}"),
                            prefix: "sbk_xxxxxx".into(),
                            last_four: "xxxx".into(),
                            key_hash: secret::hash(&secret::generate("sbk_")),
                            scope: ApiKeyScope::LeadsIngest,
                            workspace_id: None,
                        },
                    )
                    .await
                    .unwrap();
                status(client.rotate_api_key(t, key.id, 60).await, ok)
            }
            Route::Audit => status(client.list_audit(t, &PageQuery::default()).await, ok),
            Route::ListLeads => status(client.list_leads(t, &LeadQuery::default()).await, ok),
            Route::GetLead => status(client.lead(t, self.lead().await).await, ok),
            Route::CreateLead => status(
                client
                    .create_lead(t, &crate::common::lead(&format!("New {n}")))
                    .await,
                ok,
            ),
            Route::PatchLead => {
                let patch = LeadPatch {
                    stage: Some("contacted".into()),
                    ..Default::default()
                };
                status(client.update_lead(t, self.lead().await, &patch).await, ok)
            }
            Route::DeleteLead => status(client.delete_lead(t, self.lead().await).await, ok),
            Route::AddNote => {
                let note = NewNote {
                    body: "called".into(),
                    is_reply: false,
                };
                status(client.add_note(t, self.lead().await, &note).await, ok)
            }
            Route::Timeline => status(client.timeline(t, self.lead().await).await, ok),
            Route::BulkLeads => {
                let bulk = BulkLeads {
                    ids: vec![self.lead().await],
                    stage: Some("qualified".into()),
                    assignee_id: None,
                };
                status(client.bulk_leads(t, &bulk).await, ok)
            }
            Route::Usage => status(client.usage(t).await, ok),
            Route::ImportSample => status(client.import_sample(t).await, ok),
            Route::ImportCsv => {
                let csv = format!("name,email\nCsv {n},csv{n}@example.com\n");
                status(client.import_csv(t, csv).await, ok)
            }
            Route::ExportCsv => status(client.export_csv(t, &LeadQuery::default()).await, ok),
            Route::ListAgents => status(client.list_agents(t).await, ok),
            Route::CreateAgent => status(client.create_agent(t, &new_agent(n)).await, ok),
            Route::PatchAgent => {
                let patch = AgentPatch {
                    system_prompt: Some(format!("Prompt {n}")),
                    ..Default::default()
                };
                status(client.update_agent(t, self.agent().await, &patch).await, ok)
            }
            Route::DeleteAgent => status(client.delete_agent(t, self.agent().await).await, ok),
            Route::AgentVersions => status(client.agent_versions(t, self.agent().await).await, ok),
            Route::RestoreVersion => status(
                client.restore_agent_version(t, self.agent().await, 1).await,
                ok,
            ),
            Route::ShareAgent => {
                let change = SharingChange {
                    sharing: Sharing::Private,
                    tenants: vec![],
                };
                status(client.share_agent(t, self.agent().await, &change).await, ok)
            }
            Route::CopyAgent => {
                let copy = switchboard::domain::AgentCopy::default();
                status(client.copy_agent(t, self.agent().await, &copy).await, ok)
            }
            Route::ListWorkspaces => status(client.list_workspaces(t).await, ok),
            Route::CreateWorkspace => {
                status(client.create_workspace(t, &new_workspace(n)).await, ok)
            }
            Route::PatchWorkspace => {
                let patch = WorkspacePatch {
                    name: Some(format!("Renamed {n}")),
                    ..Default::default()
                };
                status(
                    client
                        .update_workspace(t, self.workspace().await, &patch)
                        .await,
                    ok,
                )
            }
            Route::DeleteWorkspace => {
                status(client.delete_workspace(t, self.workspace().await).await, ok)
            }
            Route::ListPlaygroundSessions => status(client.playground_sessions(t).await, ok),
            Route::CreatePlaygroundSession => {
                let new = NewPlaygroundSession {
                    agent_id: Some(self.agent().await),
                    ..Default::default()
                };
                status(client.create_playground_session(t, &new).await, ok)
            }
            Route::GetPlaygroundSession => {
                let (session, _) = self.playground().await;
                status(client.playground_session(t, session).await, ok)
            }
            Route::DeletePlaygroundSession => {
                let (session, _) = self.playground().await;
                status(client.delete_playground_session(t, session).await, ok)
            }
            Route::CancelPlaygroundReply => {
                let (session, _) = self.playground().await;
                status(client.cancel_playground_reply(t, session).await, ok)
            }
            Route::ListWorkflows => status(client.workflows(t, None, None).await, ok),
            Route::GetWorkflow => {
                let wf = self.workflow(WorkflowStatus::Queued).await;
                status(client.workflow(t, wf).await, ok)
            }
            Route::StartWorkflow => {
                let (lead, agent) = (self.lead().await, self.agent().await);
                status(client.start_workflow(t, lead, Some(agent)).await, ok)
            }
            Route::ApproveWorkflow => {
                let wf = self.workflow(WorkflowStatus::AwaitingApproval).await;
                status(client.approve_workflow(t, wf, None).await, ok)
            }
            Route::RejectWorkflow => {
                let wf = self.workflow(WorkflowStatus::AwaitingApproval).await;
                status(client.reject_workflow(t, wf, "off tone").await, ok)
            }
            Route::CancelWorkflow => {
                let wf = self.workflow(WorkflowStatus::Queued).await;
                status(client.cancel_workflow(t, wf).await, ok)
            }
            Route::RetryWorkflow => {
                let wf = self.workflow(WorkflowStatus::Failed).await;
                status(client.retry_workflow(t, wf).await, ok)
            }
            Route::TenantAnalytics => {
                let q = switchboard::domain::AnalyticsQuery::default();
                status(client.analytics(t, &q).await, ok)
            }
            Route::PlatformAnalytics => {
                let q = switchboard::domain::AnalyticsQuery::default();
                status(client.platform_analytics(&q).await, ok)
            }
            Route::PlatformOverview => status(client.platform_overview().await, ok),
            Route::GetPlatformSettings => status(client.platform_settings().await, ok),
            Route::PutPlatformSettings => {
                // The defaults: what every other call expects stays so.
                let settings = switchboard::domain::platform::PlatformSettings::default();
                status(client.put_platform_settings(&settings).await, ok)
            }
            Route::OverrideUserLimit => {
                // A value other than the one in force, so it is a change.
                let now = self.app.store.tenant(t).await.unwrap().unwrap();
                let patch = TenantPatch {
                    user_limit: Some(Some(now.user_limit_override.map_or(100, |n| n + 1))),
                    ..Default::default()
                };
                status(client.update_tenant(t, &patch).await, ok)
            }
            Route::SavePlaygroundLead => {
                let (session, message) = self.playground().await;
                let contact = SaveAsLead {
                    email: Some(format!("pg{n}@example.com")),
                    ..Default::default()
                };
                status(
                    client
                        .save_playground_lead(t, session, message, &contact)
                        .await,
                    ok,
                )
            }
            Route::ListWebhooks => status(client.list_webhooks(t).await, ok),
            Route::CreateWebhook => {
                let new = NewWebhook {
                    url: format!("https://hooks.example.test/{n}"),
                    events: vec!["*".into()],
                    enabled: Some(false),
                };
                status(client.create_webhook(t, &new).await, ok)
            }
            Route::GetWebhook => status(client.webhook(t, self.webhook().await).await, ok),
            Route::PatchWebhook => {
                let patch = WebhookPatch {
                    enabled: Some(false),
                    ..Default::default()
                };
                status(
                    client.update_webhook(t, self.webhook().await, &patch).await,
                    ok,
                )
            }
            Route::DeleteWebhook => {
                status(client.delete_webhook(t, self.webhook().await).await, ok)
            }
            Route::RotateWebhookSecret => status(
                client.rotate_webhook_secret(t, self.webhook().await).await,
                ok,
            ),
            Route::WebhookDeliveries => {
                let (webhook, _) = self.delivery().await;
                let page = PageQuery::default();
                status(client.webhook_deliveries(t, webhook, &page).await, ok)
            }
            Route::ReplayWebhookDelivery => {
                let (webhook, delivery) = self.delivery().await;
                status(
                    client.replay_webhook_delivery(t, webhook, delivery).await,
                    ok,
                )
            }
            Route::WebhookDelivery => {
                let (webhook, delivery) = self.delivery().await;
                status(client.webhook_delivery(t, webhook, delivery).await, ok)
            }
            Route::TestWebhook => status(client.test_webhook(t, self.webhook().await).await, ok),
            Route::ListKnowledge => status(client.knowledge(t).await, ok),
            Route::CreateKnowledge => {
                status(client.create_knowledge(t, &knowledge_doc(n)).await, ok)
            }
            Route::GetKnowledge => {
                let id = self.knowledge().await;
                status(client.knowledge_document(t, id).await, ok)
            }
            Route::PatchKnowledge => {
                let patch = KnowledgePatch {
                    title: Some(format!("Renamed {n}")),
                    ..Default::default()
                };
                let id = self.knowledge().await;
                status(client.update_knowledge(t, id, &patch).await, ok)
            }
            Route::DeleteKnowledge => {
                let id = self.knowledge().await;
                status(client.delete_knowledge(t, id).await, ok)
            }
            Route::SearchKnowledge => status(client.search_knowledge(t, "hours", None).await, ok),
            Route::GetAgentKnowledge => {
                status(client.agent_knowledge(t, self.agent().await).await, ok)
            }
            Route::SetAgentKnowledge => {
                let link = AgentKnowledge::default();
                status(
                    client
                        .set_agent_knowledge(t, self.agent().await, &link)
                        .await,
                    ok,
                )
            }
        }
    }
}

fn knowledge_doc(n: usize) -> NewKnowledgeDocument {
    NewKnowledgeDocument {
        title: format!("Hours {n}"),
        body: "Open Monday to Friday.".into(),
        format: None,
    }
}
