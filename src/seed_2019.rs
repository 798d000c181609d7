//! `pulang seed --demo-2019`: the West Kalimantan year of the seed story,
//! built through the API itself (in process, with the same handlers, rules and
//! ledgers as any client): budgets and agreements, 2,480 returnees arriving
//! from January to October 2019 — 1,355 from other provinces, 1,125 from the
//! 14 Kalbar regencies — sheltered, assessed, taken home in transfers, handed
//! over, and their costs realised.

use actix_http::Request;
use actix_service::Service;
use actix_service::boxed::BoxService;
use actix_web::body::{BoxBody, to_bytes};
use actix_web::dev::ServiceResponse;
use actix_web::{test, web};
use anyhow::{Context, bail};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::{PrincipalKind, Role};
use crate::regions::RegionCode;
use crate::schema::{agencies, api_clients, cases, regions, users};
use crate::state::AppState;

/// How many returnees the demo creates.
#[derive(Debug, Clone, Copy)]
pub struct DemoSize {
    /// From other provinces (APBN).
    pub out_of_province: usize,
    /// From the Kalbar regencies (shared APBD).
    pub in_province: usize,
}

/// The seed's figures: 1,355 + 1,125 = 2,480.
pub const SEED_2019: DemoSize = DemoSize {
    out_of_province: 1355,
    in_province: 1125,
};

/// Provinces migrant workers mostly come from, with a weight each.
const ORIGIN_PROVINCES: &[(&str, usize)] = &[
    ("35", 22), // Jawa Timur
    ("52", 18), // Nusa Tenggara Barat
    ("53", 16), // Nusa Tenggara Timur
    ("33", 14), // Jawa Tengah
    ("32", 10), // Jawa Barat
    ("73", 8),  // Sulawesi Selatan
    ("18", 5),  // Lampung
    ("12", 4),  // Sumatera Utara
    ("64", 3),  // Kalimantan Timur
];

/// Kalbar regencies whose social services approve a cost-sharing agreement in the demo;
/// the others have none, so the report shows their returns as paid by the province alone.
const WITHOUT_AGREEMENT: &[&str] = &["61.06", "61.10", "61.11"];

/// What the demo tells its user while it runs: a line per phase with counts
/// and elapsed time, and on a terminal a progress bar inside the long phases.
pub struct Progress<'a> {
    out: &'a mut dyn std::io::Write,
    terminal: bool,
    phase_started: std::time::Instant,
}

impl<'a> Progress<'a> {
    /// Progress written to `out`; `terminal` draws bars (use
    /// `std::io::IsTerminal` on the real output).
    pub fn new(out: &'a mut dyn std::io::Write, terminal: bool) -> Self {
        Self {
            out,
            terminal,
            phase_started: std::time::Instant::now(),
        }
    }

    /// Redraws the bar of the running phase (on a terminal only).
    fn tick(&mut self, label: &str, done: usize, total: usize) {
        if !self.terminal || total == 0 || (!done.is_multiple_of(25) && done != total) {
            return;
        }
        let width = 30;
        let filled = done * width / total;
        let _ = write!(
            self.out,
            "\r{label} [{}{}] {done}/{total}",
            "#".repeat(filled),
            ".".repeat(width - filled)
        );
        let _ = self.out.flush();
    }

    /// Ends a phase with its line.
    fn phase(&mut self, line: String) {
        if self.terminal {
            let _ = write!(self.out, "\r\x1b[K");
        }
        let _ = writeln!(
            self.out,
            "{line} ({:.1} s)",
            self.phase_started.elapsed().as_secs_f64()
        );
        let _ = self.out.flush();
        self.phase_started = std::time::Instant::now();
    }
}

/// The API, in process.
struct Client {
    service: BoxService<Request, ServiceResponse<BoxBody>, actix_web::Error>,
}

impl Client {
    async fn send(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = match method {
            "GET" => test::TestRequest::get(),
            _ => test::TestRequest::post(),
        }
        .uri(path)
        .insert_header(("Authorization", format!("Bearer {token}")));
        if let Some(body) = body {
            request = request.set_json(body);
        }
        let response = self
            .service
            .call(request.to_request())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let status = response.status();
        let bytes = to_bytes(response.into_body())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{method} {path}: {status} {value}");
        }
        Ok(value)
    }
}

async fn user_token(
    conn: &mut AsyncPgConnection,
    state: &AppState,
    username: &str,
) -> anyhow::Result<String> {
    let (id, agency, roles): (Uuid, Uuid, Vec<Role>) = users::table
        .filter(users::username.eq(username))
        .select((users::id, users::agency_id, users::roles))
        .first(conn)
        .await
        .with_context(|| format!("the demo user {username} is missing"))?;
    Ok(state
        .tokens
        .issue(id, PrincipalKind::User, agency, roles)?
        .0)
}

async fn agency_id(conn: &mut AsyncPgConnection, code: &str) -> anyhow::Result<Uuid> {
    Ok(agencies::table
        .filter(agencies::code.eq(code))
        .select(agencies::id)
        .first(conn)
        .await?)
}

/// Builds the demo year; returns a report to print.
pub async fn demo_2019(
    conn: &mut AsyncPgConnection,
    state: web::Data<AppState>,
    size: DemoSize,
    progress: &mut Progress<'_>,
) -> anyhow::Result<String> {
    let existing: i64 = cases::table
        .filter(cases::external_reference.like("DEMO2019-%"))
        .count()
        .get_result(conn)
        .await?;
    if existing > 0 {
        return Ok(format!(
            "the 2019 demo is already there ({existing} returnees); nothing done\n"
        ));
    }
    let service = test::init_service(crate::app::build_app(state.clone())).await;
    let client = Client {
        service: actix_service::boxed::service(service),
    };
    let province = user_token(conn, &state, "dinsos.kalbar").await?;
    let province_finance = user_token(conn, &state, "keuangan.kalbar").await?;
    let ministry = user_token(conn, &state, "kemensos.keuangan").await?;
    let (client_id, client_agency): (Uuid, Uuid) = api_clients::table
        .filter(api_clients::client_id.eq("bp3tki-pontianak"))
        .select((api_clients::id, api_clients::agency_id))
        .first(conn)
        .await?;
    let bp3tki = state
        .tokens
        .issue(
            client_id,
            PrincipalKind::Client,
            client_agency,
            vec![Role::Integration],
        )?
        .0;
    let kalbar: Vec<String> = regions::table
        .filter(regions::parent_code.eq("61"))
        .order(regions::code)
        .select(regions::code)
        .load(conn)
        .await?;

    // Budgets of 2019 and the agreements.
    let budget = |token: String, source: &'static str, name: String, allocation: i64| {
        let client = &client;
        async move {
            let body = json!({"fiscal_year": 2019, "source": source, "document_number": format!("DEMO-{source}-2019"),
                              "activity_code": format!("DEMO-KEG-{source}"),
                              "name": name, "allocation": allocation, "status": "active"});
            client
                .send("POST", "/api/v1/budgets", &token, Some(body))
                .await
                .map(|b| b["id"].as_str().unwrap_or_default().to_owned())
        }
    };
    budget(
        ministry.clone(),
        "apbn",
        "DIPA Direktorat RSTS-KPO 2019: pemulangan WNI-M KPO".into(),
        5_000_000_000,
    )
    .await?;
    let province_budget = budget(
        province_finance.clone(),
        "apbd_province",
        "DPA Dinsos Kalbar 2019: pemulangan ke daerah asal".into(),
        2_000_000_000,
    )
    .await?;
    for code in &kalbar {
        let plain = code.replace('.', "");
        let finance = user_token(conn, &state, &format!("dinsos.{plain}")).await?;
        let regency_budget = budget(
            finance.clone(),
            "apbd_regency",
            format!("DPA Dinsos {plain} 2019: pemulangan"),
            250_000_000,
        )
        .await?;
        if WITHOUT_AGREEMENT.contains(&code.as_str()) {
            continue;
        }
        let regency_agency = agency_id(conn, &format!("DINSOS-{plain}")).await?;
        let proposal = json!({"fiscal_year": 2019, "regency_agency_id": regency_agency, "province_budget_id": province_budget,
                              "regency_budget_id": regency_budget, "all_costs_bp": 6000});
        let agreement = client
            .send(
                "POST",
                "/api/v1/cost-sharing-agreements",
                &province_finance,
                Some(proposal),
            )
            .await?;
        let path = format!(
            "/api/v1/cost-sharing-agreements/{}/approve",
            agreement["id"].as_str().unwrap_or_default()
        );
        client
            .send(
                "POST",
                &path,
                &finance,
                Some(json!({"reason": "Rakor lintas sektor 2019"})),
            )
            .await?;
    }

    progress.phase(format!(
        "budgets and agreements: {} budgets, {} agreements",
        2 + kalbar.len(),
        kalbar.len() - WITHOUT_AGREEMENT.len()
    ));

    // The returnees, pushed by BP3TKI Pontianak.
    let mut origins: Vec<String> = Vec::new();
    let weight_total: usize = ORIGIN_PROVINCES.iter().map(|(_, w)| w).sum();
    for (i, (province_code, weight)) in ORIGIN_PROVINCES.iter().enumerate() {
        let mut n = size.out_of_province * weight / weight_total;
        if i == ORIGIN_PROVINCES.len() - 1 {
            n = size.out_of_province - origins.len();
        }
        let regencies: Vec<String> = regions::table
            .filter(regions::parent_code.eq(*province_code))
            .order(regions::code)
            .limit(3)
            .select(regions::code)
            .load(conn)
            .await?;
        origins.extend((0..n).map(|k| regencies[k % regencies.len()].clone()));
    }
    origins.extend((0..size.in_province).map(|k| kalbar[k % kalbar.len()].clone()));
    let points = [
        "plbn_entikong",
        "plbn_entikong",
        "plbn_aruk",
        "plbn_nanga_badau",
        "pelabuhan_dwikora_pontianak",
        "bandara_supadio",
    ];
    let categories = [
        "undocumented_migrant",
        "undocumented_migrant",
        "migrant_worker",
        "trafficking_victim",
    ];
    let records: Vec<Value> = origins
        .iter()
        .enumerate()
        .map(|(i, origin)| {
            let month = 1 + (i * 10 / origins.len().max(1)) as u32;
            json!({
                "external_reference": format!("DEMO2019-{i:05}"),
                "person": {"full_name": format!("Returnee {i:04}"), "sex": if i % 3 == 0 { "female" } else { "male" }},
                "category": categories[i % categories.len()],
                "arrived_at": format!("2019-{month:02}-{:02}T{:02}:00:00Z", 1 + i % 27, i % 24),
                "entry_point": points[i % points.len()],
                "country_left": "MY",
                "origin_region": origin,
                "handling_province": "61"
            })
        })
        .collect();
    let mut ids: Vec<(String, String, u32)> = Vec::new();
    for (chunk_no, chunk) in records.chunks(1000).enumerate() {
        let pushed = client
            .send(
                "POST",
                "/api/v1/cases/batch",
                &bp3tki,
                Some(json!({"mode": "atomic", "records": chunk})),
            )
            .await?;
        for (k, result) in pushed["results"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let i = chunk_no * 1000 + k;
            let month = 1 + (i * 10 / records.len().max(1)) as u32;
            ids.push((
                result["case_id"].as_str().unwrap_or_default().to_owned(),
                origins[i].clone(),
                month,
            ));
        }
        progress.tick("pushing returnees", ids.len(), records.len());
    }
    progress.phase(format!(
        "returnees pushed by BP3TKI Pontianak: {} ({} from other provinces, {} from Kalbar)",
        ids.len(),
        size.out_of_province,
        size.in_province
    ));

    // Shelter, assessment, ready for transfer.
    for (done, (id, _, _)) in ids.iter().enumerate() {
        progress.tick("sheltering and assessing", done + 1, ids.len());
        for to in ["sheltered", "assessed", "ready_for_transfer"] {
            let body = json!({"to": to, "reason": format!("demo 2019: {to}")});
            client
                .send(
                    "POST",
                    &format!("/api/v1/cases/{id}/transitions"),
                    &province,
                    Some(body),
                )
                .await?;
        }
    }

    progress.phase(format!(
        "sheltered, assessed, ready for transfer: {}",
        ids.len()
    ));

    // One transfer per destination and month: out of the province to the province, inside to the regency.
    let mut groups: std::collections::BTreeMap<(String, u32), Vec<String>> =
        std::collections::BTreeMap::new();
    for (id, origin, month) in &ids {
        let code = RegionCode::parse(origin).map_err(anyhow::Error::msg)?;
        let destination = if code.province().as_str() == "61" {
            code.to_string()
        } else {
            code.province().to_string()
        };
        groups
            .entry((destination, *month))
            .or_default()
            .push(id.clone());
    }
    let mut transfers = 0;
    for ((destination, month), members) in &groups {
        let n = members.len() as i64;
        let inside = destination.starts_with("61");
        let (fare, mode) = if inside {
            (350_000, "road")
        } else {
            (1_450_000, "sea")
        };
        let plan = json!({
            "destination_region": destination,
            "fiscal_year": 2019,
            "legs": [{"mode": mode, "from": "RPTC Pontianak", "to": destination,
                      "planned_departure": format!("2019-{:02}-28T01:00:00Z", month)}],
            "escorts": [{"name": "Pendamping Dinsos Kalbar", "position": "Pekerja Sosial"}],
            "estimated_costs": [{"category": "transport", "amount": fare * n}, {"category": "meals", "amount": 60_000 * n}]
        });
        let transfer = client
            .send("POST", "/api/v1/transfers", &province, Some(plan))
            .await?;
        let id = transfer["id"].as_str().unwrap_or_default().to_owned();
        client
            .send(
                "POST",
                &format!("/api/v1/transfers/{id}/cases"),
                &province,
                Some(json!({"case_ids": members})),
            )
            .await?;
        for to in ["departed", "arrived"] {
            client
                .send(
                    "POST",
                    &format!("/api/v1/transfers/{id}/transitions"),
                    &province,
                    Some(json!({"to": to, "reason": "demo 2019"})),
                )
                .await?;
        }
        // The case worker proposes each cost; a finance officer of the
        // paying budget (the ministry's outside the province, the province's
        // inside) confirms it, and only then is it realised.
        let (confirmer, travel, meals) = if inside {
            (&province_finance, "5.1.02.04.01.0001", "5.1.02.01.01.0052")
        } else {
            (&ministry, "524111", "521211")
        };
        for (category, amount, account) in [
            ("transport", fare * n * 9 / 10, travel),
            ("meals", 55_000 * n, meals),
        ] {
            let item = json!({"category": category, "amount": amount,
                              "receipt_number": format!("KW-{}", transfer["reference"].as_str().unwrap_or_default()),
                              "spent_on": format!("2019-{month:02}-28"), "account_code": account});
            let proposed = client
                .send(
                    "POST",
                    &format!("/api/v1/transfers/{id}/costs"),
                    &province,
                    Some(item),
                )
                .await?;
            client
                .send(
                    "POST",
                    &format!(
                        "/api/v1/transfers/{id}/costs/{}/confirmation",
                        proposed["id"].as_str().unwrap_or_default()
                    ),
                    confirmer,
                    Some(json!({"note": "SPJ lengkap"})),
                )
                .await?;
        }
        let outcomes: Vec<Value> = members
            .iter()
            .map(|c| json!({"case_id": c, "outcome": "received"}))
            .collect();
        let handover = json!({
            "bast_number": format!("BAST/{}", transfer["reference"].as_str().unwrap_or_default()),
            "handed_over_at": format!("2019-{:02}-28T08:00:00Z", month),
            "received_by": {"name": format!("Dinas Sosial {destination}"), "position": "Kepala Dinas"},
            "outcomes": outcomes
        });
        client
            .send(
                "POST",
                &format!("/api/v1/transfers/{id}/handover"),
                &province,
                Some(handover),
            )
            .await?;
        transfers += 1;
        progress.tick("transfers home", transfers, groups.len());
    }
    progress.phase(format!(
        "transfers planned, costed and handed over: {transfers}"
    ));
    let stats = client
        .send(
            "GET",
            "/api/v1/stats/returns?from=2019-01-01&to=2019-10-31&handling_province=61",
            &province,
            None,
        )
        .await?;
    let money = client
        .send(
            "GET",
            "/api/v1/stats/costs?fiscal_year=2019",
            &province_finance,
            None,
        )
        .await?;
    let reconciliation = client
        .send(
            "GET",
            "/api/v1/budgets/reconciliation?fiscal_year=2019",
            &province_finance,
            None,
        )
        .await?;
    let national = client
        .send(
            "GET",
            "/api/v1/stats/costs?fiscal_year=2019",
            &ministry,
            None,
        )
        .await?;
    let realised = |report: &Value| -> String {
        report["by_funding_source"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|s| {
                format!(
                    "{} {}",
                    s["source"].as_str().unwrap_or_default(),
                    s["realised"]
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    Ok(format!(
        "West Kalimantan 2019: {} returnees received, {} returned through {transfers} transfers\n{}\n\
         realised (rupiah): {}, {}\n\
         reconciliation of 2019: {} difference(s)\n",
        stats["received"],
        stats["returned"],
        serde_json::to_string_pretty(&stats["by_origin_scope"]).unwrap_or_default(),
        realised(&national),
        realised(&money),
        reconciliation["differences"].as_array().map_or(0, Vec::len),
    ))
}

#[cfg(test)]
mod tests {
    use super::Progress;

    #[test]
    fn on_a_terminal_the_progress_draws_a_bar_and_clears_it_for_the_phase_line() {
        let mut out: Vec<u8> = Vec::new();
        let mut progress = Progress::new(&mut out, true);
        progress.tick("pushing returnees", 24, 100);
        progress.tick("pushing returnees", 50, 100);
        progress.tick("pushing returnees", 100, 100);
        progress.phase("returnees pushed: 100".to_owned());
        let shown = String::from_utf8(out).unwrap();
        assert!(
            shown.starts_with(&format!(
                "\rpushing returnees [{}{}] 50/100",
                "#".repeat(15),
                ".".repeat(15)
            )),
            "{shown:?}"
        );
        assert!(
            shown.contains(&format!("[{}] 100/100", "#".repeat(30))),
            "{shown:?}"
        );
        assert!(
            shown.contains("\r\x1b[Kreturnees pushed: 100 ("),
            "{shown:?}"
        );
        assert!(shown.ends_with(" s)\n"), "{shown:?}");
    }

    #[test]
    fn off_a_terminal_the_progress_is_one_plain_line_per_phase() {
        let mut out: Vec<u8> = Vec::new();
        let mut progress = Progress::new(&mut out, false);
        progress.tick("pushing returnees", 50, 100);
        progress.phase("returnees pushed: 100".to_owned());
        let shown = String::from_utf8(out).unwrap();
        assert!(shown.starts_with("returnees pushed: 100 ("), "{shown:?}");
        assert_eq!(shown.lines().count(), 1);
        assert!(!shown.contains('\r'));
    }
}
