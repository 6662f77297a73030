//! Starts payonce: reads the configuration, connects the stores and serves until Ctrl-C.

use clap::Parser;
use leptos::config::get_configuration;
use payonce::config::Config;
use payonce::{app, AppState};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")))
        .init();

    let mut leptos_options = get_configuration(None)?.leptos_options;
    leptos_options.site_addr = config.site_addr;
    let addr = config.site_addr;
    tracing::info!(
        store = if config.redis_url.is_some() { "redis" } else { "memory" },
        // The scheme only: a PostgreSQL URL may carry a password.
        database = %config.database_url().split(':').next().unwrap_or_default(),
        chaos = config.chaos,
        "starting payonce"
    );
    let state = AppState::build(config, leptos_options).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("payonce is listening on http://{addr}");
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
