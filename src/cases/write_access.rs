//! Where a caller may register and push cases.

use crate::access::province_of;
use crate::agencies::AgencyKind;
use crate::auth::Caller;
use crate::error::{ApiError, FieldError};
use crate::regions::RegionCode;

/// A provincial social service registers cases handled in its own province
/// only; national agencies and migrant-protection services may name any.
pub fn check_handling_province(caller: &Caller, province: &RegionCode) -> Result<(), ApiError> {
    if caller.is_system_admin() || caller.agency_kind != AgencyKind::ProvincialSocialService {
        return Ok(());
    }
    let own = caller.agency_region.as_deref().map(province_of);
    if own == Some(province.as_str()) {
        Ok(())
    } else {
        Err(ApiError::validation(vec![FieldError::new(
            "handling_province",
            format!(
                "your agency handles cases of province {} only",
                own.unwrap_or("(none)")
            ),
        )]))
    }
}
