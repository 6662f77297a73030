//! The `Idempotency-Key` header, validated once into a type that cannot hold a bad key.

use std::fmt;

use axum::http::HeaderMap;

use app::types::IDEMPOTENCY_KEY_HEADER;

/// Longest key accepted; Stripe's limit, and long enough for any UUID or ULID scheme.
pub const MAX_KEY_LEN: usize = 255;

/// A client-chosen name for one logical operation: 1 to 255 visible ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the Idempotency-Key header is required on this route")]
    Missing,
    #[error("send exactly one Idempotency-Key header, not several")]
    Repeated,
    #[error("the Idempotency-Key header is empty")]
    Empty,
    #[error("the Idempotency-Key is longer than {MAX_KEY_LEN} characters")]
    TooLong,
    #[error("the Idempotency-Key may only hold visible ASCII characters (0x21 to 0x7E)")]
    InvalidCharacter,
}

impl IdempotencyKey {
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        if text.is_empty() {
            return Err(KeyError::Empty);
        }
        if text.len() > MAX_KEY_LEN {
            return Err(KeyError::TooLong);
        }
        if !text.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(KeyError::InvalidCharacter);
        }
        Ok(IdempotencyKey(text.to_owned()))
    }

    /// The key a request carries, if any; several headers or an invalid value are errors.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, KeyError> {
        let mut values = headers.get_all(IDEMPOTENCY_KEY_HEADER).iter();
        let Some(value) = values.next() else { return Ok(None) };
        if values.next().is_some() {
            return Err(KeyError::Repeated);
        }
        let text = value.to_str().map_err(|_| KeyError::InvalidCharacter)?;
        Self::parse(text).map(Some)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn accepts_uuids_and_every_visible_ascii_character() {
        assert!(IdempotencyKey::parse("0b6e2c1e-7f0e-4b5e-9a53-3c1a7f0b9d21").is_ok());
        let all_visible: String = (0x21u8..=0x7e).map(char::from).collect();
        assert!(IdempotencyKey::parse(&all_visible).is_ok());
    }

    #[test]
    fn rejects_empty_space_control_and_non_ascii() {
        assert_eq!(IdempotencyKey::parse(""), Err(KeyError::Empty));
        assert_eq!(IdempotencyKey::parse("a b"), Err(KeyError::InvalidCharacter));
        assert_eq!(IdempotencyKey::parse("a\tb"), Err(KeyError::InvalidCharacter));
        assert_eq!(IdempotencyKey::parse("clé"), Err(KeyError::InvalidCharacter));
    }

    #[test]
    fn length_limit_is_255() {
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        assert_eq!(IdempotencyKey::parse(&"k".repeat(256)), Err(KeyError::TooLong));
    }

    #[test]
    fn one_header_only() {
        let mut headers = HeaderMap::new();
        assert_eq!(IdempotencyKey::from_headers(&headers), Ok(None));
        headers.append(IDEMPOTENCY_KEY_HEADER, HeaderValue::from_static("a"));
        assert_eq!(IdempotencyKey::from_headers(&headers).unwrap().unwrap().as_str(), "a");
        headers.append(IDEMPOTENCY_KEY_HEADER, HeaderValue::from_static("b"));
        assert_eq!(IdempotencyKey::from_headers(&headers), Err(KeyError::Repeated));
    }

    #[test]
    fn non_utf8_header_is_rejected() {
        let mut headers = HeaderMap::new();
        headers.insert(IDEMPOTENCY_KEY_HEADER, HeaderValue::from_bytes(b"k\xff").unwrap());
        assert_eq!(IdempotencyKey::from_headers(&headers), Err(KeyError::InvalidCharacter));
    }
}
