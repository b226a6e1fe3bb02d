//! Model-based isolation test: random operations by several users across
//! three tenants; every answer must match a simple model of who may see what.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use switchboard::api::{ApiError, Client};
use switchboard::domain::{NewApiKey, NewMember, PageQuery, Role, TenantPatch, Tier};
use uuid::Uuid;

use crate::common::spawn;

const TENANTS: usize = 3;
const USERS: usize = 7;

#[derive(Debug, Clone)]
enum Op {
    ListTenants {
        user: usize,
    },
    GetTenant {
        user: usize,
        tenant: usize,
    },
    Rename {
        user: usize,
        tenant: usize,
    },
    ListMembers {
        user: usize,
        tenant: usize,
    },
    AddMember {
        user: usize,
        tenant: usize,
        target: usize,
        admin: bool,
    },
    CreateKey {
        user: usize,
        tenant: usize,
    },
    ListKeys {
        user: usize,
        tenant: usize,
    },
    RevokeKey {
        user: usize,
        tenant: usize,
        key: usize,
    },
    Audit {
        user: usize,
        tenant: usize,
    },
    /// A website form posts with this tenant's key.
    Ingest {
        key: usize,
    },
    ListLeads {
        user: usize,
        tenant: usize,
    },
    GetLead {
        user: usize,
        tenant: usize,
        lead: usize,
    },
    MoveLead {
        user: usize,
        tenant: usize,
        lead: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let u = 0..USERS;
    let t = 0..TENANTS;
    prop_oneof![
        u.clone().prop_map(|user| Op::ListTenants { user }),
        (u.clone(), t.clone()).prop_map(|(user, tenant)| Op::GetTenant { user, tenant }),
        (u.clone(), t.clone()).prop_map(|(user, tenant)| Op::Rename { user, tenant }),
        (u.clone(), t.clone()).prop_map(|(user, tenant)| Op::ListMembers { user, tenant }),
        (u.clone(), t.clone(), 0..USERS, any::<bool>()).prop_map(
            |(user, tenant, target, admin)| Op::AddMember {
                user,
                tenant,
                target,
                admin
            }
        ),
        (u.clone(), t.clone()).prop_map(|(user, tenant)| Op::CreateKey { user, tenant }),
        (u.clone(), t.clone()).prop_map(|(user, tenant)| Op::ListKeys { user, tenant }),
        (u.clone(), t.clone(), 0..16usize).prop_map(|(user, tenant, key)| Op::RevokeKey {
            user,
            tenant,
            key
        }),
        (u.clone(), t.clone()).prop_map(|(user, tenant)| Op::Audit { user, tenant }),
        t.clone().prop_map(|key| Op::Ingest { key }),
        (u.clone(), t.clone()).prop_map(|(user, tenant)| Op::ListLeads { user, tenant }),
        (u.clone(), t.clone(), 0..16usize).prop_map(|(user, tenant, lead)| Op::GetLead {
            user,
            tenant,
            lead
        }),
        (u, t, 0..16usize).prop_map(|(user, tenant, lead)| Op::MoveLead { user, tenant, lead }),
    ]
}

/// Who is in which tenant, and which keys each tenant has.
#[derive(Default)]
struct Model {
    roles: BTreeMap<(usize, usize), Role>,
    keys: Vec<(usize, Uuid)>,
    leads: Vec<(usize, Uuid)>,
    revoked: BTreeSet<Uuid>,
}

impl Model {
    /// The status a tenant-scoped call gets, given whether the role may do it.
    fn gate(&self, user: usize, tenant: usize, allowed: impl Fn(Role) -> bool) -> Option<u16> {
        match self.roles.get(&(tenant, user)) {
            None => Some(404),
            Some(r) if !allowed(*r) => Some(403),
            Some(_) => None,
        }
    }
}

fn code<T>(r: &Result<T, ApiError>) -> u16 {
    match r {
        Ok(_) => 0,
        Err(e) => e.status().unwrap_or(599),
    }
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let app = spawn().await;
    let mut slugs = Vec::new();
    let mut ids = Vec::new();
    for i in 0..TENANTS {
        let t = app.tenant(&format!("Tenant {i}"), Tier::Enterprise).await;
        slugs.push(t.slug.clone());
        ids.push(t.id);
    }
    let mut model = Model::default();
    let mut ingest_keys = Vec::new();
    for slug in &slugs {
        ingest_keys.push(app.ingest_key(slug).await);
    }
    // Keys made for ingest are part of each tenant's key list.
    let mut initial_keys = Vec::new();
    for (t, slug) in slugs.iter().enumerate() {
        let page = app.admin.list_api_keys(slug, &PageQuery::default()).await;
        let page = page.map_err(|e| TestCaseError::fail(e.to_string()))?;
        initial_keys.extend(page.items.into_iter().map(|k| (t, k.id)));
    }
    let mut users: Vec<(Uuid, String, Client)> = Vec::new();
    for u in 0..USERS {
        let email = format!("u{u}@iso.test");
        let (user, client) = app.user(&email, false).await;
        users.push((user.id, email, client));
    }
    // Start: user t is admin of tenant t; user t+3 is a viewer of tenant t;
    // user 6 belongs nowhere.
    for (t, slug) in slugs.iter().enumerate() {
        for (u, role) in [(t, Role::Admin), (t + 3, Role::Viewer)] {
            app.admin
                .add_member(
                    slug,
                    &NewMember {
                        email: users[u].1.clone(),
                        role,
                    },
                )
                .await
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            model.roles.insert((t, u), role);
        }
    }
    let ingest_key_ids: Vec<Uuid> = initial_keys.iter().map(|(_, id)| *id).collect();
    model.keys = initial_keys;

    for (step, op) in ops.into_iter().enumerate() {
        let ctx = format!("step {step}: {op:?}");
        match op {
            Op::ListTenants { user } => {
                let page = users[user].2.list_tenants(&PageQuery::default()).await;
                let got: BTreeSet<Uuid> = page
                    .map_err(|e| TestCaseError::fail(format!("{ctx}: {e}")))?
                    .items
                    .into_iter()
                    .map(|t| t.id)
                    .collect();
                let want: BTreeSet<Uuid> = (0..TENANTS)
                    .filter(|t| model.roles.contains_key(&(*t, user)))
                    .map(|t| ids[t])
                    .collect();
                prop_assert_eq!(got, want, "{}", ctx);
            }
            Op::GetTenant { user, tenant } => {
                let r = users[user].2.tenant(&slugs[tenant]).await;
                let want = model.gate(user, tenant, |_| true).unwrap_or(0);
                prop_assert_eq!(code(&r), want, "{}", ctx);
                if let Ok(t) = r {
                    prop_assert_eq!(t.id, ids[tenant]);
                }
            }
            Op::Rename { user, tenant } => {
                let patch = TenantPatch {
                    name: Some(format!("Renamed {step}")),
                    ..Default::default()
                };
                let r = users[user].2.update_tenant(&slugs[tenant], &patch).await;
                let want = model.gate(user, tenant, |r| r == Role::Admin).unwrap_or(0);
                prop_assert_eq!(code(&r), want, "{}", ctx);
            }
            Op::ListMembers { user, tenant } => {
                let r = users[user]
                    .2
                    .list_members(&slugs[tenant], &PageQuery::default())
                    .await;
                let want = model.gate(user, tenant, |_| true).unwrap_or(0);
                prop_assert_eq!(code(&r), want, "{}", ctx);
                if let Ok(page) = r {
                    let got: BTreeSet<Uuid> = page.items.iter().map(|m| m.user_id).collect();
                    let expect: BTreeSet<Uuid> = model
                        .roles
                        .keys()
                        .filter(|(t, _)| *t == tenant)
                        .map(|(_, u)| users[*u].0)
                        .collect();
                    prop_assert_eq!(got, expect, "{}", ctx);
                }
            }
            Op::AddMember {
                user,
                tenant,
                target,
                admin,
            } => {
                let role = if admin { Role::Admin } else { Role::Viewer };
                let new = NewMember {
                    email: users[target].1.clone(),
                    role,
                };
                let r = users[user].2.add_member(&slugs[tenant], &new).await;
                let want = model
                    .gate(user, tenant, |r| r == Role::Admin)
                    .unwrap_or_else(|| {
                        if model.roles.contains_key(&(tenant, target)) {
                            409
                        } else {
                            0
                        }
                    });
                prop_assert_eq!(code(&r), want, "{}", ctx);
                // Only a platform admin adds at once; a tenant admin invites.
                if matches!(r, Ok(switchboard::domain::MemberAdded::Added(_))) {
                    model.roles.insert((tenant, target), role);
                }
            }
            Op::CreateKey { user, tenant } => {
                let new = NewApiKey {
                    name: format!("key {step}"),
                    scope: None,
                    workspace_id: None,
                };
                let r = users[user].2.create_api_key(&slugs[tenant], &new).await;
                let want = model.gate(user, tenant, |r| r == Role::Admin).unwrap_or(0);
                prop_assert_eq!(code(&r), want, "{}", ctx);
                if let Ok(k) = r {
                    model.keys.push((tenant, k.api_key.id));
                }
            }
            Op::ListKeys { user, tenant } => {
                let r = users[user]
                    .2
                    .list_api_keys(&slugs[tenant], &PageQuery::default())
                    .await;
                let want = model.gate(user, tenant, |r| r == Role::Admin).unwrap_or(0);
                prop_assert_eq!(code(&r), want, "{}", ctx);
                if let Ok(page) = r {
                    let got: BTreeSet<Uuid> = page.items.iter().map(|k| k.id).collect();
                    let expect: BTreeSet<Uuid> = model
                        .keys
                        .iter()
                        .filter(|(t, _)| *t == tenant)
                        .map(|(_, id)| *id)
                        .collect();
                    prop_assert_eq!(got, expect, "{}", ctx);
                }
            }
            Op::RevokeKey { user, tenant, key } => {
                let Some(&(owner, id)) = model.keys.get(key) else {
                    continue;
                };
                let r = users[user].2.revoke_api_key(&slugs[tenant], id).await;
                let want = model
                    .gate(user, tenant, |r| r == Role::Admin)
                    .unwrap_or(if owner == tenant { 0 } else { 404 });
                prop_assert_eq!(code(&r), want, "{}", ctx);
                if r.is_ok() {
                    model.revoked.insert(id);
                }
            }
            Op::Ingest { key } => {
                let r = app
                    .anon()
                    .ingest_lead(
                        &ingest_keys[key],
                        &crate::common::lead(&format!("Lead {step}")),
                        None,
                    )
                    .await;
                let want = if model.revoked.contains(&ingest_key_ids[key]) {
                    401
                } else {
                    0
                };
                prop_assert_eq!(code(&r), want, "{}", ctx);
                if let Ok(receipt) = r {
                    model.leads.push((key, receipt.id));
                }
            }
            Op::ListLeads { user, tenant } => {
                let q = switchboard::domain::LeadQuery {
                    limit: Some(200),
                    ..Default::default()
                };
                let r = users[user].2.list_leads(&slugs[tenant], &q).await;
                let want = model.gate(user, tenant, |_| true).unwrap_or(0);
                prop_assert_eq!(code(&r), want, "{}", ctx);
                if let Ok(page) = r {
                    let got: BTreeSet<Uuid> = page.items.iter().map(|l| l.id).collect();
                    let expect: BTreeSet<Uuid> = model
                        .leads
                        .iter()
                        .filter(|(t, _)| *t == tenant)
                        .map(|(_, id)| *id)
                        .collect();
                    prop_assert_eq!(got, expect, "{}", ctx);
                }
            }
            Op::GetLead { user, tenant, lead } => {
                let Some(&(owner, id)) = model.leads.get(lead) else {
                    continue;
                };
                let r = users[user].2.lead(&slugs[tenant], id).await;
                let want = model
                    .gate(user, tenant, |_| true)
                    .unwrap_or(if owner == tenant { 0 } else { 404 });
                prop_assert_eq!(code(&r), want, "{}", ctx);
            }
            Op::MoveLead { user, tenant, lead } => {
                let Some(&(owner, id)) = model.leads.get(lead) else {
                    continue;
                };
                let patch = switchboard::domain::LeadPatch {
                    stage: Some("contacted".into()),
                    ..Default::default()
                };
                let r = users[user].2.update_lead(&slugs[tenant], id, &patch).await;
                let want = model
                    .gate(user, tenant, |r| r == Role::Admin)
                    .unwrap_or(if owner == tenant { 0 } else { 404 });
                prop_assert_eq!(code(&r), want, "{}", ctx);
            }
            Op::Audit { user, tenant } => {
                let r = users[user]
                    .2
                    .list_audit(&slugs[tenant], &PageQuery::default())
                    .await;
                let want = model.gate(user, tenant, |r| r == Role::Admin).unwrap_or(0);
                prop_assert_eq!(code(&r), want, "{}", ctx);
                if let Ok(page) = r {
                    prop_assert!(
                        page.items.iter().all(|e| e.tenant_id == ids[tenant]),
                        "{}",
                        ctx
                    );
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_request_crosses_a_tenant_boundary(ops in proptest::collection::vec(op(), 1..40)) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        rt.block_on(run(ops))?;
    }
}
