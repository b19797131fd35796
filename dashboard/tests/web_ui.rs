//! The web UI over HTTP (the app in process, as a browser would call it): signing in, every
//! page in each language, forms that work without JavaScript, site limits on every page,
//! cross-site requests refused, the security headers. The browser suite (`browser.rs`)
//! drives the same pages in Chromium.

mod common;

use bygd_dashboard::{NewGateway, NewMember, Principal, Role, Sites};
use common::{backends, dashboard, gateway_key, now, Log, GATEWAY, SITE};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

/// A browser-like request: the session cookie, a form body, extra headers.
struct Page<'a> {
    d: &'a bygd_dashboard::Dashboard,
    cookie: Option<String>,
}

struct Html {
    status: u16,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Html {
    fn location(&self) -> &str {
        self.headers["location"].to_str().unwrap()
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

impl<'a> Page<'a> {
    fn new(d: &'a bygd_dashboard::Dashboard) -> Self {
        Self { d, cookie: None }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        form: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Html {
        let mut request = axum::http::Request::builder().method(method).uri(path);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie.as_str());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = match form {
            Some(body) => request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(body.to_owned())),
            None => request.body(axum::body::Body::empty()),
        }
        .unwrap();
        let response = bygd_dashboard::app(self.d.clone())
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Html {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    async fn get(&self, path: &str) -> Html {
        self.send("GET", path, None, &[]).await
    }

    /// A form posted from the dashboard's own page, as a browser sends it.
    async fn post(&self, path: &str, form: &str) -> Html {
        self.send(
            "POST",
            path,
            Some(form),
            &[("sec-fetch-site", "same-origin")],
        )
        .await
    }

    async fn sign_in(&mut self, name: &str, password: &str) {
        let reply = self
            .post(
                "/login",
                &format!("name={name}&password={}&next=%2F", urlencode(password)),
            )
            .await;
        assert_eq!(reply.status, 303, "sign-in: {}", reply.body);
        let cookie = reply.cookie("bygd_session").expect("a session cookie");
        self.cookie = Some(cookie.split(';').next().unwrap().to_owned());
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// No inline script, no inline style, no event-handler attributes: the CSP would block them.
fn assert_no_inline_code(path: &str, html: &str) {
    for (at, _) in html.match_indices("<script") {
        let tag = &html[at..at + html[at..].find('>').unwrap()];
        assert!(tag.contains(" src="), "{path}: inline script: {tag}");
    }
    assert!(!html.contains("<style"), "{path}: a <style> element");
    assert!(!html.contains(" style="), "{path}: a style attribute");
    assert!(
        !html.contains(" onclick="),
        "{path}: an event-handler attribute"
    );
}

#[tokio::test]
async fn pages_need_a_session_and_sign_in_comes_back_to_the_page_asked_for() {
    let db = common::sqlite();
    let (d, _dir, password) = dashboard(&db).await;
    let mut page = Page::new(&d);
    let reply = page.get("/members?q=a").await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location(), "/login?next=/members%3Fq%3Da");

    let login = page
        .send(
            "GET",
            "/login",
            None,
            &[("accept-language", "sv-SE,sv;q=0.9,en;q=0.5")],
        )
        .await;
    assert_eq!(login.status, 200);
    assert!(login.body.contains("Logga in i bygd"), "{}", login.body);
    assert!(login.body.contains("<html lang=\"sv\">"));

    let wrong = page
        .send(
            "POST",
            "/login",
            Some("name=admin&password=wrong-password-1&next=%2Fmembers"),
            &[("accept-language", "da"), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(
        wrong.body.contains("Forkert kontonavn eller adgangskode"),
        "{}",
        wrong.body
    );
    assert!(wrong.cookie("bygd_session").is_none());

    let ok = page
        .post(
            "/login",
            &format!(
                "name=admin&password={}&next=%2Fmembers",
                urlencode(&password)
            ),
        )
        .await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location(), "/members");
    let cookie = ok.cookie("bygd_session").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );

    // A next address off the server is not followed.
    let evil = page
        .post(
            "/login",
            &format!(
                "name=admin&password={}&next=%2F%2Fevil.example",
                urlencode(&password)
            ),
        )
        .await;
    assert_eq!(evil.location(), "/");

    page.sign_in("admin", &password).await;
    assert_eq!(page.get("/members").await.status, 200);
    let out = page.post("/logout", "").await;
    assert_eq!(out.status, 303);
    assert!(out.cookie("bygd_session").unwrap().contains("Max-Age=0"));
    assert_eq!(page.get("/members").await.status, 303, "the session ended");
}

#[tokio::test]
async fn every_page_renders_in_each_language_with_a_strict_csp_and_no_inline_code() {
    let db = common::sqlite();
    let (d, _dir, password) = dashboard(&db).await;
    let mut page = Page::new(&d);
    page.sign_in("admin", &password).await;
    let member = d
        .members()
        .add(
            &Principal::local_admin(),
            &NewMember {
                id: "anna".into(),
                name: "Anna Åberg".into(),
                email: None,
                sites: vec![SITE.into()],
                language: None,
            },
        )
        .await
        .unwrap();
    let pass = d
        .passes()
        .issue(
            &Principal::local_admin(),
            &bygd_dashboard::IssuePass {
                member: member.id.clone(),
                site: SITE.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let paths = [
        "/".to_owned(),
        "/members".to_owned(),
        "/members/new".to_owned(),
        "/members/anna".to_owned(),
        "/members/anna/revoke".to_owned(),
        "/passes".to_owned(),
        "/passes?all=1".to_owned(),
        "/passes/new?member=anna".to_owned(),
        format!("/passes/{}", pass.pass.id),
        format!("/passes/{}/revoke", pass.pass.id),
        format!("/passes/{}/send", pass.pass.id),
        format!("/doors/{SITE}/{GATEWAY}/front"),
        "/entries".to_owned(),
        "/alarms".to_owned(),
        "/alarms?all=1".to_owned(),
        "/admin".to_owned(),
        "/admin/accounts/admin".to_owned(),
        "/admin/sites".to_owned(),
        format!("/admin/sites/{SITE}"),
        "/admin/tokens".to_owned(),
        "/admin/gateways".to_owned(),
        "/admin/trail".to_owned(),
    ];
    for (lang, word) in [("sv", "Översikt"), ("da", "Overblik"), ("en", "Overview")] {
        let reply = page
            .post("/language", &format!("lang={lang}&back=%2F"))
            .await;
        assert_eq!(reply.status, 303);
        for path in &paths {
            let reply = page.get(path).await;
            assert_eq!(reply.status, 200, "{lang} {path}: {}", reply.body);
            assert!(
                reply.body.contains(&format!("<html lang=\"{lang}\">")),
                "{lang} {path}"
            );
            assert!(
                reply.body.contains(word),
                "{lang} {path}: the menu is not in {lang}"
            );
            let csp = reply.headers["content-security-policy"].to_str().unwrap();
            assert!(
                csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
                "{csp}"
            );
            assert_eq!(reply.headers["x-frame-options"], "DENY");
            assert_no_inline_code(path, &reply.body);
        }
    }
    // Assets are served from the binary.
    for asset in ["bygd.css", "bygd.js", "htmx.min.js", "sse.min.js"] {
        let reply = page.get(&format!("/assets/{asset}")).await;
        assert_eq!(reply.status, 200, "{asset}");
        assert!(reply.body.len() > 100, "{asset}");
    }
    assert_eq!(page.get("/assets/nope.js").await.status, 404);
    // Unknown pages are pages; unknown API paths stay JSON.
    let missing = page.get("/no-such-page").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("<html"), "{}", missing.body);
    let api = page.get("/api/v1/nope").await;
    assert_eq!(api.status, 404);
    assert!(api.body.starts_with('{'), "{}", api.body);
}

#[tokio::test]
async fn the_language_chosen_is_kept_on_the_account_and_wins_over_the_browser() {
    for db in backends("the_language_chosen_is_kept_on_the_account_and_wins_over_the_browser").await
    {
        let (d, _dir, password) = dashboard(&db).await;
        let mut page = Page::new(&d);
        page.sign_in("admin", &password).await;
        let reply = page.post("/language", "lang=da&back=%2Fmembers").await;
        assert_eq!(reply.status, 303);
        assert_eq!(reply.location(), "/members");
        assert!(reply
            .cookie("bygd_lang")
            .unwrap()
            .starts_with("bygd_lang=da"));
        assert_eq!(
            d.accounts().language("admin").await.unwrap().as_deref(),
            Some("da")
        );
        // A new browser (no language cookie) that prefers Swedish still gets Danish.
        let members = page
            .send("GET", "/members", None, &[("accept-language", "sv")])
            .await;
        assert!(members.body.contains("Medlemmer"), "{}", members.body);
        // An unknown language is refused and changes nothing.
        let bad = page.post("/language", "lang=xx").await;
        assert_eq!(bad.status, 400);
        assert_eq!(
            d.accounts().language("admin").await.unwrap().as_deref(),
            Some("da")
        );
    }
}

#[tokio::test]
async fn a_form_posted_from_another_site_is_refused_and_changes_nothing() {
    let db = common::sqlite();
    let (d, _dir, password) = dashboard(&db).await;
    let mut page = Page::new(&d);
    page.sign_in("admin", &password).await;
    let form = "id=mallory&name=Mallory&site=byn";
    for headers in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("origin", "https://evil.example"), ("host", "bygd.example")],
    ] {
        let reply = page.send("POST", "/members", Some(form), &headers).await;
        assert_eq!(reply.status, 403, "{headers:?}: {}", reply.body);
        assert!(reply.body.contains("cross_site"), "{}", reply.body);
    }
    // The API's cookie-authenticated writes get the same check.
    let api = page
        .send(
            "POST",
            "/api/v1/members",
            None,
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(api.status, 403);
    assert!(d
        .members()
        .get(&Principal::local_admin(), "mallory")
        .await
        .is_err());
    // The same form from the dashboard's own page goes through.
    let reply = page
        .send(
            "POST",
            "/members",
            Some(form),
            &[("origin", "http://bygd.example"), ("host", "bygd.example")],
        )
        .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(reply.location(), "/members/mallory");
}

#[tokio::test]
async fn an_operator_adds_a_member_issues_a_pass_sees_its_qr_and_revokes_it_with_forms_alone() {
    for db in backends(
        "an_operator_adds_a_member_issues_a_pass_sees_its_qr_and_revokes_it_with_forms_alone",
    )
    .await
    {
        let (d, _dir, _password) = dashboard(&db).await;
        d.accounts()
            .add(
                &Principal::local_admin(),
                "olle",
                Role::Operator,
                &Sites::parse(SITE).unwrap(),
                "operator-password-1",
            )
            .await
            .unwrap();
        let mut page = Page::new(&d);
        page.sign_in("olle", "operator-password-1").await;

        // A bad id says what is wrong and keeps what was typed.
        let bad = page
            .post("/members", "id=Bad+Id&name=Anna+%C3%85berg&site=byn")
            .await;
        assert_eq!(bad.status, 400);
        assert!(
            bad.body.contains("Anna Åberg") && bad.body.contains("role=\"alert\""),
            "{}",
            bad.body
        );

        let added = page
            .post(
                "/members",
                "id=anna&name=Anna+%C3%85berg&email=anna%40example.org&site=byn",
            )
            .await;
        assert_eq!(added.status, 303, "{}", added.body);
        let shown = page.get("/members/anna").await;
        assert!(shown.body.contains("Anna Åberg") && shown.body.contains("anna@example.org"));
        let found = page.get("/members?q=%C3%A5berg").await;
        assert!(
            found.body.contains("/members/anna"),
            "search by name, any case"
        );
        let none = page.get("/members?q=zzz").await;
        assert!(!none.body.contains("/members/anna"));

        // A date-only end means the end of that day at the site (Stockholm).
        let until = jiff::Timestamp::from_second(i64::try_from(now()).unwrap() + 200 * 86_400)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::get("Europe/Stockholm").unwrap())
            .date();
        let issued = page
            .post(
                "/passes",
                &format!(
                    "member=anna&site=byn&door=byn%2Ffront&preset=office&kind=member&until={until}"
                ),
            )
            .await;
        assert_eq!(issued.status, 200, "{}", issued.body);
        assert_eq!(issued.headers["cache-control"], "no-store");
        assert!(
            issued.body.contains("data:image/svg+xml,"),
            "the QR code is on the page"
        );
        let link_at = issued.body.find("value=\"http").expect("the pass link");
        let link = &issued.body[link_at + 7..];
        let link = &link[..link.find('"').unwrap()];
        assert!(link.contains("/p/"), "{link}");
        let passes = d
            .passes()
            .list(&Principal::local_admin(), Some("anna"), false)
            .await
            .unwrap();
        assert_eq!(passes.len(), 1);
        let pass = &passes[0];
        assert_eq!(pass.doors, vec!["front".to_owned()]);
        assert_eq!(
            pass.schedule.as_deref(),
            Some("mon,tue,wed,thu,fri 07:00-18:00")
        );
        let end = until
            .tomorrow()
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::get("Europe/Stockholm").unwrap())
            .unwrap()
            .timestamp();
        assert_eq!(
            pass.valid_until,
            end.to_string(),
            "the end of that day, in Stockholm"
        );

        // The pass page the link opens shows the code too.
        let path = &link[link.find("/p/").unwrap()..];
        let member_page = page.get(path).await;
        assert_eq!(member_page.status, 200);
        assert!(member_page.body.contains("Anna Åberg") && member_page.body.contains("<svg"));
        assert_no_inline_code(path, &member_page.body);

        // Sending it by e-mail asks first, makes a new link (the old one stops working) and
        // shows the queued mail on the pass's page.
        let pass_page = page.get(&format!("/passes/{}", pass.id)).await.body;
        assert!(pass_page.contains(&format!("href=\"/passes/{}/send\"", pass.id)));
        assert!(page
            .get(&format!("/passes/{}/send", pass.id))
            .await
            .body
            .contains("method=\"post\""));
        let sent = page.post(&format!("/passes/{}/send", pass.id), "").await;
        assert_eq!(sent.status, 303, "{}", sent.body);
        assert_eq!(page.get(path).await.status, 404, "the old link");
        let pass_page = page.get(&format!("/passes/{}", pass.id)).await.body;
        assert!(pass_page.contains("anna@example.org"), "{pass_page}");

        let revoked = page.post(&format!("/passes/{}/revoke", pass.id), "").await;
        assert_eq!(revoked.status, 303);
        let after = d
            .passes()
            .get(&Principal::local_admin(), &pass.id)
            .await
            .unwrap();
        assert!(after.revoked_at.is_some());
        assert!(page
            .get(&format!("/passes/{}", pass.id))
            .await
            .body
            .contains("badge bad"));

        // An operator sees no admin pages.
        assert_eq!(page.get("/admin").await.status, 403);
        assert!(!page.get("/").await.body.contains("href=\"/admin\""));
    }
}

#[tokio::test]
async fn an_operator_limited_to_one_site_never_sees_another_sites_member_door_or_entry() {
    let db = common::sqlite();
    let (d, _dir, _password) = dashboard(&db).await;
    let admin = Principal::local_admin();
    let other_key = bygd_protocol::SecretKey::from_seed(&[9; 32]);
    d.gateways()
        .register(
            &admin,
            &NewGateway {
                site: "hus".into(),
                id: "gw9".into(),
                public_key: other_key.public_key().to_hex(),
                doors: vec!["secretdoor".into()],
                time_zone: Some("Europe/Copenhagen".into()),
            },
        )
        .await
        .unwrap();
    for (id, site) in [("anna", SITE), ("hidden-member", "hus")] {
        d.members()
            .add(
                &admin,
                &NewMember {
                    id: id.into(),
                    name: id.into(),
                    email: None,
                    sites: vec![site.into()],
                    language: None,
                },
            )
            .await
            .unwrap();
    }
    // An entry at each site.
    let t = now();
    let mut log = Log::new();
    log.grant(t, "front", "anna");
    d.ingest_batch(SITE, GATEWAY, &log.batch(1, 1, &gateway_key()))
        .await
        .unwrap();
    let mut other = Log::new();
    other.grant(t, "secretdoor", "hidden-member");
    d.ingest_batch("hus", "gw9", &other.batch(1, 1, &other_key))
        .await
        .unwrap();

    d.accounts()
        .add(
            &admin,
            "olle",
            Role::Operator,
            &Sites::parse(SITE).unwrap(),
            "operator-password-1",
        )
        .await
        .unwrap();
    let mut page = Page::new(&d);
    page.sign_in("olle", "operator-password-1").await;
    let pages = [
        "/",
        "/members",
        "/members?q=hidden",
        "/passes?all=1",
        "/passes/new",
        "/members/new",
        "/entries",
        "/entries?site=hus",
        "/entries?member=hidden-member",
        "/alarms?all=1",
        "/live/overview",
    ];
    for path in pages {
        let reply = page.get(path).await;
        // (A filter the operator typed is shown back to them: that is no leak.)
        for secret in [
            "/members/hidden-member",
            ">hidden-member<",
            "secretdoor",
            "gw9",
            ">hus<",
            "hus /",
        ] {
            assert!(
                !reply.body.contains(secret),
                "{path} shows `{secret}`: {}",
                reply.body
            );
        }
    }
    assert!(
        page.get("/").await.body.contains("front"),
        "its own door is there"
    );
    assert!(
        page.get("/entries").await.body.contains("/members/anna"),
        "its own entry is there"
    );
    for path in ["/members/hidden-member", "/doors/hus/gw9/secretdoor"] {
        let reply = page.get(path).await;
        assert_eq!(reply.status, 404, "{path}");
        assert!(!reply.body.contains("secretdoor") || path.contains("secretdoor"));
    }
}

#[tokio::test]
async fn the_live_overview_hears_of_a_new_entry_in_an_event_a_browser_dispatches() {
    let db = common::sqlite();
    let (d, _dir, password) = dashboard(&db).await;
    let mut page = Page::new(&d);
    page.sign_in("admin", &password).await;
    let request = axum::http::Request::get("/live/events")
        .header("cookie", page.cookie.clone().unwrap())
        .body(axum::body::Body::empty())
        .unwrap();
    let response = bygd_dashboard::app(d.clone())
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut stream = response.into_body();
    let mut log = Log::new();
    log.grant(now(), "front", "anna");
    d.ingest_batch(SITE, GATEWAY, &log.batch(1, 1, &gateway_key()))
        .await
        .unwrap();
    let frame = tokio::time::timeout(std::time::Duration::from_secs(10), stream.frame())
        .await
        .expect("an event within 10 s of the entry")
        .expect("the stream is open")
        .unwrap();
    let event = String::from_utf8(frame.into_data().unwrap().to_vec()).unwrap();
    assert!(event.contains("event: change\n"), "{event:?}");
    // The HTML standard's event-stream parser drops an event that has no data line: the page
    // would never hear of the change.
    assert!(
        event.lines().any(|l| l.starts_with("data:")),
        "an event without data: {event:?}"
    );
}

#[tokio::test]
async fn a_door_command_asks_first_then_shows_its_fate() {
    let db = common::sqlite();
    let (d, _dir, password) = dashboard(&db).await;
    let mut page = Page::new(&d);
    page.sign_in("admin", &password).await;
    let door = format!("/doors/{SITE}/{GATEWAY}/front");
    let ask = page.post(&door, "what=unlock&seconds=10").await;
    assert_eq!(ask.status, 200);
    assert!(
        ask.body.contains("Unlock front for 10 seconds?"),
        "{}",
        ask.body
    );
    assert!(ask.body.contains("name=\"confirmed\" value=\"yes\""));
    assert!(
        d.commands()
            .list(&Principal::local_admin(), 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing sent yet"
    );

    let sent = page
        .post(&door, "what=unlock&seconds=10&confirmed=yes")
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let commands = d
        .commands()
        .list(&Principal::local_admin(), 10)
        .await
        .unwrap();
    assert_eq!(commands.len(), 1);
    assert_eq!(commands[0].seconds, Some(10));
    assert_eq!(sent.location(), format!("/commands/{}", commands[0].id));
    let fate = page.get(sent.location()).await;
    assert!(fate.body.contains("waiting to be sent"), "{}", fate.body);
    assert!(
        fate.body.contains("hx-trigger=\"every 1s\""),
        "it updates itself while pending"
    );
    let part = page
        .send("GET", sent.location(), None, &[("hx-request", "true")])
        .await;
    assert!(
        part.body.starts_with("<div id=\"command-status-inner\""),
        "{}",
        part.body
    );

    let lockdown = page.post(&door, "what=lockdown-all-on&confirmed=yes").await;
    assert_eq!(lockdown.status, 303);
    let commands = d
        .commands()
        .list(&Principal::local_admin(), 10)
        .await
        .unwrap();
    assert!(commands
        .iter()
        .any(|c| c.action == "lockdown" && c.door.is_none() && c.on == Some(true)));
}

#[tokio::test]
async fn an_alarm_is_acknowledged_with_a_note_on_its_page_and_in_the_api() {
    for db in backends("an_alarm_is_acknowledged_with_a_note_on_its_page_and_in_the_api").await {
        let (d, _dir, password) = dashboard(&db).await;
        // A batch signed by another key raises an integrity alarm.
        let mut log = Log::new();
        log.grant(now(), "front", "anna");
        d.ingest_batch(SITE, GATEWAY, &log.batch(1, 1, &common::forger_key()))
            .await
            .unwrap();
        let alarm = d
            .alarms()
            .list(&Principal::local_admin(), true, 10)
            .await
            .unwrap()
            .remove(0);
        let mut page = Page::new(&d);
        page.sign_in("admin", &password).await;
        let shown = page.get(&format!("/alarms/{}", alarm.id)).await;
        assert_eq!(shown.status, 200);
        assert!(
            shown.body.contains("a forged or broken batch"),
            "{}",
            shown.body
        );
        let acked = page
            .post(
                &format!("/alarms/{}/acknowledge", alarm.id),
                "note=checked+the+broker+ACL",
            )
            .await;
        assert_eq!(acked.status, 303, "{}", acked.body);
        let api = common::call(
            &d,
            "GET",
            &format!("/api/v1/alarms/{}", alarm.id),
            Some(&common::login(&d, "admin", &password).await),
            None,
        )
        .await;
        assert_eq!(api.status, 200);
        let json = api.json();
        assert_eq!(json["acked_by"], "account:admin");
        assert_eq!(json["ack_note"], "checked the broker ACL");
        assert!(json["cleared_at"].is_string());
        // Twice is a conflict, said on the page.
        let again = page
            .post(&format!("/alarms/{}/acknowledge", alarm.id), "note=again")
            .await;
        assert_eq!(again.status, 400);
        assert!(again.body.contains("already closed"));
        // The trail has it.
        assert!(page
            .get("/admin/trail")
            .await
            .body
            .contains("alarm.acknowledge"));
    }
}

#[tokio::test]
async fn the_entry_export_gives_times_in_the_sites_zone() {
    let db = common::sqlite();
    let (d, _dir, password) = dashboard(&db).await;
    // 2026-07-01T10:00:00Z is 12:00 in Stockholm (summer time).
    let t = 1_782_900_000;
    let mut log = Log::new();
    log.grant(t, "front", "anna");
    d.ingest_batch(SITE, GATEWAY, &log.batch(1, 1, &gateway_key()))
        .await
        .unwrap();
    let mut page = Page::new(&d);
    page.sign_in("admin", &password).await;
    let entries = page.get("/entries?since=2026-07-01&until=2026-07-01").await;
    assert!(
        entries.body.contains("2026-07-01 12:00:00 CEST"),
        "{}",
        entries.body
    );
    let export = entries
        .body
        .find("href=\"/api/v1/entries.csv?")
        .expect("an export link");
    let href = &entries.body[export + 6..];
    let href = href[..href.find('"').unwrap()].replace("&amp;", "&");
    let csv = page.get(&href).await;
    assert_eq!(csv.status, 200, "{href}: {}", csv.body);
    let line = csv.body.lines().nth(1).expect("one entry");
    assert!(line.starts_with("2026-07-01T10:00:00Z,"), "{line}");
    assert!(line.ends_with(",2026-07-01T12:00:00+02:00"), "{line}");
    let none = page.get("/entries?since=2026-07-02").await;
    assert!(none.body.contains("No entries match"));
    let bad = page.get("/entries?since=yesterday-ish").await;
    assert!(
        bad.body.contains("role=\"alert\""),
        "a bad date says so: {}",
        bad.body
    );
}

#[tokio::test]
async fn a_member_is_edited_revoked_and_restored_from_their_page() {
    for db in backends("a_member_is_edited_revoked_and_restored_from_their_page").await {
        let (d, _dir, password) = dashboard(&db).await;
        let mut page = Page::new(&d);
        page.sign_in("admin", &password).await;
        page.post("/members", "id=anna&name=Anna&site=byn").await;
        let edited = page
            .post(
                "/members/anna",
                "what=update&name=Anna+Berg&email=anna%40example.org",
            )
            .await;
        assert_eq!(edited.status, 303, "{}", edited.body);
        let admin = Principal::local_admin();
        let anna = d.members().get(&admin, "anna").await.unwrap();
        assert_eq!(
            (anna.name.as_str(), anna.email.as_deref()),
            ("Anna Berg", Some("anna@example.org"))
        );
        let bad = page.post("/members/anna", "what=update&name=&email=").await;
        assert_eq!(bad.status, 400);
        assert!(bad.body.contains("role=\"alert\""));

        let version = |d: &bygd_dashboard::Dashboard| {
            let d = d.clone();
            async move {
                d.gateways().list(&Principal::local_admin()).await.unwrap()[0].site_list_version
            }
        };
        let before = version(&d).await;
        assert_eq!(page.post("/members/anna/revoke", "").await.status, 303);
        assert!(d
            .members()
            .get(&admin, "anna")
            .await
            .unwrap()
            .revoked_at
            .is_some());
        let revoked_at = version(&d).await;
        assert!(revoked_at > before, "revoking signs a new list");
        let shown = page.get("/members/anna").await;
        assert!(shown.body.contains("Restore the member"), "{}", shown.body);
        assert_eq!(page.post("/members/anna", "what=restore").await.status, 303);
        assert!(d
            .members()
            .get(&admin, "anna")
            .await
            .unwrap()
            .revoked_at
            .is_none());
        assert!(
            version(&d).await > revoked_at,
            "restoring signs a new list too"
        );
        let again = page.post("/members/anna", "what=restore").await;
        assert_eq!(again.status, 400);
        assert!(again.body.contains("is not revoked"));
    }
}

#[tokio::test]
async fn a_door_opening_shows_on_the_overview_before_the_next_status() {
    use bygd_protocol::{ClockQuality, DoorId, EventBody};
    let db = common::sqlite();
    let (d, _dir, password) = dashboard(&db).await;
    let mut page = Page::new(&d);
    page.sign_in("admin", &password).await;
    let door_state = |html: &str, door: &str| {
        let row = &html[html.find(&format!("data-door=\"{door}\"")).unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        ["open", "closed", "locked", "unknown"]
            .into_iter()
            .find(|s| row.contains(&format!("<td>{s}</td>")))
            .unwrap_or("?")
            .to_owned()
    };
    let before = page.get("/live/overview").await.body;
    assert_eq!(door_state(&before, "front"), "unknown", "{before}");

    let mut changes = d.watch_changes();
    changes.mark_unchanged();
    let mut log = Log::new();
    let door = DoorId::new("front").unwrap();
    log.push(
        now(),
        ClockQuality::Synchronised,
        EventBody::DoorOpened { door: door.clone() },
    );
    d.ingest_batch(SITE, GATEWAY, &log.batch(1, 1, &gateway_key()))
        .await
        .unwrap();
    assert!(changes.has_changed().unwrap(), "the live pages are told");
    let opened = page.get("/live/overview").await.body;
    assert_eq!(door_state(&opened, "front"), "open");
    assert_eq!(door_state(&opened, "workshop"), "unknown");

    log.push(
        now(),
        ClockQuality::Synchronised,
        EventBody::DoorClosed { door },
    );
    d.ingest_batch(SITE, GATEWAY, &log.batch(2, 2, &gateway_key()))
        .await
        .unwrap();
    let closed = page.get("/live/overview").await.body;
    assert_eq!(door_state(&closed, "front"), "closed", "{closed}");
}

#[tokio::test]
async fn reloading_the_page_of_an_issued_pass_issues_no_second_pass() {
    let db = common::sqlite();
    let (d, _dir, password) = dashboard(&db).await;
    let mut page = Page::new(&d);
    page.sign_in("admin", &password).await;
    page.post("/members", "id=anna&name=Anna&site=byn").await;
    let form = page.get("/passes/new?member=anna").await.body;
    let at = form.find("name=\"form_id\" value=\"").expect("a form id") + 22;
    let form_id = &form[at..at + form[at..].find('"').unwrap()];
    let body = format!("form_id={form_id}&member=anna&site=byn&preset=always&kind=member");
    assert_eq!(page.post("/passes", &body).await.status, 200);
    let again = page.post("/passes", &body).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body.contains("already sent"), "{}", again.body);
    let passes = d
        .passes()
        .list(&Principal::local_admin(), Some("anna"), false)
        .await
        .unwrap();
    assert_eq!(passes.len(), 1, "one pass, not two");
}

#[tokio::test]
async fn a_live_part_asked_after_the_session_ended_sends_htmx_to_sign_in() {
    let db = common::sqlite();
    let (d, _dir, _password) = dashboard(&db).await;
    let page = Page::new(&d);
    let reply = page
        .send(
            "GET",
            "/live/overview",
            None,
            &[
                ("hx-request", "true"),
                ("hx-current-url", "http://bygd.example/entries?site=byn"),
            ],
        )
        .await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.headers["hx-redirect"],
        "/login?next=/entries%3Fsite%3Dbyn"
    );
    let plain = page.get("/members").await;
    assert_eq!(plain.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn an_admin_adds_a_site_its_member_joins_before_any_gateway_and_the_site_is_changed_with_forms_alone(
) {
    for db in backends(
        "an_admin_adds_a_site_its_member_joins_before_any_gateway_and_the_site_is_changed_with_forms_alone",
    )
    .await
    {
        let (d, _dir, password) = dashboard(&db).await;
        let mut page = Page::new(&d);
        page.sign_in("admin", &password).await;
        let sites = page.get("/admin/sites").await;
        assert_eq!(sites.status, 200, "{}", sites.body);
        assert!(
            sites.body.contains("<a href=\"/admin/sites\">Sites</a>"),
            "the admin menu links the page: {}",
            sites.body
        );
        assert!(sites.body.contains("<a href=\"/admin/sites/byn\">byn</a>"));
        for (id, label) in [
            ("s-id", "Site id"),
            ("s-name", "Name"),
            ("s-address", "Address"),
            ("s-language", "Members"),
        ] {
            assert!(
                sites.body.contains(&format!("<label for=\"{id}\">{label}")),
                "no field labelled {label}"
            );
        }

        let added = page
            .post(
                "/admin/sites",
                "id=dal&name=Dalens+verkstad&address=Dalv%C3%A4gen+2%0D%0A792+00+Mora\
                 &time_zone=Europe%2FStockholm&language=sv",
            )
            .await;
        assert_eq!(added.status, 200, "{}", added.body);
        assert!(added.body.contains("Site dal is added"), "{}", added.body);
        assert!(added.body.contains("Dalvägen 2<br>792 00 Mora"), "{}", added.body);
        assert!(added.body.contains("<td data-label=\"Members"), "{}", added.body);
        assert!(added.body.contains(">Svenska</td>"), "{}", added.body);
        // Its first member joins at once: no gateway needed.
        let new_member = page.get("/members/new").await;
        assert!(
            new_member
                .body
                .contains("<input type=\"checkbox\" name=\"site\" value=\"dal\">"),
            "the new site is offered: {}",
            new_member.body
        );
        let member = page.post("/members", "id=berit&name=Berit&site=dal").await;
        assert_eq!(member.status, 303, "{}", member.body);
        assert_eq!(member.location(), "/members/berit");

        // A zone that does not exist: the form comes back as typed, saying why.
        let bad = page
            .post(
                "/admin/sites",
                "id=fjall&name=Fj%C3%A4llstugan&time_zone=Mars%2FOlympus&language=en",
            )
            .await;
        assert_eq!(bad.status, 400);
        assert!(
            bad.body.contains("role=\"alert\"") && bad.body.contains("Mars/Olympus"),
            "{}",
            bad.body
        );
        assert!(bad.body.contains("value=\"Fjällstugan\""), "{}", bad.body);
        let admin = Principal::local_admin();
        assert!(d.sites().get(&admin, "fjall").await.is_err());

        // Its own page changes it.
        let form = page.get("/admin/sites/dal").await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains("value=\"Dalens verkstad\""));
        assert!(form.body.contains("<option value=\"sv\" lang=\"sv\" selected>"));
        let saved = page
            .post(
                "/admin/sites/dal",
                "name=Dalens+verkstad&address=&time_zone=Europe%2FCopenhagen&language=da",
            )
            .await;
        assert_eq!(saved.status, 303, "{}", saved.body);
        assert_eq!(saved.location(), "/admin/sites");
        let dal = d.sites().get(&admin, "dal").await.unwrap();
        assert_eq!(
            (dal.time_zone.as_str(), dal.language.as_str(), dal.address),
            ("Europe/Copenhagen", "da", None)
        );
        let unnamed = page
            .post(
                "/admin/sites/dal",
                "name=&address=&time_zone=Europe%2FCopenhagen&language=da",
            )
            .await;
        assert_eq!(unnamed.status, 400);
        assert!(unnamed.body.contains("role=\"alert\""), "{}", unnamed.body);
        assert_eq!(page.get("/admin/sites/nowhere").await.status, 404);

        // In Swedish.
        page.post("/language", "lang=sv&back=%2F").await;
        let swedish = page.get("/admin/sites").await;
        assert!(
            swedish.body.contains("Platser") && swedish.body.contains("Lägg till en plats"),
            "{}",
            swedish.body
        );

        // An operator is not shown the admin pages.
        d.accounts()
            .add(&admin, "olle", Role::Operator, &Sites::All, "a long passphrase here")
            .await
            .unwrap();
        let mut olle = Page::new(&d);
        olle.sign_in("olle", "a long passphrase here").await;
        assert_eq!(olle.get("/admin/sites").await.status, 403);
        let refused = olle
            .post("/admin/sites/dal", "name=Olles&time_zone=UTC&language=en")
            .await;
        assert_eq!(refused.status, 403);
        assert_eq!(d.sites().get(&admin, "dal").await.unwrap().name, "Dalens verkstad");
    }
}

#[tokio::test]
async fn a_refused_form_says_why_in_the_operators_language() {
    let db = common::sqlite();
    let (d, _dir, password) = dashboard(&db).await;
    let mut page = Page::new(&d);
    page.sign_in("admin", &password).await;
    page.post("/language", "lang=sv&back=%2F").await;
    let bad = page.post("/members", "id=Bad+Id&name=Anna&site=byn").await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body.contains("Medlems-id: små bokstäver"),
        "{}",
        bad.body
    );
    let missing = page
        .post(
            "/passes",
            "member=nobody&site=byn&preset=always&kind=member",
        )
        .await;
    assert_eq!(missing.status, 400);
    assert!(missing.body.contains("Hittades inte"), "{}", missing.body);
}

#[tokio::test]
async fn an_operator_renews_a_pass_from_its_page_and_sees_why_a_phone_could_not_keep_its_key() {
    for db in backends(
        "an_operator_renews_a_pass_from_its_page_and_sees_why_a_phone_could_not_keep_its_key",
    )
    .await
    {
        let (d, _dir, password) = dashboard(&db).await;
        let mut page = Page::new(&d);
        page.sign_in("admin", &password).await;
        // The site's form asks for device-bound passes.
        let site = page.get(&format!("/admin/sites/{SITE}")).await;
        assert!(
            site.body.contains("name=\"require_device_key\""),
            "{}",
            site.body
        );
        let saved = page
            .post(
                &format!("/admin/sites/{SITE}"),
                "name=Byn&address=&time_zone=Europe%2FStockholm&language=sv&require_device_key=1",
            )
            .await;
        assert_eq!(saved.status, 303, "{}", saved.body);
        let admin = Principal::local_admin();
        assert!(
            d.sites()
                .get(&admin, SITE)
                .await
                .unwrap()
                .require_device_key
        );

        page.post("/members", "id=anna&name=Anna&site=byn").await;
        let issued = d
            .passes()
            .issue(
                &admin,
                &bygd_dashboard::IssuePass {
                    member: "anna".into(),
                    site: SITE.into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let secret = issued.page_url.split_once("/p/").unwrap().1;
        d.passes()
            .report_device_problem(secret, "no-indexeddb")
            .await
            .unwrap();
        let shown = page.get(&format!("/passes/{}", issued.pass.id)).await;
        assert!(
            shown.body.contains(
                "the member&#39;s browser cannot store data (a private window, or Lockdown Mode)"
            ),
            "{}",
            shown.body
        );

        let member = page.get("/members/anna").await;
        assert!(
            member
                .body
                .contains("Phone problem: the member&#39;s browser cannot store data"),
            "the member's record shows why: {}",
            member.body
        );

        // Renewed with the form: a date in site time, through that whole day.
        let zone = jiff::tz::TimeZone::get("Europe/Stockholm").unwrap();
        let date =
            jiff::Timestamp::now().to_zoned(zone.clone()).date() + jiff::Span::new().days(400);
        let renewed = page
            .post(
                &format!("/passes/{}/renew", issued.pass.id),
                &format!("until={date}"),
            )
            .await;
        assert_eq!(renewed.status, 303, "{}", renewed.body);
        let new_id = renewed.location().trim_start_matches("/passes/").to_owned();
        assert_ne!(new_id, issued.pass.id);
        let new = d.passes().get(&admin, &new_id).await.unwrap();
        let end: jiff::Timestamp = new.valid_until.parse().unwrap();
        let last_second = (end - jiff::Span::new().seconds(1)).to_zoned(zone.clone());
        assert_eq!(
            last_second.date(),
            date,
            "valid through the date, in site time"
        );
        assert_eq!(end.to_zoned(zone).time(), jiff::civil::Time::midnight());
        let old = page.get(&format!("/passes/{}", issued.pass.id)).await;
        assert!(
            old.body.contains(&format!("/passes/{new_id}")),
            "{}",
            old.body
        );
        assert_eq!(d.passes().page(secret).await.unwrap().pass_id, new_id);
        let bad = page
            .post(&format!("/passes/{new_id}/renew"), "until=someday")
            .await;
        assert_eq!(bad.status, 400, "{}", bad.body);
    }
}
