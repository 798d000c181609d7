//! Rules shared by users and machine clients: who may manage whose accounts,
//! and which roles may be granted.

use uuid::Uuid;

use super::{Agency, AgencyKind, queries};
use crate::access::AgencyScope;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, FieldError};

/// Loads the agency whose accounts the caller wants to manage, or refuses:
/// 404 when there is no such agency, 403 when it is not the caller's to manage.
pub async fn managed_agency(
    conn: &mut diesel_async::AsyncPgConnection,
    caller: &Caller,
    agency_id: Uuid,
) -> ApiResult<Agency> {
    let agency = queries::find(conn, agency_id)
        .await?
        .ok_or_else(|| ApiError::not_found("there is no such agency"))?;
    match caller.account_scope() {
        AgencyScope::All => Ok(agency),
        AgencyScope::Only(own) if own == agency_id => Ok(agency),
        _ => Err(ApiError::forbidden(
            "you may manage the users and clients of your own agency only, as its agency_admin",
        )),
    }
}

/// Checks the roles a caller wants to grant to a user of `agency`.
pub fn check_user_roles(
    caller: &Caller,
    agency: &Agency,
    roles: &[Role],
) -> Result<(), FieldError> {
    if roles.is_empty() {
        return Err(FieldError::new("roles", "at least one role is needed"));
    }
    if roles.contains(&Role::Integration) {
        return Err(FieldError::new(
            "roles",
            "integration is for machine clients; create a client instead",
        ));
    }
    if roles.contains(&Role::SystemAdmin)
        && !(caller.is_system_admin() && agency.kind == AgencyKind::System)
    {
        return Err(FieldError::new(
            "roles",
            "system_admin can only be granted by a system administrator, to users of the system agency",
        ));
    }
    Ok(())
}

/// Checks the roles of a machine client.
pub fn check_client_roles(roles: &[Role]) -> Result<(), FieldError> {
    if roles.is_empty()
        || roles
            .iter()
            .any(|r| !matches!(r, Role::Integration | Role::Viewer))
    {
        return Err(FieldError::new(
            "roles",
            "a client may hold integration and viewer only",
        ));
    }
    Ok(())
}
