//! Lifetimes on the dashboard's clock, on SQLite and PostgreSQL: a session, an API token and a
//! pass page stop working when the clock passes their end, and not a second before. The
//! dashboard runs on a manual clock that the tests move on, so nothing here waits.

mod common;

use bygd_dashboard::{IssuePass, NewMember, Principal, Scope, Sites};
use common::*;

/// How long a login lasts (the dashboard's `SESSION_SECONDS`): a working day.
const SESSION_SECONDS: i64 = 12 * 3600;
/// The pass of the pass-page test lasts an hour.
const PASS_SECONDS: i64 = 3600;

#[tokio::test]
async fn a_session_is_refused_once_the_clock_passes_its_twelve_hours() {
    for db in backends("a_session_is_refused_once_the_clock_passes_its_twelve_hours").await {
        let (d, _dir, password) = dashboard_on_manual_clock(&db).await;
        let session = login(&d, "admin", &password).await;
        let alarms = |d, session| async move {
            call(d, "GET", "/api/v1/alarms", Some(session), None)
                .await
                .status
        };
        d.clock().advance(SESSION_SECONDS - 1);
        assert_eq!(
            alarms(&d, &session).await,
            200,
            "the last second of the session"
        );
        d.clock().advance(1);
        let refused = call(&d, "GET", "/api/v1/alarms", Some(&session), None).await;
        assert_eq!(refused.status, 401, "{}", refused.text());
        assert_eq!(refused.code(), "unauthenticated");
        let accounts = d.accounts().list(&Principal::local_admin()).await.unwrap();
        assert_eq!(
            accounts[0].sessions, 0,
            "an expired session is not counted as open"
        );
        // A new login starts a new working day on the same clock.
        let again = login(&d, "admin", &password).await;
        assert_eq!(alarms(&d, &again).await, 200);
    }
}

#[tokio::test]
async fn an_api_token_is_refused_once_the_clock_passes_its_expiry() {
    for db in backends("an_api_token_is_refused_once_the_clock_passes_its_expiry").await {
        let (d, _dir, _) = dashboard_on_manual_clock(&db).await;
        let admin = Principal::local_admin();
        let (token, _) = d
            .tokens()
            .create(
                &admin,
                "booking system",
                &[Scope::AlarmsRead].into(),
                &Sites::All,
                Some(d.now() + 3600),
            )
            .await
            .unwrap();
        d.clock().advance(3599);
        assert!(d.accounts().authenticate(&token).await.is_ok());
        d.clock().advance(1);
        let refused = call(&d, "GET", "/api/v1/alarms", Some(&token), None).await;
        assert_eq!(refused.status, 401, "{}", refused.text());
        // An expiry already past on the clock is refused when the token is made.
        let past = d
            .tokens()
            .create(
                &admin,
                "late",
                &[Scope::AlarmsRead].into(),
                &Sites::All,
                Some(d.now()),
            )
            .await;
        assert!(past.is_err(), "{past:?}");
    }
}

#[tokio::test]
async fn a_pass_page_is_gone_once_the_clock_passes_the_pass_end() {
    for db in backends("a_pass_page_is_gone_once_the_clock_passes_the_pass_end").await {
        let (d, _dir, _) = dashboard_on_manual_clock(&db).await;
        let admin = Principal::local_admin();
        d.members()
            .add(
                &admin,
                &NewMember {
                    id: "anna".into(),
                    name: "Anna".into(),
                    email: None,
                    sites: vec![SITE.into()],
                    language: None,
                },
            )
            .await
            .unwrap();
        let issued = d
            .passes()
            .issue(
                &admin,
                &IssuePass {
                    member: "anna".into(),
                    site: SITE.into(),
                    until: Some(d.now() + PASS_SECONDS),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let (_, secret) = issued.svg_url.split_once("/p/").unwrap();
        let svg = format!("/p/{secret}");
        d.clock().advance(PASS_SECONDS - 60);
        assert_eq!(call(&d, "GET", &svg, None, None).await.status, 200);
        d.clock().advance(60);
        let gone = call(&d, "GET", &svg, None, None).await;
        assert_eq!(gone.status, 410, "{}", gone.text());
        let page = issued.page_url.split_once("/p/").unwrap().1;
        let page = call(&d, "GET", &format!("/p/{page}"), None, None).await;
        assert!(page.text().contains("expired"), "{}", page.text());
    }
}
