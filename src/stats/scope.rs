//! Which returns a report counts. Reports hold no personal data, so the
//! provincial secretariat, which may not read cases, may read them; otherwise
//! a report covers exactly the cases its reader's case list would show.

use uuid::Uuid;

use crate::access::{CaseScope, province_of};
use crate::agencies::AgencyKind;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::regions::{RegionCode, catalog};

/// The cases a report counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportScope {
    /// Every case (system administrators, the ministry).
    All,
    /// Cases handled in this province (its social service and secretariat).
    HandlingProvince(String),
    /// Cases whose origin is this regency (its social service).
    OriginRegency(String),
    /// Cases this agency created or reported (one of their reports is its).
    SourceAgency(Uuid),
    /// None.
    Nothing,
}

impl From<CaseScope> for ReportScope {
    fn from(scope: CaseScope) -> Self {
        match scope {
            CaseScope::All => Self::All,
            CaseScope::HandledInProvince(p) => Self::HandlingProvince(p),
            CaseScope::OriginRegency(r) => Self::OriginRegency(r),
            CaseScope::PushedBy(a) => Self::SourceAgency(a),
            CaseScope::ConsentedInProvince(_) | CaseScope::Nothing => Self::Nothing,
        }
    }
}

impl ReportScope {
    /// The report scope of a caller: the cases its case list shows, and for
    /// the provincial secretariat (which may not read cases) its province's.
    pub fn of(caller: &Caller) -> Self {
        match (caller.agency_kind, caller.agency_region.as_deref()) {
            (AgencyKind::ProvincialSecretariat, Some(region)) if !caller.is_system_admin() => {
                Self::HandlingProvince(province_of(region).to_owned())
            }
            _ => caller.case_scope().into(),
        }
    }

    /// The value the scope's condition compares with, as text.
    pub fn value(&self) -> Option<String> {
        match self {
            Self::All | Self::Nothing => None,
            Self::HandlingProvince(v) | Self::OriginRegency(v) => Some(v.clone()),
            Self::SourceAgency(a) => Some(a.to_string()),
        }
    }

    /// The SQL condition on `transfers`: a province's, or those heading to a regency.
    pub fn transfer_condition(&self, param: &str) -> String {
        match self {
            Self::All => format!("({param}::text IS NULL)"),
            Self::HandlingProvince(_) => format!("handling_province = {param}"),
            Self::OriginRegency(_) => format!("destination_region = {param}"),
            Self::SourceAgency(_) | Self::Nothing => format!("({param}::text IS NULL AND false)"),
        }
    }

    /// The SQL condition on `cases`, with `param` the placeholder of the scope's value.
    pub fn condition(&self, param: &str) -> String {
        match self {
            Self::All => format!("({param}::text IS NULL)"),
            Self::HandlingProvince(_) => format!("handling_province = {param}"),
            Self::OriginRegency(_) => format!("origin_region = {param}"),
            Self::SourceAgency(_) => format!(
                "(cases.source_agency_id = {param}::uuid OR cases.id IN \
                 (SELECT r.case_id FROM case_reports r WHERE r.attached AND r.source_agency_id = {param}::uuid))"
            ),
            Self::Nothing => format!("({param}::text IS NULL AND false)"),
        }
    }
}

/// The `handling_province` parameter of a report, checked and normalised
/// (`61`); a regency or unknown code is a 400 naming the parameter.
pub fn handling_province(raw: Option<&str>) -> ApiResult<Option<String>> {
    match raw.map(RegionCode::parse) {
        None => Ok(None),
        Some(Ok(p)) if catalog::is_province(&p) => Ok(Some(p.to_string())),
        Some(_) => Err(ApiError::bad_parameter(
            "handling_province",
            "must be a province code such as 61",
        )),
    }
}
