//! The NIK (Nomor Induk Kependudukan), Indonesia's 16-digit identity number,
//! as a domain type: parse, don't validate.
//!
//! Digits 1–4 are the issuing regency (Kemendagri code without the dot), 5–6
//! the district, 7–12 the birth date as DDMMYY with 40 added to the day for
//! women, 13–16 a serial number.

use chrono::{Datelike, NaiveDate};

use super::model::Sex;
use crate::error::FieldError;
use crate::regions::{RegionCode, catalog};

/// A NIK whose shape, regency prefix and embedded birth date are valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Nik {
    digits: String,
    sex: Sex,
    day: u32,
    month: u32,
    year_of_century: u32,
}

impl Nik {
    /// Parses a NIK (spaces and dots between digit groups are ignored).
    pub fn parse(input: &str) -> Result<Self, String> {
        let digits: String = input
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-'))
            .collect();
        if digits.len() != 16 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must be 16 digits".into());
        }
        let regency = RegionCode::parse(&digits[..4]).map_err(|e| e.to_string())?;
        if !catalog::is_regency(&regency) {
            return Err(format!(
                "its first four digits name no known regency ({regency})"
            ));
        }
        let number = |range: std::ops::Range<usize>| digits[range].parse::<u32>().unwrap_or(0);
        let (mut day, month, year_of_century) = (number(6..8), number(8..10), number(10..12));
        let sex = if day > 40 {
            day -= 40;
            Sex::Female
        } else {
            Sex::Male
        };
        // Any year a real date exists in will do to check day and month; 2000 is a leap year.
        if NaiveDate::from_ymd_opt(2000, month, day).is_none() {
            return Err("digits 7 to 12 are not a birth date (DDMMYY, day + 40 for women)".into());
        }
        let nik = Self {
            digits,
            sex,
            day,
            month,
            year_of_century,
        };
        Ok(nik)
    }

    /// The 16 digits.
    pub fn as_str(&self) -> &str {
        &self.digits
    }

    /// The regency that issued it.
    pub fn regency(&self) -> RegionCode {
        RegionCode::parse(&self.digits[..4]).expect("checked when parsed")
    }

    /// The sex it encodes.
    pub fn sex(&self) -> Sex {
        self.sex
    }

    /// The birth date it encodes, placed in the century that puts it in the past
    /// of `today` (a NIK holder is never born in the future).
    pub fn birth_date(&self, today: NaiveDate) -> Option<NaiveDate> {
        let this_century = today.year() / 100 * 100;
        let candidate = NaiveDate::from_ymd_opt(
            this_century + self.year_of_century as i32,
            self.month,
            self.day,
        );
        match candidate {
            Some(date) if date <= today => Some(date),
            _ => NaiveDate::from_ymd_opt(
                this_century - 100 + self.year_of_century as i32,
                self.month,
                self.day,
            ),
        }
    }

    /// Checks that the NIK agrees with a stated sex and birth date; returns
    /// every disagreement, naming the fields.
    pub fn check_agreement(
        &self,
        sex: Option<Sex>,
        birth_date: Option<NaiveDate>,
    ) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let Some(sex) = sex
            && sex != self.sex
        {
            errors.push(FieldError::new(
                "person.sex",
                format!(
                    "is {sex}, but the NIK encodes {} (day of birth {} 40)",
                    self.sex,
                    if self.sex == Sex::Female {
                        "+"
                    } else {
                        "without"
                    }
                ),
            ));
        }
        if let Some(date) = birth_date {
            let matches = date.day() == self.day
                && date.month() == self.month
                && date.year() as u32 % 100 == self.year_of_century;
            if !matches {
                errors.push(FieldError::new(
                    "person.birth_date",
                    format!(
                        "is {date}, but the NIK encodes {:02}-{:02}-..{:02}",
                        self.day, self.month, self.year_of_century
                    ),
                ));
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
    }

    #[test]
    fn a_man_from_pontianak_born_in_1990() {
        let nik = Nik::parse("6171011505900001").unwrap();
        assert_eq!(nik.sex(), Sex::Male);
        assert_eq!(nik.regency().as_str(), "61.71");
        assert_eq!(
            nik.birth_date(today()),
            NaiveDate::from_ymd_opt(1990, 5, 15)
        );
    }

    #[test]
    fn a_woman_has_forty_added_to_her_day() {
        let nik = Nik::parse("6101025507020003").unwrap();
        assert_eq!(nik.sex(), Sex::Female);
        assert_eq!(
            nik.birth_date(today()),
            NaiveDate::from_ymd_opt(2002, 7, 15)
        );
    }

    #[test]
    fn groups_may_be_separated() {
        assert_eq!(
            Nik::parse("6171 0115 0590 0001").unwrap().as_str(),
            "6171011505900001"
        );
    }

    #[test]
    fn the_shape_is_checked() {
        assert!(Nik::parse("617101150590000").is_err());
        assert!(Nik::parse("61710115059000012").is_err());
        assert!(Nik::parse("61710115059O0001").is_err());
    }

    #[test]
    fn the_regency_must_exist() {
        let err = Nik::parse("6199011505900001").unwrap_err();
        assert!(err.contains("regency"), "{err}");
        // 61 alone is a province, 6105 a regency: BPS 6105 is not what this checks.
        assert!(Nik::parse("9999011505900001").is_err());
    }

    #[test]
    fn the_birth_date_must_be_real() {
        assert!(Nik::parse("6171013102900001").is_err(), "31 February");
        assert!(Nik::parse("6171013213900001").is_err(), "month 13");
        assert!(Nik::parse("6171017205900001").is_err(), "day 72");
        assert!(Nik::parse("6171010000900001").is_err(), "day 0");
        assert!(Nik::parse("6171012902000001").is_ok(), "29 February 2000");
    }

    #[test]
    fn sex_and_birth_date_must_agree() {
        let nik = Nik::parse("6171011505900001").unwrap();
        assert!(
            nik.check_agreement(Some(Sex::Male), NaiveDate::from_ymd_opt(1990, 5, 15))
                .is_empty()
        );
        let errors = nik.check_agreement(Some(Sex::Female), NaiveDate::from_ymd_opt(1991, 5, 15));
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["person.sex", "person.birth_date"]);
    }
}
