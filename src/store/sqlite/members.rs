//! Accepting an invitation on SQLite: found by token or id inside the
//! write transaction; the rest is `store::members`', as is every other
//! member and invitation change.

use async_trait::async_trait;
use uuid::Uuid;

use super::{SqliteStore, SqliteTx};
use crate::domain::User;
use crate::store::conn::{Conn, Stmt};
use crate::store::members::accept_open_invitation;
use crate::store::row::Id;
use crate::store::{
    Accepter, InvitationAcceptStore, InvitationRef, InvitationToAccept, StoreError, StoreResult,
};

/// An open invitation found by token or id, with which it is.
#[derive(sqlx::FromRow)]
struct AcceptRecord {
    tenant_id: Id,
    id: Id,
    #[sqlx(flatten)]
    open: InvitationToAccept,
}

#[async_trait]
impl InvitationAcceptStore for SqliteStore {
    async fn accept_invitation(
        &self,
        which: InvitationRef<'_>,
        accepter: Accepter<'_>,
    ) -> StoreResult<(User, Uuid)> {
        let (writer, tx) = self.write().await?;
        let mut tx = SqliteTx::Write(tx, writer);
        let (key_clause, key) = match which {
            InvitationRef::Token(hash) => ("i.token_hash = $1", hash.to_string()),
            InvitationRef::Mine { id, .. } => ("i.id = $1", id.to_string()),
        };
        let find = Stmt::new(
            format!(
                "SELECT i.tenant_id, i.id, i.email, i.role, t.tier, t.user_limit, t.status, \
                 t.name FROM invitations i JOIN tenants t ON t.id = i.tenant_id \
                 WHERE {key_clause} AND i.accepted_at IS NULL AND i.revoked_at IS NULL \
                 AND i.expires_at > $2"
            ),
            "look up an invitation",
        )
        .text(key)
        .time(chrono::Utc::now());
        let row = match (tx.fetch_optional::<AcceptRecord>(find).await?, which) {
            (Some(row), InvitationRef::Mine { email, .. }) if row.open.email != email => {
                return Err(StoreError::NotFound)
            }
            (Some(row), _) => row,
            (None, InvitationRef::Mine { .. }) => return Err(StoreError::NotFound),
            (None, InvitationRef::Token(_)) => return Err(StoreError::InvitationInvalid),
        };
        let tenant_id = Uuid::from(row.tenant_id);
        let user =
            accept_open_invitation(&mut tx, tenant_id, row.id.into(), row.open, accepter).await?;
        tx.commit("commit an accepted invitation").await?;
        Ok((user, tenant_id))
    }
}
