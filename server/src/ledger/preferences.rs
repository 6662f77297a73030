//! Preferences: one row per user, written with an atomic upsert (never read-then-write).

use app::types::{Preferences, Theme};
use sqlx::Row;

use super::db::{now_text, Db};
use crate::session::UserId;

/// Sets the user's preferences in one statement; any number of concurrent PUTs leave one row.
pub async fn put(db: &Db, user: &UserId, preferences: &Preferences) -> Result<Preferences, sqlx::Error> {
    sqlx::query(
        "INSERT INTO preferences (user_id, theme, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET theme = excluded.theme, updated_at = excluded.updated_at",
    )
    .bind(user.as_str())
    .bind(preferences.theme.as_str())
    .bind(now_text())
    .execute(&db.pool)
    .await?;
    Ok(preferences.clone())
}

/// The user's preferences, or the defaults if they never set any.
pub async fn get(db: &Db, user: &UserId) -> Result<Preferences, sqlx::Error> {
    let theme: Option<String> = sqlx::query("SELECT theme FROM preferences WHERE user_id = $1")
        .bind(user.as_str())
        .fetch_optional(&db.pool)
        .await?
        .map(|row| row.try_get("theme"))
        .transpose()?;
    Ok(Preferences { theme: theme.as_deref().and_then(Theme::parse).unwrap_or_default() })
}

/// How many preference rows the user has (always 0 or 1; the tests check it stays so).
pub async fn rows(db: &Db, user: &UserId) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM preferences WHERE user_id = $1")
        .bind(user.as_str())
        .fetch_one(&db.pool)
        .await?
        .try_get("n")
}
