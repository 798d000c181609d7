//! A case as a client sends it, and its validation into a [`ValidCase`].
//! Plain Rust: every rule here is unit-tested without a database.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::countries::is_country;
use super::model::{
    CaseCategory, DocumentKind, EntryPoint, FundingScope, Need, Sex, funding_scope,
};
use super::nik::Nik;
use crate::error::FieldError;
use crate::regions::{RegionCode, catalog};
use crate::text::check_field;

/// The identity of the returnee.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "full_name": "Siti Nurhaliza", "nik": "6171015505900002", "passport_number": "C1234567",
    "sex": "female", "birth_date": "1990-05-15", "birth_place": "Pontianak", "phone": "+6281234567890"
}))]
pub struct PersonInput {
    /// Full name as on the identity or travel document.
    #[schema(max_length = 200)]
    pub full_name: String,
    /// NIK, 16 digits; checked against the regency list and against `sex` and `birth_date`.
    pub nik: Option<String>,
    /// Passport or SPLP travel-document number.
    pub passport_number: Option<String>,
    /// Sex; taken from the NIK when absent.
    pub sex: Option<Sex>,
    /// Birth date; taken from the NIK when absent.
    pub birth_date: Option<NaiveDate>,
    /// Place of birth.
    #[schema(max_length = 100)]
    pub birth_place: Option<String>,
    /// Telephone number.
    #[schema(max_length = 30)]
    pub phone: Option<String>,
}

/// A case as created by a case worker or pushed by a migrant-protection or ministry system.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "person": {"full_name": "Siti Nurhaliza", "nik": "6171015505900002", "sex": "female"},
    "category": "trafficking_victim", "trafficking_indicated": true,
    "arrived_at": "2019-03-14T09:30:00Z", "entry_point": "plbn_entikong", "country_left": "MY",
    "documents": ["splp"], "origin_region": "61.71", "origin_address": "Jl. Tanjungpura, Pontianak",
    "needs": ["psychosocial"], "shelter": "RPTC Pontianak", "external_reference": "BP3TKI-PTK-2019-00042"
}))]
pub struct CaseInput {
    /// Who returns.
    pub person: PersonInput,
    /// Why the person is a case.
    pub category: CaseCategory,
    /// Whether there are signs of trafficking (on any category).
    #[serde(default)]
    pub trafficking_indicated: bool,
    /// When the person arrived (RFC 3339).
    pub arrived_at: DateTime<Utc>,
    /// Where the person entered.
    pub entry_point: EntryPoint,
    /// The country left, ISO 3166-1 alpha-2 (`MY` Malaysia).
    pub country_left: String,
    /// Documents the person holds.
    #[serde(default)]
    pub documents: Vec<DocumentKind>,
    /// The regency (kabupaten/kota) of origin, `61.71` or `6171`.
    #[schema(value_type = crate::regions::RegionCode)]
    pub origin_region: String,
    /// Address in the region of origin.
    #[schema(max_length = 300)]
    pub origin_address: Option<String>,
    /// Needs to address.
    #[serde(default)]
    pub needs: Vec<Need>,
    /// The shelter where the person stays.
    #[schema(max_length = 200)]
    pub shelter: Option<String>,
    /// The province handling the return (`61`); defaults to the province of the caller's agency.
    #[schema(value_type = Option<crate::regions::RegionCode>)]
    pub handling_province: Option<String>,
    /// The source system's own reference; with the source agency it identifies the case in pushes.
    #[schema(max_length = 100)]
    pub external_reference: Option<String>,
    /// Free notes; tabs and line breaks allowed.
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
}

/// A validated person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidPerson {
    /// Full name, whitespace normalised.
    pub full_name: String,
    /// NIK, 16 digits.
    pub nik: Option<String>,
    /// Passport number, upper case.
    pub passport_number: Option<String>,
    /// Sex.
    pub sex: Option<Sex>,
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
    /// Place of birth.
    pub birth_place: Option<String>,
    /// Telephone.
    pub phone: Option<String>,
}

/// A validated case, ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidCase {
    /// The person.
    pub person: ValidPerson,
    /// Category.
    pub category: CaseCategory,
    /// Trafficking indication.
    pub trafficking_indicated: bool,
    /// Arrival.
    pub arrived_at: DateTime<Utc>,
    /// Entry point.
    pub entry_point: EntryPoint,
    /// Country left.
    pub country_left: String,
    /// Documents, sorted, without repeats.
    pub documents: Vec<DocumentKind>,
    /// Regency of origin.
    pub origin_region: RegionCode,
    /// Address of origin.
    pub origin_address: Option<String>,
    /// Needs, sorted, without repeats.
    pub needs: Vec<Need>,
    /// Shelter.
    pub shelter: Option<String>,
    /// Handling province.
    pub handling_province: RegionCode,
    /// Funding scope.
    pub funding_scope: FundingScope,
    /// Source reference.
    pub external_reference: Option<String>,
    /// Notes.
    pub notes: Option<String>,
}

/// The earliest arrival the API accepts: nothing older is a plausible record.
pub fn earliest_arrival() -> DateTime<Utc> {
    DateTime::<Utc>::from_naive_utc_and_offset(
        NaiveDate::from_ymd_opt(2000, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or_default(),
        Utc,
    )
}

/// The earliest birth date the API accepts.
pub fn earliest_birth_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default()
}

/// Trims, collapses inner whitespace, and turns empty text into `None`.
pub fn clean(text: Option<String>) -> Option<String> {
    text.map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty())
}

impl PersonInput {
    /// Validates the person; `prefix` names the fields (`person.`).
    pub fn validate(self, today: NaiveDate, errors: &mut Vec<FieldError>) -> Option<ValidPerson> {
        let before = errors.len();
        let full_name = clean(check_field(
            "person.full_name",
            Some(self.full_name),
            usize::MAX,
            false,
            errors,
        ))
        .unwrap_or_default();
        let name_readable = errors.len() == before;
        if name_readable && full_name.is_empty() {
            errors.push(FieldError::new("person.full_name", "must not be empty"));
        } else if name_readable && full_name.chars().count() > 200 {
            errors.push(FieldError::new(
                "person.full_name",
                "must be at most 200 characters",
            ));
        }
        let mut sex = self.sex;
        let mut birth_date = self.birth_date;
        if birth_date.is_some_and(|d| d > today) {
            errors.push(FieldError::new("person.birth_date", "is in the future"));
        } else if birth_date.is_some_and(|d| d < earliest_birth_date()) {
            errors.push(FieldError::new(
                "person.birth_date",
                "must be 1900-01-01 or later",
            ));
        }
        let birth_place = clean(check_field(
            "person.birth_place",
            self.birth_place,
            100,
            false,
            errors,
        ));
        let phone = clean(check_field("person.phone", self.phone, 30, false, errors));
        let nik = match clean(self.nik) {
            None => None,
            Some(raw) => match Nik::parse(&raw) {
                Err(message) => {
                    errors.push(FieldError::new("person.nik", message));
                    None
                }
                Ok(nik) => {
                    errors.extend(nik.check_agreement(sex, birth_date));
                    sex = sex.or(Some(nik.sex()));
                    birth_date = birth_date.or_else(|| nik.birth_date(today));
                    Some(nik.as_str().to_owned())
                }
            },
        };
        let passport_number =
            clean(self.passport_number).map(|p| p.replace(' ', "").to_uppercase());
        if let Some(p) = &passport_number
            && !(5..=20).contains(&p.len())
        {
            errors.push(FieldError::new(
                "person.passport_number",
                "must be 5 to 20 letters and digits",
            ));
        } else if passport_number
            .as_ref()
            .is_some_and(|p| !p.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            errors.push(FieldError::new(
                "person.passport_number",
                "must be 5 to 20 letters and digits",
            ));
        }
        (errors.len() == before).then_some(ValidPerson {
            full_name,
            nik,
            passport_number,
            sex,
            birth_date,
            birth_place,
            phone,
        })
    }
}

impl CaseInput {
    /// Validates the case. `default_province` is the caller's agency's province.
    pub fn validate(
        self,
        now: DateTime<Utc>,
        default_province: Option<&RegionCode>,
    ) -> Result<ValidCase, Vec<FieldError>> {
        let mut errors = Vec::new();
        let person = self.person.validate(now.date_naive(), &mut errors);
        if self.arrived_at > now + chrono::Duration::days(1) {
            errors.push(FieldError::new(
                "arrived_at",
                "is in the future (at most one day ahead is accepted)",
            ));
        } else if self.arrived_at < earliest_arrival() {
            errors.push(FieldError::new(
                "arrived_at",
                "must be 2000-01-01T00:00:00Z or later",
            ));
        }
        let origin_address = clean(check_field(
            "origin_address",
            self.origin_address,
            300,
            false,
            &mut errors,
        ));
        let shelter = clean(check_field(
            "shelter",
            self.shelter,
            200,
            false,
            &mut errors,
        ));
        let notes = check_field("notes", self.notes, 4000, true, &mut errors);
        let country_left = self.country_left.trim().to_uppercase();
        if !is_country(&country_left) {
            errors.push(FieldError::new(
                "country_left",
                "must be an ISO 3166-1 alpha-2 country code, such as MY",
            ));
        } else if country_left == "ID" {
            errors.push(FieldError::new(
                "country_left",
                "is the country being returned to, not the one left",
            ));
        }
        let origin_region = match RegionCode::parse(&self.origin_region) {
            Ok(code) if catalog::is_regency(&code) => Some(code),
            Ok(code) if catalog::is_province(&code) => {
                errors.push(FieldError::new(
                    "origin_region",
                    format!("{code} is a province; give the kabupaten/kota"),
                ));
                None
            }
            Ok(code) => {
                errors.push(FieldError::new(
                    "origin_region",
                    format!("there is no regency {code}"),
                ));
                None
            }
            Err(e) => {
                errors.push(FieldError::new("origin_region", e));
                None
            }
        };
        let handling_province = match self.handling_province.as_deref().map(RegionCode::parse) {
            Some(Ok(code)) if catalog::is_province(&code) => Some(code),
            Some(Ok(code)) => {
                errors.push(FieldError::new(
                    "handling_province",
                    format!("{code} is not a province"),
                ));
                None
            }
            Some(Err(e)) => {
                errors.push(FieldError::new("handling_province", e));
                None
            }
            None => match default_province {
                Some(p) => Some(p.province()),
                None => {
                    errors.push(FieldError::new(
                        "handling_province",
                        "is required: your agency covers no province to default to",
                    ));
                    None
                }
            },
        };
        let external_reference = clean(check_field(
            "external_reference",
            self.external_reference,
            usize::MAX,
            false,
            &mut errors,
        ));
        if external_reference
            .as_ref()
            .is_some_and(|r| r.chars().count() > 100)
        {
            errors.push(FieldError::new(
                "external_reference",
                "must be at most 100 characters",
            ));
        }
        let (Some(person), Some(origin_region), Some(handling_province), true) =
            (person, origin_region, handling_province, errors.is_empty())
        else {
            return Err(errors);
        };
        let mut documents = self.documents;
        documents.sort();
        documents.dedup();
        let mut needs = self.needs;
        needs.sort();
        needs.dedup();
        Ok(ValidCase {
            funding_scope: funding_scope(&origin_region, &handling_province),
            person,
            category: self.category,
            trafficking_indicated: self.trafficking_indicated
                || self.category == CaseCategory::TraffickingVictim,
            arrived_at: self.arrived_at,
            entry_point: self.entry_point,
            country_left,
            documents,
            origin_region,
            origin_address,
            needs,
            shelter,
            handling_province,
            external_reference,
            notes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> CaseInput {
        serde_json::from_value(serde_json::json!({
            "person": {"full_name": "  Siti   Nurhaliza ", "nik": "6171015505900002"},
            "category": "trafficking_victim",
            "arrived_at": "2019-03-14T09:30:00Z",
            "entry_point": "plbn_entikong",
            "country_left": "my",
            "documents": ["splp", "splp"],
            "origin_region": "6171"
        }))
        .unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2026-11-29T00:00:00Z".parse().unwrap()
    }

    fn kalbar() -> RegionCode {
        RegionCode::parse("61").unwrap()
    }

    #[test]
    fn a_good_case_is_normalised_and_gets_its_funding_scope() {
        let case = input().validate(now(), Some(&kalbar())).unwrap();
        assert_eq!(case.person.full_name, "Siti Nurhaliza");
        assert_eq!(case.person.sex, Some(Sex::Female), "taken from the NIK");
        assert_eq!(case.person.birth_date, NaiveDate::from_ymd_opt(1990, 5, 15));
        assert_eq!(case.country_left, "MY");
        assert_eq!(case.documents, vec![DocumentKind::Splp]);
        assert_eq!(case.origin_region.as_str(), "61.71");
        assert_eq!(case.funding_scope, FundingScope::ApbdShared);
        assert!(case.trafficking_indicated);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut bad = input();
        bad.person.nik = Some("6171015505900002".into());
        bad.person.sex = Some(Sex::Male);
        bad.country_left = "XX".into();
        bad.origin_region = "61".into();
        bad.arrived_at = "2030-01-01T00:00:00Z".parse().unwrap();
        let errors = bad.validate(now(), Some(&kalbar())).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["person.sex", "arrived_at", "country_left", "origin_region"]
        );
    }

    #[test]
    fn an_origin_outside_the_province_is_paid_by_the_apbn() {
        let mut other = input();
        other.person.nik = None;
        other.origin_region = "35.07".into();
        assert_eq!(
            other
                .validate(now(), Some(&kalbar()))
                .unwrap()
                .funding_scope,
            FundingScope::Apbn
        );
    }

    #[test]
    fn a_national_agency_must_name_the_handling_province() {
        let errors = input().validate(now(), None).unwrap_err();
        assert_eq!(errors[0].field, "handling_province");
        let mut given = input();
        given.handling_province = Some("61".into());
        assert!(given.validate(now(), None).is_ok());
    }

    #[test]
    fn a_bad_nik_is_a_person_nik_error() {
        let mut bad = input();
        bad.person.nik = Some("1234".into());
        let errors = bad.validate(now(), Some(&kalbar())).unwrap_err();
        assert_eq!(errors[0].field, "person.nik");
    }
}
