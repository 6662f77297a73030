//! Every setting the server reads, from `PAYONCE_*` environment variables or the matching flags (`--help`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// payonce: pay exactly once. Serves the checkout page and the payments API.
#[derive(Clone, Debug, Parser)]
#[command(name = "payonce", version, about)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub site_addr: SocketAddr,

    /// Redis URL for the idempotency and throttle store; unset keeps them in this process's memory.
    #[arg(long, env = "PAYONCE_REDIS_URL")]
    pub redis_url: Option<String>,

    /// Database URL (`sqlite://…` or `postgres://…`); unset uses a SQLite file under the data directory.
    #[arg(long, env = "PAYONCE_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Directory for the default SQLite database.
    #[arg(long, env = "PAYONCE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// `1` turns on the fault-injection layer the flaky-network panel drives; anything else leaves it out.
    #[arg(long, env = "PAYONCE_CHAOS", default_value = "0", value_parser = parse_flag, action = clap::ArgAction::Set)]
    pub chaos: bool,

    /// Secret for session cookies and request fingerprints (at least 32 bytes); random per start when unset.
    #[arg(long, env = "PAYONCE_SECRET", hide_env_values = true)]
    pub secret: Option<String>,

    /// Simulated card processor latency, in milliseconds.
    #[arg(long, env = "PAYONCE_PROCESSOR_LATENCY_MS", default_value_t = 150)]
    pub processor_latency_ms: u64,

    /// Share of charges the simulated processor declines, from 0 to 1.
    #[arg(long, env = "PAYONCE_PROCESSOR_FAILURE_RATE", default_value_t = 0.0, value_parser = parse_rate)]
    pub processor_failure_rate: f64,

    /// How long a claimed Idempotency-Key stays locked to its first request, in milliseconds.
    #[arg(long, env = "PAYONCE_IDEMPOTENCY_LEASE_MS", default_value_t = 30_000)]
    pub idempotency_lease_ms: u64,

    /// How long a finished response stays replayable, in seconds.
    #[arg(long, env = "PAYONCE_IDEMPOTENCY_TTL_SECS", default_value_t = 86_400)]
    pub idempotency_ttl_secs: u64,

    /// Longest `Prefer: wait=N` the server honours, in seconds.
    #[arg(long, env = "PAYONCE_MAX_PREFER_WAIT_SECS", default_value_t = 10)]
    pub max_prefer_wait_secs: u64,

    /// Time limit for each store command, in milliseconds; past it the request fails closed with 503.
    #[arg(long, env = "PAYONCE_STORE_TIMEOUT_MS", default_value_t = 500)]
    pub store_timeout_ms: u64,

    /// Largest response body kept for replay, in bytes.
    #[arg(long, env = "PAYONCE_MAX_STORED_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_stored_body_bytes: usize,

    /// Largest request body the API accepts, in bytes.
    #[arg(long, env = "PAYONCE_MAX_BODY_BYTES", default_value_t = 16 * 1024)]
    pub max_body_bytes: usize,

    /// Window in which a second identical request from the same user is refused with 429, in milliseconds.
    #[arg(long, env = "PAYONCE_THROTTLE_WINDOW_MS", default_value_t = 2_000)]
    pub throttle_window_ms: u64,

    /// Most records the in-memory store keeps before it refuses new keys (503).
    #[arg(long, env = "PAYONCE_MEMORY_STORE_CAPACITY", default_value_t = 100_000)]
    pub memory_store_capacity: usize,

    /// How long one request holds a pending payment before another may resume it, in milliseconds.
    #[arg(long, env = "PAYONCE_CHARGE_LEASE_MS", default_value_t = 30_000)]
    pub charge_lease_ms: u64,
}

impl Config {
    /// The database URL in force: the configured one, or the embedded SQLite file.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("payonce.db").display()),
        }
    }

    pub fn idempotency_lease(&self) -> Duration {
        Duration::from_millis(self.idempotency_lease_ms)
    }

    pub fn idempotency_ttl(&self) -> Duration {
        Duration::from_secs(self.idempotency_ttl_secs)
    }

    pub fn max_prefer_wait(&self) -> Duration {
        Duration::from_secs(self.max_prefer_wait_secs)
    }

    pub fn store_timeout(&self) -> Duration {
        Duration::from_millis(self.store_timeout_ms)
    }

    pub fn throttle_window(&self) -> Duration {
        Duration::from_millis(self.throttle_window_ms)
    }

    pub fn processor_latency(&self) -> Duration {
        Duration::from_millis(self.processor_latency_ms)
    }

    pub fn charge_lease(&self) -> Duration {
        Duration::from_millis(self.charge_lease_ms)
    }

    /// The defaults, as a server started with no flags and no environment would have them.
    pub fn defaults() -> Self {
        Config::parse_from(["payonce"])
    }
}

fn parse_flag(text: &str) -> Result<bool, String> {
    Ok(matches!(text.trim(), "1" | "true" | "yes" | "on"))
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text.parse().map_err(|_| format!("`{text}` is not a number"))?;
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(format!("{rate} is not between 0 and 1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_use_embedded_backends() {
        let config = Config::parse_from(["payonce"]);
        assert!(config.redis_url.is_none() || std::env::var("PAYONCE_REDIS_URL").is_ok());
        assert_eq!(config.idempotency_lease(), Duration::from_secs(30));
        assert_eq!(config.max_body_bytes, 16 * 1024);
    }

    #[test]
    fn sqlite_file_lives_under_the_data_dir() {
        let config = Config::parse_from(["payonce", "--data-dir", "/tmp/x"]);
        if config.database_url.is_none() {
            assert_eq!(config.database_url(), "sqlite:///tmp/x/payonce.db?mode=rwc");
        }
    }

    #[test]
    fn chaos_flag_accepts_one_and_rejects_other_words() {
        assert!(Config::parse_from(["payonce", "--chaos", "1"]).chaos);
        assert!(!Config::parse_from(["payonce", "--chaos", "0"]).chaos);
    }

    #[test]
    fn failure_rate_outside_zero_to_one_is_an_error() {
        assert!(Config::try_parse_from(["payonce", "--processor-failure-rate", "1.5"]).is_err());
    }
}
