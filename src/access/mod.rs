//! The access policy: who may see and do what. One module, one table.
//!
//! A caller's permissions follow from two things: the kind of its agency
//! (what the agency is responsible for) and its roles (what the person or
//! machine does within the agency). [`permits`] answers whether an operation
//! is allowed at all; the `*_scope` functions say which records the caller
//! may see, and the resources' queries turn a scope into a `WHERE` clause, so
//! a record outside the scope is never read and answers 404.
//!
//! `docs/access-policy.md` is rendered from [`policy_table`]; a test keeps it
//! current, and the HTTP test matrix checks every endpoint against [`permits`].

pub mod scope;

use serde::Serialize;

use crate::agencies::AgencyKind;
use crate::auth::{Caller, Role};
use crate::error::ApiError;

pub use scope::{AgencyScope, BudgetScope, CaseScope, TransferScope, province_of};

crate::text_enum! {
    /// Everything a caller can ask to do, by resource.
    pub enum Operation {
        /// List and read regions.
        ReadRegions => "regions.read",
        /// List and read agencies (the directory).
        ReadAgencies => "agencies.read",
        /// Create, change and deactivate agencies.
        ManageAgencies => "agencies.manage",
        /// List, create and deactivate the users and clients of the caller's own agency.
        ManageOwnAgencyAccounts => "accounts.manage_own_agency",
        /// List, create and deactivate the users and clients of any agency.
        ManageAllAccounts => "accounts.manage_all",
        /// Read the audit log.
        ReadAudit => "audit.read",
        /// Read cases (within the case scope).
        ReadCases => "cases.read",
        /// See NIK, passport, phone, birth date, birth place and address whole in the cases the
        /// caller may read; everyone else who reads them sees these fields masked.
        ReadPersonalData => "cases.read_personal_data",
        /// Register and edit cases, change their status, record consent, correct, merge
        /// and split identities (within the case scope).
        WriteCases => "cases.write",
        /// Break the glass: read a repeat returnee's earlier returns outside the case scope
        /// for a few hours, with a reason (masked, recorded, shown to the owners).
        BreakGlass => "cases.break_glass",
        /// List the break-the-glass grants that opened the agency's cases to others.
        ReviewAccessGrants => "cases.review_access_grants",
        /// Push cases in bulk or one by one, keyed by the source's own reference.
        PushCases => "cases.push",
        /// Read transfers (within the transfer scope).
        ReadTransfers => "transfers.read",
        /// Plan and run transfers: members, legs, status, costs.
        PlanTransfers => "transfers.plan",
        /// Confirm the handover (BAST) of a transfer addressed to the caller's agency.
        ConfirmHandover => "transfers.confirm_handover",
        /// Read budgets, ledgers and agreements (within the budget scope).
        ReadBudgets => "budgets.read",
        /// Create budgets, record ledger entries, propose and approve agreements (within the budget scope).
        ManageBudgets => "budgets.manage",
        /// Read statistics and money reports.
        ReadReports => "reports.read",
        /// Follow the change feed.
        ReadEvents => "events.read",
    }
}

/// What an agency of a kind may do at most; roles narrow it down.
fn agency_allows(kind: AgencyKind, operation: Operation) -> bool {
    use AgencyKind as K;
    use Operation as O;
    match operation {
        O::ReadRegions | O::ReadAgencies | O::ManageOwnAgencyAccounts => true,
        O::ManageAgencies | O::ManageAllAccounts | O::ReadAudit => kind == K::System,
        // `other` (non-government partners) only ever see the cases whose
        // returnee consented, by their scope.
        O::ReadCases | O::ReadEvents => matches!(
            kind,
            K::System
                | K::Ministry
                | K::ProvincialSocialService
                | K::RegencySocialService
                | K::MigrantProtectionService
                | K::Other
        ),
        O::ReadTransfers => matches!(
            kind,
            K::System | K::Ministry | K::ProvincialSocialService | K::RegencySocialService
        ),
        O::WriteCases | O::PlanTransfers => matches!(kind, K::System | K::ProvincialSocialService),
        O::BreakGlass => matches!(
            kind,
            K::System | K::ProvincialSocialService | K::RegencySocialService
        ),
        O::ReviewAccessGrants => matches!(
            kind,
            K::System
                | K::Ministry
                | K::ProvincialSocialService
                | K::RegencySocialService
                | K::MigrantProtectionService
        ),
        // Agencies that handle the person: the province that shelters and returns
        // them, and the regency that receives them home.
        O::ReadPersonalData => matches!(
            kind,
            K::System | K::ProvincialSocialService | K::RegencySocialService
        ),
        O::PushCases => matches!(
            kind,
            K::System | K::Ministry | K::MigrantProtectionService | K::ProvincialSocialService
        ),
        O::ConfirmHandover => matches!(
            kind,
            K::System | K::ProvincialSocialService | K::RegencySocialService
        ),
        O::ReadBudgets | O::ReadReports => matches!(
            kind,
            K::System
                | K::Ministry
                | K::ProvincialSocialService
                | K::RegencySocialService
                | K::ProvincialSecretariat
        ),
        O::ManageBudgets => matches!(
            kind,
            K::System | K::Ministry | K::ProvincialSocialService | K::RegencySocialService
        ),
    }
}

/// What a role lets its holder do, whatever the agency.
fn role_allows(role: Role, operation: Operation) -> bool {
    use Operation as O;
    match role {
        Role::SystemAdmin => true,
        Role::AgencyAdmin => {
            matches!(
                operation,
                O::ReadRegions
                    | O::ReadAgencies
                    | O::ManageOwnAgencyAccounts
                    | O::ReviewAccessGrants
            ) || is_read(operation)
        }
        Role::CaseWorker => {
            matches!(
                operation,
                O::WriteCases
                    | O::PushCases
                    | O::PlanTransfers
                    | O::ConfirmHandover
                    | O::ReadPersonalData
                    | O::BreakGlass
            ) || is_read(operation)
        }
        Role::FinanceOfficer => matches!(operation, O::ManageBudgets) || is_read(operation),
        Role::Viewer => is_read(operation),
        Role::Integration => matches!(
            operation,
            O::PushCases | O::ReadCases | O::ReadRegions | O::ReadEvents
        ),
    }
}

/// Operations that only read.
fn is_read(operation: Operation) -> bool {
    use Operation as O;
    matches!(
        operation,
        O::ReadRegions
            | O::ReadAgencies
            | O::ReadCases
            | O::ReadTransfers
            | O::ReadBudgets
            | O::ReadReports
            | O::ReadEvents
    )
}

/// Whether a caller of an agency `kind` holding `roles` may perform `operation`.
///
/// System administrators may do everything, whatever their agency.
pub fn permits(kind: AgencyKind, roles: &[Role], operation: Operation) -> bool {
    if roles.contains(&Role::SystemAdmin) {
        return true;
    }
    agency_allows(kind, operation) && roles.iter().any(|role| role_allows(*role, operation))
}

impl Caller {
    /// Whether the caller may perform `operation` (somewhere in its scope).
    pub fn may(&self, operation: Operation) -> bool {
        permits(self.agency_kind, &self.roles, operation)
    }

    /// Whether the caller sees personal data whole in the cases it may read
    /// (`cases.read_personal_data`); everyone else sees it masked.
    pub fn sees_personal_data(&self) -> bool {
        self.may(Operation::ReadPersonalData)
    }

    /// Refuses with 403 unless the caller may perform `operation`.
    pub fn require(&self, operation: Operation) -> Result<(), ApiError> {
        if self.may(operation) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "your roles in your agency do not allow {}",
                operation.as_str()
            )))
        }
    }
}

/// One row of the rendered policy table.
#[derive(Debug, Serialize)]
pub struct PolicyRow {
    /// The agency kind.
    pub agency_kind: AgencyKind,
    /// The role.
    pub role: Role,
    /// The operations allowed.
    pub allowed: Vec<Operation>,
}

/// Agency kinds and the roles that make sense in them, for the policy table.
pub fn policy_table() -> Vec<PolicyRow> {
    let mut rows = Vec::new();
    for kind in AgencyKind::ALL {
        for role in Role::ALL {
            let allowed = Operation::ALL
                .iter()
                .copied()
                .filter(|op| permits(*kind, &[*role], *op))
                .collect();
            rows.push(PolicyRow {
                agency_kind: *kind,
                role: *role,
                allowed,
            });
        }
    }
    rows
}

/// Renders `docs/access-policy.md`'s matrix: one line per operation, one column per agency kind,
/// listing the roles that may perform it there.
pub fn render_policy_markdown() -> String {
    let mut out = String::new();
    out.push_str("| operation |");
    for kind in AgencyKind::ALL {
        out.push_str(&format!(" {kind} |"));
    }
    out.push_str("\n|---|");
    for _ in AgencyKind::ALL {
        out.push_str("---|");
    }
    out.push('\n');
    for op in Operation::ALL {
        out.push_str(&format!("| `{op}` |"));
        for kind in AgencyKind::ALL {
            let roles: Vec<&str> = Role::ALL
                .iter()
                .filter(|r| **r != Role::SystemAdmin && permits(*kind, &[**r], *op))
                .map(|r| r.as_str())
                .collect();
            let cell = if roles.is_empty() {
                "—".to_owned()
            } else {
                roles.join(", ")
            };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_admins_may_do_everything() {
        for op in Operation::ALL {
            assert!(
                permits(AgencyKind::Other, &[Role::SystemAdmin], *op),
                "{op}"
            );
        }
    }

    #[test]
    fn the_ministry_reads_everything_and_manages_budgets_but_writes_no_cases() {
        let k = AgencyKind::Ministry;
        assert!(permits(k, &[Role::Viewer], Operation::ReadCases));
        assert!(permits(
            k,
            &[Role::FinanceOfficer],
            Operation::ManageBudgets
        ));
        assert!(!permits(k, &[Role::CaseWorker], Operation::WriteCases));
        assert!(!permits(k, &[Role::CaseWorker], Operation::PlanTransfers));
    }

    #[test]
    fn a_regency_reads_confirms_handovers_and_manages_its_budgets_only() {
        let k = AgencyKind::RegencySocialService;
        assert!(permits(k, &[Role::CaseWorker], Operation::ConfirmHandover));
        assert!(permits(
            k,
            &[Role::FinanceOfficer],
            Operation::ManageBudgets
        ));
        assert!(!permits(k, &[Role::CaseWorker], Operation::WriteCases));
        assert!(!permits(k, &[Role::CaseWorker], Operation::PlanTransfers));
        assert!(!permits(k, &[Role::CaseWorker], Operation::PushCases));
    }

    #[test]
    fn bp3tki_pushes_and_reads_cases_but_nothing_else() {
        let k = AgencyKind::MigrantProtectionService;
        assert!(permits(k, &[Role::Integration], Operation::PushCases));
        assert!(permits(k, &[Role::Integration], Operation::ReadCases));
        assert!(!permits(k, &[Role::CaseWorker], Operation::ReadTransfers));
        assert!(!permits(k, &[Role::Viewer], Operation::ReadBudgets));
    }

    #[test]
    fn the_secretariat_writes_nothing() {
        let k = AgencyKind::ProvincialSecretariat;
        for role in Role::ALL.iter().filter(|r| **r != Role::SystemAdmin) {
            for op in Operation::ALL {
                if permits(k, &[*role], *op) {
                    assert!(
                        is_read(*op) || *op == Operation::ManageOwnAgencyAccounts,
                        "{role} may {op}"
                    );
                }
            }
        }
        assert!(permits(k, &[Role::Viewer], Operation::ReadReports));
        assert!(permits(k, &[Role::Viewer], Operation::ReadBudgets));
        assert!(!permits(k, &[Role::Viewer], Operation::ReadCases));
    }

    #[test]
    fn integration_clients_only_push_and_follow() {
        for op in Operation::ALL {
            let allowed = permits(
                AgencyKind::MigrantProtectionService,
                &[Role::Integration],
                *op,
            );
            assert_eq!(
                allowed,
                matches!(
                    op,
                    Operation::PushCases
                        | Operation::ReadCases
                        | Operation::ReadRegions
                        | Operation::ReadEvents
                ),
                "{op}"
            );
        }
    }

    #[test]
    fn the_documented_table_is_the_policy() {
        let doc = include_str!("../../docs/access-policy.md");
        assert!(
            doc.contains(&render_policy_markdown()),
            "docs/access-policy.md is stale; regenerate its table with `cargo run -- policy`"
        );
    }
}
