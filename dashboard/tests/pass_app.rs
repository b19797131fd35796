//! The member's pass link on SQLite and PostgreSQL: enrolling a phone's key once (and only
//! once when two phones race), renewing a pass so that the link and the key carry over, and
//! a site that requires device-bound passes. The browser side is in `browser.rs`.

mod common;

use bygd_dashboard::{IssuePass, IssuedPass, NewMember, Principal, ServiceError, SiteChange};
use bygd_protocol::{decode_qr, open_pass, DeviceSecretKey, PublicKey, TrustedKeys};
use common::*;

async fn member_with_pass(d: &bygd_dashboard::Dashboard) -> (IssuedPass, String) {
    let admin = Principal::local_admin();
    d.members()
        .add(
            &admin,
            &NewMember {
                id: "maja".into(),
                name: "Maja Ek".into(),
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
                member: "maja".into(),
                site: SITE.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let secret = issued.page_url.split_once("/p/").unwrap().1.to_owned();
    (issued, secret)
}

fn phone(seed: u8) -> (DeviceSecretKey, Vec<u8>) {
    let key = DeviceSecretKey::from_bytes(&[seed; 32]).unwrap();
    let public = key.public_key().to_sec1();
    (key, public)
}

/// The device key a pass page's pass names, read from its signed claims.
fn device_key_of(d: &bygd_dashboard::Dashboard, qr_text: &str) -> Option<Vec<u8>> {
    let mut issuers = TrustedKeys::new();
    issuers.insert(PublicKey::from_hex(&d.issuer_public_key()).unwrap());
    let pass = open_pass(&decode_qr(qr_text).unwrap().pass, &issuers).unwrap();
    pass.claims.device_key.map(|k| k.to_sec1())
}

#[tokio::test]
async fn two_phones_racing_with_one_link_enrol_one_and_the_other_is_refused() {
    for db in backends("two_phones_racing_with_one_link_enrol_one_and_the_other_is_refused").await {
        let (d, _dir, _) = dashboard(&db).await;
        let (issued, secret) = member_with_pass(&d).await;
        let (_, first) = phone(1);
        let (_, second) = phone(2);
        let passes = d.passes();
        let (a, b) = tokio::join!(
            passes.enrol(&secret, &first),
            passes.enrol(&secret, &second)
        );
        let (won, lost, key) = match (a, b) {
            (Ok(page), Err(e)) => (page, e, first),
            (Err(e), Ok(page)) => (page, e, second),
            (a, b) => panic!("one enrolment must win and one lose: {a:?} / {b:?}"),
        };
        assert!(
            matches!(&lost, ServiceError::Conflict(m) if m.contains("already set up on a phone")),
            "{lost:?}"
        );
        assert!(won.device_bound);
        assert_ne!(won.pass_id, issued.pass.id);
        assert_eq!(device_key_of(&d, &won.qr_text), Some(key));

        let admin = Principal::local_admin();
        let bare = d.passes().get(&admin, &issued.pass.id).await.unwrap();
        assert!(bare.revoked_at.is_some(), "the bare pass is revoked");
        assert_eq!(bare.replaced_by.as_deref(), Some(won.pass_id.as_str()));
        let mut issuers = TrustedKeys::new();
        issuers.insert(PublicKey::from_hex(&d.issuer_public_key()).unwrap());
        let signed = d.revocation_lists().bytes(SITE).await.unwrap().unwrap();
        let (_, list) = bygd_protocol::open_revocation_list(&signed, &issuers).unwrap();
        assert!(
            list.revoked_passes
                .iter()
                .any(|p| p.to_string() == issued.pass.id),
            "the site's list names the bare pass: {list:?}"
        );
        // The link now leads to the device-bound pass, and cannot enrol again.
        assert_eq!(d.passes().page(&secret).await.unwrap().pass_id, won.pass_id);
        let again = d.passes().enrol(&secret, &phone(3).1).await.unwrap_err();
        assert!(matches!(again, ServiceError::Conflict(_)), "{again:?}");
        // Who enrolled is in the audit trail: the member, through their link.
        let trail = d.trail(&admin, 50).await.unwrap();
        assert!(
            trail
                .iter()
                .any(|r| r["action"] == "pass.enrol" && r["actor"] == "member:maja (pass link)"),
            "{trail:?}"
        );
    }
}

#[tokio::test]
async fn a_renewed_pass_keeps_its_link_and_phone_key_and_the_old_one_is_revoked() {
    for db in
        backends("a_renewed_pass_keeps_its_link_and_phone_key_and_the_old_one_is_revoked").await
    {
        let (d, _dir, _) = dashboard(&db).await;
        let (_, secret) = member_with_pass(&d).await;
        let (_, key) = phone(1);
        let enrolled = d.passes().enrol(&secret, &key).await.unwrap();
        let admin = Principal::local_admin();
        let until = d.now() + 90 * 86_400;
        let renewed = d
            .passes()
            .renew(&admin, &enrolled.pass_id, until)
            .await
            .unwrap();
        assert!(renewed.device_bound);
        let page = d.passes().page(&secret).await.unwrap();
        assert_eq!(
            page.pass_id, renewed.id,
            "the link leads to the renewed pass"
        );
        assert_eq!(page.expires, until);
        assert_eq!(
            device_key_of(&d, &page.qr_text),
            Some(key),
            "same phone key"
        );
        let old = d.passes().get(&admin, &enrolled.pass_id).await.unwrap();
        assert!(old.revoked_at.is_some());
        assert_eq!(old.replaced_by.as_deref(), Some(renewed.id.as_str()));
        let twice = d
            .passes()
            .renew(&admin, &enrolled.pass_id, until)
            .await
            .unwrap_err();
        assert!(
            matches!(&twice, ServiceError::Conflict(m) if m.contains("replaced by")),
            "{twice:?}"
        );
        let past = d
            .passes()
            .renew(&admin, &renewed.id, d.now() - 1)
            .await
            .unwrap_err();
        assert!(matches!(past, ServiceError::Invalid { .. }), "{past:?}");
    }
}

#[tokio::test]
async fn a_site_that_requires_device_keys_shows_no_plain_code_and_hears_why_a_phone_cannot_keep_one(
) {
    for db in backends(
        "a_site_that_requires_device_keys_shows_no_plain_code_and_hears_why_a_phone_cannot_keep_one",
    )
    .await
    {
        let (d, _dir, _) = dashboard(&db).await;
        let admin = Principal::local_admin();
        d.sites()
            .update(
                &admin,
                SITE,
                &SiteChange {
                    require_device_key: Some(true),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let (issued, secret) = member_with_pass(&d).await;
        assert_eq!(issued.qr_text, None, "a plain code was handed out");
        assert_eq!(issued.qr_version, None);
        let page = call(&d, "GET", &format!("/p/{secret}"), None, None).await;
        assert_eq!(page.status, 200);
        let html = page.text();
        assert!(!html.contains("<svg"), "a plain code is shown:\n{html}");
        assert!(html.contains("id=\"app-enrol\""), "{html}");
        let png = call(&d, "GET", &format!("/p/{secret}/qr.png"), None, None).await;
        assert_eq!(png.status, 410, "{}", png.text());
        let state = call(&d, "GET", &format!("/p/{secret}/pass.json"), None, None).await;
        assert_eq!(state.json()["require_device_key"], true);
        assert_eq!(state.json()["can_enrol"], true);

        let odd = serde_json::json!({ "problem": "my phone is green" });
        let refused = call(&d, "POST", &format!("/p/{secret}/device-problem"), None, Some(odd)).await;
        assert_eq!(refused.status, 400, "{}", refused.text());
        let problem = serde_json::json!({ "problem": "no-indexeddb" });
        let told = call(&d, "POST", &format!("/p/{secret}/device-problem"), None, Some(problem)).await;
        assert_eq!(told.status, 204, "{}", told.text());
        let pass = d.passes().get(&admin, &issued.pass.id).await.unwrap();
        assert_eq!(pass.device_problem.as_deref(), Some("no-indexeddb"));

        // Another browser that can keep a key still sets the pass up.
        let enrolled = d.passes().enrol(&secret, &phone(4).1).await.unwrap();
        assert!(enrolled.device_bound);
        let after = call(&d, "GET", &format!("/p/{secret}/pass.json"), None, None).await;
        assert_eq!(after.json()["can_enrol"], false);
        assert!(after.json()["pass"].as_str().is_some_and(|p| !p.is_empty()));
    }
}

#[tokio::test]
async fn a_members_language_is_their_pages_when_the_phone_asks_for_none_of_bygds() {
    for db in
        backends("a_members_language_is_their_pages_when_the_phone_asks_for_none_of_bygds").await
    {
        let (d, _dir, password) = dashboard(&db).await;
        let session = login(&d, "admin", &password).await;
        let s = Some(session.as_str());
        let refused =
            serde_json::json!({ "id": "ole", "name": "Ole", "sites": [SITE], "language": "fi" });
        let answer = call(&d, "POST", "/api/v1/members", s, Some(refused)).await;
        assert_eq!(answer.status, 400, "{}", answer.text());
        assert_eq!(answer.json()["error"]["field"], "language");
        let ole =
            serde_json::json!({ "id": "ole", "name": "Ole", "sites": [SITE], "language": "da" });
        let added = call(&d, "POST", "/api/v1/members", s, Some(ole)).await;
        assert_eq!(added.status, 201, "{}", added.text());
        assert_eq!(added.json()["language"], "da");
        let issued = d
            .passes()
            .issue(
                &Principal::local_admin(),
                &IssuePass {
                    member: "ole".into(),
                    site: SITE.into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let page = format!("/p/{}", issued.page_url.split_once("/p/").unwrap().1);
        let html = call(&d, "GET", &page, None, None).await.text();
        assert!(html.contains("<html lang=\"da\">"), "{html}");
        // The member's choice back to their site's (English here).
        let cleared = serde_json::json!({ "language": null });
        let patched = call(&d, "PATCH", "/api/v1/members/ole", s, Some(cleared)).await;
        assert_eq!(patched.status, 200, "{}", patched.text());
        assert_eq!(patched.json()["language"], serde_json::Value::Null);
        let html = call(&d, "GET", &page, None, None).await.text();
        assert!(html.contains("<html lang=\"en\">"), "{html}");
    }
}

#[tokio::test]
async fn what_an_operator_does_to_a_replaced_pass_names_its_successor_and_mail_moves_with_the_link()
{
    for db in backends(
        "what_an_operator_does_to_a_replaced_pass_names_its_successor_and_mail_moves_with_the_link",
    )
    .await
    {
        let (d, _dir, _) = dashboard(&db).await;
        let admin = Principal::local_admin();
        d.members()
            .add(
                &admin,
                &NewMember {
                    id: "maja".into(),
                    name: "Maja Ek".into(),
                    email: Some("maja@example.org".into()),
                    sites: vec![SITE.into()],
                    language: None,
                },
            )
            .await
            .unwrap();
        // Issued with its link by e-mail; no relay runs, so the mail waits in the outbox.
        let issued = d
            .passes()
            .issue(
                &admin,
                &IssuePass {
                    member: "maja".into(),
                    site: SITE.into(),
                    email: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(issued.pass.delivery.is_some());
        let renewed = d
            .passes()
            .renew(&admin, &issued.pass.id, d.now() + 60 * 86_400)
            .await
            .unwrap();
        let delivery = renewed
            .delivery
            .expect("the unsent mail moved to the renewed pass");
        assert_eq!(delivery.to, "maja@example.org");
        assert!(d
            .passes()
            .get(&admin, &issued.pass.id)
            .await
            .unwrap()
            .delivery
            .is_none());

        let refused = d
            .passes()
            .revoke(&admin, &issued.pass.id)
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, ServiceError::Conflict(m) if m.contains(&renewed.id)),
            "{refused:?}"
        );

        // Once a phone holds the link, a new link by e-mail would cut it off: refused.
        let secret = issued.page_url.split_once("/p/").unwrap().1;
        let enrolled = d.passes().enrol(secret, &phone(5).1).await.unwrap();
        let refused = d
            .passes()
            .send_link(&admin, &enrolled.pass_id)
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, ServiceError::Conflict(m) if m.contains("kept on the member's phone")),
            "{refused:?}"
        );

        // A link that leads nowhere is a page for people, in their language.
        let dead = call(&d, "GET", "/p/0123456789abcdef?lang=da", None, None).await;
        assert_eq!(dead.status, 404);
        assert!(
            dead.text().contains("Dette kortlink virker ikke"),
            "{}",
            dead.text()
        );
    }
}
