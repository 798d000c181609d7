//! What a finance officer books with a cost: the date of spending, the
//! account code (kode rekening), the payee and, once paid, the payment order
//! (SP2D) number and date. Cost items carry it and pass it on to the ledger
//! entries that realise them; a manual entry carries its own.
//!
//! Account codes are checked for their shape, not against a chart: an APBD
//! code has the six segments of Permendagri 90/2019 (`5.1.02.04.01.0001`),
//! an APBN account (akun) six digits (`524111`). `docs/money.md` lists the
//! codes in use for travel, meals, lodging and transport, and each province
//! keeps its own chart of accounts (BPKAD) as the authority.

use chrono::NaiveDate;

use crate::error::FieldError;

/// The booking details of a cost or an entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Booking {
    /// When the money was spent.
    pub spent_on: Option<NaiveDate>,
    /// Kode rekening (APBD) or akun (APBN).
    pub account_code: Option<String>,
    /// Who was paid.
    pub payee: Option<String>,
    /// The payment order (SP2D) number, once paid.
    pub sp2d_number: Option<String>,
    /// The payment order's date.
    pub sp2d_date: Option<NaiveDate>,
}

/// Whether `code` has the shape of an APBD kode rekening or an APBN akun.
pub fn is_account_code(code: &str) -> bool {
    let apbn = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = code.split('.').collect();
    let apbd = parts.len() == 6
        && parts
            .iter()
            .zip([1, 1, 2, 2, 2, 4])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_digit()));
    apbn || apbd
}

fn trimmed(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

impl Booking {
    /// Checks and normalises the details as a request gives them.
    pub fn parse(
        spent_on: Option<NaiveDate>,
        account_code: Option<&str>,
        payee: Option<&str>,
        sp2d_number: Option<&str>,
        sp2d_date: Option<NaiveDate>,
        errors: &mut Vec<FieldError>,
    ) -> Self {
        let account_code = trimmed(account_code);
        if let Some(code) = &account_code
            && !is_account_code(code)
        {
            errors.push(FieldError::new(
                "account_code",
                "must be a kode rekening such as 5.1.02.04.01.0001 or an APBN akun such as 524111",
            ));
        }
        let sp2d_number = trimmed(sp2d_number);
        if sp2d_number.is_some() != sp2d_date.is_some() {
            errors.push(FieldError::new(
                "sp2d_date",
                "the payment order's number and date come together",
            ));
        }
        if let (Some(spent), Some(paid)) = (spent_on, sp2d_date)
            && paid < spent
        {
            errors.push(FieldError::new(
                "sp2d_date",
                "a payment order cannot come before the spending it pays",
            ));
        }
        Self {
            spent_on,
            account_code,
            payee: trimmed(payee),
            sp2d_number,
            sp2d_date,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_codes_have_the_apbd_or_the_apbn_shape() {
        assert!(is_account_code("5.1.02.04.01.0001"));
        assert!(is_account_code("524111"));
        assert!(!is_account_code("5.1.2.4.1.1"));
        assert!(!is_account_code("52411"));
        assert!(!is_account_code("5.1.02.04.01.000A"));
        assert!(!is_account_code(""));
    }

    #[test]
    fn a_payment_order_needs_its_number_and_date_and_comes_after_the_spending() {
        let day = |d| NaiveDate::from_ymd_opt(2019, 3, d).unwrap();
        let mut errors = Vec::new();
        let ok = Booking::parse(
            Some(day(20)),
            Some(" 5.1.02.04.01.0001 "),
            Some(" PO Bus Sinar Jaya "),
            Some("SP2D-0042/2019"),
            Some(day(25)),
            &mut errors,
        );
        assert!(errors.is_empty());
        assert_eq!(ok.account_code.as_deref(), Some("5.1.02.04.01.0001"));
        assert_eq!(ok.payee.as_deref(), Some("PO Bus Sinar Jaya"));
        Booking::parse(None, None, None, Some("SP2D-1"), None, &mut errors);
        assert_eq!(errors.len(), 1);
        Booking::parse(
            Some(day(20)),
            None,
            None,
            Some("SP2D-1"),
            Some(day(19)),
            &mut errors,
        );
        assert_eq!(errors.len(), 2);
        Booking::parse(None, Some("rekening"), None, None, None, &mut errors);
        assert_eq!(errors.len(), 3);
    }
}
