//! The life of a case: its statuses and the transitions between them.
//!
//! registered → sheltered → assessed → ready_for_transfer → in_transfer →
//! returned → closed, with side exits (referred, absconded, deceased,
//! cancelled). `in_transfer` and `returned` are reached only through a
//! transfer (departure, handover), never by hand.

crate::text_enum! {
    /// Where a case stands.
    pub enum CaseStatus {
        /// Recorded on arrival (terdaftar).
        Registered => "registered",
        /// In a shelter (di shelter / RPTC).
        Sheltered => "sheltered",
        /// Assessed by a social worker (asesmen).
        Assessed => "assessed",
        /// Ready to be taken home; may join a transfer.
        ReadyForTransfer => "ready_for_transfer",
        /// On the way home in a transfer.
        InTransfer => "in_transfer",
        /// Handed over to the region of origin (BAST signed).
        Returned => "returned",
        /// Finished.
        Closed => "closed",
        /// Referred to another service (hospital, police, another province).
        Referred => "referred",
        /// Left without notice.
        Absconded => "absconded",
        /// Died.
        Deceased => "deceased",
        /// Recorded in error.
        Cancelled => "cancelled",
    }
}

/// Who moves a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mover {
    /// A person through `POST /cases/{id}/transitions`.
    Hand,
    /// A transfer's departure, arrival, handover or cancellation.
    Transfer,
}

impl CaseStatus {
    /// The statuses a case may move to from this one.
    pub fn next(self, mover: Mover) -> Vec<CaseStatus> {
        use CaseStatus::*;
        let by_hand: &[CaseStatus] = match self {
            Registered => &[
                Sheltered, Assessed, Referred, Absconded, Deceased, Cancelled,
            ],
            Sheltered => &[Assessed, Referred, Absconded, Deceased, Cancelled],
            Assessed => &[
                ReadyForTransfer,
                Sheltered,
                Referred,
                Absconded,
                Deceased,
                Closed,
            ],
            ReadyForTransfer => &[Assessed, Referred, Absconded, Deceased],
            InTransfer => &[Absconded, Deceased],
            Returned => &[Closed],
            Referred => &[Sheltered, Closed],
            Absconded => &[Sheltered, Closed],
            Deceased => &[Closed],
            Closed | Cancelled => &[],
        };
        let by_transfer: &[CaseStatus] = match self {
            ReadyForTransfer => &[InTransfer],
            InTransfer => &[Returned, ReadyForTransfer, Absconded],
            _ => &[],
        };
        match mover {
            Mover::Hand => by_hand.to_vec(),
            Mover::Transfer => by_transfer.to_vec(),
        }
    }

    /// Whether `self → to` is allowed for `mover`.
    pub fn can_move_to(self, to: CaseStatus, mover: Mover) -> bool {
        self.next(mover).contains(&to)
    }

    /// Whether the case is still being handled.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            CaseStatus::Closed | CaseStatus::Cancelled | CaseStatus::Deceased
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseStatus::*;

    #[test]
    fn the_main_path_runs_from_arrival_to_closing() {
        let by_hand = [
            (Registered, Sheltered),
            (Sheltered, Assessed),
            (Assessed, ReadyForTransfer),
            (Returned, Closed),
        ];
        for (from, to) in by_hand {
            assert!(from.can_move_to(to, Mover::Hand), "{from} → {to}");
        }
        assert!(ReadyForTransfer.can_move_to(InTransfer, Mover::Transfer));
        assert!(InTransfer.can_move_to(Returned, Mover::Transfer));
    }

    #[test]
    fn transfers_alone_move_cases_into_and_out_of_transit() {
        assert!(!ReadyForTransfer.can_move_to(InTransfer, Mover::Hand));
        assert!(!InTransfer.can_move_to(Returned, Mover::Hand));
        assert!(!Assessed.can_move_to(InTransfer, Mover::Transfer));
    }

    #[test]
    fn finished_cases_stay_finished() {
        for to in CaseStatus::ALL {
            assert!(!Closed.can_move_to(*to, Mover::Hand));
            assert!(!Cancelled.can_move_to(*to, Mover::Hand));
        }
    }

    #[test]
    fn no_status_moves_to_itself() {
        for from in CaseStatus::ALL {
            assert!(!from.can_move_to(*from, Mover::Hand), "{from}");
            assert!(!from.can_move_to(*from, Mover::Transfer), "{from}");
        }
    }
}
