//! Secrets at rest: a stolen copy of the database must not open doors. A bare pass's QR text
//! is a credential, so it is never stored; the pass page re-derives the same text from the
//! stored claims and the issuer key (which lives in its own 0600 file, not in the database).

mod common;

use common::*;
use serde_json::json;
use sqlx::Connection as _;

/// Every value of every column of every table, as bytes (SQLite) or text (PostgreSQL), with
/// where it was found.
async fn every_value(url: &str, backend: &str) -> Vec<(String, Vec<u8>)> {
    sqlx::any::install_default_drivers();
    let url = url.replacen("sqlite:", "sqlite://", 1);
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    let tables_sql = if backend == "sqlite" {
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    } else {
        "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = 'public'"
    };
    let tables: Vec<String> = sqlx::query_scalar(tables_sql)
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert!(tables.len() > 5, "only tables {tables:?}");
    let mut out = Vec::new();
    for table in tables {
        let columns: Vec<String> = if backend == "sqlite" {
            sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .fetch_all(&mut conn)
                .await
                .unwrap()
        } else {
            sqlx::query_scalar(
                "SELECT CAST(column_name AS TEXT) FROM information_schema.columns WHERE table_name = $1",
            )
            .bind(table.clone())
            .fetch_all(&mut conn)
            .await
            .unwrap()
        };
        for column in columns {
            let values: Vec<Option<Vec<u8>>> = if backend == "sqlite" {
                sqlx::query_scalar(&format!("SELECT CAST({column} AS BLOB) FROM {table}"))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap()
            } else {
                let texts: Vec<Option<String>> =
                    sqlx::query_scalar(&format!("SELECT CAST({column} AS TEXT) FROM {table}"))
                        .fetch_all(&mut conn)
                        .await
                        .unwrap();
                texts
                    .into_iter()
                    .map(|t| t.map(String::into_bytes))
                    .collect()
            };
            out.extend(
                values
                    .into_iter()
                    .flatten()
                    .map(|v| (format!("{table}.{column}"), v)),
            );
        }
    }
    conn.close().await.unwrap();
    out
}

#[tokio::test]
async fn no_column_holds_an_issued_qr_text_and_the_pass_page_still_gives_the_same_text() {
    for db in
        backends("no_column_holds_an_issued_qr_text_and_the_pass_page_still_gives_the_same_text")
            .await
    {
        let (d, dir, password) = dashboard(&db).await;
        let session = login(&d, "admin", &password).await;
        let member = call(
            &d,
            "POST",
            "/api/v1/members",
            Some(&session),
            Some(json!({ "id": "anna", "name": "Anna", "sites": [SITE] })),
        )
        .await;
        assert_eq!(member.status, 201, "{}", member.text());
        let mut issued = Vec::new();
        // A bare pass with a schedule and doors, and one for every door of the site: the
        // re-derived text must match for every stored form.
        for body in [
            json!({ "member": "anna", "site": SITE, "doors": ["front", "workshop"],
                    "until": "+7d", "schedule": "mon-fri 07:00-22:00; sat 10:00-16:00",
                    "kind": "guest", "booking": "B-1" }),
            json!({ "member": "anna", "site": SITE }),
        ] {
            let reply = call(&d, "POST", "/api/v1/passes", Some(&session), Some(body)).await;
            assert_eq!(reply.status, 201, "{}", reply.text());
            let reply = reply.json();
            let text = reply["qr_text"].as_str().unwrap().to_owned();
            let secret = reply["page_url"]
                .as_str()
                .unwrap()
                .rsplit_once("/p/")
                .unwrap()
                .1
                .to_owned();
            issued.push((text, secret));
        }

        let values = every_value(&db.url, db.name).await;
        for (text, _) in &issued {
            let payload = text.split_once(':').unwrap().1;
            assert!(payload.len() > 40, "{text}");
            let found: Vec<&String> = values
                .iter()
                .filter(|(_, v)| v.windows(payload.len()).any(|w| w == payload.as_bytes()))
                .map(|(at, _)| at)
                .collect();
            assert!(
                found.is_empty(),
                "{}: the QR text is stored in {found:?}",
                db.name
            );
        }
        if db.name == "sqlite" {
            // Nor anywhere in the database's files, the WAL included.
            let file = db.url.strip_prefix("sqlite:").unwrap();
            for suffix in ["", "-wal"] {
                let Ok(bytes) = std::fs::read(format!("{file}{suffix}")) else {
                    continue;
                };
                for (text, _) in &issued {
                    let payload = text.split_once(':').unwrap().1.as_bytes();
                    assert!(
                        !bytes.windows(payload.len()).any(|w| w == payload),
                        "the QR text is in {file}{suffix}"
                    );
                }
            }
        }

        // The page gives the same text, now and after the dashboard is opened again.
        for (text, secret) in &issued {
            assert_eq!(&d.passes().page(secret).await.unwrap().qr_text, text);
            let page = call(&d, "GET", &format!("/p/{secret}"), None, None).await;
            assert_eq!(page.status, 200, "{}", page.text());
            assert!(page.text().contains("<svg"));
        }
        let svg_before = call(&d, "GET", &format!("/p/{}/qr.svg", issued[0].1), None, None).await;
        let (again, _) = bygd_dashboard::Dashboard::open(&dir.path().join("data"), Some(&db.url))
            .await
            .unwrap();
        for (text, secret) in &issued {
            assert_eq!(&again.passes().page(secret).await.unwrap().qr_text, text);
        }
        let svg_after = call(
            &again,
            "GET",
            &format!("/p/{}/qr.svg", issued[0].1),
            None,
            None,
        )
        .await;
        assert_eq!(svg_after.status, 200);
        assert_eq!(svg_before.body, svg_after.body);
    }
}
