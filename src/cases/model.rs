//! The vocabulary of cases and persons.

use crate::regions::RegionCode;

crate::text_enum! {
    /// Sex as recorded on identity documents (jenis kelamin).
    pub enum Sex {
        /// Laki-laki.
        Male => "male",
        /// Perempuan.
        Female => "female",
    }
}

crate::text_enum! {
    /// Why the person is a case.
    pub enum CaseCategory {
        /// A migrant worker with problems (PMI bermasalah).
        MigrantWorker => "migrant_worker",
        /// An undocumented migrant (WNI-M, deported).
        UndocumentedMigrant => "undocumented_migrant",
        /// A victim of trafficking (korban TPPO).
        TraffickingVictim => "trafficking_victim",
    }
}

crate::text_enum! {
    /// Where the person entered Indonesia.
    pub enum EntryPoint {
        /// PLBN Entikong land border post (Sanggau).
        PlbnEntikong => "plbn_entikong",
        /// PLBN Aruk land border post (Sambas).
        PlbnAruk => "plbn_aruk",
        /// PLBN Nanga Badau land border post (Kapuas Hulu).
        PlbnNangaBadau => "plbn_nanga_badau",
        /// Pelabuhan Dwikora, the port of Pontianak.
        PelabuhanDwikoraPontianak => "pelabuhan_dwikora_pontianak",
        /// Bandara Supadio, Pontianak's airport.
        BandaraSupadio => "bandara_supadio",
        /// Anywhere else.
        Other => "other",
    }
}

crate::text_enum! {
    /// A need the case must address.
    pub enum Need {
        /// Medical care.
        Health => "health",
        /// Psychosocial support.
        Psychosocial => "psychosocial",
        /// Legal aid.
        Legal => "legal",
        /// A child travelling alone.
        UnaccompaniedMinor => "unaccompanied_minor",
    }
}

crate::text_enum! {
    /// An identity or travel document the person holds.
    pub enum DocumentKind {
        /// A passport.
        Passport => "passport",
        /// SPLP, the travel document issued instead of a passport.
        Splp => "splp",
        /// KTP, the identity card.
        Ktp => "ktp",
        /// Kartu Keluarga, the family card.
        FamilyCard => "family_card",
        /// A birth certificate.
        BirthCertificate => "birth_certificate",
        /// A work contract.
        WorkContract => "work_contract",
        /// Any other document.
        Other => "other",
    }
}

crate::text_enum! {
    /// The returnee's consent to share their data beyond the government
    /// agencies involved in their return (persetujuan).
    pub enum Consent {
        /// Not asked or not recorded yet: treated as refused.
        Unknown => "unknown",
        /// Given.
        Given => "given",
        /// Refused.
        Refused => "refused",
    }
}

crate::text_enum! {
    /// Who pays for the return, following from the origin.
    pub enum FundingScope {
        /// Origin outside the handling province: the national budget (APBN, Kemensos DIPA).
        Apbn => "apbn",
        /// Origin inside the handling province: shared between the province's and the regency's APBD.
        ApbdShared => "apbd_shared",
    }
}

/// The funding scope of a return from `origin` handled in `handling_province`.
pub fn funding_scope(origin: &RegionCode, handling_province: &RegionCode) -> FundingScope {
    if origin.province() == handling_province.province() {
        FundingScope::ApbdShared
    } else {
        FundingScope::Apbn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_return_inside_the_province_is_shared_and_one_outside_is_national() {
        let kalbar = RegionCode::parse("61").unwrap();
        assert_eq!(
            funding_scope(&RegionCode::parse("61.71").unwrap(), &kalbar),
            FundingScope::ApbdShared
        );
        assert_eq!(
            funding_scope(&RegionCode::parse("35.07").unwrap(), &kalbar),
            FundingScope::Apbn
        );
    }
}
