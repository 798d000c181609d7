//! Which records a caller may see. Each resource's queries turn these into a
//! `WHERE` clause; nothing is filtered after reading.

use uuid::Uuid;

use crate::agencies::AgencyKind;
use crate::auth::Caller;

/// The cases a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseScope {
    /// Every case (system administrators, the ministry).
    All,
    /// Cases handled in this province (its provincial social service).
    HandledInProvince(String),
    /// Cases whose origin is this regency (its regency social service).
    OriginRegency(String),
    /// Cases this agency pushed (a migrant-protection service).
    PushedBy(Uuid),
    /// Cases handled in this province whose returnee consented to share their
    /// data beyond the government (a non-government partner, agency kind `other`).
    ConsentedInProvince(String),
    /// None.
    Nothing,
}

/// The transfers a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferScope {
    /// Every transfer.
    All,
    /// Transfers leaving their handling province, paid by the APBN (the ministry).
    OutOfProvince,
    /// Transfers leaving from this province (its provincial social service).
    HandledInProvince(String),
    /// Transfers heading to this regency or addressed to this agency.
    Destination {
        /// The regency.
        regency: String,
        /// The receiving agency.
        agency: Uuid,
    },
    /// None.
    Nothing,
}

/// The budgets and agreements a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BudgetScope {
    /// Every budget.
    All,
    /// National budgets (APBN), for the ministry.
    National,
    /// Budgets of the province and of its regencies (provincial service and secretariat).
    Province(String),
    /// The agency's own budgets and its agreements (a regency social service).
    OwnAgency(Uuid),
    /// None.
    Nothing,
}

/// The agencies whose accounts (users, clients) a caller may manage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgencyScope {
    /// Every agency.
    All,
    /// Only this one.
    Only(Uuid),
    /// None.
    Nothing,
}

/// The province a region code lies in (`61.71` → `61`).
pub fn province_of(region: &str) -> &str {
    region.split('.').next().unwrap_or(region)
}

impl Caller {
    /// The cases this caller may see.
    pub fn case_scope(&self) -> CaseScope {
        if self.is_system_admin() {
            return CaseScope::All;
        }
        match (self.agency_kind, &self.agency_region) {
            (AgencyKind::System | AgencyKind::Ministry, _) => CaseScope::All,
            (AgencyKind::ProvincialSocialService, Some(region)) => {
                CaseScope::HandledInProvince(province_of(region).to_owned())
            }
            (AgencyKind::RegencySocialService, Some(region)) => {
                CaseScope::OriginRegency(region.clone())
            }
            (AgencyKind::MigrantProtectionService, _) => CaseScope::PushedBy(self.agency_id),
            (AgencyKind::Other, Some(region)) => {
                CaseScope::ConsentedInProvince(province_of(region).to_owned())
            }
            _ => CaseScope::Nothing,
        }
    }

    /// The transfers this caller may see.
    pub fn transfer_scope(&self) -> TransferScope {
        if self.is_system_admin() {
            return TransferScope::All;
        }
        match (self.agency_kind, &self.agency_region) {
            (AgencyKind::System, _) => TransferScope::All,
            (AgencyKind::Ministry, _) => TransferScope::OutOfProvince,
            (AgencyKind::ProvincialSocialService, Some(region)) => {
                TransferScope::HandledInProvince(province_of(region).to_owned())
            }
            (AgencyKind::RegencySocialService, Some(region)) => TransferScope::Destination {
                regency: region.clone(),
                agency: self.agency_id,
            },
            _ => TransferScope::Nothing,
        }
    }

    /// The budgets this caller may see.
    pub fn budget_scope(&self) -> BudgetScope {
        if self.is_system_admin() {
            return BudgetScope::All;
        }
        match (self.agency_kind, &self.agency_region) {
            (AgencyKind::System, _) => BudgetScope::All,
            (AgencyKind::Ministry, _) => BudgetScope::National,
            (
                AgencyKind::ProvincialSocialService | AgencyKind::ProvincialSecretariat,
                Some(region),
            ) => BudgetScope::Province(province_of(region).to_owned()),
            (AgencyKind::RegencySocialService, _) => BudgetScope::OwnAgency(self.agency_id),
            _ => BudgetScope::Nothing,
        }
    }

    /// The agencies whose users and clients this caller may manage.
    pub fn account_scope(&self) -> AgencyScope {
        use super::Operation;
        if self.may(Operation::ManageAllAccounts) {
            AgencyScope::All
        } else if self.may(Operation::ManageOwnAgencyAccounts) {
            AgencyScope::Only(self.agency_id)
        } else {
            AgencyScope::Nothing
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regency_code_lies_in_its_province() {
        assert_eq!(province_of("61.71"), "61");
        assert_eq!(province_of("61"), "61");
    }
}
