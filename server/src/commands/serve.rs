//! `scorewatch serve`: opens the database (loading the demo model into an empty one),
//! builds the [`Application`] from the options, prints where everything is, and serves
//! until Ctrl-C or SIGTERM.

use anyhow::{Context, Result};

use scorewatch_core::drift::analysis::Settings;
use scorewatch_core::ingest::writer::WriterConfig;
use scorewatch_core::model::registry;
use scorewatch_core::state::{ApiSettings, DashboardSignIn};

use super::admin_key::{self, AdminKey};
use super::shutdown_signal;
use crate::application::{Application, ApplicationConfig};
use crate::config::ServeArgs;
use crate::drift_scheduler::Schedule;
use crate::observability::log_shipping::LogQueue;
use crate::performance_scheduler::PerformanceSchedule;
use scorewatch_core::performance::report::Settings as PerformanceSettings;

/// Serves until a shutdown signal, then flushes the stored predictions and logs and stops
/// the embedded cluster if this process started it.
pub async fn run(args: ServeArgs, logs: LogQueue) -> Result<()> {
    let database = args.db.open().await?;
    if !args.no_demo {
        if let Some(r) = registry::ensure_model(&database.pool, &args.artifacts).await? {
            tracing::info!(
                model_version = r.model_version,
                name = %r.name,
                reference_rows = r.n_reference_rows,
                "empty database: registered the demo model"
            );
        }
    }
    let model = registry::load_active(&database.pool).await?.context(
        "no active model in the database: register one with `scorewatch init --model FILE --reference CSV`",
    )?;
    let admin_key = if args.no_auth {
        None
    } else {
        Some(admin_key::ensure(&database.pool, &args.db.data_dir.admin_key()).await?)
    };
    let settings = ApiSettings {
        max_batch: args.max_batch,
        batch_body_limit: args.max_batch_body_mb.saturating_mul(1024 * 1024),
        require_keys: !args.no_auth,
        dashboard_sign_in: args.sign_in_policy(),
        // The file the sign-in page names: only one that holds the admin key.
        admin_key_file: match &admin_key {
            Some(AdminKey::Created { file, .. })
            | Some(AdminKey::Existing { file: Some(file) }) => Some(file.display().to_string()),
            _ => None,
        },
    };
    let sign_in = settings.dashboard_sign_in;
    let backup_dir = match (&args.backup_dir, args.no_backup) {
        (_, true) => None,
        (Some(dir), false) => Some(dir.clone()),
        (None, false) => Some(args.db.data_dir.backup()),
    };
    let application = Application::build(ApplicationConfig {
        addr: args.addr,
        settings,
        writer: WriterConfig {
            queue_rows: args.write_queue_rows,
            max_rows_per_commit: args.max_rows_per_commit,
            committers: args.writer_connections,
            backup_dir: backup_dir.clone(),
        },
        site_root: Some(args.site_root.clone()),
        logs: Some(logs),
        compact_traffic: true,
        // Column blocks for the scheduled windows (and on-demand reports of the last hour).
        column_blocks: Some(args.drift_every.max(chrono::Duration::hours(1))),
        drift_schedule: (!args.no_drift_schedule).then(|| Schedule {
            every: args.drift_every,
            settings: Settings::default(),
            webhook: args.alert_webhook.clone(),
        }),
        performance_schedule: (!args.no_performance_schedule).then(|| PerformanceSchedule {
            every: args.performance_every,
            outcome_horizon: args.outcome_horizon,
            settings: PerformanceSettings::default(),
            webhook: args.alert_webhook.clone(),
        }),
        ..ApplicationConfig::new(database.pool.clone(), model)
    })?;
    let addr = application.addr();
    println!("scorewatch is serving on http://{addr}/");
    match sign_in {
        DashboardSignIn::Always => println!(
            "  dashboard:   http://{addr}/  (sign in with an API key: viewer, officer or admin)"
        ),
        DashboardSignIn::LocalUnproxied => println!(
            "  dashboard:   http://{addr}/  (no sign-in for direct local visits, as admin: \
             --dashboard-sign-in auto; requests through a proxy sign in)"
        ),
        DashboardSignIn::Never => {
            println!("  dashboard:   http://{addr}/  (no sign-in: whoever reaches it is admin)")
        }
    }
    println!("  predict API: POST http://{addr}/api/v1/predict  (OpenAPI: /api/v1/openapi.json)");
    println!("  metrics:     http://{addr}/metrics");
    match &admin_key {
        Some(AdminKey::Created { key, file }) => {
            println!("  API key:     {key}");
            println!(
                "               (admin; created now, also saved in {})",
                file.display()
            );
        }
        Some(AdminKey::Existing { file: Some(file) }) => {
            println!("  API key:     the admin key is in {}", file.display());
        }
        Some(AdminKey::Existing { file: None }) => {
            println!("  API keys:    `scorewatch keys create --role scorer|viewer|officer|admin`");
        }
        None => println!("  API keys:    NOT REQUIRED (--no-auth)"),
    }
    if let Some(dir) = &backup_dir {
        println!("  backup:      {}", dir.display());
    }
    if args.no_drift_schedule {
        println!("  drift:       not scheduled (--no-drift-schedule); run `scorewatch drift`");
    } else {
        println!(
            "  drift:       a report every {} min{}",
            args.drift_every.num_minutes(),
            args.alert_webhook
                .as_deref()
                .map(|u| format!(", alerts to {u}"))
                .unwrap_or_default()
        );
    }
    println!("  database:    {}", database.url_for_display);
    println!("Press Ctrl-C to stop.");
    application.run_until_stopped(shutdown_signal()).await?;
    database.pool.close().await;
    drop(database);
    tracing::info!("stopped");
    Ok(())
}
