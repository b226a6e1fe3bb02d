//! Accepting an invitation on PostgreSQL: which tenant it belongs to is a
//! cross-tenant lookup, through the owner's functions; the rest runs under
//! that tenant, with its row locked, and is `store::members`', as is every
//! other member and invitation change.

use async_trait::async_trait;
use uuid::Uuid;

use super::{db_error, now, PgStore};
use crate::domain::User;
use crate::store::members::{accept_open_invitation, lock_tenant};
use crate::store::{
    Accepter, InvitationAcceptStore, InvitationRef, InvitationToAccept, StoreError, StoreResult,
};

#[async_trait]
impl InvitationAcceptStore for PgStore {
    async fn accept_invitation(
        &self,
        which: InvitationRef<'_>,
        accepter: Accepter<'_>,
    ) -> StoreResult<(User, Uuid)> {
        let (tenant_id, invitation_id) = match which {
            InvitationRef::Token(hash) => sqlx::query_as::<_, (Uuid, Uuid)>(
                "SELECT tenant_id, id FROM sb_invitation_by_token($1)",
            )
            .bind(hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_error(e, "look up an invitation"))?
            .ok_or(StoreError::InvitationInvalid)?,
            InvitationRef::Mine { id, email } => sqlx::query_as::<_, (Uuid, Uuid)>(
                "SELECT tenant_id, id FROM sb_pending_invitations($1) WHERE id = $2",
            )
            .bind(email)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_error(e, "look up an invitation"))?
            .ok_or(StoreError::NotFound)?,
        };
        let mut tx = self.tenant_tx(tenant_id).await?;
        lock_tenant(&mut tx, tenant_id).await?;
        // Re-read under the row lock: a concurrent acceptance or revocation
        // that committed first wins.
        let open = sqlx::query_as::<_, InvitationToAccept>(
            "SELECT i.email, i.role, t.tier, t.user_limit, t.status, t.name FROM invitations i \
             JOIN tenants t ON t.id = i.tenant_id \
             WHERE i.tenant_id = $1 AND i.id = $2 \
             AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $3 \
             FOR UPDATE OF i",
        )
        .bind(tenant_id)
        .bind(invitation_id)
        .bind(now())
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "look up an invitation"))?
        .ok_or(match which {
            InvitationRef::Token(_) => StoreError::InvitationInvalid,
            InvitationRef::Mine { .. } => StoreError::NotFound,
        })?;
        let user =
            accept_open_invitation(&mut tx, tenant_id, invitation_id, open, accepter).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit an accepted invitation"))?;
        Ok((user, tenant_id))
    }
}
