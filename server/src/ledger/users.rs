//! Users: a guest row per session, and an email registered on it whose uniqueness the database decides.

use app::types::User;
use sqlx::Row;

use super::db::{is_unique_violation, now_text, Db};
use crate::error::ApiError;
use crate::session::UserId;

/// Makes sure the session's user has a row (a new guest, or one whose row a reset database lost).
pub async fn ensure(db: &Db, user: &UserId) -> Result<User, sqlx::Error> {
    sqlx::query("INSERT INTO users (id, email, created_at) VALUES ($1, NULL, $2) ON CONFLICT (id) DO NOTHING")
        .bind(user.as_str())
        .bind(now_text())
        .execute(&db.pool)
        .await?;
    let row = sqlx::query("SELECT id, email FROM users WHERE id = $1").bind(user.as_str()).fetch_one(&db.pool).await?;
    Ok(User { id: row.try_get("id")?, email: row.try_get("email")? })
}

/// Registers `email` on the user. The unique index on lower(email) settles races: of many concurrent
/// registrations of one address exactly one wins, and the rest are 409, never 500.
pub async fn register_email(db: &Db, user: &UserId, email: &str) -> Result<User, ApiError> {
    let updated = sqlx::query("UPDATE users SET email = $1 WHERE id = $2 AND email IS NULL")
        .bind(email)
        .bind(user.as_str())
        .execute(&db.pool)
        .await;
    match updated {
        Ok(done) if done.rows_affected() == 1 => Ok(User { id: user.to_string(), email: Some(email.to_owned()) }),
        Ok(_) => Err(ApiError::Conflict("this session already has an email registered".into())),
        Err(error) if is_unique_violation(&error) => {
            Err(ApiError::Conflict(format!("{email} is already registered (addresses are case-insensitive)")))
        }
        Err(error) => Err(error.into()),
    }
}

/// A plausible address: one `@` with text on both sides and a dot in the domain, at most 254 characters.
pub fn validate_email(email: &str) -> Result<&str, ApiError> {
    let email = email.trim();
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && matches!(email.split_once('@'), Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains('@'));
    if valid {
        Ok(email)
    } else {
        Err(ApiError::Unprocessable(format!("`{email}` is not an email address")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_validation_accepts_ordinary_addresses_only() {
        assert_eq!(validate_email(" ada@example.com ").unwrap(), "ada@example.com");
        for bad in ["", "ada", "@example.com", "ada@", "ada@example", "a b@example.com", "a@b@c.com", "ada@.com"] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
    }
}
