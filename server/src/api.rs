//! The `/api` router: which route gets which protection, and the handlers behind them.
//!
//! ```text
//! /api/session             POST                 creates (or renews) the guest session
//! /api/payments            POST  key required   idempotency → throttle → payments::create
//!                          GET                  the user's ledger
//! /api/payments/{id}       GET
//! /api/users               POST  key optional   idempotency → throttle → users::register_email
//! /api/preferences         GET, PUT (upsert)
//! /api/products            POST  key optional   idempotency → throttle → products::create
//! /api/products/{id}       GET, PUT (replace), DELETE
//! ```

use app::types::{
    NewPayment, NewUserEmail, Preferences, ProductInput, SessionInfo, MAX_AMOUNT_MINOR, MAX_DESCRIPTION_CHARS,
    PROTECTION_HEADER, SUPPORTED_CURRENCIES,
};
use axum::extract::{DefaultBodyLimit, FromRequest, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::cookie::SignedCookieJar;
use tower::ServiceBuilder;

use crate::error::ApiError;
use crate::idempotency::key::{IdempotencyKey, KeyError};
use crate::idempotency::IdempotencyLayer;
use crate::ledger::{payments, preferences, products, users};
use crate::session::{require_user, user_from_jar, with_session, CurrentUser, UserId};
use crate::throttle::ThrottleLayer;
use crate::{chaos, AppState};

/// JSON in, with every rejection (syntax, shape, content type, size) as problem+json.
#[derive(FromRequest)]
#[from_request(via(Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

pub fn router(state: &AppState) -> Router<AppState> {
    let config = &state.config;
    let idempotency = IdempotencyLayer::new(state.stores.idempotency.clone(), state.fingerprint_secret.clone())
        .lease(config.idempotency_lease())
        .ttl(config.idempotency_ttl())
        .max_wait(config.max_prefer_wait())
        .store_timeout(config.store_timeout())
        .max_stored_body(config.max_stored_body_bytes)
        .max_request_body(config.max_body_bytes);
    let throttle = ThrottleLayer::new(state.stores.throttle.clone(), state.fingerprint_secret.clone())
        .window(config.throttle_window())
        .store_timeout(config.store_timeout())
        .max_request_body(config.max_body_bytes);
    let chaos_enabled = config.chaos;
    // Outer to inner: the key is claimed first, so a retry of one click replays and is never throttled.
    let guarded = |key_required: bool| {
        ServiceBuilder::new()
            .layer(idempotency.clone().require_key(key_required))
            .layer(throttle.clone())
            .option_layer(chaos_enabled.then(|| from_fn(chaos::slow_handler)))
    };

    let api = Router::new()
        .route("/api/payments", post(create_payment).layer(guarded(true)).get(list_payments))
        .route("/api/payments/{id}", get(show_payment))
        .route("/api/users", post(register_email).layer(guarded(false)))
        .route("/api/preferences", get(get_preferences).put(put_preferences))
        .route("/api/products", post(create_product).layer(guarded(false)))
        .route("/api/products/{id}", get(show_product).put(put_product).delete(delete_product))
        .route_layer(from_fn_with_state(state.cookie_key.clone(), require_user))
        .route("/api/session", post(start_session))
        .layer(DefaultBodyLimit::max(config.max_body_bytes));
    if chaos_enabled {
        api.layer(from_fn(chaos::network_faults))
    } else {
        api
    }
}

/// Starts a guest session, or renews the one the cookie names (its user row is made if missing).
async fn start_session(
    State(state): State<AppState>,
    jar: SignedCookieJar,
) -> Result<(StatusCode, SignedCookieJar, Json<SessionInfo>), ApiError> {
    let (user, status) = match user_from_jar(&jar) {
        Some(user) => (user, StatusCode::OK),
        None => (UserId::new_random(), StatusCode::CREATED),
    };
    let record = users::ensure(&state.db, &user).await?;
    Ok((status, with_session(jar, &user), Json(SessionInfo { user: record, chaos: state.config.chaos })))
}

fn validate_payment(new: &NewPayment) -> Result<(), ApiError> {
    if !(1..=MAX_AMOUNT_MINOR).contains(&new.amount_minor) {
        return Err(ApiError::Unprocessable(format!(
            "amount_minor must be a whole number from 1 to {MAX_AMOUNT_MINOR}, not {}",
            new.amount_minor
        )));
    }
    if !SUPPORTED_CURRENCIES.contains(&new.currency.as_str()) {
        return Err(ApiError::Unprocessable(format!(
            "currency `{}` is not supported; use one of {}",
            new.currency,
            SUPPORTED_CURRENCIES.join(", ")
        )));
    }
    if new.description.as_ref().is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS) {
        return Err(ApiError::Unprocessable(format!("description is longer than {MAX_DESCRIPTION_CHARS} characters")));
    }
    Ok(())
}

fn location(path: String) -> [(header::HeaderName, HeaderValue); 1] {
    [(header::LOCATION, HeaderValue::try_from(path).expect("ids are URL-safe"))]
}

/// Creates a payment; the key is required here too, since the ledger's unique constraint is keyed by it.
async fn create_payment(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    ApiJson(new): ApiJson<NewPayment>,
) -> Result<Response, ApiError> {
    let key = IdempotencyKey::from_headers(&headers)
        .and_then(|key| key.ok_or(KeyError::Missing))
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    validate_payment(&new)?;
    let created =
        payments::create(&state.db, &state.processor, state.config.charge_lease(), &user, key.as_str(), &new).await?;
    Ok(match created {
        payments::Created::New(payment) => {
            (StatusCode::CREATED, location(format!("/api/payments/{}", payment.id)), Json(payment)).into_response()
        }
        payments::Created::Existing(payment) => (
            StatusCode::OK,
            location(format!("/api/payments/{}", payment.id)),
            [(PROTECTION_HEADER, "database-constraint")],
            Json(payment),
        )
            .into_response(),
    })
}

async fn list_payments(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Vec<app::types::LedgerEntry>>, ApiError> {
    Ok(Json(payments::ledger(&state.db, &user).await?))
}

async fn show_payment(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<app::types::Payment>, ApiError> {
    payments::find(&state.db, &user, &id).await?.map(Json).ok_or_else(|| ApiError::NotFound(format!("no payment {id}")))
}

async fn register_email(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<NewUserEmail>,
) -> Result<(StatusCode, Json<app::types::User>), ApiError> {
    let email = users::validate_email(&body.email)?;
    Ok((StatusCode::CREATED, Json(users::register_email(&state.db, &user, email).await?)))
}

async fn get_preferences(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Preferences>, ApiError> {
    Ok(Json(preferences::get(&state.db, &user).await?))
}

async fn put_preferences(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<Preferences>,
) -> Result<Json<Preferences>, ApiError> {
    Ok(Json(preferences::put(&state.db, &user, &body).await?))
}

fn validate_product(input: &ProductInput) -> Result<(), ApiError> {
    let name_chars = input.name.trim().chars().count();
    if !(1..=100).contains(&name_chars) {
        return Err(ApiError::Unprocessable("name must have 1 to 100 characters".into()));
    }
    if !(0..=MAX_AMOUNT_MINOR).contains(&input.price_minor) {
        return Err(ApiError::Unprocessable(format!("price_minor must be from 0 to {MAX_AMOUNT_MINOR}")));
    }
    Ok(())
}

fn validate_product_id(id: &str) -> Result<(), ApiError> {
    let valid = (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(ApiError::BadRequest("a product id has 1 to 64 letters, digits, `-` or `_`".into()))
    }
}

async fn create_product(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(input): ApiJson<ProductInput>,
) -> Result<Response, ApiError> {
    validate_product(&input)?;
    let product = products::create(&state.db, &user, &input).await?;
    Ok((StatusCode::CREATED, location(format!("/api/products/{}", product.id)), Json(product)).into_response())
}

async fn show_product(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<app::types::Product>, ApiError> {
    products::find(&state.db, &user, &id).await?.map(Json).ok_or_else(|| ApiError::NotFound(format!("no product {id}")))
}

async fn put_product(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ProductInput>,
) -> Result<Response, ApiError> {
    validate_product_id(&id)?;
    validate_product(&input)?;
    Ok(match products::put(&state.db, &user, &id, &input).await? {
        products::Put::Created(product) => {
            (StatusCode::CREATED, location(format!("/api/products/{id}")), Json(product)).into_response()
        }
        products::Put::Replaced(product) => (StatusCode::OK, Json(product)).into_response(),
    })
}

async fn delete_product(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if products::delete(&state.db, &user, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no product {id}")))
    }
}
