//! Who may join a transfer: the rules behind `POST /transfers/{id}/cases`,
//! as plain functions over what the handler loaded.

use std::collections::HashMap;

use uuid::Uuid;

use crate::cases::CaseStatus;
use crate::cases::view::CaseView;
use crate::error::FieldError;

/// What the rules need to know of a case asked to join.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The case.
    pub id: Uuid,
    /// Its number, for messages.
    pub case_number: String,
    /// Its status now.
    pub status: CaseStatus,
    /// Regency of origin (`61.71`).
    pub origin_region: String,
    /// Province of origin (`61`).
    pub origin_province: String,
}

impl From<&CaseView> for Candidate {
    fn from(case: &CaseView) -> Self {
        Self {
            id: case.id,
            case_number: case.case_number.clone(),
            status: case.status,
            origin_region: case.origin_region.clone(),
            origin_province: case.origin_province.clone(),
        }
    }
}

/// Another active transfer a case is already in.
#[derive(Debug, Clone)]
pub struct Membership {
    /// The case.
    pub case_id: Uuid,
    /// The transfer it is in.
    pub transfer_id: Uuid,
    /// That transfer's reference, for messages.
    pub reference: String,
}

/// Why cases may not join, by field (`case_ids[i]`).
#[derive(Debug, Default)]
pub struct Refusals {
    /// Refusals of the cases' state (409): not ready, or in another transfer.
    pub conflicts: Vec<FieldError>,
    /// Refusals of the request itself (422): unknown cases, wrong origin.
    pub invalid: Vec<FieldError>,
}

/// Cases listed more than once, each named at its repeat.
pub fn repeated(wanted: &[Uuid]) -> Vec<FieldError> {
    let mut first: HashMap<Uuid, usize> = HashMap::new();
    let mut errors = Vec::new();
    for (i, id) in wanted.iter().enumerate() {
        if let Some(j) = first.get(id) {
            errors.push(FieldError::new(
                format!("case_ids[{i}]"),
                format!("repeats case_ids[{j}]"),
            ));
        } else {
            first.insert(*id, i);
        }
    }
    errors
}

/// Checks each wanted case against the transfer: it must be one the caller
/// may see (`found`), in no other active transfer (`others`),
/// `ready_for_transfer`, and from a region within the destination (a
/// province destination takes its regencies).
pub fn refusals(
    transfer_id: Uuid,
    destination: &str,
    wanted: &[Uuid],
    found: &[Candidate],
    others: &[Membership],
) -> Refusals {
    let found: HashMap<Uuid, &Candidate> = found.iter().map(|c| (c.id, c)).collect();
    let mut out = Refusals::default();
    for (i, case_id) in wanted.iter().enumerate() {
        let field = format!("case_ids[{i}]");
        let Some(case) = found.get(case_id) else {
            out.invalid.push(FieldError::new(
                field,
                format!("there is no case {case_id} you may see"),
            ));
            continue;
        };
        if let Some(other) = others
            .iter()
            .find(|m| m.case_id == *case_id && m.transfer_id != transfer_id)
        {
            out.conflicts.push(FieldError::new(
                field,
                format!(
                    "case {} is already in transfer {} ({})",
                    case.case_number, other.reference, other.transfer_id
                ),
            ));
            continue;
        }
        if case.status != CaseStatus::ReadyForTransfer {
            out.conflicts.push(FieldError::new(
                field,
                format!(
                    "case {} is {}, not ready_for_transfer",
                    case.case_number, case.status
                ),
            ));
            continue;
        }
        let within = if destination.len() == 2 {
            case.origin_province == destination
        } else {
            case.origin_region == destination
        };
        if !within {
            out.invalid.push(FieldError::new(
                field,
                format!(
                    "case {} comes from {}, outside the destination {destination}",
                    case.case_number, case.origin_region
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(n: u128, status: CaseStatus, region: &str) -> Candidate {
        Candidate {
            id: Uuid::from_u128(n),
            case_number: format!("KPO-2019-{n:05}"),
            status,
            origin_region: region.into(),
            origin_province: region[..2].into(),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<String> {
        errors.iter().map(|e| e.field.clone()).collect()
    }

    const TRANSFER: Uuid = Uuid::from_u128(900);

    #[test]
    fn ready_cases_from_the_destination_are_admitted() {
        let found = [
            case(1, CaseStatus::ReadyForTransfer, "61.71"),
            case(2, CaseStatus::ReadyForTransfer, "61.05"),
        ];
        let wanted = [found[0].id, found[1].id];
        let by_province = refusals(TRANSFER, "61", &wanted, &found, &[]);
        assert!(by_province.conflicts.is_empty() && by_province.invalid.is_empty());
        let by_regency = refusals(TRANSFER, "61.71", &wanted[..1], &found, &[]);
        assert!(by_regency.conflicts.is_empty() && by_regency.invalid.is_empty());
    }

    #[test]
    fn each_refusal_names_its_position_and_kind() {
        let found = [
            case(1, CaseStatus::Sheltered, "61.71"),
            case(2, CaseStatus::ReadyForTransfer, "33.01"),
            case(3, CaseStatus::ReadyForTransfer, "61.71"),
            case(4, CaseStatus::ReadyForTransfer, "61.71"),
        ];
        let others = [
            Membership {
                case_id: found[2].id,
                transfer_id: Uuid::from_u128(901),
                reference: "TRF-2019-0002".into(),
            },
            // Already in this very transfer: re-adding is no conflict.
            Membership {
                case_id: found[3].id,
                transfer_id: TRANSFER,
                reference: "TRF-2019-0001".into(),
            },
        ];
        let unknown = Uuid::from_u128(77);
        let wanted = [found[0].id, found[1].id, found[2].id, unknown, found[3].id];
        let out = refusals(TRANSFER, "61", &wanted, &found, &others);
        assert_eq!(fields(&out.conflicts), ["case_ids[0]", "case_ids[2]"]);
        assert!(out.conflicts[0].message.contains("sheltered"));
        assert!(out.conflicts[1].message.contains("TRF-2019-0002"));
        assert_eq!(fields(&out.invalid), ["case_ids[1]", "case_ids[3]"]);
        assert!(
            out.invalid[0]
                .message
                .contains("outside the destination 61")
        );
        assert!(out.invalid[1].message.contains(&unknown.to_string()));
    }

    #[test]
    fn a_regency_destination_refuses_other_regencies_of_the_province() {
        let found = [case(1, CaseStatus::ReadyForTransfer, "61.05")];
        let out = refusals(TRANSFER, "61.71", &[found[0].id], &found, &[]);
        assert_eq!(fields(&out.invalid), ["case_ids[0]"]);
    }

    #[test]
    fn repeats_are_named_at_the_repeat() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let errors = repeated(&[a, b, a, b, a]);
        assert_eq!(
            fields(&errors),
            ["case_ids[2]", "case_ids[3]", "case_ids[4]"]
        );
        assert_eq!(errors[0].message, "repeats case_ids[0]");
        assert!(repeated(&[a, b]).is_empty());
    }
}
