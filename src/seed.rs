//! `pulang seed`: the agencies of the West Kalimantan story, each with a demo
//! account, created through the same code as the API. Idempotent: what exists
//! is left alone (demo passwords are only replaced with `--reset-passwords`).

use std::fmt::Write;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::admin::{NewUser, create_user};
use crate::agencies::handlers::insert_agency;
use crate::agencies::model::NewAgency;
use crate::agencies::{AgencyKind, queries};
use crate::audit::Actor;
use crate::auth::{Role, password};
use crate::changes::{self, Change};
use crate::regions::RegionCode;
use crate::schema::{api_clients, regions, users};

/// The province of the story: Kalimantan Barat.
pub const KALBAR: &str = "61";

/// A demo account to create.
struct DemoUser {
    username: String,
    roles: Vec<Role>,
    agency_code: String,
}

/// Creates the agencies and demo accounts; returns the report to print.
pub async fn west_kalimantan(
    conn: &mut AsyncPgConnection,
    reset_passwords: bool,
) -> anyhow::Result<String> {
    let actor = Actor::system();
    let mut agencies = vec![
        NewAgency {
            code: "KEMENSOS-RSTS-KPO".into(),
            name: "Direktorat Rehabilitasi Sosial Tuna Sosial dan Korban Perdagangan Orang, Kementerian Sosial RI"
                .into(),
            kind: AgencyKind::Ministry,
            region_code: None,
            parent_id: None,
            email: None,
            phone: None,
            address: Some("Jl. Salemba Raya No. 28, Jakarta Pusat".into()),
        },
        provincial("DINSOS-KALBAR", "Dinas Sosial Provinsi Kalimantan Barat", AgencyKind::ProvincialSocialService),
        provincial("BP3TKI-PONTIANAK", "BP3TKI Pontianak", AgencyKind::MigrantProtectionService),
        provincial(
            "BIRO-KESRA-KALBAR",
            "Biro Kesejahteraan Rakyat, Sekretariat Daerah Provinsi Kalimantan Barat",
            AgencyKind::ProvincialSecretariat,
        ),
    ];
    let regencies: Vec<(String, String)> = regions::table
        .filter(regions::parent_code.eq(KALBAR))
        .order(regions::code)
        .select((regions::code, regions::name))
        .load(conn)
        .await?;
    for (code, name) in &regencies {
        agencies.push(NewAgency {
            code: format!("DINSOS-{}", code.replace('.', "")),
            name: format!("Dinas Sosial {name}"),
            kind: AgencyKind::RegencySocialService,
            region_code: Some(RegionCode::parse(code).map_err(anyhow::Error::msg)?),
            parent_id: None,
            email: None,
            phone: None,
            address: None,
        });
    }

    let mut report = String::from("West Kalimantan agencies:\n");
    for agency in agencies {
        let code = agency.code.clone();
        let status = if queries::find_by_code(conn, &code).await?.is_some() {
            "exists"
        } else {
            insert_agency(conn, &actor, agency)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            "created"
        };
        writeln!(report, "  {code:<20} {status}")?;
    }

    let mut demo = vec![
        demo(
            "kemensos.keuangan",
            &[Role::FinanceOfficer, Role::Viewer],
            "KEMENSOS-RSTS-KPO",
        ),
        demo("dinsos.kalbar", &[Role::CaseWorker], "DINSOS-KALBAR"),
        demo("keuangan.kalbar", &[Role::FinanceOfficer], "DINSOS-KALBAR"),
        demo("admin.kalbar", &[Role::AgencyAdmin], "DINSOS-KALBAR"),
        demo("bp3tki.pontianak", &[Role::Viewer], "BP3TKI-PONTIANAK"),
        demo("kesra.kalbar", &[Role::Viewer], "BIRO-KESRA-KALBAR"),
    ];
    for (code, _) in &regencies {
        let plain = code.replace('.', "");
        demo.push(DemoUser {
            username: format!("dinsos.{plain}"),
            roles: vec![Role::CaseWorker, Role::FinanceOfficer],
            agency_code: format!("DINSOS-{plain}"),
        });
    }
    writeln!(report, "\nDemo users (sign in with grant_type=password):")?;
    writeln!(
        report,
        "  {:<20} {:<24} {:<20} roles",
        "username", "password", "agency"
    )?;
    for user in demo {
        let exists: bool = diesel::select(diesel::dsl::exists(
            users::table.filter(users::username.eq(&user.username)),
        ))
        .get_result(conn)
        .await?;
        let secret = password::random_secret(16);
        let shown = if !exists {
            create_user(
                conn,
                NewUser {
                    username: user.username.clone(),
                    full_name: format!("Demo {}", user.username),
                    roles: user.roles.clone(),
                    agency_code: Some(user.agency_code.clone()),
                    password: secret.clone(),
                },
            )
            .await?;
            secret
        } else if reset_passwords {
            let hash = password::hash(&secret)?;
            diesel::update(users::table.filter(users::username.eq(&user.username)))
                .set((
                    users::password_hash.eq(hash),
                    users::password_changed_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            secret
        } else {
            "(unchanged)".to_owned()
        };
        let roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
        writeln!(
            report,
            "  {:<20} {:<24} {:<20} {}",
            user.username,
            shown,
            user.agency_code,
            roles.join(",")
        )?;
    }

    let client = seed_client(conn, &actor, reset_passwords).await?;
    writeln!(
        report,
        "\nMachine client (sign in with grant_type=client_credentials):"
    )?;
    writeln!(
        report,
        "  client_id bp3tki-pontianak   client_secret {client}"
    )?;
    if !reset_passwords {
        writeln!(
            report,
            "\nExisting accounts keep their passwords; `pulang seed --reset-passwords` sets new ones."
        )?;
    }
    Ok(report)
}

fn provincial(code: &str, name: &str, kind: AgencyKind) -> NewAgency {
    NewAgency {
        code: code.into(),
        name: name.into(),
        kind,
        region_code: Some(RegionCode::parse(KALBAR).expect("a valid code")),
        parent_id: None,
        email: None,
        phone: None,
        address: Some("Pontianak, Kalimantan Barat".into()),
    }
}

fn demo(username: &str, roles: &[Role], agency_code: &str) -> DemoUser {
    DemoUser {
        username: username.into(),
        roles: roles.to_vec(),
        agency_code: agency_code.into(),
    }
}

/// The BP3TKI push client; returns its secret, or "(unchanged)".
async fn seed_client(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    reset: bool,
) -> anyhow::Result<String> {
    let agency = queries::find_by_code(conn, "BP3TKI-PONTIANAK")
        .await?
        .ok_or_else(|| anyhow::anyhow!("the BP3TKI agency is missing"))?;
    let exists: bool = diesel::select(diesel::dsl::exists(
        api_clients::table.filter(api_clients::client_id.eq("bp3tki-pontianak")),
    ))
    .get_result(conn)
    .await?;
    if exists && !reset {
        return Ok("(unchanged)".into());
    }
    let secret = password::random_secret(40);
    let hash = password::hash(&secret)?;
    if exists {
        diesel::update(api_clients::table.filter(api_clients::client_id.eq("bp3tki-pontianak")))
            .set((
                api_clients::secret_hash.eq(hash),
                api_clients::secret_rotated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
    } else {
        let id: uuid::Uuid = diesel::insert_into(api_clients::table)
            .values((
                api_clients::agency_id.eq(agency.id),
                api_clients::client_id.eq("bp3tki-pontianak"),
                api_clients::name.eq("BP3TKI Pontianak case push"),
                api_clients::secret_hash.eq(hash),
                api_clients::roles.eq(vec![Role::Integration]),
            ))
            .returning(api_clients::id)
            .get_result(conn)
            .await?;
        changes::record(
            conn,
            Change::of(actor, "client.create", "client", id)
                .after(&serde_json::json!({"client_id": "bp3tki-pontianak"})),
        )
        .await?;
    }
    Ok(secret)
}
