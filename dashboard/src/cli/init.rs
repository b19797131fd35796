//! `bygd init`: a new data directory and its first admin.

use crate::config::DashboardMqtt;
use crate::service::Dashboard;
use anyhow::Context as _;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

// `bygd init`'s flags; its help is the doc comment on the `Init` command in `mod.rs`.
#[derive(Debug, Args)]
pub(super) struct Init {
    /// The new data directory.
    #[arg(long, env = "BYGD_DATA", value_name = "DIR")]
    data: PathBuf,
    /// The database, if not SQLite in the data directory: postgres://USER@HOST/DB.
    #[arg(long, env = "BYGD_DATABASE_URL", value_name = "URL")]
    database: Option<String>,
    /// The first admin's account name.
    #[arg(long, default_value = "admin")]
    admin: String,
    /// The broker `bygd serve` connects to (written to the config).
    #[arg(long, value_name = "URL")]
    mqtt: Option<String>,
}

/// Runs `bygd init`.
pub(super) async fn init(args: Init) -> anyhow::Result<ExitCode> {
    let Init {
        data,
        database,
        admin,
        mqtt,
    } = args;
    let (dashboard, done) = Dashboard::init(&data, database.as_deref(), &admin).await?;
    if let Some(url) = mqtt {
        let mut config = crate::config::DashboardConfig::load(&done.dir)?;
        config.mqtt = Some(DashboardMqtt::new(&url));
        config.check(&done.dir.join(crate::config::CONFIG_FILE))?;
        let path = done.dir.join(crate::config::CONFIG_FILE);
        crate::files::write_private(&path, config.to_toml().as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    dashboard.db.close().await;
    println!("Created the dashboard in {}", done.dir.display());
    println!("  issuer public key: {}", done.issuer_public_key);
    println!("  issuer key id:     {}", done.issuer_key_id);
    println!(
        "  admin account `{}`, password (shown once): {}",
        done.admin, done.password
    );
    println!("\nNext:");
    println!(
        "  bygd gateway add --data {} --site SITE --id GATEWAY --public-key KEY --out gateway.toml",
        done.dir.display()
    );
    println!(
        "  bygd serve --data {} --mqtt mqtt://127.0.0.1:1883",
        done.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
