//! The HTTP API and the services under it, through `app(state).oneshot(...)` over a real
//! database (SQLite, and PostgreSQL when `BYGD_TEST_DATABASE_URL` is set), with real
//! signatures: passes verify under the issuer key, batches are signed by a gateway key.

mod common;

use bygd_dashboard::{Ingested, IssuePass, NewMember, Principal, Role, Sites};
use bygd_protocol::{
    decode_qr, verify_revocation_list, AccessContext, ClockQuality, CommandId, CommandOutcome,
    DoorId, EventBody, PublicKey, Rejection, SiteId, TrustedKeys, UnixTime, WeekTime,
};
use common::*;
use serde_json::json;

async fn admin_session(d: &bygd_dashboard::Dashboard, password: &str) -> String {
    login(d, "admin", password).await
}

#[tokio::test]
async fn an_admin_logs_in_and_a_wrong_password_is_refused() {
    for db in backends("an_admin_logs_in_and_a_wrong_password_is_refused").await {
        let (d, _dir, password) = dashboard(&db).await;
        let wrong = call(
            &d,
            "POST",
            "/api/v1/session",
            None,
            Some(json!({"name": "admin", "password": "nope-nope-nope"})),
        )
        .await;
        assert_eq!(wrong.status, 401, "{}: {}", db.name, wrong.text());
        assert_eq!(wrong.code(), "unauthenticated");
        let session = admin_session(&d, &password).await;
        let gateways = call(&d, "GET", "/api/v1/gateways", Some(&session), None).await;
        assert_eq!(gateways.status, 200, "{}", gateways.text());
        assert_eq!(gateways.json()["gateways"][0]["id"], GATEWAY);
        let out = call(&d, "DELETE", "/api/v1/session", Some(&session), None).await;
        assert_eq!(out.status, 204);
        let after = call(&d, "GET", "/api/v1/gateways", Some(&session), None).await;
        assert_eq!(after.status, 401, "a session ended by logout still works");
    }
}

#[tokio::test]
async fn a_booking_system_token_creates_a_member_and_issues_a_pass_that_verifies() {
    for db in
        backends("a_booking_system_token_creates_a_member_and_issues_a_pass_that_verifies").await
    {
        let (d, _dir, password) = dashboard_on_manual_clock(&db).await;
        let session = admin_session(&d, &password).await;
        let token = call(&d, "POST", "/api/v1/tokens", Some(&session), Some(json!({
            "name": "booking system", "scopes": ["members:write", "members:read", "passes:write", "passes:read"], "sites": "byn"
        }))).await;
        assert_eq!(token.status, 201, "{}", token.text());
        let token = token.json()["token"].as_str().unwrap().to_owned();
        assert!(token.starts_with("bygd_"));

        let member = call(
            &d,
            "POST",
            "/api/v1/members",
            Some(&token),
            Some(json!({
                "id": "anna", "name": "Anna Lindqvist", "sites": ["byn"]
            })),
        )
        .await;
        assert_eq!(member.status, 201, "{}: {}", db.name, member.text());

        let issued = call(
            &d,
            "POST",
            "/api/v1/passes",
            Some(&token),
            Some(json!({
                "member": "anna", "site": "byn", "doors": ["front"], "until": "+7d",
                "schedule": "mon-sun 00:00-24:00", "kind": "guest", "booking": "B-1042"
            })),
        )
        .await;
        assert_eq!(issued.status, 201, "{}", issued.text());
        let issued = issued.json();
        let text = issued["qr_text"].as_str().unwrap();
        assert!(text.starts_with("BYGD1:"), "{text}");
        assert!(issued["qr_version"].as_i64().unwrap() <= 10);

        // The pass verifies under the dashboard's issuer key and says what was asked.
        let mut keys = TrustedKeys::new();
        keys.insert(PublicKey::from_hex(&d.issuer_public_key()).unwrap());
        let presentation = decode_qr(text).unwrap();
        let pass = bygd_protocol::open_pass(&presentation.pass, &keys).unwrap();
        assert_eq!(pass.claims.member.as_str(), "anna");
        assert_eq!(pass.claims.kind.name(), "guest");
        // On the dashboard's clock, `+7d` is exactly a week after it was asked.
        let now = u64::try_from(d.now()).unwrap();
        assert_eq!(pass.claims.expires.0, now + 7 * 86_400);
        let site = SiteId::new(SITE).unwrap();
        let (front, workshop) = (
            DoorId::new("front").unwrap(),
            DoorId::new("workshop").unwrap(),
        );
        let at = |door| AccessContext {
            site: &site,
            door,
            now: UnixTime(now),
            local: WeekTime::from_unix_with_offset(UnixTime(now), 3600),
        };
        assert!(pass.claims.check_access(&at(&front)).is_ok());
        assert!(
            pass.claims.check_access(&at(&workshop)).is_err(),
            "the pass names only front"
        );

        // The links work without a credential: the link is the credential.
        let page_path = issued["page_url"]
            .as_str()
            .unwrap()
            .split_once("/p/")
            .map(|(_, p)| format!("/p/{p}"))
            .unwrap();
        let page = call(&d, "GET", &page_path, None, None).await;
        assert_eq!(page.status, 200);
        assert!(page.text().contains("<svg") && page.text().contains("Anna Lindqvist"));
        // In the member's language: the page's own switch, else the browser's.
        let swedish = call(&d, "GET", &format!("{page_path}?lang=sv"), None, None).await;
        assert!(
            swedish.text().contains("Håll koden mot läsaren"),
            "{}",
            swedish.text()
        );
        let danish = call_with(&d, &page_path, &[("accept-language", "da-DK,da;q=0.9")]).await;
        assert!(danish.contains("Hold koden op mod læseren"), "{danish}");
        assert_eq!(page.headers["cache-control"], "no-store");
        let png = call(&d, "GET", &format!("{page_path}/qr.png"), None, None).await;
        assert_eq!(png.status, 200);
        assert_eq!(&png.body[..8], b"\x89PNG\r\n\x1a\n");
        let svg = call(&d, "GET", &format!("{page_path}/qr.svg"), None, None).await;
        assert!(svg.text().starts_with("<svg"));
        let guessed = call(&d, "GET", "/p/0123456789abcdef/qr.png", None, None).await;
        assert_eq!(guessed.status, 404);

        // The booking reference and the scope stay with the pass.
        let id = issued["id"].as_str().unwrap();
        let got = call(
            &d,
            "GET",
            &format!("/api/v1/passes/{id}"),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(got.json()["booking"], "B-1042");
        assert_eq!(got.json()["doors"], json!(["front"]));
    }
}

#[tokio::test]
async fn a_token_lacking_a_scope_is_forbidden_and_a_revoked_token_stops_working() {
    for db in
        backends("a_token_lacking_a_scope_is_forbidden_and_a_revoked_token_stops_working").await
    {
        let (d, _dir, password) = dashboard(&db).await;
        let session = admin_session(&d, &password).await;
        let made = call(
            &d,
            "POST",
            "/api/v1/tokens",
            Some(&session),
            Some(json!({
                "name": "reader", "scopes": ["entries:read"]
            })),
        )
        .await
        .json();
        let token = made["token"].as_str().unwrap().to_owned();
        assert_eq!(
            call(&d, "GET", "/api/v1/entries", Some(&token), None)
                .await
                .status,
            200
        );
        let denied = call(
            &d,
            "POST",
            "/api/v1/members",
            Some(&token),
            Some(json!({"id": "x", "name": "X", "sites": ["byn"]})),
        )
        .await;
        assert_eq!(denied.status, 403);
        assert_eq!(denied.code(), "forbidden");
        assert!(denied.text().contains("members:write"));
        let id = made["id"].as_str().unwrap();
        assert_eq!(
            call(
                &d,
                "DELETE",
                &format!("/api/v1/tokens/{id}"),
                Some(&session),
                None
            )
            .await
            .status,
            204
        );
        let after = call(&d, "GET", "/api/v1/entries", Some(&token), None).await;
        assert_eq!(
            after.status,
            401,
            "a revoked token still works: {}",
            after.text()
        );
        assert_eq!(after.headers["www-authenticate"], "Bearer");
        // Tokens are stored hashed: the secret is nowhere in the token list.
        let list = call(&d, "GET", "/api/v1/tokens", Some(&session), None)
            .await
            .text();
        assert!(!list.contains(token.split('.').nth(1).unwrap()));
    }
}

#[tokio::test]
async fn an_operator_of_one_site_sees_nothing_of_another_site() {
    for db in backends("an_operator_of_one_site_sees_nothing_of_another_site").await {
        let (d, _dir, password) = dashboard(&db).await;
        let admin = Principal::local_admin();
        d.gateways()
            .register(
                &admin,
                &bygd_dashboard::NewGateway {
                    site: "klit".into(),
                    id: "gw1".into(),
                    public_key: forger_key().public_key().to_hex(),
                    doors: vec!["hoveddor".into()],
                    time_zone: Some("Europe/Copenhagen".into()),
                },
            )
            .await
            .unwrap();
        let session = admin_session(&d, &password).await;
        for (id, site) in [("anna", "byn"), ("mads", "klit")] {
            let r = call(
                &d,
                "POST",
                "/api/v1/members",
                Some(&session),
                Some(json!({"id": id, "name": id, "sites": [site]})),
            )
            .await;
            assert_eq!(r.status, 201, "{}", r.text());
        }
        let r = call(
            &d,
            "POST",
            "/api/v1/accounts",
            Some(&session),
            Some(json!({
                "name": "olle", "role": "operator", "sites": "byn", "password": "olle-password-123"
            })),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let olle = login(&d, "olle", "olle-password-123").await;
        let members = call(&d, "GET", "/api/v1/members", Some(&olle), None)
            .await
            .json();
        let ids: Vec<&str> = members["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["anna"]);
        assert_eq!(
            call(&d, "GET", "/api/v1/members/mads", Some(&olle), None)
                .await
                .status,
            404
        );
        let issue = call(
            &d,
            "POST",
            "/api/v1/passes",
            Some(&olle),
            Some(json!({"member": "mads", "site": "klit"})),
        )
        .await;
        assert_eq!(issue.status, 404, "{}", issue.text());
        let gateways = call(&d, "GET", "/api/v1/gateways", Some(&olle), None)
            .await
            .json();
        assert_eq!(gateways["gateways"].as_array().unwrap().len(), 1);
        let cmd = call(
            &d,
            "POST",
            "/api/v1/commands",
            Some(&olle),
            Some(json!({"gateway": "klit/gw1", "action": "unlock", "door": "hoveddor"})),
        )
        .await;
        assert_eq!(cmd.status, 404, "{}", cmd.text());
        // An operator may not make an account, and may not hand out more sites than it has.
        let r = call(
            &d,
            "POST",
            "/api/v1/accounts",
            Some(&olle),
            Some(json!({"name": "x", "role": "admin", "password": "long-enough-password"})),
        )
        .await;
        assert_eq!(r.status, 403);
    }
}

#[tokio::test]
async fn bad_input_gets_one_error_shape_naming_the_field() {
    for db in backends("bad_input_gets_one_error_shape_naming_the_field").await {
        let (d, _dir, password) = dashboard(&db).await;
        let s = admin_session(&d, &password).await;
        let none = call(&d, "GET", "/api/v1/members", None, None).await;
        assert_eq!(
            (none.status, none.code().as_str()),
            (401, "unauthenticated")
        );
        let junk = call_raw(
            &d,
            "POST",
            "/api/v1/members",
            Some(&s),
            Some(b"{not json".to_vec()),
        )
        .await;
        assert_eq!(
            (junk.status, junk.code().as_str()),
            (400, "bad_request"),
            "{}",
            junk.text()
        );
        let extra = call(
            &d,
            "POST",
            "/api/v1/members",
            Some(&s),
            Some(json!({"id": "a", "name": "A", "sites": ["byn"], "colour": "red"})),
        )
        .await;
        assert_eq!(extra.status, 400);
        assert!(extra.text().contains("colour"), "{}", extra.text());
        let bad_id = call(
            &d,
            "POST",
            "/api/v1/members",
            Some(&s),
            Some(json!({"id": "Anna Svensson", "name": "A", "sites": ["byn"]})),
        )
        .await;
        assert_eq!(
            (bad_id.status, bad_id.json()["error"]["field"].as_str()),
            (400, Some("id"))
        );
        call(
            &d,
            "POST",
            "/api/v1/members",
            Some(&s),
            Some(json!({"id": "anna", "name": "Anna", "sites": ["byn"]})),
        )
        .await;
        let dup = call(
            &d,
            "POST",
            "/api/v1/members",
            Some(&s),
            Some(json!({"id": "anna", "name": "Anna", "sites": ["byn"]})),
        )
        .await;
        assert_eq!((dup.status, dup.code().as_str()), (409, "conflict"));
        for (body, field) in [
            (
                json!({"member": "anna", "site": "byn", "until": "2020-01-01"}),
                "until",
            ),
            (
                json!({"member": "anna", "site": "byn", "until": "next week"}),
                "until",
            ),
            (
                json!({"member": "anna", "site": "byn", "schedule": "someday 9-5"}),
                "schedule",
            ),
            (
                json!({"member": "anna", "site": "byn", "doors": ["cellar"]}),
                "doors",
            ),
            (
                json!({"member": "anna", "site": "byn", "device_key": "00ff"}),
                "device_key",
            ),
            (
                json!({"member": "anna", "site": "byn", "kind": "vip"}),
                "kind",
            ),
        ] {
            let r = call(&d, "POST", "/api/v1/passes", Some(&s), Some(body.clone())).await;
            assert_eq!(r.status, 400, "{body}: {}", r.text());
            assert_eq!(r.json()["error"]["field"], field, "{body}: {}", r.text());
            assert!(!r.json()["error"]["message"].as_str().unwrap().is_empty());
        }
        let unknown = call(&d, "GET", "/api/v1/nothing-here", Some(&s), None).await;
        assert_eq!(
            (unknown.status, unknown.code().as_str()),
            (404, "no_such_endpoint")
        );
        let bad_query = call(&d, "GET", "/api/v1/entries?limit=lots", Some(&s), None).await;
        assert_eq!(
            (bad_query.status, bad_query.code().as_str()),
            (400, "bad_request")
        );
        let bad_cursor = call(&d, "GET", "/api/v1/entries?cursor=abc", Some(&s), None).await;
        assert_eq!(bad_cursor.json()["error"]["field"], "cursor");
    }
}

#[tokio::test]
async fn sites_are_added_before_any_gateway_and_changed_only_by_admins_of_them() {
    for db in
        backends("sites_are_added_before_any_gateway_and_changed_only_by_admins_of_them").await
    {
        let (d, _dir, password) = dashboard(&db).await;
        let s = admin_session(&d, &password).await;
        let s = Some(s.as_str());
        let dal = json!({
            "id": "dal", "name": "Dalens verkstad", "time_zone": "Europe/Stockholm",
            "language": "sv", "address": "Dalvägen 2\n792 00 Mora"
        });
        let added = call(&d, "POST", "/api/v1/sites", s, Some(dal.clone())).await;
        assert_eq!(added.status, 201, "{}: {}", db.name, added.text());
        let added = added.json();
        assert_eq!(
            (&added["name"], &added["language"], &added["address"]),
            (
                &json!("Dalens verkstad"),
                &json!("sv"),
                &json!("Dalvägen 2\n792 00 Mora")
            )
        );
        // Its first revocation list is signed with it, before any gateway asks.
        assert_eq!(list_version(&d, "dal").await, 1, "{}", db.name);
        // A member joins it with no gateway there.
        let member = call(
            &d,
            "POST",
            "/api/v1/members",
            s,
            Some(json!({ "id": "berit", "name": "Berit", "sites": ["dal"] })),
        )
        .await;
        assert_eq!(member.status, 201, "{}", member.text());
        let plain = call(
            &d,
            "POST",
            "/api/v1/sites",
            s,
            Some(json!({ "id": "fjall", "name": "Fjällstugan", "time_zone": "UTC" })),
        )
        .await;
        assert_eq!(plain.status, 201, "{}", plain.text());
        assert_eq!(plain.json()["language"], "en", "English unless told");
        assert_eq!(plain.json()["address"], serde_json::Value::Null);

        // Refusals say which field and why.
        let taken = call(&d, "POST", "/api/v1/sites", s, Some(dal)).await;
        assert_eq!((taken.status, taken.code().as_str()), (409, "conflict"));
        let zone = json!({ "id": "x", "name": "X", "time_zone": "Nowhere/City" });
        let zone = call(&d, "POST", "/api/v1/sites", s, Some(zone)).await;
        assert_eq!(zone.status, 400);
        assert_eq!(zone.json()["error"]["field"], "time_zone");
        let unknown = json!({ "id": "x", "name": "X", "time_zone": "UTC", "colour": "red" });
        let unknown = call(&d, "POST", "/api/v1/sites", s, Some(unknown)).await;
        assert_eq!(unknown.code(), "bad_request");

        // Changes: a field left out stays, `null` clears the address.
        let changed = call(
            &d,
            "PATCH",
            "/api/v1/sites/dal",
            s,
            Some(json!({ "time_zone": "Europe/Copenhagen", "address": null })),
        )
        .await;
        assert_eq!(changed.status, 200, "{}", changed.text());
        let changed = changed.json();
        assert_eq!(changed["name"], "Dalens verkstad");
        assert_eq!(changed["time_zone"], "Europe/Copenhagen");
        assert_eq!(changed["address"], serde_json::Value::Null);
        let zone = d
            .sites()
            .zone(&Principal::local_admin(), "dal")
            .await
            .unwrap();
        assert_eq!(zone.iana_name(), Some("Europe/Copenhagen"));
        let german = json!({ "language": "de" });
        let german = call(&d, "PATCH", "/api/v1/sites/dal", s, Some(german)).await;
        assert_eq!(german.json()["error"]["field"], "language");
        let empty = call(&d, "PATCH", "/api/v1/sites/dal", s, Some(json!({}))).await;
        assert_eq!(empty.status, 400);
        let fetched = call(&d, "GET", "/api/v1/sites/dal", s, None).await;
        assert_eq!(fetched.json(), changed);

        // Both writes are in the trail.
        let trail = d.trail(&Principal::local_admin(), 50).await.unwrap();
        for action in ["site.add", "site.update"] {
            assert!(
                trail
                    .iter()
                    .any(|r| r["action"] == action && r["target"] == "dal"),
                "{}: no {action} in {trail:?}",
                db.name
            );
        }

        // An admin of byn alone sees and changes byn only, and adds no sites.
        let me = Principal::local_admin();
        let byn_only = Sites::parse(SITE).unwrap();
        d.accounts()
            .add(&me, "bo", Role::Admin, &byn_only, "a long passphrase here")
            .await
            .unwrap();
        let bo = login(&d, "bo", "a long passphrase here").await;
        let bo = Some(bo.as_str());
        let seen = call(&d, "GET", "/api/v1/sites", bo, None).await.json();
        let ids: Vec<&str> = seen["sites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [SITE], "{}", db.name);
        assert_eq!(
            call(&d, "GET", "/api/v1/sites/dal", bo, None).await.status,
            404
        );
        let rename = json!({ "name": "Mine now" });
        let other = call(&d, "PATCH", "/api/v1/sites/dal", bo, Some(rename.clone())).await;
        assert_eq!(other.status, 404);
        let own = call(&d, "PATCH", "/api/v1/sites/byn", bo, Some(rename)).await;
        assert_eq!(own.status, 200, "{}", own.text());
        let klit = json!({ "id": "klit", "name": "Klit", "time_zone": "Europe/Copenhagen" });
        let new = call(&d, "POST", "/api/v1/sites", bo, Some(klit)).await;
        assert_eq!(new.status, 400, "{}", new.text());
        assert_eq!(new.json()["error"]["field"], "id");

        // An operator reads sites but changes none.
        d.accounts()
            .add(
                &me,
                "olle",
                Role::Operator,
                &Sites::All,
                "a long passphrase here",
            )
            .await
            .unwrap();
        let olle = login(&d, "olle", "a long passphrase here").await;
        let olle = Some(olle.as_str());
        assert_eq!(
            call(&d, "GET", "/api/v1/sites", olle, None).await.status,
            200
        );
        let rename = json!({ "name": "Olles" });
        let refused = call(&d, "PATCH", "/api/v1/sites/dal", olle, Some(rename)).await;
        assert_eq!(refused.status, 403);
    }
}

/// Registers a gateway `gw1` at `site` (which creates the site and signs its first list).
async fn add_site(d: &bygd_dashboard::Dashboard, site: &str) {
    d.gateways()
        .register(
            &Principal::local_admin(),
            &bygd_dashboard::NewGateway {
                site: site.into(),
                id: "gw1".into(),
                public_key: forger_key().public_key().to_hex(),
                doors: vec!["front".into()],
                time_zone: Some("Europe/Stockholm".into()),
            },
        )
        .await
        .unwrap();
}

/// The version of `site`'s current list, verified as a gateway at that site would.
async fn list_version(d: &bygd_dashboard::Dashboard, site: &str) -> u64 {
    let mut keys = TrustedKeys::new();
    keys.insert(PublicKey::from_hex(&d.issuer_public_key()).unwrap());
    let bytes = d.revocation_lists().bytes(site).await.unwrap().unwrap();
    let (_, list) = verify_revocation_list(&bytes, &keys, &SiteId::new(site).unwrap())
        .unwrap_or_else(|e| panic!("{site}'s list at {site}: {e}"));
    list.version
}

#[tokio::test]
async fn each_site_numbers_its_own_revocation_lists_and_names_itself_in_them() {
    for db in backends("each_site_numbers_its_own_revocation_lists_and_names_itself_in_them").await
    {
        let (d, _dir, _) = dashboard(&db).await;
        add_site(&d, "dal").await;
        assert_eq!(
            (list_version(&d, SITE).await, list_version(&d, "dal").await),
            (1, 1),
            "{}: a site's first list is its version 1, whatever other sites signed",
            db.name
        );
        d.revocation_lists().refresh(SITE).await.unwrap();
        d.revocation_lists().refresh(SITE).await.unwrap();
        assert_eq!(
            (list_version(&d, SITE).await, list_version(&d, "dal").await),
            (3, 1),
            "{}",
            db.name
        );
        // byn's list, delivered to a gateway at dal (and the other way round), is refused.
        let mut keys = TrustedKeys::new();
        keys.insert(PublicKey::from_hex(&d.issuer_public_key()).unwrap());
        for (from, at) in [(SITE, "dal"), ("dal", SITE)] {
            let bytes = d.revocation_lists().bytes(from).await.unwrap().unwrap();
            assert_eq!(
                verify_revocation_list(&bytes, &keys, &SiteId::new(at).unwrap()),
                Err(Rejection::Misaddressed.into()),
                "{}: {from}'s list at {at}",
                db.name
            );
        }
    }
}

#[tokio::test]
async fn a_sites_counter_starts_from_the_shared_counter_of_an_existing_database() {
    for db in
        backends("a_sites_counter_starts_from_the_shared_counter_of_an_existing_database").await
    {
        let (d, _dir, _) = dashboard(&db).await;
        // What a dashboard from before per-site counters left: one counter at 40 for every
        // site, byn's list numbered 40 (its gateways hold 40), no per-site counter.
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        for statement in [
            "DELETE FROM counters",
            "INSERT INTO counters (name, value) VALUES ('revocation_version', 40)",
            "UPDATE revocation_lists SET version = 40 WHERE site = 'byn'",
        ] {
            sqlx::query(statement).execute(&pool).await.unwrap();
        }
        pool.close().await;
        d.revocation_lists().refresh(SITE).await.unwrap();
        assert_eq!(
            list_version(&d, SITE).await,
            41,
            "{}: byn's gateways, holding 40, take the next list",
            db.name
        );
        add_site(&d, "dal").await;
        assert_eq!(list_version(&d, "dal").await, 41, "{}", db.name);
        d.revocation_lists().refresh(SITE).await.unwrap();
        assert_eq!(list_version(&d, SITE).await, 42, "{}", db.name);
        assert_eq!(list_version(&d, "dal").await, 41, "{}", db.name);
    }
}

#[tokio::test]
async fn revoking_a_pass_signs_a_newer_revocation_list_that_names_it() {
    for db in backends("revoking_a_pass_signs_a_newer_revocation_list_that_names_it").await {
        let (d, _dir, password) = dashboard(&db).await;
        let s = admin_session(&d, &password).await;
        call(
            &d,
            "POST",
            "/api/v1/members",
            Some(&s),
            Some(json!({"id": "anna", "name": "Anna", "sites": ["byn"]})),
        )
        .await;
        let issued = call(
            &d,
            "POST",
            "/api/v1/passes",
            Some(&s),
            Some(json!({"member": "anna", "site": "byn"})),
        )
        .await
        .json();
        let id = issued["id"].as_str().unwrap().to_owned();
        let before = d
            .revocation_lists()
            .bytes(SITE)
            .await
            .unwrap()
            .expect("a site has a list from its first gateway");
        let mut keys = TrustedKeys::new();
        keys.insert(PublicKey::from_hex(&d.issuer_public_key()).unwrap());
        let byn = SiteId::new(SITE).unwrap();
        let (_, old) = verify_revocation_list(&before, &keys, &byn).unwrap();
        assert!(old.revoked_passes.is_empty());

        let r = call(
            &d,
            "POST",
            &format!("/api/v1/passes/{id}/revoke"),
            Some(&s),
            None,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.json()["revoked_at"].is_string());
        let after = d.revocation_lists().bytes(SITE).await.unwrap().unwrap();
        let (_, new) = verify_revocation_list(&after, &keys, &byn).unwrap();
        assert!(new.version > old.version);
        assert_eq!(
            new.revoked_passes
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>(),
            std::slice::from_ref(&id)
        );
        let again = call(
            &d,
            "POST",
            &format!("/api/v1/passes/{id}/revoke"),
            Some(&s),
            None,
        )
        .await;
        assert_eq!(again.status, 409);

        // The member's page now says so instead of showing the code.
        let page_path = format!(
            "/p/{}",
            issued["page_url"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
        );
        let page = call(&d, "GET", &page_path, None, None).await.text();
        assert!(
            page.contains("no longer opens doors") && !page.contains("<svg"),
            "{page}"
        );
        assert_eq!(
            call(&d, "GET", &format!("{page_path}/qr.png"), None, None)
                .await
                .status,
            410
        );

        // Revoking the member lists the member too.
        let r = call(&d, "POST", "/api/v1/members/anna/revoke", Some(&s), None).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let (_, newest) = verify_revocation_list(
            &d.revocation_lists().bytes(SITE).await.unwrap().unwrap(),
            &keys,
            &byn,
        )
        .unwrap();
        assert!(newest.version > new.version);
        assert_eq!(
            newest
                .revoked_members
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>(),
            ["anna"]
        );
        let refused = call(
            &d,
            "POST",
            "/api/v1/passes",
            Some(&s),
            Some(json!({"member": "anna", "site": "byn"})),
        )
        .await;
        assert_eq!(
            refused.status,
            409,
            "a revoked member got a pass: {}",
            refused.text()
        );
    }
}

#[tokio::test]
async fn a_revocation_whose_new_list_cannot_be_signed_is_not_committed_either() {
    for db in backends("a_revocation_whose_new_list_cannot_be_signed_is_not_committed_either").await
    {
        let (d, _dir, _) = dashboard(&db).await;
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
        let issue = || IssuePass {
            member: "anna".into(),
            site: SITE.into(),
            ..IssuePass::default()
        };
        let first = d.passes().issue(&admin, &issue()).await.unwrap().pass;
        let second = d.passes().issue(&admin, &issue()).await.unwrap().pass;
        d.passes().revoke(&admin, &first.id).await.unwrap();
        // A revoked pass whose stored id no longer reads back: no new list of the site can
        // be signed until someone repairs it.
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        sqlx::query("UPDATE passes SET id = 'not-hex' WHERE id = $1")
            .bind(first.id.clone())
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let version = list_version(&d, SITE).await;

        let pass = d.passes().revoke(&admin, &second.id).await;
        assert!(
            pass.is_err(),
            "{}: signed a list over a broken row",
            db.name
        );
        let member = d.members().revoke(&admin, "anna").await;
        assert!(
            member.is_err(),
            "{}: signed a list over a broken row",
            db.name
        );

        // Neither revocation took effect: the gateways' newest list would not carry it.
        assert_eq!(
            d.passes().get(&admin, &second.id).await.unwrap().revoked_at,
            None,
            "{}: the pass is revoked but on no list",
            db.name
        );
        assert_eq!(
            d.members().get(&admin, "anna").await.unwrap().revoked_at,
            None,
            "{}: the member is revoked but on no list",
            db.name
        );
        assert_eq!(list_version(&d, SITE).await, version, "{}", db.name);
        let trail = d.trail(&admin, 100).await.unwrap();
        assert!(
            !trail.iter().any(|e| e["action"] == "member.revoke"
                || (e["action"] == "pass.revoke" && e["target"] == second.id.as_str())),
            "{}: the trail records a revocation that did not happen: {trail:?}",
            db.name
        );
    }
}

#[tokio::test]
async fn ingest_stores_each_event_once_and_acks_the_stored_head() {
    for db in backends("ingest_stores_each_event_once_and_acks_the_stored_head").await {
        let (d, _dir, _) = dashboard(&db).await;
        let mut log = Log::new();
        for i in 0..5 {
            log.grant(now() - 100 + i, "front", "anna");
        }
        let key = gateway_key();
        let first = d
            .ingest_batch(SITE, GATEWAY, &log.batch(1, 3, &key))
            .await
            .unwrap();
        assert!(
            matches!(
                first,
                Ingested::Stored {
                    from: 1,
                    to: 3,
                    skipped: 0,
                    ..
                }
            ),
            "{first:?}"
        );
        // A redelivery overlapping what is stored: only 4 and 5 are new.
        let overlap = d
            .ingest_batch(SITE, GATEWAY, &log.batch(2, 5, &key))
            .await
            .unwrap();
        match overlap {
            Ingested::Stored {
                from: 4,
                to: 5,
                skipped: 2,
                head,
            } => assert_eq!(head, log.head),
            other => panic!("{}: {other:?}", db.name),
        }
        let again = d
            .ingest_batch(SITE, GATEWAY, &log.batch(1, 5, &key))
            .await
            .unwrap();
        assert_eq!(again, Ingested::AlreadyStored { head: log.head });
        let all = d
            .entries()
            .audit(&Principal::local_admin(), &Default::default())
            .await
            .unwrap();
        let mut seqs: Vec<u64> = all.entries.iter().map(|e| e.seq).collect();
        seqs.sort();
        assert_eq!(seqs, [1, 2, 3, 4, 5]);
    }
}

#[tokio::test]
async fn a_forged_or_forked_batch_raises_an_integrity_alarm_and_stores_nothing() {
    for db in
        backends("a_forged_or_forked_batch_raises_an_integrity_alarm_and_stores_nothing").await
    {
        let (d, _dir, _) = dashboard(&db).await;
        let admin = Principal::local_admin();
        let mut log = Log::new();
        log.grant(now(), "front", "anna");
        let forged = d
            .ingest_batch(SITE, GATEWAY, &log.batch(1, 1, &forger_key()))
            .await
            .unwrap();
        assert!(
            matches!(&forged, Ingested::Refused { reason } if reason == "unknown_key"),
            "{forged:?}"
        );
        let alarms = d.alarms().list(&admin, true, 10).await.unwrap();
        assert_eq!(alarms.len(), 1);
        assert_eq!(alarms[0].kind, "integrity");
        assert!(alarms[0].detail.contains("forged"), "{}", alarms[0].detail);
        // The same forgery again repeats the alarm instead of adding one.
        d.ingest_batch(SITE, GATEWAY, &log.batch(1, 1, &forger_key()))
            .await
            .unwrap();
        let alarms = d.alarms().list(&admin, true, 10).await.unwrap();
        assert_eq!((alarms.len(), alarms[0].count), (1, 2));
        assert!(d
            .entries()
            .audit(&admin, &Default::default())
            .await
            .unwrap()
            .entries
            .is_empty());

        // The real log, then a different event 2 signed by the real key: a fork.
        log.grant(now(), "front", "anna");
        assert!(matches!(
            d.ingest_batch(SITE, GATEWAY, &log.batch(1, 2, &gateway_key()))
                .await
                .unwrap(),
            Ingested::Stored { .. }
        ));
        let mut fork = Log::new();
        fork.grant(now() - 5000, "front", "anna");
        let fork_1 = d
            .ingest_batch(SITE, GATEWAY, &fork.batch(1, 1, &gateway_key()))
            .await
            .unwrap();
        assert!(
            matches!(&fork_1, Ingested::Refused { reason } if reason == "chain_broken"),
            "{fork_1:?}"
        );
        let alarms = d.alarms().list(&admin, true, 10).await.unwrap();
        assert!(
            alarms
                .iter()
                .any(|a| a.kind == "integrity" && a.detail.contains("forked")),
            "{alarms:?}"
        );
        assert_eq!(
            d.entries()
                .audit(&admin, &Default::default())
                .await
                .unwrap()
                .entries
                .len(),
            2
        );
        // Batches on the topic of an unregistered gateway are refused and alarmed too.
        let stray = d
            .ingest_batch(SITE, "gw9", &log.batch(1, 1, &gateway_key()))
            .await
            .unwrap();
        assert!(matches!(stray, Ingested::Refused { .. }));
        assert!(d
            .alarms()
            .list(&admin, true, 10)
            .await
            .unwrap()
            .iter()
            .any(|a| a.kind == "unknown_gateway" && a.gateway == "gw9"));
    }
}

#[tokio::test]
async fn a_batch_past_a_gap_is_held_back_until_the_missing_events_come() {
    for db in backends("a_batch_past_a_gap_is_held_back_until_the_missing_events_come").await {
        let (d, _dir, _) = dashboard(&db).await;
        let mut log = Log::new();
        for _ in 0..4 {
            log.grant(now(), "front", "anna");
        }
        let key = gateway_key();
        let gap = d
            .ingest_batch(SITE, GATEWAY, &log.batch(3, 4, &key))
            .await
            .unwrap();
        assert_eq!(gap, Ingested::Gap { head: 0, first: 3 });
        assert!(d
            .entries()
            .audit(&Principal::local_admin(), &Default::default())
            .await
            .unwrap()
            .entries
            .is_empty());
        assert!(matches!(
            d.ingest_batch(SITE, GATEWAY, &log.batch(1, 4, &key))
                .await
                .unwrap(),
            Ingested::Stored { from: 1, to: 4, .. }
        ));
    }
}

#[tokio::test]
async fn entries_filter_and_page_without_gaps_or_repeats_and_export_as_csv() {
    for db in backends("entries_filter_and_page_without_gaps_or_repeats_and_export_as_csv").await {
        let (d, _dir, password) = dashboard(&db).await;
        let s = admin_session(&d, &password).await;
        let mut log = Log::new();
        let start = now() - 10_000;
        for i in 0..250u64 {
            // Several events share a second: paging must break ties.
            let t = start + i / 3;
            match i % 5 {
                0 => log.deny(t, "workshop", "bo"),
                1 | 2 => log.grant(t, "front", "anna"),
                3 => log.grant(t, "workshop", "bo"),
                _ => log.push(
                    t,
                    ClockQuality::Floor,
                    EventBody::DoorOpened {
                        door: DoorId::new("front").unwrap(),
                    },
                ),
            };
        }
        let key = gateway_key();
        for from in (1..=250).step_by(100) {
            let to = (from + 99).min(250);
            d.ingest_batch(SITE, GATEWAY, &log.batch(from, to, &key))
                .await
                .unwrap();
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/entries?limit=70&cursor={c}"),
                None => "/api/v1/entries?limit=70".to_owned(),
            };
            let page = call(&d, "GET", &path, Some(&s), None).await.json();
            for e in page["entries"].as_array().unwrap() {
                seen.push(e["seq"].as_u64().unwrap());
                assert!(
                    e["outcome"].is_string(),
                    "only entries unless all=true: {e}"
                );
            }
            match page["next"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        let expected: Vec<u64> = (1..=250).filter(|i| (i - 1) % 5 != 4).rev().collect();
        assert_eq!(
            seen, expected,
            "{}: pages skipped or repeated entries",
            db.name
        );

        let denied = call(
            &d,
            "GET",
            "/api/v1/entries?outcome=denied&limit=1000",
            Some(&s),
            None,
        )
        .await
        .json();
        assert_eq!(denied["entries"].as_array().unwrap().len(), 50);
        let anna = call(
            &d,
            "GET",
            "/api/v1/entries?member=anna&door=front&limit=1000",
            Some(&s),
            None,
        )
        .await
        .json();
        assert_eq!(anna["entries"].as_array().unwrap().len(), 100);
        let since = call(
            &d,
            "GET",
            &format!(
                "/api/v1/entries?since={}&limit=1000",
                bygd_protocol::UnixTime(start + 80).0
            ),
            Some(&s),
            None,
        )
        .await;
        assert_eq!(
            since.status,
            400,
            "a bare number is not a time form: {}",
            since.text()
        );
        let since = call(
            &d,
            "GET",
            "/api/v1/entries?since=%2B0m&limit=1000",
            Some(&s),
            None,
        )
        .await
        .json();
        assert_eq!(
            since["entries"].as_array().unwrap().len(),
            0,
            "nothing is newer than now"
        );
        let all = call(
            &d,
            "GET",
            "/api/v1/entries?all=true&limit=1000",
            Some(&s),
            None,
        )
        .await
        .json();
        let floors = all["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["clock"] == "floor")
            .count();
        assert_eq!(floors, 50, "events decided on the clock floor are flagged");

        let csv = call(
            &d,
            "GET",
            "/api/v1/entries.csv?outcome=granted",
            Some(&s),
            None,
        )
        .await;
        assert_eq!(csv.status, 200);
        assert!(csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let text = csv.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "time,site,gateway,seq,door,kind,outcome,member,pass_id,reason,clock,local_time"
        );
        assert_eq!(lines.len(), 1 + 150);
        assert!(lines[1..].iter().all(|l| l.contains(",granted,")));
    }
}

#[tokio::test]
async fn commands_are_numbered_in_order_and_their_results_come_from_the_log() {
    for db in backends("commands_are_numbered_in_order_and_their_results_come_from_the_log").await {
        let (d, _dir, password) = dashboard(&db).await;
        let s = admin_session(&d, &password).await;
        let unlock = call(
            &d,
            "POST",
            "/api/v1/commands",
            Some(&s),
            Some(json!({"gateway": "gw1", "action": "unlock", "door": "front", "seconds": 4})),
        )
        .await;
        assert_eq!(unlock.status, 202, "{}", unlock.text());
        let unlock = unlock.json();
        assert_eq!(
            (unlock["status"].as_str(), unlock["seq"].as_u64()),
            (Some("queued"), Some(1))
        );
        let lockdown = call(
            &d,
            "POST",
            "/api/v1/commands",
            Some(&s),
            Some(json!({"gateway": "byn/gw1", "action": "lockdown", "on": true})),
        )
        .await
        .json();
        assert_eq!(lockdown["seq"], 2);
        let bad_door = call(
            &d,
            "POST",
            "/api/v1/commands",
            Some(&s),
            Some(json!({"gateway": "gw1", "action": "unlock", "door": "cellar"})),
        )
        .await;
        assert_eq!(bad_door.json()["error"]["field"], "door");

        // The gateway reports the unlock done, and refuses a command nobody here sent.
        let mut log = Log::new();
        let id = CommandId::from_hex(unlock["id"].as_str().unwrap()).unwrap();
        log.push(
            now(),
            ClockQuality::Synchronised,
            EventBody::CommandResult {
                command: id,
                seq: 1,
                outcome: CommandOutcome::Done,
            },
        );
        log.push(
            now(),
            ClockQuality::Synchronised,
            EventBody::CommandResult {
                command: CommandId([9; 16]),
                seq: 0,
                outcome: CommandOutcome::Refused(bygd_protocol::Rejection::UnknownKey),
            },
        );
        d.ingest_batch(SITE, GATEWAY, &log.batch(1, 2, &gateway_key()))
            .await
            .unwrap();
        let done = call(
            &d,
            "GET",
            &format!("/api/v1/commands/{}", unlock["id"].as_str().unwrap()),
            Some(&s),
            None,
        )
        .await
        .json();
        assert_eq!(done["status"], "done", "{done}");
        let alarms = call(&d, "GET", "/api/v1/alarms?open=true", Some(&s), None)
            .await
            .json();
        let refused: Vec<&serde_json::Value> = alarms["alarms"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["kind"] == "command_refused")
            .collect();
        assert_eq!(refused.len(), 1, "{alarms}");
        assert!(refused[0]["detail"]
            .as_str()
            .unwrap()
            .contains("never sent"));
    }
}

#[tokio::test]
async fn statuses_track_online_and_a_last_will_raises_an_offline_alarm() {
    for db in backends("statuses_track_online_and_a_last_will_raises_an_offline_alarm").await {
        let (d, _dir, _) = dashboard(&db).await;
        let admin = Principal::local_admin();
        let online = json!({"online": true, "doors": [{"id": "front", "released": false, "open": true, "lockdown": true, "forced_open": false, "held_open": false}]});
        assert_eq!(
            d.take_status(SITE, GATEWAY, online.to_string().as_bytes())
                .await
                .unwrap(),
            Some(true)
        );
        let g = &d.gateways().list(&admin).await.unwrap()[0];
        assert!(g.online && g.last_seen.is_some());
        assert_eq!(
            (g.doors[0].id.as_str(), g.doors[0].open, g.doors[0].lockdown),
            ("front", Some(true), Some(true))
        );
        assert_eq!(
            g.doors[1].open, None,
            "a door the status does not mention has no state"
        );
        d.take_status(SITE, GATEWAY, br#"{"online": false}"#)
            .await
            .unwrap();
        assert!(!d.gateways().list(&admin).await.unwrap()[0].online);
        let alarms = d.alarms().list(&admin, true, 10).await.unwrap();
        assert_eq!(
            alarms.iter().map(|a| a.kind.as_str()).collect::<Vec<_>>(),
            ["offline"]
        );
        d.take_status(SITE, GATEWAY, online.to_string().as_bytes())
            .await
            .unwrap();
        assert!(
            d.alarms().list(&admin, true, 10).await.unwrap().is_empty(),
            "back online clears the alarm"
        );
        assert_eq!(
            d.take_status(SITE, GATEWAY, b"not json").await.unwrap(),
            None
        );
    }
}

#[tokio::test]
async fn every_write_is_in_the_audit_trail_with_who_made_it() {
    for db in backends("every_write_is_in_the_audit_trail_with_who_made_it").await {
        let (d, _dir, password) = dashboard(&db).await;
        let s = admin_session(&d, &password).await;
        call(
            &d,
            "POST",
            "/api/v1/members",
            Some(&s),
            Some(json!({"id": "anna", "name": "Anna", "sites": ["byn"]})),
        )
        .await;
        let pass = call(
            &d,
            "POST",
            "/api/v1/passes",
            Some(&s),
            Some(json!({"member": "anna", "site": "byn"})),
        )
        .await
        .json();
        call(
            &d,
            "POST",
            &format!("/api/v1/passes/{}/revoke", pass["id"].as_str().unwrap()),
            Some(&s),
            None,
        )
        .await;
        call(
            &d,
            "POST",
            "/api/v1/commands",
            Some(&s),
            Some(json!({"gateway": "gw1", "action": "unlock", "door": "front"})),
        )
        .await;
        let trail = call(&d, "GET", "/api/v1/trail", Some(&s), None)
            .await
            .json();
        let rows: Vec<(String, String)> = trail["trail"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["action"].as_str().unwrap().to_owned(),
                    r["actor"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        for action in ["member.add", "pass.issue", "pass.revoke", "command.unlock"] {
            assert!(
                rows.contains(&(action.to_owned(), "account:admin".to_owned())),
                "{action} missing: {rows:?}"
            );
        }
        assert!(rows
            .iter()
            .any(|(a, who)| a == "gateway.add" && who.starts_with("cli:")));
        assert!(rows.iter().any(|(a, _)| a == "account.add"));
    }
}

#[tokio::test]
async fn limits_count_only_what_a_site_limited_caller_may_see() {
    for db in backends("limits_count_only_what_a_site_limited_caller_may_see").await {
        let (d, _dir, password) = dashboard(&db).await;
        let admin = Principal::local_admin();
        d.gateways()
            .register(
                &admin,
                &bygd_dashboard::NewGateway {
                    site: "klit".into(),
                    id: "gw1".into(),
                    public_key: forger_key().public_key().to_hex(),
                    doors: vec!["hoveddor".into()],
                    time_zone: None,
                },
            )
            .await
            .unwrap();
        // One alarm at byn, then many newer ones at klit.
        d.take_status(SITE, GATEWAY, br#"{"online": false}"#)
            .await
            .unwrap();
        for i in 0..5 {
            let mut log = Log::new();
            log.grant(now(), "hoveddor", "mads");
            d.ingest_batch(
                "klit",
                &format!("gw{}", i + 5),
                &log.batch(1, 1, &gateway_key()),
            )
            .await
            .unwrap();
        }
        let s = admin_session(&d, &password).await;
        call(&d, "POST", "/api/v1/accounts", Some(&s), Some(json!({"name": "olle", "role": "operator", "sites": "byn", "password": "olle-password-123"}))).await;
        let olle = login(&d, "olle", "olle-password-123").await;
        let alarms = call(&d, "GET", "/api/v1/alarms?limit=2", Some(&olle), None)
            .await
            .json();
        let sites: Vec<&str> = alarms["alarms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["site"].as_str().unwrap())
            .collect();
        assert_eq!(
            sites,
            ["byn"],
            "{}: the limit was spent on alarms olle may not see",
            db.name
        );
        // A site-limited admin manages its own sites' tokens only, and not the network's trail.
        call(&d, "POST", "/api/v1/accounts", Some(&s), Some(json!({"name": "kim", "role": "admin", "sites": "klit", "password": "kim-password-1234"}))).await;
        let kim = login(&d, "kim", "kim-password-1234").await;
        let byn_token = call(
            &d,
            "POST",
            "/api/v1/tokens",
            Some(&s),
            Some(json!({"name": "b", "scopes": ["entries:read"], "sites": "byn"})),
        )
        .await
        .json();
        let listed = call(&d, "GET", "/api/v1/tokens", Some(&kim), None)
            .await
            .json();
        assert!(listed["tokens"].as_array().unwrap().is_empty(), "{listed}");
        let revoke = call(
            &d,
            "DELETE",
            &format!("/api/v1/tokens/{}", byn_token["id"].as_str().unwrap()),
            Some(&kim),
            None,
        )
        .await;
        assert_eq!(revoke.status, 404);
        assert_eq!(
            call(&d, "GET", "/api/v1/trail", Some(&kim), None)
                .await
                .status,
            409
        );
        let past = call(&d, "POST", "/api/v1/tokens", Some(&s), Some(json!({"name": "old", "scopes": ["entries:read"], "expires": "2020-01-01T00:00:00Z"}))).await;
        assert_eq!(past.json()["error"]["field"], "expires");
        let wrong = call(&d, "PUT", "/api/v1/members", Some(&s), None).await;
        assert_eq!(
            (wrong.status, wrong.code().as_str()),
            (405, "method_not_allowed")
        );
    }
}

#[tokio::test]
async fn repeated_denials_are_stored_as_denials_and_a_low_disk_raises_an_alarm_until_cleared() {
    for db in backends(
        "repeated_denials_are_stored_as_denials_and_a_low_disk_raises_an_alarm_until_cleared",
    )
    .await
    {
        let (d, _dir, password) = dashboard(&db).await;
        let s = admin_session(&d, &password).await;
        let mut log = Log::new();
        let t = now() - 100;
        log.push(
            t,
            ClockQuality::Synchronised,
            EventBody::DenialsRepeated {
                door: DoorId::new("front").unwrap(),
                reason: bygd_protocol::Rejection::BadEncoding,
                pass_id: None,
                member: None,
                count: 9_999,
                first: UnixTime(t - 60),
                last: UnixTime(t - 1),
            },
        );
        log.push(
            t + 1,
            ClockQuality::Synchronised,
            EventBody::DiskLow {
                raised: true,
                free_bytes: 150_000_000,
            },
        );
        d.ingest_batch(SITE, GATEWAY, &log.batch(1, 2, &gateway_key()))
            .await
            .unwrap();
        let all = d
            .entries()
            .audit(&Principal::local_admin(), &Default::default())
            .await
            .unwrap();
        let repeated = all
            .entries
            .iter()
            .find(|e| e.seq == 1)
            .expect("the repeated denials are stored");
        assert_eq!(
            (
                repeated.kind.as_str(),
                repeated.outcome.as_deref(),
                repeated.door.as_deref(),
                repeated.reason.as_deref()
            ),
            (
                "denials_repeated",
                Some("denied"),
                Some("front"),
                Some("bad_encoding")
            )
        );
        let open_disk_alarms = |alarms: serde_json::Value| {
            alarms["alarms"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["kind"] == "disk_low")
                .count()
        };
        let alarms = call(&d, "GET", "/api/v1/alarms?open=true", Some(&s), None)
            .await
            .json();
        assert_eq!(open_disk_alarms(alarms.clone()), 1, "{alarms}");

        log.push(
            t + 2,
            ClockQuality::Synchronised,
            EventBody::DiskLow {
                raised: false,
                free_bytes: 900_000_000,
            },
        );
        d.ingest_batch(SITE, GATEWAY, &log.batch(3, 3, &gateway_key()))
            .await
            .unwrap();
        let alarms = call(&d, "GET", "/api/v1/alarms?open=true", Some(&s), None)
            .await
            .json();
        assert_eq!(open_disk_alarms(alarms.clone()), 0, "{alarms}");
    }
}

/// A GET with extra headers; the body as text.
async fn call_with(d: &bygd_dashboard::Dashboard, path: &str, headers: &[(&str, &str)]) -> String {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let mut request = axum::http::Request::builder().uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = bygd_dashboard::app(d.clone())
        .oneshot(request.body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&body).into_owned()
}
