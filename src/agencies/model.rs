//! The agency record and its kinds.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::regions::RegionCode;
use crate::schema::agencies;

crate::text_enum! {
    /// What kind of organisation an agency is; it decides what the agency's users may see and do.
    pub enum AgencyKind {
        /// The operator of this Pulang installation (system administrators).
        System => "system",
        /// Kementerian Sosial (Kemensos), the Ministry of Social Affairs.
        Ministry => "ministry",
        /// BP3TKI / BP2MI migrant-worker protection service.
        MigrantProtectionService => "migrant_protection_service",
        /// Dinas Sosial Provinsi, a provincial social service.
        ProvincialSocialService => "provincial_social_service",
        /// Dinas Sosial Kabupaten/Kota, a regency or city social service.
        RegencySocialService => "regency_social_service",
        /// Biro Kesra Setda, the provincial secretariat's welfare bureau.
        ProvincialSecretariat => "provincial_secretariat",
        /// A shelter (RPTC, rumah singgah).
        Shelter => "shelter",
        /// Police (Polda, Polres).
        Police => "police",
        /// Any other organisation.
        Other => "other",
    }
}

/// An agency.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = agencies)]
#[schema(example = json!({
    "id": "5c1d2f9e-8f43-4f59-9a3e-5d1c2b7a9e11", "code": "DINSOS-KALBAR",
    "name": "Dinas Sosial Provinsi Kalimantan Barat", "kind": "provincial_social_service",
    "region_code": "61", "parent_id": null, "email": "dinsos@kalbarprov.go.id", "phone": "+62561736541",
    "address": "Jl. Sutan Syahrir No. 17, Pontianak", "active": true,
    "created_at": "2026-11-29T04:00:00Z", "updated_at": "2026-11-29T04:00:00Z"
}))]
pub struct Agency {
    /// The agency's id.
    pub id: Uuid,
    /// Unique short code, upper case (`DINSOS-KALBAR`).
    pub code: String,
    /// Official name.
    pub name: String,
    /// What kind of organisation it is.
    pub kind: AgencyKind,
    /// The region it covers (dotted code): a province for provincial agencies, a regency for regency ones.
    pub region_code: Option<String>,
    /// The agency it reports to, if any.
    pub parent_id: Option<Uuid>,
    /// Contact e-mail.
    pub email: Option<String>,
    /// Contact telephone.
    pub phone: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// Deactivated agencies keep their records; their users and clients cannot sign in.
    pub active: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A new agency.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "code": "DINSOS-6171", "name": "Dinas Sosial Kota Pontianak", "kind": "regency_social_service",
    "region_code": "61.71", "email": "dinsos@pontianak.go.id"
}))]
pub struct NewAgency {
    /// Unique short code: 2 to 32 upper-case letters, digits, `-` or `_`.
    pub code: String,
    /// Official name.
    #[schema(max_length = 200)]
    pub name: String,
    /// What kind of organisation it is.
    pub kind: AgencyKind,
    /// The region it covers: required (a province) for provincial social services and
    /// secretariats, required (a regency) for regency social services, absent for the ministry.
    pub region_code: Option<RegionCode>,
    /// The agency it reports to.
    pub parent_id: Option<Uuid>,
    /// Contact e-mail.
    #[schema(max_length = 254, format = Email)]
    pub email: Option<String>,
    /// Contact telephone.
    pub phone: Option<String>,
    /// Postal address.
    pub address: Option<String>,
}

/// Changes to an agency; absent fields stay as they are, `null` clears an optional one.
/// Code and kind never change: create a new agency instead.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"phone": "+62561000000", "active": false}))]
pub struct AgencyPatch {
    /// Official name.
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// The region it covers.
    #[serde(default, deserialize_with = "crate::http::patch::double_option")]
    #[schema(value_type = Option<RegionCode>)]
    pub region_code: Option<Option<RegionCode>>,
    /// The agency it reports to.
    #[serde(default, deserialize_with = "crate::http::patch::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<Option<Uuid>>,
    /// Contact e-mail.
    #[serde(default, deserialize_with = "crate::http::patch::double_option")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 254, format = Email)]
    pub email: Option<Option<String>>,
    /// Contact telephone.
    #[serde(default, deserialize_with = "crate::http::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// Postal address.
    #[serde(default, deserialize_with = "crate::http::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
    /// `false` deactivates the agency (never deleted); `true` reactivates it.
    pub active: Option<bool>,
}
