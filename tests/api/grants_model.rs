//! Model-based property test of per-member grants (issue 19): random role
//! changes and grant/withdrawal sets, made by the platform admin or by a
//! member, against a simple model of effective permissions. After every
//! step each member's permissions read back as the model says, the gate
//! answers each member as their effective set says, and a change that
//! would leave nobody able to manage members is refused and changes
//! nothing.

use std::collections::BTreeSet;

use proptest::prelude::*;
use switchboard::api::{ApiError, Client};
use switchboard::domain::{Grants, Permission, Role, Tier};
use uuid::Uuid;

use crate::common::spawn;

const MEMBERS: usize = 3;

#[derive(Debug, Clone)]
enum Change {
    Role(Role),
    Grants {
        granted: BTreeSet<Permission>,
        withdrawn: BTreeSet<Permission>,
    },
}

#[derive(Debug, Clone)]
struct Op {
    /// Who asks: `None` is the platform admin, else a member.
    by: Option<usize>,
    member: usize,
    change: Change,
}

fn permissions() -> impl Strategy<Value = BTreeSet<Permission>> {
    proptest::collection::btree_set(proptest::sample::select(Permission::ALL.to_vec()), 0..4)
}

fn op() -> impl Strategy<Value = Op> {
    let change = prop_oneof![
        proptest::sample::select(Role::ALL.to_vec()).prop_map(Change::Role),
        (permissions(), permissions())
            .prop_map(|(granted, withdrawn)| Change::Grants { granted, withdrawn }),
    ];
    (
        proptest::option::weighted(0.5, 0..MEMBERS),
        0..MEMBERS,
        change,
    )
        .prop_map(|(by, member, change)| Op { by, member, change })
}

/// The model: a member's role and the grants the server keeps for them.
#[derive(Debug, Clone)]
struct Model {
    role: Role,
    granted: BTreeSet<Permission>,
    withdrawn: BTreeSet<Permission>,
}

impl Model {
    /// The role's permissions, less the withdrawn, plus the granted.
    fn effective(&self) -> BTreeSet<Permission> {
        let role: BTreeSet<Permission> = Permission::ALL
            .into_iter()
            .filter(|p| self.role.can(*p))
            .collect();
        let kept: BTreeSet<Permission> = role.difference(&self.withdrawn).copied().collect();
        kept.union(&self.granted).copied().collect()
    }

    fn manages(&self) -> bool {
        self.effective().contains(&Permission::MembersManage)
    }
}

fn status<T>(r: Result<T, ApiError>) -> u16 {
    match r {
        Ok(_) => 200,
        Err(e) => e.status().unwrap_or_else(|| panic!("transport error: {e}")),
    }
}

/// What the server must answer `op` with, and the model after it.
fn expect(model: &[Model], op: &Op) -> (u16, Vec<Model>) {
    if let Some(by) = op.by {
        if !model[by].manages() {
            return (403, model.to_vec());
        }
    }
    let mut next = model.to_vec();
    let m = &mut next[op.member];
    match &op.change {
        Change::Role(role) => m.role = *role,
        Change::Grants { granted, withdrawn } => {
            if granted.intersection(withdrawn).next().is_some() {
                return (422, model.to_vec());
            }
            // Only what changes the role's set is kept.
            m.granted = granted
                .iter()
                .copied()
                .filter(|p| !m.role.can(*p))
                .collect();
            m.withdrawn = withdrawn
                .iter()
                .copied()
                .filter(|p| m.role.can(*p))
                .collect();
        }
    }
    // Nobody able to manage members after a change that took it away.
    let took_it_away = model[op.member].manages() && !next[op.member].manages();
    if took_it_away && !next.iter().any(Model::manages) {
        return (409, model.to_vec());
    }
    (200, next)
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let app = spawn().await;
    let tenant = app.tenant("Grants", Tier::Enterprise).await;
    let slug = tenant.slug.as_str();
    let start = [Role::Admin, Role::Manager, Role::Agent];
    let mut ids: Vec<Uuid> = Vec::new();
    let mut clients: Vec<Client> = Vec::new();
    let mut model: Vec<Model> = Vec::new();
    for (i, role) in start.into_iter().enumerate() {
        let (user, client) = app
            .member(&tenant, &format!("m{i}@grants.test"), role)
            .await;
        ids.push(user.id);
        clients.push(client);
        model.push(Model {
            role,
            granted: BTreeSet::new(),
            withdrawn: BTreeSet::new(),
        });
    }
    for (step, op) in ops.iter().enumerate() {
        let caller = op.by.map_or(&app.admin, |i| &clients[i]);
        let target = ids[op.member];
        let got = match &op.change {
            Change::Role(role) => status(caller.change_role(slug, target, *role).await),
            Change::Grants { granted, withdrawn } => {
                let grants = Grants {
                    granted: granted.iter().copied().collect(),
                    withdrawn: withdrawn.iter().copied().collect(),
                };
                status(caller.set_member_permissions(slug, target, &grants).await)
            }
        };
        let (want, next) = expect(&model, op);
        prop_assert_eq!(got, want, "step {}: {:?}", step, op);
        model = next;
        for (i, m) in model.iter().enumerate() {
            // Read back as the model says.
            let read = app
                .admin
                .member_permissions(slug, ids[i])
                .await
                .map_err(|e| TestCaseError::fail(format!("read member {i}: {e}")))?;
            prop_assert_eq!(read.role, m.role, "step {}: member {} role", step, i);
            let effective: BTreeSet<Permission> = read.effective.iter().copied().collect();
            prop_assert_eq!(&effective, &m.effective(), "step {}: member {}", step, i);
            // The gate agrees: reading another member's permissions needs
            // members:manage.
            let other = ids[(i + 1) % MEMBERS];
            let want = if m.manages() { 200 } else { 403 };
            let got = status(clients[i].member_permissions(slug, other).await);
            prop_assert_eq!(got, want, "step {}: member {} reads another's", step, i);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn effective_permissions_and_the_last_manager_rule_follow_the_model(
        ops in proptest::collection::vec(op(), 1..25)
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        rt.block_on(run(ops))?;
    }
}
