//! Money in whole rupiah, and the bounds every amount keeps.
//!
//! No single amount (an allocation, a ledger entry, a cost) may exceed
//! [`MAX_RUPIAH`] (10^15, a thousand trillion rupiah, far above any
//! Indonesian budget line), and a budget's allocation plus revisions may not
//! either. Since nothing may take a balance below zero, committed and realised
//! stay below the allocation, so every balance fits an `i64` with room to
//! spare; the sums behind them are computed as `numeric` in SQL, which cannot
//! overflow.

use crate::error::FieldError;

/// The largest amount of money the API accepts or lets a budget hold: 10^15 rupiah.
pub const MAX_RUPIAH: i64 = 1_000_000_000_000_000;

/// A field error when `amount` is outside `min..=MAX_RUPIAH`.
pub fn check_amount(field: impl Into<String>, amount: i64, min: i64) -> Option<FieldError> {
    if amount < min {
        Some(FieldError::new(
            field,
            if min == 1 {
                "must be at least 1 rupiah".to_owned()
            } else {
                format!("must be at least {min} rupiah")
            },
        ))
    } else if amount > MAX_RUPIAH {
        Some(FieldError::new(
            field,
            "must be at most 1000000000000000 rupiah (10^15)",
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_bounded_on_both_sides() {
        assert!(check_amount("amount", 0, 1).is_some());
        assert!(check_amount("amount", 1, 1).is_none());
        assert!(check_amount("amount", MAX_RUPIAH, 1).is_none());
        assert!(check_amount("amount", MAX_RUPIAH + 1, 1).is_some());
        assert!(check_amount("amount", i64::MAX, 0).is_some());
    }
}
