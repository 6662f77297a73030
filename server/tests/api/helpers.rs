//! `spawn_app()` and friends: a real server on a free port, with a cookie-keeping client.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use clap::Parser;
use leptos::config::LeptosOptions;
use payonce::config::Config;
use payonce::{app, AppState};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

pub const SECRET: &str = "test secret that is long enough to sign cookies";

/// The databases every ledger test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Database {
    Sqlite,
    Postgres,
}

pub const DATABASES: [Database; 2] = [Database::Sqlite, Database::Postgres];

impl Database {
    pub fn url(self) -> String {
        match self {
            Database::Sqlite => {
                let path = std::env::temp_dir().join(format!("payonce-test-{}.db", uuid::Uuid::new_v4().simple()));
                format!("sqlite://{}?mode=rwc", path.display())
            }
            Database::Postgres => std::env::var("PAYONCE_TEST_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into()),
        }
    }
}

pub fn test_redis_url() -> String {
    std::env::var("PAYONCE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub struct TestApp {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    pub state: AppState,
}

/// What a test changes from the defaults: which database and store, and any setting.
pub struct Setup {
    pub database_url: String,
    pub redis_url: Option<String>,
    pub tweak: Box<dyn FnOnce(&mut Config)>,
}

impl Setup {
    pub fn new(database: Database) -> Self {
        Setup { database_url: database.url(), redis_url: Some(test_redis_url()), tweak: Box::new(|_| {}) }
    }

    pub fn memory_store(mut self) -> Self {
        self.redis_url = None;
        self
    }

    pub fn redis(mut self, url: String) -> Self {
        self.redis_url = Some(url);
        self
    }

    pub fn tweak(mut self, tweak: impl FnOnce(&mut Config) + 'static) -> Self {
        self.tweak = Box::new(tweak);
        self
    }

    pub async fn spawn(self) -> TestApp {
        let mut config = Config::parse_from(["payonce"]);
        config.database_url = Some(self.database_url);
        config.redis_url = self.redis_url;
        config.secret = Some(SECRET.into());
        config.processor_latency_ms = 20;
        config.chaos = false;
        (self.tweak)(&mut config);
        let state = AppState::build(config, LeptosOptions::builder().output_name("payonce").build())
            .await
            .expect("the test app starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router = app(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        TestApp { address, client: client(), state }
    }
}

/// A fresh app on `database` with the shared Redis.
pub async fn spawn_app(database: Database) -> TestApp {
    Setup::new(database).spawn().await
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).timeout(Duration::from_secs(30)).build().unwrap()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// A new guest session for `client` (a second client is a second user).
    pub async fn sign_in(&self, client: &reqwest::Client) -> String {
        let response = client.post(self.url("/api/session")).send().await.unwrap();
        assert!(response.status().is_success());
        response.json::<Value>().await.unwrap()["user"]["id"].as_str().unwrap().to_owned()
    }

    pub async fn signed_in(self) -> Self {
        self.sign_in(&self.client).await;
        self
    }

    pub async fn pay(&self, client: &reqwest::Client, key: &str, body: &Value) -> reqwest::Response {
        client.post(self.url("/api/payments")).header("idempotency-key", key).json(body).send().await.unwrap()
    }

    pub async fn ledger(&self, client: &reqwest::Client) -> Vec<Value> {
        let response = client.get(self.url("/api/payments")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Successful charges the processor recorded for the payment made under `key` by any user.
    pub async fn charges_for_key(&self, key: &str) -> i64 {
        use sqlx::Row;
        sqlx::query(
            "SELECT COUNT(*) AS n FROM charges c JOIN payments p ON p.id = c.payment_id \
             WHERE p.idempotency_key = $1 AND c.outcome = 'succeeded'",
        )
        .bind(key)
        .fetch_one(&self.state.db.pool)
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
    }
}

pub fn payment(amount_minor: i64) -> Value {
    json!({ "amount_minor": amount_minor, "currency": "EUR", "description": "test order" })
}

pub fn fresh_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Asserts an RFC 9457 problem answer and returns it.
pub async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "status");
    assert_eq!(header(response.headers(), "content-type"), Some("application/problem+json"));
    let body: Value = response.json().await.unwrap();
    for field in ["type", "title", "status", "detail"] {
        assert!(body.get(field).is_some(), "problem without {field}: {body}");
    }
    assert_eq!(body["status"], status);
    body
}

/// A redis-server of the test's own, on a free port, which the test may break or stop. Killed on drop.
pub struct OwnRedis {
    pub port: u16,
    child: Child,
}

impl OwnRedis {
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--enable-debug-command",
                "yes",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (make test installs it)");
        let redis = OwnRedis { port, child };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return redis;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("redis-server on port {port} did not start");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url()).unwrap().get_multiplexed_async_connection().await.unwrap()
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
