//! One member's permissions as a checklist: every permission, checked when
//! the member holds it; toggling one grants it on top of the role or
//! withdraws it from the role. Saving sends the whole set of grants.

use uuid::Uuid;

use crate::domain::access::effective;
use crate::domain::{Grants, Member, Permission, Role};

/// Where a permission of the checklist comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The role gives it.
    Role,
    /// Granted on top of the role.
    Granted,
    /// The role gives it; withdrawn.
    Withdrawn,
    /// Neither the role nor a grant.
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Checklist {
    pub user: Uuid,
    pub email: String,
    pub role: Role,
    /// The grants as edited so far (saved only on save).
    pub grants: Grants,
    /// The grants as the server last said.
    pub saved: Grants,
    /// Index into [`Permission::ALL`].
    pub selected: usize,
}

impl Checklist {
    pub fn of(member: &Member) -> Self {
        Self {
            user: member.user_id,
            email: member.email.clone(),
            role: member.role,
            grants: member.grants.clone(),
            saved: member.grants.clone(),
            selected: 0,
        }
    }

    pub fn source(&self, p: Permission) -> Source {
        match (
            self.role.can(p),
            self.grants.granted.contains(&p),
            self.grants.withdrawn.contains(&p),
        ) {
            (true, _, true) => Source::Withdrawn,
            (true, _, false) => Source::Role,
            (false, true, _) => Source::Granted,
            (false, false, _) => Source::None,
        }
    }

    /// What the member could do with the grants as edited.
    pub fn effective(&self) -> Vec<Permission> {
        effective(self.role, &self.grants)
    }

    pub fn changed(&self) -> bool {
        self.grants != self.saved
    }

    pub fn up(&mut self) {
        self.selected = self.selected.saturating_sub(1);
    }

    pub fn down(&mut self) {
        self.selected = (self.selected + 1).min(Permission::ALL.len() - 1);
    }

    /// Grants the selected permission, or withdraws it, or undoes either.
    pub fn toggle(&mut self) {
        let p = Permission::ALL[self.selected];
        let list = if self.role.can(p) {
            &mut self.grants.withdrawn
        } else {
            &mut self.grants.granted
        };
        if let Some(i) = list.iter().position(|x| *x == p) {
            list.remove(i);
        } else {
            list.push(p);
            list.sort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(role: Role) -> Member {
        Member {
            user_id: Uuid::from_u128(1),
            email: "ana@example.com".into(),
            name: "Ana".into(),
            role,
            joined_at: chrono::Utc::now(),
            invited_by_tenant: None,
            grants: Grants::default(),
        }
    }

    #[test]
    fn toggling_grants_what_the_role_lacks_and_withdraws_what_it_has() {
        let mut c = Checklist::of(&member(Role::Agent));
        let at = |p: Permission| Permission::ALL.iter().position(|x| *x == p).unwrap();
        c.selected = at(Permission::LeadsApprove);
        c.toggle();
        assert_eq!(c.source(Permission::LeadsApprove), Source::Granted);
        c.selected = at(Permission::PlaygroundUse);
        c.toggle();
        assert_eq!(c.source(Permission::PlaygroundUse), Source::Withdrawn);
        assert!(c.changed());
        let e = c.effective();
        assert!(e.contains(&Permission::LeadsApprove) && !e.contains(&Permission::PlaygroundUse));
        c.toggle();
        c.selected = at(Permission::LeadsApprove);
        c.toggle();
        assert!(!c.changed(), "toggled back: {:?}", c.grants);
    }
}
