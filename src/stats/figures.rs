//! The arithmetic every report shares, so that no two round differently.

/// `part` as a percentage of `whole`, to two decimals; 0 when there is no whole.
pub fn percent(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        0.0
    } else {
        (part as f64 * 10_000.0 / whole as f64).round() / 100.0
    }
}

/// `total` per head in whole rupiah (rounded down), if there are heads.
pub fn per_head(total: i64, heads: i64) -> Option<i64> {
    (heads > 0).then(|| total / heads)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rounds_to_two_decimals_and_is_zero_without_a_whole() {
        assert_eq!(percent(1355, 2480), 54.64);
        assert_eq!(percent(1125, 2480), 45.36);
        assert_eq!(percent(5, 0), 0.0);
    }

    #[test]
    fn per_head_rounds_down_and_needs_heads() {
        assert_eq!(per_head(1_000_001, 2), Some(500_000));
        assert_eq!(per_head(10, 0), None);
    }
}
