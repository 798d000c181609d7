//! Housekeeping deletes exactly the rows that can no longer change an answer.

use actix_web::test::TestRequest;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use pulang::housekeeping::{Swept, sweep};

use crate::helpers::{TestApp, new_case, with_token};

async fn count(app: &TestApp, table: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
        .get_result::<Count>(&mut app.db().await)
        .await
        .unwrap()
        .n
}

#[actix_web::test]
async fn a_sweep_deletes_only_what_has_expired() {
    let app = TestApp::spawn().await;
    let k = app.kalbar().await;
    let create = |key: &'static str, n: u32| {
        let (app, token) = (&app, k.case_worker.clone());
        async move {
            let mut body = new_case(n, "61.71");
            body.as_object_mut().unwrap().remove("external_reference");
            let request = TestRequest::post()
                .uri("/api/v1/cases")
                .insert_header(("Idempotency-Key", key))
                .set_json(body);
            app.call(with_token(request, Some(&token))).await
        }
    };
    assert_eq!(create("old", 1).await.status, 201);
    let fresh = create("fresh", 2).await;
    assert_eq!(fresh.status, 201, "{}", fresh.text());
    app.db()
        .await
        .batch_execute(
        "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old'; \
         INSERT INTO revoked_tokens (jti, expires_at) VALUES \
           (gen_random_uuid(), now() - interval '1 minute'), (gen_random_uuid(), now() + interval '1 hour'); \
         INSERT INTO sign_in_throttle (key, failures, window_start, locked_until) VALUES \
           ('address:192.0.2.1', 3, now() - interval '1 hour', NULL), \
           ('account:password:ended', 5, now() - interval '1 hour', now() - interval '30 minutes'), \
           ('account:password:locked', 5, now() - interval '20 minutes', now() + interval '10 minutes'), \
           ('address:192.0.2.2', 1, now(), NULL)",
        )
        .await
        .unwrap();
    let tokens_before = count(&app, "revoked_tokens").await;

    let swept = sweep(&mut app.db().await).await.unwrap();
    assert_eq!(
        swept,
        Swept {
            idempotency_keys: 1,
            revoked_tokens: 1,
            throttle_counters: 2,
        }
    );
    assert_eq!(count(&app, "revoked_tokens").await, tokens_before - 1);
    assert_eq!(
        count(&app, "sign_in_throttle").await,
        2,
        "the lock and the open window stay"
    );
    // The fresh key still replays its first answer.
    let again = create("fresh", 2).await;
    assert_eq!(again.json()["id"], fresh.json()["id"]);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    // A second sweep finds nothing.
    assert_eq!(sweep(&mut app.db().await).await.unwrap(), Swept::default());
}
