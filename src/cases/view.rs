//! Cases and persons as stored and as answered.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{CaseCategory, DocumentKind, EntryPoint, FundingScope, Need, Sex};
use super::status::CaseStatus;
use crate::schema::{cases, persons};

/// A person: the identity behind one or more returns.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = persons)]
#[schema(example = json!({
    "id": "3f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", "full_name": "Siti Nurhaliza", "nik": "6171015505900002",
    "passport_number": "C1234567", "sex": "female", "birth_date": "1990-05-15", "birth_place": "Pontianak",
    "phone": "+6281234567890", "created_at": "2019-03-14T09:31:00Z", "updated_at": "2019-03-14T09:31:00Z"
}))]
pub struct Person {
    /// The person's id.
    pub id: Uuid,
    /// Full name.
    pub full_name: String,
    /// NIK, 16 digits.
    pub nik: Option<String>,
    /// Passport or SPLP number.
    pub passport_number: Option<String>,
    /// Sex.
    pub sex: Option<Sex>,
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
    /// Place of birth.
    pub birth_place: Option<String>,
    /// Telephone.
    pub phone: Option<String>,
    /// When the person was first recorded.
    pub created_at: DateTime<Utc>,
    /// When the identity last changed.
    pub updated_at: DateTime<Utc>,
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
    "id": "8e2f0a4b-1c3d-4e5f-8a9b-0c1d2e3f4a5b", "case_number": "KB-2019-000042",
    "person": {"id": "3f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", "full_name": "Siti Nurhaliza",
               "nik": "6171015505900002", "passport_number": null, "sex": "female", "birth_date": "1990-05-15",
               "birth_place": null, "phone": null,
               "created_at": "2019-03-14T09:31:00Z", "updated_at": "2019-03-14T09:31:00Z"},
    "category": "trafficking_victim", "trafficking_indicated": true, "arrived_at": "2019-03-14T09:30:00Z",
    "entry_point": "plbn_entikong", "country_left": "MY", "documents": ["splp"], "origin_region": "61.71",
    "origin_province": "61", "origin_address": "Jl. Tanjungpura, Pontianak", "needs": ["psychosocial"],
    "shelter": "RPTC Pontianak", "status": "sheltered", "handling_province": "61", "funding_scope": "apbd_shared",
    "source_agency_id": "5c1d2f9e-8f43-4f59-9a3e-5d1c2b7a9e11", "external_reference": "BP3TKI-PTK-2019-00042",
    "notes": null, "repeat_return": false, "transfer": null, "version": 3,
    "created_at": "2019-03-14T09:31:00Z", "updated_at": "2019-03-15T02:00:00Z"
}))]
pub struct CaseView {
    /// The case's id.
    pub id: Uuid,
    /// Human-readable number, unique per year: `KB-<year>-<serial>`.
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
    /// Whether this person had returned before (a warning sign of re-trafficking).
    pub repeat_return: bool,
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
    /// Joins a case row with its person.
    pub fn new(case: CaseRow, person: Person) -> Self {
        Self {
            id: case.id,
            case_number: case.case_number,
            person,
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
}
