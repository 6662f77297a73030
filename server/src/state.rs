//! Everything a request handler may need, built once at start-up from the configuration.

use std::sync::Arc;

use axum::extract::FromRef;
use axum_extra::extract::cookie::Key;
use leptos::config::LeptosOptions;

use crate::config::Config;
use crate::idempotency::fingerprint::FingerprintSecret;
use crate::ledger::db::Db;
use crate::ledger::processor::Processor;
use crate::session::cookie_key;
use crate::store::{MemoryStore, RedisStore, Stores};

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub processor: Arc<Processor>,
    pub stores: Stores,
    pub cookie_key: Key,
    pub fingerprint_secret: FingerprintSecret,
    pub leptos_options: LeptosOptions,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("PAYONCE_SECRET must be at least 32 bytes long")]
    ShortSecret,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("redis: {0}")]
    Redis(#[from] crate::store::StoreError),
}

impl AppState {
    /// Connects the database and the store the configuration names.
    pub async fn build(config: Config, leptos_options: LeptosOptions) -> Result<Self, StartError> {
        let secret = match &config.secret {
            Some(secret) if secret.len() < 32 => return Err(StartError::ShortSecret),
            Some(secret) => secret.as_bytes().to_vec(),
            None => {
                tracing::warn!(
                    "PAYONCE_SECRET is not set: using a random secret, so sessions end when the server stops"
                );
                rand::random::<[u8; 64]>().to_vec()
            }
        };
        let db = Db::connect(&config.database_url()).await?;
        let stores = match &config.redis_url {
            Some(url) => Stores::from_store(RedisStore::connect(url).await?),
            None => Stores::from_store(MemoryStore::new(config.memory_store_capacity)),
        };
        let processor = Processor::new(db.clone(), config.processor_latency(), config.processor_failure_rate);
        Ok(AppState {
            config: Arc::new(config),
            db,
            processor: Arc::new(processor),
            stores,
            cookie_key: cookie_key(&secret),
            fingerprint_secret: FingerprintSecret::new(&secret),
            leptos_options,
        })
    }
}

impl FromRef<AppState> for Key {
    fn from_ref(state: &AppState) -> Self {
        state.cookie_key.clone()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
