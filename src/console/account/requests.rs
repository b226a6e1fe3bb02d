//! The account's API calls, their replies, and how to perform them.

use uuid::Uuid;

use super::Passwords;
use crate::api::{ApiError, ApiResult, Client};
use crate::domain::{AcceptedInvitation, PasswordChange, PendingInvitation};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountRequest {
    /// The invitations sent to the signed-in user's email.
    MyInvitations,
    Accept {
        id: Uuid,
    },
    Decline {
        id: Uuid,
    },
    ChangePassword(Passwords),
    /// Ends every session of the account, this console's too.
    LogoutEverywhere,
}

#[derive(Debug, Clone)]
pub enum AccountResponse {
    MyInvitations(ApiResult<Vec<PendingInvitation>>),
    Accepted(ApiResult<AcceptedInvitation>),
    Declined(ApiResult<()>),
    PasswordChanged(ApiResult<()>),
    LoggedOutEverywhere(ApiResult<()>),
}

impl AccountResponse {
    pub fn error(&self) -> Option<&ApiError> {
        match self {
            AccountResponse::MyInvitations(r) => r.as_ref().err(),
            AccountResponse::Accepted(r) => r.as_ref().err(),
            AccountResponse::Declined(r)
            | AccountResponse::PasswordChanged(r)
            | AccountResponse::LoggedOutEverywhere(r) => r.as_ref().err(),
        }
    }
}

/// Performs one request. Runs in a spawned task, never in the UI loop.
pub async fn execute(client: &Client, req: AccountRequest) -> AccountResponse {
    match req {
        AccountRequest::MyInvitations => {
            AccountResponse::MyInvitations(client.my_invitations().await)
        }
        AccountRequest::Accept { id } => {
            AccountResponse::Accepted(client.accept_my_invitation(id).await)
        }
        AccountRequest::Decline { id } => {
            AccountResponse::Declined(client.decline_my_invitation(id).await)
        }
        AccountRequest::ChangePassword(p) => {
            let change = PasswordChange {
                current_password: p.current,
                new_password: p.new,
            };
            AccountResponse::PasswordChanged(client.change_password(&change).await)
        }
        AccountRequest::LogoutEverywhere => {
            AccountResponse::LoggedOutEverywhere(client.logout_everywhere().await)
        }
    }
}
