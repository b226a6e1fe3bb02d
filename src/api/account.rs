//! The signed-in user's own account: password, sessions, invitations.

use reqwest::Method;
use uuid::Uuid;

use super::{ApiResult, Client};
use crate::domain::{AcceptedInvitation, PasswordChange, PendingInvitation};

impl Client {
    /// Changes the password (the current one is required); every other
    /// session of the account ends.
    pub async fn change_password(&self, change: &PasswordChange) -> ApiResult<()> {
        let rb = self
            .request(Method::POST, "/api/v1/me/password")
            .json(change);
        self.send(rb).await?;
        Ok(())
    }

    /// Ends every session of the account, this one too.
    pub async fn logout_everywhere(&self) -> ApiResult<()> {
        self.send(self.request(Method::POST, "/api/v1/auth/logout-all"))
            .await?;
        Ok(())
    }

    /// Invitations waiting for the signed-in user.
    pub async fn my_invitations(&self) -> ApiResult<Vec<PendingInvitation>> {
        self.get("/api/v1/me/invitations").await
    }

    pub async fn accept_my_invitation(&self, id: Uuid) -> ApiResult<AcceptedInvitation> {
        self.json(self.request(Method::POST, &format!("/api/v1/me/invitations/{id}/accept")))
            .await
    }

    pub async fn decline_my_invitation(&self, id: Uuid) -> ApiResult<()> {
        let path = format!("/api/v1/me/invitations/{id}/decline");
        self.send(self.request(Method::POST, &path)).await?;
        Ok(())
    }
}
