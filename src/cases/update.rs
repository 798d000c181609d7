//! Changing a case: the patch is laid over the current case and the result
//! checked by the same rules as a new case.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::identity;
use super::input::{CaseInput, PersonInput, ValidCase, ValidPerson};
use super::model::{CaseCategory, DocumentKind, EntryPoint, Need, Sex};
use super::view::{CaseRow, CaseView};
use crate::changes::{CaseEntry, HistoryAction};
use crate::error::{ApiError, ApiResult};
use crate::http::patch::double_option;
use crate::schema::cases;

/// Changes to the person; absent fields stay, `null` clears.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonPatch {
    /// Full name.
    pub full_name: Option<String>,
    /// NIK.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub nik: Option<Option<String>>,
    /// Passport or SPLP number.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub passport_number: Option<Option<String>>,
    /// Sex.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Sex>)]
    pub sex: Option<Option<Sex>>,
    /// Birth date.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub birth_date: Option<Option<NaiveDate>>,
    /// Place of birth.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub birth_place: Option<Option<String>>,
    /// Telephone.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
}

/// Changes to a case; absent fields stay, `null` clears an optional one.
/// The handling province, source and external reference never change.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"shelter": "RPTC Pontianak", "needs": ["health", "psychosocial"], "person": {"phone": "+6281234567890"}}))]
pub struct CasePatch {
    /// Changes to the person.
    pub person: Option<PersonPatch>,
    /// Category.
    pub category: Option<CaseCategory>,
    /// Signs of trafficking.
    pub trafficking_indicated: Option<bool>,
    /// Arrival time.
    pub arrived_at: Option<DateTime<Utc>>,
    /// Entry point.
    pub entry_point: Option<EntryPoint>,
    /// Country left.
    pub country_left: Option<String>,
    /// Documents held (replaces the list).
    pub documents: Option<Vec<DocumentKind>>,
    /// Regency of origin.
    #[schema(value_type = Option<crate::regions::RegionCode>)]
    pub origin_region: Option<String>,
    /// Address of origin.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub origin_address: Option<Option<String>>,
    /// Needs (replaces the list).
    pub needs: Option<Vec<Need>>,
    /// Shelter.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub shelter: Option<Option<String>>,
    /// Notes.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
}

/// The case as an input, so that a patch can be checked like a new case.
fn as_input(case: &CaseView) -> CaseInput {
    let p = &case.person;
    CaseInput {
        person: PersonInput {
            full_name: p.full_name.clone(),
            nik: p.nik.clone(),
            passport_number: p.passport_number.clone(),
            sex: p.sex,
            birth_date: p.birth_date.and_then(|d| d.whole()),
            birth_place: p.birth_place.clone(),
            phone: p.phone.clone(),
        },
        category: case.category,
        trafficking_indicated: case.trafficking_indicated,
        arrived_at: case.arrived_at,
        entry_point: case.entry_point,
        country_left: case.country_left.clone(),
        documents: case.documents.clone(),
        origin_region: case.origin_region.clone(),
        origin_address: case.origin_address.clone(),
        needs: case.needs.clone(),
        shelter: case.shelter.clone(),
        handling_province: Some(case.handling_province.clone()),
        external_reference: case.external_reference.clone(),
        notes: case.notes.clone(),
    }
}

/// Lays `patch` over `case`.
fn overlay(mut input: CaseInput, patch: CasePatch) -> CaseInput {
    if let Some(p) = patch.person {
        let person = &mut input.person;
        if let Some(v) = p.full_name {
            person.full_name = v;
        }
        if let Some(v) = p.nik {
            person.nik = v;
        }
        if let Some(v) = p.passport_number {
            person.passport_number = v;
        }
        if let Some(v) = p.sex {
            person.sex = v;
        }
        if let Some(v) = p.birth_date {
            person.birth_date = v;
        }
        if let Some(v) = p.birth_place {
            person.birth_place = v;
        }
        if let Some(v) = p.phone {
            person.phone = v;
        }
    }
    macro_rules! take {
        ($($field:ident),*) => {$(if let Some(v) = patch.$field { input.$field = v; })*};
    }
    take!(
        category,
        trafficking_indicated,
        arrived_at,
        entry_point,
        country_left,
        documents,
        origin_region,
        origin_address,
        needs,
        shelter,
        notes
    );
    input
}

/// The names of the fields a patch sets (as in [`super::reports::WORKER_FIELDS`]).
fn patched_fields(patch: &CasePatch) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if let Some(p) = &patch.person {
        let person = [
            ("full_name", p.full_name.is_some()),
            ("nik", p.nik.is_some()),
            ("passport_number", p.passport_number.is_some()),
            ("sex", p.sex.is_some()),
            ("birth_date", p.birth_date.is_some()),
            ("birth_place", p.birth_place.is_some()),
            ("phone", p.phone.is_some()),
        ];
        fields.extend(person.iter().filter(|f| f.1).map(|f| f.0));
    }
    let case = [
        ("category", patch.category.is_some()),
        (
            "trafficking_indicated",
            patch.trafficking_indicated.is_some(),
        ),
        ("arrived_at", patch.arrived_at.is_some()),
        ("entry_point", patch.entry_point.is_some()),
        ("country_left", patch.country_left.is_some()),
        ("documents", patch.documents.is_some()),
        ("origin_region", patch.origin_region.is_some()),
        ("origin_address", patch.origin_address.is_some()),
        ("needs", patch.needs.is_some()),
        ("shelter", patch.shelter.is_some()),
        ("notes", patch.notes.is_some()),
    ];
    fields.extend(case.iter().filter(|f| f.1).map(|f| f.0));
    fields
}

/// Applies a patch to a locked case: validates, writes person and case.
/// Returns the case after, with the history entry of the change.
pub async fn apply_patch(
    conn: &mut AsyncPgConnection,
    before: &CaseView,
    patch: CasePatch,
) -> ApiResult<(CaseView, CaseEntry)> {
    amend(conn, before, patch, HistoryAction::Updated, None).await
}

/// Applies a patch to a locked case as `action` (an update, or an identity
/// correction with its reason): validates and writes. Returns the case after,
/// with the history entry of that action.
pub async fn amend(
    conn: &mut AsyncPgConnection,
    before: &CaseView,
    patch: CasePatch,
    action: HistoryAction,
    reason: Option<&str>,
) -> ApiResult<(CaseView, CaseEntry)> {
    let fields = patched_fields(&patch);
    let valid: ValidCase = overlay(as_input(before), patch)
        .validate(Utc::now(), None)
        .map_err(ApiError::validation)?;
    let after = write_case(conn, before, &valid).await?;
    // What a case worker sets wins over every report, now and later.
    super::reports::mark_worker_fields(conn, before.id, &fields).await?;
    let mut entry = CaseEntry::new(after.id, action)
        .before(before)
        .after(&after);
    entry.reason = reason.map(str::to_owned);
    Ok((after, entry))
}

/// Whether `new` links to another identity than the case's: a changed NIK,
/// or, without a NIK, a changed passport number.
fn identity_key_changed(before: &CaseView, new: &ValidPerson) -> bool {
    new.nik != before.person.nik
        || (new.nik.is_none() && new.passport_number != before.person.passport_number)
}

/// Writes a validated case over a locked one: its own fields and the
/// returnee as recorded at this return, never another case's. A changed NIK
/// (or passport without a NIK) links the case to that identity; the repeat
/// flags of both identities' returns are recounted. Returns the case after,
/// version + 1.
pub async fn write_case(
    conn: &mut AsyncPgConnection,
    before: &CaseView,
    valid: &ValidCase,
) -> QueryResult<CaseView> {
    let p = &valid.person;
    let old_identity = before.person.id;
    let identity = if identity_key_changed(before, p) {
        identity::resolve(conn, &[p]).await?[0]
    } else {
        old_identity
    };
    identity::lock(conn, &[old_identity, identity]).await?;
    diesel::update(cases::table.find(before.id))
        .set((
            (
                cases::category.eq(valid.category),
                cases::trafficking_indicated.eq(valid.trafficking_indicated),
                cases::arrived_at.eq(valid.arrived_at),
                cases::entry_point.eq(valid.entry_point),
                cases::country_left.eq(&valid.country_left),
                cases::documents.eq(&valid.documents),
                cases::origin_region.eq(valid.origin_region.as_str()),
                cases::origin_province.eq(valid.origin_region.province().as_str().to_owned()),
                cases::origin_address.eq(&valid.origin_address),
                cases::needs.eq(&valid.needs),
                cases::shelter.eq(&valid.shelter),
                cases::funding_scope.eq(valid.funding_scope),
                cases::notes.eq(&valid.notes),
                cases::version.eq(cases::version + 1),
                cases::updated_at.eq(Utc::now()),
            ),
            (
                cases::person_id.eq(identity),
                cases::full_name.eq(&p.full_name),
                cases::passport_number.eq(&p.passport_number),
                cases::sex.eq(p.sex.map(|s| s.as_str())),
                cases::birth_date.eq(p.birth_date),
                cases::birth_place.eq(&p.birth_place),
                cases::phone.eq(&p.phone),
            ),
        ))
        .execute(conn)
        .await?;
    if identity != old_identity || valid.arrived_at != before.arrived_at {
        identity::reconcile(conn, &[old_identity, identity], &[], &[before.id]).await?;
    }
    if identity != old_identity {
        identity::forget_if_unused(conn, old_identity).await?;
    }
    let row: CaseRow = cases::table
        .find(before.id)
        .select(CaseRow::as_select())
        .first(conn)
        .await?;
    let mut after = CaseView::new(row, p.nik.clone());
    after.transfer = before.transfer.clone();
    Ok(after)
}
