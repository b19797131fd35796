//! `Idempotency-Key` on `POST /api/v1/members` and `POST /api/v1/passes`, on SQLite and
//! PostgreSQL: a booking system that retries after a timeout creates one member and one
//! pass, gets the same answer (link included) again, cannot reuse a key for another
//! request, and the stored answer holds no credential in the clear.

mod common;

use bygd_dashboard::{Dashboard, Principal, Scope, Sites};
use common::*;
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;

/// A `POST` with a bearer token and, if given, an `Idempotency-Key`.
async fn post(d: &Dashboard, path: &str, token: &str, key: Option<&str>, body: &Value) -> Reply {
    let mut request = axum::http::Request::builder()
        .method("POST")
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json");
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = bygd_dashboard::app(d.clone())
        .oneshot(
            request
                .body(axum::body::Body::from(body.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: body.to_vec(),
    }
}

async fn booking_token(d: &Dashboard, name: &str) -> String {
    d.tokens()
        .create(
            &Principal::local_admin(),
            name,
            &[
                Scope::MembersWrite,
                Scope::MembersRead,
                Scope::PassesWrite,
                Scope::PassesRead,
            ]
            .into(),
            &Sites::All,
            None,
        )
        .await
        .unwrap()
        .0
}

#[tokio::test]
async fn a_retried_pass_with_the_same_key_is_issued_once_and_answered_the_same() {
    for db in
        backends("a_retried_pass_with_the_same_key_is_issued_once_and_answered_the_same").await
    {
        let (d, _dir, _) = dashboard(&db).await;
        let token = booking_token(&d, "booking").await;
        let member = json!({ "id": "anna", "name": "Anna", "sites": [SITE] });
        let first = post(&d, "/api/v1/members", &token, Some("m-1"), &member).await;
        assert_eq!(first.status, 201, "{}", first.text());
        // Without a key, the same request is a new attempt: the id is taken.
        let plain = post(&d, "/api/v1/members", &token, None, &member).await;
        assert_eq!(plain.status, 409, "{}", plain.text());
        let again = post(&d, "/api/v1/members", &token, Some("m-1"), &member).await;
        assert_eq!(again.status, 201, "{}", again.text());
        assert_eq!(again.json(), first.json());
        assert_eq!(again.headers["idempotent-replayed"], "true");

        let pass = json!({ "member": "anna", "site": SITE, "booking": "b-77" });
        let issued = post(&d, "/api/v1/passes", &token, Some("p-1"), &pass).await;
        assert_eq!(issued.status, 201, "{}", issued.text());
        assert!(issued.headers.get("idempotent-replayed").is_none());
        let retried = post(&d, "/api/v1/passes", &token, Some("p-1"), &pass).await;
        assert_eq!(retried.status, 201, "{}", retried.text());
        assert_eq!(
            retried.json(),
            issued.json(),
            "the same pass, QR text and link"
        );
        let passes = d
            .passes()
            .list(&Principal::local_admin(), Some("anna"), false)
            .await
            .unwrap();
        assert_eq!(passes.len(), 1, "one pass, not two");
        // The link the retry answered opens the pass page.
        let link = retried.json()["page_url"].as_str().unwrap().to_owned();
        let page = call(&d, "GET", &link[link.find("/p/").unwrap()..], None, None).await;
        assert_eq!(page.status, 200);

        // The stored answer is sealed: neither the QR text nor the link is in the database.
        let qr_text = issued.json()["qr_text"].as_str().unwrap().to_owned();
        let secret = link.rsplit('/').next().unwrap().to_owned();
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        let stored: Vec<String> = sqlx::query_scalar("SELECT response FROM idempotency_keys")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(stored.len(), 2);
        for row in &stored {
            let bytes = hex::decode(row).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(&secret) && !text.contains(&qr_text[6..40]),
                "{text}"
            );
            assert!(!row.contains(&secret));
        }

        // The same key for another request is refused, and changes nothing.
        let other = json!({ "member": "anna", "site": SITE, "booking": "b-78" });
        let reused = post(&d, "/api/v1/passes", &token, Some("p-1"), &other).await;
        assert_eq!(reused.status, 409, "{}", reused.text());
        assert!(
            reused.text().contains("another request"),
            "{}",
            reused.text()
        );
        // Keys are the caller's own: another booking system's "p-1" is a new request.
        let other_token = booking_token(&d, "other booking").await;
        let theirs = post(&d, "/api/v1/passes", &other_token, Some("p-1"), &pass).await;
        assert_eq!(theirs.status, 201, "{}", theirs.text());
        assert_ne!(theirs.json()["id"], issued.json()["id"]);
        // A refusal is an answer too: kept and given again.
        let bad = json!({ "member": "anna", "site": SITE, "until": "2001-01-01" });
        let refused = post(&d, "/api/v1/passes", &token, Some("p-2"), &bad).await;
        assert_eq!(refused.status, 400);
        let refused_again = post(&d, "/api/v1/passes", &token, Some("p-2"), &bad).await;
        assert_eq!(refused_again.status, 400);
        assert_eq!(refused_again.headers["idempotent-replayed"], "true");
        let odd_key = post(&d, "/api/v1/passes", &token, Some("a key"), &pass).await;
        assert_eq!(odd_key.status, 400, "{}", odd_key.text());
        assert_eq!(odd_key.json()["error"]["field"], "Idempotency-Key");
    }
}

#[tokio::test]
async fn two_retries_racing_with_one_key_issue_one_pass() {
    for db in backends("two_retries_racing_with_one_key_issue_one_pass").await {
        let (d, _dir, _) = dashboard(&db).await;
        let token = booking_token(&d, "booking").await;
        let member = json!({ "id": "bo", "name": "Bo", "sites": [SITE] });
        assert_eq!(
            post(&d, "/api/v1/members", &token, None, &member)
                .await
                .status,
            201
        );
        let pass = json!({ "member": "bo", "site": SITE });
        let (a, b) = tokio::join!(
            post(&d, "/api/v1/passes", &token, Some("race"), &pass),
            post(&d, "/api/v1/passes", &token, Some("race"), &pass)
        );
        let statuses = [a.status, b.status];
        assert!(
            statuses == [201, 201] || statuses.contains(&409) && statuses.contains(&201),
            "{statuses:?}: {} / {}",
            a.text(),
            b.text()
        );
        let passes = d
            .passes()
            .list(&Principal::local_admin(), Some("bo"), false)
            .await
            .unwrap();
        assert_eq!(passes.len(), 1, "{}: one pass", db.name);
    }
}

#[tokio::test]
async fn a_key_is_forgotten_after_a_day() {
    for db in backends("a_key_is_forgotten_after_a_day").await {
        let (d, _dir, _) = dashboard_on_manual_clock(&db).await;
        let token = booking_token(&d, "booking").await;
        let member = json!({ "id": "cy", "name": "Cy", "sites": [SITE] });
        assert_eq!(
            post(&d, "/api/v1/members", &token, None, &member)
                .await
                .status,
            201
        );
        let pass = json!({ "member": "cy", "site": SITE });
        let first = post(&d, "/api/v1/passes", &token, Some("k"), &pass).await;
        d.clock().advance(24 * 3600 - 1);
        let within = post(&d, "/api/v1/passes", &token, Some("k"), &pass).await;
        assert_eq!(within.json()["id"], first.json()["id"]);
        d.clock().advance(2);
        let after = post(&d, "/api/v1/passes", &token, Some("k"), &pass).await;
        assert_eq!(after.status, 201, "{}", after.text());
        assert_ne!(
            after.json()["id"],
            first.json()["id"],
            "a new pass a day later"
        );
    }
}
