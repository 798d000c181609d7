//! Cases and persons as stored and as answered.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{CaseCategory, Consent, DocumentKind, EntryPoint, FundingScope, Need, Sex};
use super::status::CaseStatus;
use crate::schema::{cases, persons};

/// A person as stored: the identity that links returns (the NIK, or a
/// passport number when there is no NIK) and what the NIK fixes. Everything
/// else about the returnee belongs to each case, as its agency recorded it.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = persons)]
pub struct Identity {
    /// The identity's id.
    pub id: Uuid,
    /// NIK, 16 digits.
    pub nik: Option<String>,
    /// The passport number that links returns of an identity without a NIK.
    pub passport_number: Option<String>,
    /// Sex, as the NIK fixes it.
    pub sex: Option<Sex>,
    /// Birth date, as the NIK fixes it.
    pub birth_date: Option<NaiveDate>,
    /// When the identity was first recorded.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A birth date as shown: whole (`1990-05-15`) or masked to its year (`1990-**-**`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShownDate {
    /// The whole date.
    Whole(NaiveDate),
    /// Only the year.
    Masked(i32),
}

impl ShownDate {
    /// The whole date, when it is shown whole.
    pub fn whole(self) -> Option<NaiveDate> {
        match self {
            Self::Whole(d) => Some(d),
            Self::Masked(_) => None,
        }
    }
}

impl std::fmt::Display for ShownDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Whole(d) => write!(f, "{d}"),
            Self::Masked(year) => write!(f, "{year:04}-**-**"),
        }
    }
}

impl Serialize for ShownDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The returnee as recorded at this return, by the agency handling it.
///
/// `id` is the person's identity, shared by every return of the same NIK (or
/// passport without a NIK); the other fields belong to this case alone.
/// Callers whose role does not handle the person (see the access policy's
/// `cases.read_personal_data`) get `nik`, `passport_number`, `phone`,
/// `birth_date` and `birth_place` masked (`6171********0002`, `1990-**-**`),
/// and `masked: true`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "3f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", "full_name": "Siti Nurhaliza", "nik": "6171015505900002",
    "passport_number": "C1234567", "sex": "female", "birth_date": "1990-05-15", "birth_place": "Pontianak",
    "phone": "+6281234567890", "masked": false
}))]
pub struct Person {
    /// The person's identity: the same for every return of the same NIK (or passport without a NIK).
    pub id: Uuid,
    /// Full name as spelled at this return.
    pub full_name: String,
    /// NIK, 16 digits (masked: the regency code and the last four digits).
    pub nik: Option<String>,
    /// Passport or SPLP number held at this return.
    pub passport_number: Option<String>,
    /// Sex.
    pub sex: Option<Sex>,
    /// Birth date, `YYYY-MM-DD`; masked, `YYYY-**-**`.
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{4}-([0-9]{2}-[0-9]{2}|\*\*-\*\*)$")]
    pub birth_date: Option<ShownDate>,
    /// Place of birth.
    pub birth_place: Option<String>,
    /// Telephone.
    pub phone: Option<String>,
    /// Whether the sensitive fields are masked for this caller.
    pub masked: bool,
}

/// A case as stored.
#[derive(Debug, Clone, PartialEq, Queryable, QueryableByName, Selectable, Serialize)]
#[diesel(table_name = cases)]
pub struct CaseRow {
    /// Id.
    pub id: Uuid,
    /// Case number.
    pub case_number: String,
    /// The person.
    pub person_id: Uuid,
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
    /// Documents held.
    pub documents: Vec<DocumentKind>,
    /// Regency of origin.
    pub origin_region: String,
    /// Province of origin.
    pub origin_province: String,
    /// Address of origin.
    pub origin_address: Option<String>,
    /// Needs.
    pub needs: Vec<Need>,
    /// Shelter.
    pub shelter: Option<String>,
    /// Status.
    pub status: CaseStatus,
    /// Handling province.
    pub handling_province: String,
    /// Funding scope.
    pub funding_scope: FundingScope,
    /// Source agency.
    pub source_agency_id: Uuid,
    /// Source reference.
    pub external_reference: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// Whether the person had returned before.
    pub repeat_return: bool,
    /// Version for optimistic concurrency.
    pub version: i32,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Name as spelled at this return.
    pub full_name: String,
    /// Passport held at this return.
    pub passport_number: Option<String>,
    /// Sex as stated.
    pub sex: Option<Sex>,
    /// Birth date as stated.
    pub birth_date: Option<NaiveDate>,
    /// Place of birth as stated.
    pub birth_place: Option<String>,
    /// Telephone at this return.
    pub phone: Option<String>,
    /// Returns of the same identity that arrived earlier.
    pub earlier_returns: i32,
    /// The returnee's latest consent decision.
    pub consent: Consent,
}

/// The transfer a case is in.
#[derive(Debug, Clone, Serialize, ToSchema, Queryable)]
pub struct CaseTransfer {
    /// The transfer's id.
    pub id: Uuid,
    /// Its reference.
    pub reference: String,
    /// Its status.
    pub status: crate::transfers::TransferStatus,
}

/// One return of one person: the case as answered by the API.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "8e2f0a4b-1c3d-4e5f-8a9b-0c1d2e3f4a5b", "case_number": "PLG-2019-000042",
    "person": {"id": "3f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", "full_name": "Siti Nurhaliza",
               "nik": "6171015505900002", "passport_number": null, "sex": "female", "birth_date": "1990-05-15",
               "birth_place": null, "phone": null, "masked": false},
    "category": "trafficking_victim", "trafficking_indicated": true, "arrived_at": "2019-03-14T09:30:00Z",
    "entry_point": "plbn_entikong", "country_left": "MY", "documents": ["splp"], "origin_region": "61.71",
    "origin_province": "61", "origin_address": "Jl. Tanjungpura, Pontianak", "needs": ["psychosocial"],
    "shelter": "RPTC Pontianak", "status": "sheltered", "handling_province": "61", "funding_scope": "apbd_shared",
    "source_agency_id": "5c1d2f9e-8f43-4f59-9a3e-5d1c2b7a9e11", "external_reference": "BP3TKI-PTK-2019-00042",
    "notes": null, "repeat_return": false, "earlier_returns": 0, "consent": "given", "transfer": null, "version": 3,
    "created_at": "2019-03-14T09:31:00Z", "updated_at": "2019-03-15T02:00:00Z"
}))]
pub struct CaseView {
    /// The case's id.
    pub id: Uuid,
    /// Human-readable number, unique per year: `PLG-<year>-<serial>`.
    pub case_number: String,
    /// Who returns.
    pub person: Person,
    /// Why the person is a case.
    pub category: CaseCategory,
    /// Signs of trafficking.
    pub trafficking_indicated: bool,
    /// Arrival time.
    pub arrived_at: DateTime<Utc>,
    /// Where the person entered.
    pub entry_point: EntryPoint,
    /// Country left (ISO 3166-1 alpha-2).
    pub country_left: String,
    /// Documents held.
    pub documents: Vec<DocumentKind>,
    /// Regency of origin (dotted code).
    pub origin_region: String,
    /// Province of origin.
    pub origin_province: String,
    /// Address in the region of origin.
    pub origin_address: Option<String>,
    /// Needs.
    pub needs: Vec<Need>,
    /// Shelter.
    pub shelter: Option<String>,
    /// Where the case stands.
    pub status: CaseStatus,
    /// The province handling the return.
    pub handling_province: String,
    /// Who pays: `apbn` (origin outside the handling province) or `apbd_shared`.
    pub funding_scope: FundingScope,
    /// The agency that registered or pushed the case.
    pub source_agency_id: Uuid,
    /// The source system's own reference.
    pub external_reference: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// Whether this person had returned before this arrival (a warning sign of
    /// re-trafficking). The first return of an identity is the one with the
    /// earliest arrival, whoever recorded it and wherever it is handled; when an
    /// earlier arrival is recorded late, the flag moves, with a
    /// `repeat_return_changed` history entry and change event.
    pub repeat_return: bool,
    /// How many returns of the same identity arrived before this one, across
    /// the country. Nothing else about those returns is shown outside their scope.
    pub earlier_returns: i32,
    /// The returnee's consent to share their data beyond the government
    /// agencies involved in their return; `unknown` counts as refused. Record
    /// it with `PUT /api/v1/cases/{id}/consent`.
    pub consent: Consent,
    /// The active transfer the case is in, if any.
    pub transfer: Option<CaseTransfer>,
    /// Version; the `ETag` is `"<version>"`. Send it as `If-Match` to update.
    pub version: i32,
    /// When the case was recorded.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl CaseView {
    /// A case row with its identity's NIK, as the API shows it (whole).
    pub fn new(case: CaseRow, nik: Option<String>) -> Self {
        Self {
            id: case.id,
            case_number: case.case_number,
            person: Person {
                id: case.person_id,
                full_name: case.full_name,
                nik,
                passport_number: case.passport_number,
                sex: case.sex,
                birth_date: case.birth_date.map(ShownDate::Whole),
                birth_place: case.birth_place,
                phone: case.phone,
                masked: false,
            },
            category: case.category,
            trafficking_indicated: case.trafficking_indicated,
            arrived_at: case.arrived_at,
            entry_point: case.entry_point,
            country_left: case.country_left,
            documents: case.documents,
            origin_region: case.origin_region,
            origin_province: case.origin_province,
            origin_address: case.origin_address,
            needs: case.needs,
            shelter: case.shelter,
            status: case.status,
            handling_province: case.handling_province,
            funding_scope: case.funding_scope,
            source_agency_id: case.source_agency_id,
            external_reference: case.external_reference,
            notes: case.notes,
            repeat_return: case.repeat_return,
            earlier_returns: case.earlier_returns,
            consent: case.consent,
            transfer: None,
            version: case.version,
            created_at: case.created_at,
            updated_at: case.updated_at,
        }
    }

    /// The entity tag of this version.
    pub fn etag(&self) -> String {
        crate::http::etag::tag(self.version)
    }

    /// The case as a caller who may not see personal data whole sees it.
    pub fn masked(mut self) -> Self {
        self.person = self.person.masked();
        self.origin_address = self.origin_address.map(|_| super::mask::TEXT.to_owned());
        self
    }

    /// The case whole, or masked unless `whole`.
    pub fn shown(self, whole: bool) -> Self {
        if whole { self } else { self.masked() }
    }
}

impl Person {
    /// The returnee with NIK, passport, phone, birth date and place masked.
    pub fn masked(self) -> Self {
        use super::mask;
        Self {
            nik: self.nik.as_deref().map(mask::nik),
            passport_number: self.passport_number.as_deref().map(mask::passport),
            birth_date: self.birth_date.map(|d| match d {
                ShownDate::Whole(d) => ShownDate::Masked(chrono::Datelike::year(&d)),
                masked => masked,
            }),
            birth_place: self.birth_place.map(|_| mask::TEXT.to_owned()),
            phone: self.phone.as_deref().map(mask::phone),
            masked: true,
            ..self
        }
    }
}
