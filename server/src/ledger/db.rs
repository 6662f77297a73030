//! The database: one sqlx `Any` pool over SQLite or PostgreSQL, with the migrations both share.

use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use time::macros::format_description;
use time::OffsetDateTime;

/// A pool plus what kind of database it talks to.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
}

impl Db {
    /// Connects, creating the SQLite file (and its directory) if needed, and runs the migrations.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        if sqlite {
            if let Some(dir) = sqlite_path(url).and_then(|path| std::path::Path::new(path).parent()) {
                std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
            }
        }
        let pool = AnyPoolOptions::new().max_connections(if sqlite { 8 } else { 16 }).connect(url).await?;
        if sqlite {
            // Readers never wait for the writer; writers queue on SQLite's busy timeout (sqlx sets 5 s).
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
        }
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Db { pool })
    }
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && !path.starts_with(':')).then_some(path)
}

/// Now, in milliseconds since the epoch (for leases).
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Now, as fixed-width RFC 3339 text with milliseconds (it sorts as it reads).
pub fn now_text() -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::now_utc().format(&format).unwrap_or_default()
}

/// True when `error` is a unique-constraint violation, whichever database raised it.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_are_found_in_urls() {
        assert_eq!(sqlite_path("sqlite://data/payonce.db?mode=rwc"), Some("data/payonce.db"));
        assert_eq!(sqlite_path("sqlite:///tmp/x.db"), Some("/tmp/x.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
    }

    #[test]
    fn timestamps_have_fixed_width_so_they_sort() {
        let text = now_text();
        assert_eq!(text.len(), "2026-12-04T16:36:10.123Z".len(), "{text}");
        assert!(text.ends_with('Z'));
    }
}
