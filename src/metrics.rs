//! Metrics in the Prometheus text format, for operators: requests by route
//! template and status, latencies, requests in flight, the pool, database
//! errors by kind, bulk-push records by result, the change feed's lag and the
//! build.
//!
//! They are served at `GET /metrics` on their own listener
//! (`PULANG_METRICS_BIND`, off when unset), never on the public API's address,
//! so that nothing about the traffic is exposed to API callers; bind it to an
//! address only the scraper reaches. One registry per process, through the
//! maintained `prometheus` crate; recording is a few atomic operations per
//! request.

use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use diesel::sql_types::Double;
use diesel_async::RunQueryDsl;
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

use crate::state::AppState;

/// Every metric of the process.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    in_flight: IntGauge,
    pool_size: IntGauge,
    pool_available: IntGauge,
    pool_waiting: IntGauge,
    pool_max: IntGauge,
    pool_timeouts: IntCounter,
    db_errors: IntCounterVec,
    bulk_records: IntCounterVec,
    feed_lag: Gauge,
    reads_recorded: IntCounter,
}

fn build() -> prometheus::Result<Metrics> {
    let registry = Registry::new_custom(Some("pulang".into()), None)?;
    let requests = IntCounterVec::new(
        Opts::new(
            "http_requests_total",
            "HTTP requests answered, by route template, method and status",
        ),
        &["route", "method", "status"],
    )?;
    let duration = HistogramVec::new(
        HistogramOpts::new(
            "http_request_duration_seconds",
            "Time to the response head, by route template and method",
        )
        .buckets(vec![
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        ]),
        &["route", "method"],
    )?;
    let in_flight = IntGauge::new("http_requests_in_flight", "Requests being answered now")?;
    let pool_size = IntGauge::new("db_pool_connections", "Connections the pool holds")?;
    let pool_available = IntGauge::new("db_pool_idle_connections", "Pooled connections idle")?;
    let pool_waiting = IntGauge::new(
        "db_pool_waiting_requests",
        "Requests waiting for a connection",
    )?;
    let pool_max = IntGauge::new("db_pool_max_connections", "Largest size of the pool")?;
    let pool_timeouts = IntCounter::new(
        "db_pool_timeouts_total",
        "Requests that gave up waiting for a pooled connection (503 busy)",
    )?;
    let db_errors = IntCounterVec::new(
        Opts::new(
            "db_errors_total",
            "Database errors answered, by kind (unreachable, restarting, read_only, busy, statement_timeout, lock_timeout, contention, constraint, other)",
        ),
        &["kind"],
    )?;
    let bulk_records = IntCounterVec::new(
        Opts::new("bulk_records_total", "Records of bulk pushes, by result"),
        &["result"],
    )?;
    let feed_lag = Gauge::new(
        "change_feed_lag_seconds",
        "Age of the oldest change event followers cannot see yet (a transaction still running holds it back); 0 when none",
    )?;
    let reads_recorded = IntCounter::new(
        "read_log_records_total",
        "Reads of case and person records recorded",
    )?;
    let build_info = IntGaugeVec::new(
        Opts::new("build_info", "The running build: always 1"),
        &["version"],
    )?;
    build_info
        .with_label_values(&[env!("CARGO_PKG_VERSION")])
        .set(1);
    for collector in [
        Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
        Box::new(duration.clone()),
        Box::new(in_flight.clone()),
        Box::new(pool_size.clone()),
        Box::new(pool_available.clone()),
        Box::new(pool_waiting.clone()),
        Box::new(pool_max.clone()),
        Box::new(pool_timeouts.clone()),
        Box::new(db_errors.clone()),
        Box::new(bulk_records.clone()),
        Box::new(feed_lag.clone()),
        Box::new(reads_recorded.clone()),
        Box::new(build_info),
    ] {
        registry.register(collector)?;
    }
    Ok(Metrics {
        registry,
        requests,
        duration,
        in_flight,
        pool_size,
        pool_available,
        pool_waiting,
        pool_max,
        pool_timeouts,
        db_errors,
        bulk_records,
        feed_lag,
        reads_recorded,
    })
}

/// The process's metrics.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| build().expect("the metrics are well-formed"))
}

/// Counts a database error answered, by kind.
pub fn db_error(kind: &str) {
    global().db_errors.with_label_values(&[kind]).inc();
}

/// Counts a request that gave up waiting for a pooled connection.
pub fn pool_timeout() {
    global().pool_timeouts.inc();
}

/// Counts the records of a bulk push by result.
pub fn bulk_records(result: &str, count: usize) {
    global()
        .bulk_records
        .with_label_values(&[result])
        .inc_by(count as u64);
}

/// Counts recorded reads.
pub fn reads_recorded(count: usize) {
    global().reads_recorded.inc_by(count as u64);
}

/// Middleware: counts and times every request by its route template (never
/// its concrete path, so ids do not multiply the series).
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let metrics = global();
    let started = Instant::now();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().as_str().to_owned();
    metrics.in_flight.inc();
    let result = next.call(req).await;
    metrics.in_flight.dec();
    let status = match &result {
        Ok(res) => res.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    metrics
        .requests
        .with_label_values(&[&route, &method, status.as_str()])
        .inc();
    metrics
        .duration
        .with_label_values(&[&route, &method])
        .observe(started.elapsed().as_secs_f64());
    result
}

#[derive(diesel::QueryableByName)]
struct Lag {
    #[diesel(sql_type = Double)]
    seconds: f64,
}

/// `GET /metrics`: the registry in the Prometheus text format, with the pool
/// and the change feed's lag read at scrape time.
pub async fn scrape(state: web::Data<AppState>) -> HttpResponse {
    let metrics = global();
    let status = state.pool.status();
    metrics.pool_size.set(status.size as i64);
    metrics.pool_available.set(status.available as i64);
    metrics.pool_waiting.set(status.waiting as i64);
    metrics.pool_max.set(status.max_size as i64);
    // The lag needs the database; a scrape never waits long for it.
    let lag = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        let mut conn = state.pool.get().await.ok()?;
        diesel::sql_query(
            "SELECT coalesce(extract(epoch FROM now() - min(occurred_at)), 0)::float8 AS seconds \
             FROM change_events WHERE txid >= pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
        )
        .get_result::<Lag>(&mut conn)
        .await
        .ok()
    })
    .await
    .ok()
    .flatten();
    metrics
        .feed_lag
        .set(lag.map_or(f64::NAN, |l| l.seconds.max(0.0)));
    let mut body = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&metrics.registry.gather(), &mut body) {
        log::error!("cannot encode the metrics: {e}");
        return HttpResponse::InternalServerError().finish();
    }
    HttpResponse::Ok()
        .content_type(prometheus::TEXT_FORMAT)
        .body(body)
}

/// The metrics listener's routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(scrape));
}
