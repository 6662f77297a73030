//! Keyed request fingerprints: HMAC-SHA256 under the server secret over length-prefixed fields, with JSON
//! bodies canonicalised first so that key order and whitespace do not change the result.
//!
//! The idempotency layer fingerprints (method, path and query, content type, body); the throttle
//! fingerprints (user, method, route, body). Both go through [`FingerprintSecret::fingerprint`].

use std::fmt;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// The HMAC key; derived from the server secret so a fingerprint cannot be forged or precomputed.
#[derive(Clone)]
pub struct FingerprintSecret(Vec<u8>);

/// A request's fingerprint, hex-encoded.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint(String);

impl FingerprintSecret {
    pub fn new(secret: &[u8]) -> Self {
        // A separate key from the cookie key, though both come from one secret.
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
        mac.update(b"payonce fingerprint key v1");
        FingerprintSecret(mac.finalize().into_bytes().to_vec())
    }

    /// HMAC over `fields`, each prefixed with its length so that ("ab", "c") and ("a", "bc") differ.
    pub fn fingerprint(&self, fields: &[&[u8]]) -> Fingerprint {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        for field in fields {
            mac.update(&(field.len() as u64).to_be_bytes());
            mac.update(field);
        }
        Fingerprint(hex::encode(mac.finalize().into_bytes()))
    }
}

impl Fingerprint {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(text: String) -> Self {
        Fingerprint(text)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The body as it is fingerprinted: JSON bodies in canonical form, anything else byte for byte.
pub fn canonical_body(content_type: &str, body: &[u8]) -> Vec<u8> {
    if is_json(content_type) {
        if let Ok(value) = serde_json::from_slice::<Value>(body) {
            let mut out = Vec::with_capacity(body.len());
            write_canonical(&value, &mut out);
            return out;
        }
    }
    body.to_vec()
}

/// The media type without parameters, lower-cased: `Application/JSON; charset=utf-8` → `application/json`.
pub fn media_type(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

fn is_json(content_type: &str) -> bool {
    let media = media_type(content_type);
    media == "application/json" || media.ends_with("+json")
}

/// Objects with sorted keys, no whitespace; sorting here (not in serde_json's map) keeps this right even
/// when a dependency turns on serde_json's `preserve_order`.
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend(serde_json::to_vec(key).expect("strings serialise"));
                out.push(b':');
                write_canonical(value, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => out.extend(serde_json::to_vec(scalar).expect("scalars serialise")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> FingerprintSecret {
        FingerprintSecret::new(b"test secret")
    }

    #[test]
    fn key_order_and_whitespace_do_not_matter_for_json() {
        let a = canonical_body("application/json", br#"{"b": 1, "a": {"y": [1, 2], "x": null}}"#);
        let b = canonical_body("application/json; charset=utf-8", br#"{"a":{"x":null,"y":[1,2]},"b":1}"#);
        assert_eq!(a, b);
        assert_eq!(a, br#"{"a":{"x":null,"y":[1,2]},"b":1}"#);
    }

    #[test]
    fn values_and_array_order_do_matter() {
        let a = canonical_body("application/json", br#"{"amount": 100}"#);
        assert_ne!(a, canonical_body("application/json", br#"{"amount": 101}"#));
        assert_ne!(canonical_body("application/json", b"[1,2]"), canonical_body("application/json", b"[2,1]"));
    }

    #[test]
    fn non_json_and_malformed_json_are_taken_byte_for_byte() {
        assert_eq!(canonical_body("text/plain", b"{ }"), b"{ }");
        assert_eq!(canonical_body("application/json", b"{ not json"), b"{ not json");
    }

    #[test]
    fn fields_are_length_prefixed() {
        assert_ne!(secret().fingerprint(&[b"ab", b"c"]), secret().fingerprint(&[b"a", b"bc"]));
    }

    #[test]
    fn another_secret_gives_another_fingerprint() {
        let other = FingerprintSecret::new(b"other secret");
        assert_ne!(secret().fingerprint(&[b"x"]), other.fingerprint(&[b"x"]));
        assert_eq!(secret().fingerprint(&[b"x"]).as_str().len(), 64);
    }
}
