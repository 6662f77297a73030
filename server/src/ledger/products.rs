//! Products, to show HTTP method semantics: POST creates a new one each call; PUT replaces (or creates) the
//! one at an id, so repeating it changes nothing; DELETE removes it, and repeating it finds nothing.
//! Each user has their own products.

use app::types::{Product, ProductInput};
use sqlx::Row;

use super::db::{now_text, Db};
use crate::session::UserId;

/// Whether a PUT made the product or replaced it.
pub enum Put {
    Created(Product),
    Replaced(Product),
}

pub async fn create(db: &Db, user: &UserId, input: &ProductInput) -> Result<Product, sqlx::Error> {
    let id = format!("prod_{}", uuid::Uuid::new_v4().simple());
    sqlx::query("INSERT INTO products (user_id, id, name, price_minor, updated_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(user.as_str())
        .bind(&id)
        .bind(&input.name)
        .bind(input.price_minor)
        .bind(now_text())
        .execute(&db.pool)
        .await?;
    Ok(Product { id, name: input.name.clone(), price_minor: input.price_minor })
}

pub async fn find(db: &Db, user: &UserId, id: &str) -> Result<Option<Product>, sqlx::Error> {
    sqlx::query("SELECT id, name, price_minor FROM products WHERE user_id = $1 AND id = $2")
        .bind(user.as_str())
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .map(|row| {
            Ok(Product { id: row.try_get("id")?, name: row.try_get("name")?, price_minor: row.try_get("price_minor")? })
        })
        .transpose()
}

/// Full replace at `id`, creating it when absent. The update-or-upsert pair is safe under concurrency:
/// the upsert catches a row that appeared after the update found none.
pub async fn put(db: &Db, user: &UserId, id: &str, input: &ProductInput) -> Result<Put, sqlx::Error> {
    let product = Product { id: id.to_owned(), name: input.name.clone(), price_minor: input.price_minor };
    let replaced =
        sqlx::query("UPDATE products SET name = $1, price_minor = $2, updated_at = $3 WHERE user_id = $4 AND id = $5")
            .bind(&input.name)
            .bind(input.price_minor)
            .bind(now_text())
            .bind(user.as_str())
            .bind(id)
            .execute(&db.pool)
            .await?
            .rows_affected()
            == 1;
    if replaced {
        return Ok(Put::Replaced(product));
    }
    sqlx::query(
        "INSERT INTO products (user_id, id, name, price_minor, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (user_id, id) DO UPDATE SET name = excluded.name, price_minor = excluded.price_minor, \
         updated_at = excluded.updated_at",
    )
    .bind(user.as_str())
    .bind(id)
    .bind(&input.name)
    .bind(input.price_minor)
    .bind(now_text())
    .execute(&db.pool)
    .await?;
    Ok(Put::Created(product))
}

/// Deletes the product; false if there was none.
pub async fn delete(db: &Db, user: &UserId, id: &str) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query("DELETE FROM products WHERE user_id = $1 AND id = $2")
        .bind(user.as_str())
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(deleted.rows_affected() == 1)
}
