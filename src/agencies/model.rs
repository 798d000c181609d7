//! The agency record and its kinds.

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
