//! Small wrappers over the browser APIs the page uses (time, randomness, storage, fetch). They only work
//! in a browser; the server renders the page without calling them.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::types::Problem;

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A uniform random number in [0, 1).
pub fn random() -> f64 {
    js_sys::Math::random()
}

/// A fresh UUID v4 from the browser's cryptographic generator (WebCrypto).
pub fn new_uuid() -> uuid::Uuid {
    let mut bytes = [0u8; 16];
    web_sys::window()
        .and_then(|window| window.crypto().ok())
        .and_then(|crypto| crypto.get_random_values_with_u8_array(&mut bytes).ok())
        .expect("the browser provides crypto.getRandomValues");
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// Reads a JSON value from localStorage; a missing or unreadable entry is `None`.
pub fn load<T: DeserializeOwned>(key: &str) -> Option<T> {
    serde_json::from_str(&local_storage()?.get_item(key).ok()??).ok()
}

/// Writes a JSON value to localStorage (best effort: a full or disabled storage only loses the resume).
pub fn store<T: Serialize>(key: &str, value: &T) {
    if let (Some(storage), Ok(json)) = (local_storage(), serde_json::to_string(value)) {
        let _ = storage.set_item(key, &json);
    }
}

/// A call's outcome as the page needs it: the status, the body as text, and the headers it shows.
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub replayed: bool,
    pub protection: Option<String>,
    pub retry_after_secs: Option<u64>,
}

impl Answer {
    pub async fn read(response: Response) -> Self {
        let header = |name: &str| response.headers().get(name);
        Answer {
            status: response.status(),
            replayed: header(crate::types::REPLAYED_HEADER).as_deref() == Some("true"),
            protection: header(crate::types::PROTECTION_HEADER),
            retry_after_secs: header("retry-after").and_then(|v| v.parse().ok()),
            body: response.text().await.unwrap_or_default(),
        }
    }

    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn json<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_str(&self.body).ok()
    }

    /// The problem's detail, or a generic line for an answer that is not a problem document.
    pub fn problem_detail(&self) -> String {
        self.json::<Problem>()
            .map(|p| format!("{}: {}", p.title, p.detail))
            .unwrap_or_else(|| format!("HTTP {}", self.status))
    }
}

/// Sends `request` and reads the answer; `Err` is a network failure (no answer at all).
pub async fn send(request: Result<Request, gloo_net::Error>) -> Result<Answer, String> {
    let response = request.map_err(|e| e.to_string())?.send().await.map_err(|e| e.to_string())?;
    Ok(Answer::read(response).await)
}

/// A JSON call to the API.
pub async fn call_json<B: Serialize>(builder: RequestBuilder, body: &B) -> Result<Answer, String> {
    send(builder.json(body)).await
}

/// A call without a body.
pub async fn call(builder: RequestBuilder) -> Result<Answer, String> {
    send(builder.build()).await
}
