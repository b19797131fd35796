//! The `bygd` commands as an operator types them: the real binary on a real data directory.

mod common;

use common::{gateway_key, Log, GATEWAY, SITE};
use std::path::Path;
use std::process::{Command, Output};

const BYGD: &str = env!("CARGO_BIN_EXE_bygd");

fn bygd(data: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(BYGD);
    command
        .args(args)
        .env("BYGD_DATA", data)
        .env_remove("BYGD_DATABASE_URL")
        .env("BYGD_LOG", "warn");
    command.output().unwrap()
}

fn ok(data: &Path, args: &[&str]) -> (String, String) {
    let out = bygd(data, args);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(
        out.status.success(),
        "bygd {args:?} failed ({:?}):\n{stdout}\n{stderr}",
        out.status
    );
    (stdout, stderr)
}

fn fails(data: &Path, args: &[&str], code: i32) -> String {
    let out = bygd(data, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "bygd {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_operator_sets_up_a_site_issues_and_revokes_a_pass_from_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dashboard");
    let (init, _) = ok(&data, &["init"]);
    assert!(
        init.contains("issuer public key:") && init.contains("password (shown once):"),
        "{init}"
    );
    let key_mode = std::fs::metadata(data.join("issuer.key")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&key_mode.permissions()) & 0o777,
        0o600
    );
    let again = fails(&data, &["init"], 2);
    assert!(again.contains("already holds a dashboard"), "{again}");

    let gateway_key = bygd_protocol::SecretKey::from_seed(&[5; 32])
        .public_key()
        .to_hex();
    let config = dir.path().join("gw1.toml");
    ok(
        &data,
        &[
            "gateway",
            "add",
            "--site",
            "byn",
            "--id",
            "gw1",
            "--public-key",
            &gateway_key,
            "--doors",
            "front,workshop",
            "--broker",
            "mqtts://broker.example.org:8883",
            "--out",
            config.to_str().unwrap(),
        ],
    );
    // The written config is one the gateway accepts, trusting this dashboard's key.
    let text = std::fs::read_to_string(&config).unwrap();
    let issuer = init
        .lines()
        .find_map(|l| l.trim().strip_prefix("issuer public key:"))
        .unwrap()
        .trim()
        .to_owned();
    assert!(text.contains(&issuer), "{text}");
    let gateway = bygd_gateway::Config::load(&config).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(
        (
            gateway.site.as_str(),
            gateway.gateway.as_str(),
            gateway.doors.len()
        ),
        ("byn", "gw1", 2)
    );
    assert_eq!(
        gateway.mqtt.as_ref().unwrap().url,
        "mqtts://broker.example.org:8883"
    );
    assert_eq!(
        gateway.policy.revocation_min_version, 1,
        "the config holds the site's list version, so an empty store refuses older lists"
    );
    let dup = fails(
        &data,
        &[
            "gateway",
            "add",
            "--site",
            "byn",
            "--id",
            "gw1",
            "--public-key",
            &gateway_key,
        ],
        2,
    );
    assert!(dup.contains("already registered"), "{dup}");
    let bad_key = fails(
        &data,
        &[
            "gateway",
            "add",
            "--site",
            "byn",
            "--id",
            "gw2",
            "--public-key",
            "abc",
        ],
        2,
    );
    assert!(
        bad_key.contains("public_key") && bad_key.contains("keygen"),
        "{bad_key}"
    );

    ok(
        &data,
        &[
            "member",
            "add",
            "--id",
            "anna",
            "--name",
            "Anna Lindqvist",
            "--site",
            "byn",
        ],
    );
    let png = dir.path().join("anna.png");
    let svg = dir.path().join("anna.svg");
    let (qr_text, issued) = ok(
        &data,
        &[
            "pass",
            "issue",
            "--member",
            "anna",
            "--site",
            "byn",
            "--doors",
            "front",
            "--until",
            "+30d",
            "--schedule",
            "mon-fri 07:00-22:00",
            "--png",
            png.to_str().unwrap(),
            "--svg",
            svg.to_str().unwrap(),
        ],
    );
    assert!(
        qr_text.trim().starts_with("BYGD1:"),
        "stdout is the QR text alone: {qr_text}"
    );
    assert!(issued.contains("Pass page"), "{issued}");
    assert_eq!(&std::fs::read(&png).unwrap()[..4], b"\x89PNG");
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    let bad_until = fails(
        &data,
        &[
            "pass", "issue", "--member", "anna", "--site", "byn", "--until", "tomorrow",
        ],
        2,
    );
    assert!(
        bad_until.contains("--until") && bad_until.contains("2026-12-24"),
        "{bad_until}"
    );
    let bad_door = fails(
        &data,
        &[
            "pass", "issue", "--member", "anna", "--site", "byn", "--doors", "cellar",
        ],
        2,
    );
    assert!(
        bad_door.contains("front, workshop"),
        "the error lists the doors there are: {bad_door}"
    );

    let (list, _) = ok(&data, &["pass", "list", "--member", "anna"]);
    let id = list.split_whitespace().next().unwrap().to_owned();
    let (revoked, _) = ok(&data, &["pass", "revoke", &id]);
    assert!(revoked.contains("Revoked pass"), "{revoked}");
    let (valid, _) = ok(&data, &["pass", "list", "--valid"]);
    assert!(
        valid.trim().is_empty(),
        "a revoked pass is listed as valid: {valid}"
    );

    let (_, audit) = ok(&data, &["audit", "--site", "byn"]);
    assert!(audit.contains("No entries match"), "{audit}");
    let (csv, _) = ok(&data, &["audit", "--csv"]);
    assert_eq!(
        csv.trim(),
        "time,site,gateway,seq,door,kind,outcome,member,pass_id,reason,clock,local_time"
    );

    // Without `bygd serve` a command waits in the outbox; the operator is told why.
    let queued = fails(
        &data,
        &[
            "unlock",
            "--gateway",
            "gw1",
            "--door",
            "front",
            "--wait",
            "0",
        ],
        1,
    );
    assert!(queued.contains("bygd serve"), "{queued}");

    // A clock floor reset is queued the same way, as a signed command in the outbox.
    let reset = fails(
        &data,
        &[
            "clock",
            "reset",
            "--gateway",
            "byn/gw1",
            "--to",
            "2026-12-03T10:00",
            "--wait",
            "0",
        ],
        1,
    );
    assert!(reset.contains("bygd serve"), "{reset}");
    let bad_time = fails(
        &data,
        &["clock", "reset", "--gateway", "gw1", "--to", "soonish"],
        2,
    );
    assert!(
        bad_time.contains("--to") && bad_time.contains("RFC 3339"),
        "{bad_time}"
    );

    let (account, _) = ok(
        &data,
        &[
            "account", "add", "--name", "olle", "--role", "operator", "--sites", "byn",
        ],
    );
    assert!(account.contains("password (shown once)"), "{account}");
    let (token, _) = ok(
        &data,
        &[
            "token",
            "create",
            "--name",
            "booking",
            "--scopes",
            "passes:write,members:write",
            "--sites",
            "byn",
            "--expires",
            "+90d",
        ],
    );
    assert!(token.trim().starts_with("bygd_"), "{token}");
    let bad_scope = fails(
        &data,
        &["token", "create", "--name", "x", "--scopes", "everything"],
        2,
    );
    assert!(bad_scope.contains("members:read"), "{bad_scope}");
}

#[test]
fn an_admin_lists_disables_enables_and_re_passwords_an_account_from_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dashboard");
    ok(&data, &["init"]);
    ok(
        &data,
        &[
            "account", "add", "--name", "olle", "--role", "operator", "--sites", "*",
        ],
    );
    let (list, _) = ok(&data, &["account", "list"]);
    let olle: serde_json::Value = list
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|a| a["name"] == "olle")
        .unwrap_or_else(|| panic!("olle is not listed: {list}"));
    assert_eq!(olle["role"], "operator");
    assert!(olle["disabled_at"].is_null());

    let (disabled, _) = ok(&data, &["account", "disable", "olle"]);
    assert!(disabled.contains("disabled"), "{disabled}");
    let again = fails(&data, &["account", "disable", "olle"], 2);
    assert!(again.contains("already disabled"), "{again}");
    let (list, _) = ok(&data, &["account", "list"]);
    assert!(
        list.lines()
            .any(|l| l.contains("\"olle\"") && !l.contains("\"disabled_at\":null")),
        "{list}"
    );
    ok(&data, &["account", "enable", "olle"]);

    let (password, _) = ok(&data, &["account", "password", "olle"]);
    assert!(password.contains("new password (shown once)"), "{password}");
    let (set, _) = ok(&data, &["account", "set", "olle", "--role", "auditor"]);
    assert!(set.contains("auditor"), "{set}");
    let nothing = fails(&data, &["account", "set", "olle"], 2);
    assert!(nothing.contains("--role"), "{nothing}");
    let (logout, _) = ok(&data, &["account", "logout", "olle"]);
    assert!(logout.contains("0 session(s) ended"), "{logout}");
    let missing = fails(&data, &["account", "disable", "nobody"], 2);
    assert!(missing.contains("not found"), "{missing}");
}

#[test]
fn a_space_is_set_up_site_first_then_members_then_the_gateway_in_the_sites_time_zone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dashboard");
    ok(&data, &["init"]);
    // Before the site exists, a member cannot join it; the message names the site.
    let early = fails(
        &data,
        &[
            "member", "add", "--id", "anna", "--name", "Anna", "--site", "byn",
        ],
        2,
    );
    assert!(early.contains("site `byn` not found"), "{early}");

    let (added, next) = ok(
        &data,
        &[
            "site",
            "add",
            "--id",
            "byn",
            "--name",
            "Byns kontor",
            "--time-zone",
            "Europe/Copenhagen",
            "--address",
            "Byvägen 1\n123 45 Byn",
            "--language",
            "sv",
        ],
    );
    assert!(
        added.contains("byn  Byns kontor  Europe/Copenhagen  language sv"),
        "{added}"
    );
    assert!(next.contains("bygd member add --site byn"), "{next}");
    let again = fails(
        &data,
        &[
            "site",
            "add",
            "--id",
            "byn",
            "--name",
            "B",
            "--time-zone",
            "UTC",
        ],
        2,
    );
    assert!(
        again.contains("already exists") && again.contains("bygd site edit"),
        "{again}"
    );
    let bad_zone = fails(
        &data,
        &[
            "site",
            "add",
            "--id",
            "klit",
            "--name",
            "K",
            "--time-zone",
            "Mars/Olympus",
        ],
        2,
    );
    assert!(
        bad_zone.contains("time_zone") && bad_zone.contains("Europe/Stockholm"),
        "{bad_zone}"
    );
    let bad_language = fails(
        &data,
        &[
            "site",
            "add",
            "--id",
            "klit",
            "--name",
            "K",
            "--time-zone",
            "UTC",
            "--language",
            "de",
        ],
        2,
    );
    assert!(bad_language.contains("sv, da, en"), "{bad_language}");

    // Members now, with no gateway yet.
    ok(
        &data,
        &[
            "member", "add", "--id", "anna", "--name", "Anna", "--site", "byn",
        ],
    );
    let (list, _) = ok(&data, &["site", "list"]);
    assert_eq!(
        list.trim(),
        "byn  Byns kontor  Europe/Copenhagen  language sv  Byvägen 1, 123 45 Byn"
    );
    let (json, _) = ok(&data, &["site", "list", "--json"]);
    let site: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(site["address"], "Byvägen 1\n123 45 Byn");

    // The gateway, when it arrives, gets the site's time zone in its config.
    let key = gateway_key().public_key().to_hex();
    let config = dir.path().join("gw1.toml");
    let (_, note) = ok(
        &data,
        &[
            "gateway",
            "add",
            "--site",
            "byn",
            "--id",
            "gw1",
            "--public-key",
            &key,
            "--out",
            config.to_str().unwrap(),
        ],
    );
    assert!(!note.contains("Added site"), "the site existed: {note}");
    let gateway = bygd_gateway::Config::load(&config).unwrap();
    assert_eq!(gateway.time_zone_name, "Europe/Copenhagen");
    // Another zone for an existing site is refused, saying how to change the site's.
    let other_zone = fails(
        &data,
        &[
            "gateway",
            "add",
            "--site",
            "byn",
            "--id",
            "gw2",
            "--public-key",
            &key,
            "--time-zone",
            "Europe/Stockholm",
        ],
        2,
    );
    assert!(
        other_zone.contains("Europe/Copenhagen")
            && other_zone.contains("bygd site edit byn --time-zone Europe/Stockholm"),
        "{other_zone}"
    );
    // Naming the site's own zone is fine.
    ok(
        &data,
        &[
            "gateway",
            "add",
            "--site",
            "byn",
            "--id",
            "gw2",
            "--public-key",
            &key,
            "--time-zone",
            "Europe/Copenhagen",
        ],
    );

    // Changing the zone names the gateways that keep the old one in their config.
    let (edited, warning) = ok(
        &data,
        &[
            "site",
            "edit",
            "byn",
            "--time-zone",
            "Europe/Stockholm",
            "--address",
            "",
        ],
    );
    assert!(
        edited.contains("byn  Byns kontor  Europe/Stockholm  language sv")
            && !edited.contains("Byvägen"),
        "{edited}"
    );
    assert!(
        warning.contains("byn/gw1, byn/gw2") && warning.contains("Europe/Copenhagen"),
        "{warning}"
    );
    let nothing = fails(&data, &["site", "edit", "byn"], 2);
    assert!(nothing.contains("--name"), "{nothing}");
    let missing = fails(&data, &["site", "edit", "nowhere", "--name", "X"], 2);
    assert!(missing.contains("site `nowhere` not found"), "{missing}");

    // A gateway at a site not added yet still adds it, and says how to name it.
    let (_, note) = ok(
        &data,
        &[
            "gateway",
            "add",
            "--site",
            "klit",
            "--id",
            "gw1",
            "--public-key",
            &key,
        ],
    );
    assert!(
        note.contains("Added site klit") && note.contains("bygd site edit klit"),
        "{note}"
    );
    let (list, _) = ok(&data, &["site", "list"]);
    assert!(
        list.contains("klit  klit  Europe/Stockholm  language en"),
        "{list}"
    );
}

#[test]
fn audit_says_how_many_entries_it_left_out_instead_of_stopping_quietly_at_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dashboard");
    ok(&data, &["init"]);
    let key = gateway_key().public_key().to_hex();
    ok(
        &data,
        &[
            "gateway",
            "add",
            "--site",
            SITE,
            "--id",
            GATEWAY,
            "--public-key",
            &key,
        ],
    );
    // The gateway reports 150 entries, a minute apart, as `bygd serve` would store them.
    const ENTRIES: u64 = 150;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (d, _) = bygd_dashboard::Dashboard::open(&data, None).await.unwrap();
        let mut log = Log::new();
        let start = common::now() - 86_400;
        for i in 0..ENTRIES {
            log.grant(start + 60 * i, "front", "anna");
        }
        d.ingest_batch(SITE, GATEWAY, &log.batch(1, ENTRIES, &gateway_key()))
            .await
            .unwrap();
    });

    let (shown, note) = ok(&data, &["audit"]);
    assert_eq!(shown.lines().count(), 100, "{shown}");
    assert!(
        note.contains("Showing the newest 100 of 150 entries")
            && note.contains("--limit")
            && note.contains("--csv"),
        "{note}"
    );
    // JSON lines stay clean on stdout; the note goes to stderr.
    let (json, note) = ok(&data, &["audit", "--json", "--limit", "149"]);
    assert_eq!(json.lines().count(), 149);
    assert!(json.lines().all(|l| l.starts_with('{')), "{json}");
    assert!(note.contains("newest 149 of 150"), "{note}");
    // All of them shown, or exactly as many as the limit: nothing to say.
    let (all, note) = ok(&data, &["audit", "--limit", "500"]);
    assert_eq!(all.lines().count(), 150);
    assert!(note.trim().is_empty(), "{note}");
    let (_, note) = ok(&data, &["audit", "--limit", "150"]);
    assert!(note.trim().is_empty(), "{note}");
    // A filter counts what it selects.
    let (_, note) = ok(
        &data,
        &[
            "audit",
            "--limit",
            "10",
            "--member",
            "anna",
            "--outcome",
            "granted",
        ],
    );
    assert!(note.contains("newest 10 of 150 entries"), "{note}");
    let (csv, _) = ok(&data, &["audit", "--csv"]);
    assert_eq!(csv.lines().count(), 151, "a header and every entry");
}

#[test]
fn a_missing_data_directory_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(&dir.path().join("nothing"), &["member", "list"], 2);
    assert!(err.contains("bygd init"), "{err}");
    let out = Command::new(BYGD)
        .args(["member", "list"])
        .env_remove("BYGD_DATA")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--data"));
}

#[test]
fn every_command_explains_itself_with_an_example() {
    for args in [
        vec!["init"],
        vec!["serve"],
        vec!["site", "add"],
        vec!["site", "list"],
        vec!["site", "edit"],
        vec!["gateway", "add"],
        vec!["member", "add"],
        vec!["member", "revoke"],
        vec!["pass", "issue"],
        vec!["pass", "revoke"],
        vec!["unlock"],
        vec!["lockdown"],
        vec!["clock", "reset"],
        vec!["audit"],
        vec!["alarms"],
        vec!["account", "add"],
        vec!["account", "list"],
        vec!["account", "disable"],
        vec!["account", "enable"],
        vec!["account", "password"],
        vec!["account", "set"],
        vec!["account", "logout"],
        vec!["token", "create"],
    ] {
        let mut full = args.clone();
        full.push("--help");
        let out = Command::new(BYGD).args(&full).output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{args:?}");
        assert!(
            help.contains("Example"),
            "`bygd {} --help` has no example:\n{help}",
            args.join(" ")
        );
    }
}

#[test]
fn an_admin_adds_lists_and_deletes_a_webhook_from_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dashboard");
    ok(&data, &["init"]);
    ok(
        &data,
        &[
            "site",
            "add",
            "--id",
            "byn",
            "--name",
            "Byn",
            "--time-zone",
            "Europe/Stockholm",
        ],
    );
    let (secret, said) = ok(
        &data,
        &[
            "webhook",
            "add",
            "--url",
            "https://booking.example.org/bygd",
            "--events",
            "all",
            "--sites",
            "byn",
        ],
    );
    assert_eq!(
        secret.trim().len(),
        64,
        "the secret alone on stdout: {secret}"
    );
    assert!(said.contains("shown once"), "{said}");
    let (listed, _) = ok(&data, &["webhook", "list", "--json"]);
    let hook: serde_json::Value = serde_json::from_str(listed.trim()).unwrap();
    assert_eq!(hook["url"], "https://booking.example.org/bygd");
    assert_eq!(hook["events"].as_array().unwrap().len(), 7);
    assert!(!listed.contains(secret.trim()), "list shows no secret");
    let refused = fails(
        &data,
        &[
            "webhook",
            "add",
            "--url",
            "https://x.example",
            "--events",
            "door.painted",
        ],
        2,
    );
    assert!(refused.contains("door.painted"), "{refused}");
    let id = hook["id"].as_str().unwrap();
    ok(&data, &["webhook", "delete", id]);
    let (_, empty) = ok(&data, &["webhook", "list"]);
    assert!(empty.contains("No webhooks"), "{empty}");
}
