//! The browser half of the Stripe method: one key per Pay click, sent unchanged on every retry.
//!
//! Network errors, timeouts, 409 and 5xx are retried with exponential backoff and full jitter, waiting at
//! least what `Retry-After` asks (within the cap). 2xx and the other 4xx are final; a 429 from the
//! throttle is shown, not retried, since the click it refused was a duplicate.

use gloo_net::http::Request;
use serde::{Deserialize, Serialize};

use super::pending::PendingPayment;
use crate::browser::{self, Answer};
use crate::types::{Payment, CHAOS_HEADER, CLIENT_ATTEMPT_TIMEOUT_MS, IDEMPOTENCY_KEY_HEADER};

pub const MAX_TRIES: u32 = 5;
const BACKOFF_BASE_MS: f64 = 250.0;
const BACKOFF_CAP_MS: f64 = 4_000.0;

/// A fault the flaky-network panel asks the server to inject into a payment's first attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fault {
    LoseRequest,
    LoseResponse,
    SlowResponse,
}

impl Fault {
    pub fn header_value(self) -> &'static str {
        match self {
            Fault::LoseRequest => "lose-request",
            Fault::LoseResponse => "lose-response",
            Fault::SlowResponse => "slow-response",
        }
    }
}

/// One attempt, as the attempt log shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptRecord {
    pub id: u64,
    pub number: u32,
    pub short_key: String,
    pub status: Option<u16>,
    pub replayed: bool,
    pub latency_ms: u32,
    pub outcome: String,
    pub protection: Option<String>,
}

/// How a payment ended, as far as the browser can tell.
#[derive(Clone, Debug, PartialEq)]
pub enum Final {
    Paid { payment: Payment, replayed: bool },
    Throttled { detail: String },
    Refused { status: u16, detail: String },
    GaveUp,
}

impl Final {
    /// Whether the answer settles the payment (and its pending record may go). Giving up does not: the
    /// server may still have charged, and a refresh must resume with the same key.
    pub fn is_definitive(&self) -> bool {
        !matches!(self, Final::GaveUp)
    }
}

enum Step {
    Done(Final),
    Retry { after_ms: f64 },
}

/// Full jitter: a random wait up to the exponential bound, at least the server's `Retry-After`, within
/// the cap.
fn backoff_ms(number: u32, retry_after_secs: Option<u64>) -> f64 {
    let bound = (BACKOFF_BASE_MS * 2f64.powi(number as i32 - 1)).min(BACKOFF_CAP_MS);
    let asked = retry_after_secs.map(|s| s as f64 * 1_000.0).unwrap_or(0.0);
    (browser::random() * bound).max(asked).min(BACKOFF_CAP_MS)
}

fn classify(number: u32, answer: &Result<Answer, String>) -> (Step, String) {
    match answer {
        Ok(answer) if answer.ok() => match answer.json::<Payment>() {
            Some(payment) => {
                let outcome = if answer.replayed { "replayed: already paid" } else { "paid" };
                (Step::Done(Final::Paid { payment, replayed: answer.replayed }), outcome.into())
            }
            None => (
                Step::Done(Final::Refused { status: answer.status, detail: "unreadable answer".into() }),
                "unreadable".into(),
            ),
        },
        Ok(answer) if answer.status == 429 => {
            (Step::Done(Final::Throttled { detail: answer.problem_detail() }), "throttled: not retried".into())
        }
        Ok(answer) if answer.status == 409 || answer.status >= 500 => {
            let after_ms = backoff_ms(number, answer.retry_after_secs);
            let why = if answer.status == 409 { "in flight" } else { "server error" };
            (Step::Retry { after_ms }, format!("{why}: retry in {:.1} s", after_ms / 1_000.0))
        }
        Ok(answer) => {
            (Step::Done(Final::Refused { status: answer.status, detail: answer.problem_detail() }), "refused".into())
        }
        Err(error) => {
            let after_ms = backoff_ms(number, None);
            (Step::Retry { after_ms }, format!("{error}: retry in {:.1} s", after_ms / 1_000.0))
        }
    }
}

/// One send, aborted after the per-attempt timeout. `Err` means no answer arrived.
async fn attempt(pending: &PendingPayment, fault: Option<Fault>) -> Result<Answer, String> {
    let controller = web_sys::AbortController::new().map_err(|_| "no AbortController".to_string())?;
    let signal = controller.signal();
    let abort_on_timeout = controller.clone();
    let _timer = gloo_timers::callback::Timeout::new(CLIENT_ATTEMPT_TIMEOUT_MS, move || abort_on_timeout.abort());
    let mut builder =
        Request::post("/api/payments").header(IDEMPOTENCY_KEY_HEADER, &pending.key).abort_signal(Some(&signal));
    if let Some(fault) = fault {
        builder = builder.header(CHAOS_HEADER, fault.header_value());
    }
    browser::call_json(builder, &pending.body).await.map_err(|error| {
        if signal.aborted() {
            format!("no answer within {} s", CLIENT_ATTEMPT_TIMEOUT_MS / 1_000)
        } else {
            format!("network error ({error})")
        }
    })
}

/// Sends `pending` until a definitive answer or `MAX_TRIES`, reporting each attempt to `log`. `fault`
/// applies to the first attempt only, as a real network hiccup would.
pub async fn pay(pending: &PendingPayment, fault: Option<Fault>, log: impl Fn(AttemptRecord)) -> Final {
    for number in 1..=MAX_TRIES {
        let started = browser::now_ms();
        let answer = attempt(pending, if number == 1 { fault } else { None }).await;
        let (step, outcome) = classify(number, &answer);
        log(AttemptRecord {
            id: (browser::random() * 1e15) as u64,
            number,
            short_key: pending.short_key(),
            status: answer.as_ref().ok().map(|a| a.status),
            replayed: answer.as_ref().is_ok_and(|a| a.replayed),
            latency_ms: (browser::now_ms() - started) as u32,
            outcome,
            protection: answer.as_ref().ok().and_then(|a| a.protection.clone()),
        });
        match step {
            Step::Done(done) => return done,
            Step::Retry { after_ms } if number < MAX_TRIES => {
                gloo_timers::future::TimeoutFuture::new(after_ms as u32).await;
            }
            Step::Retry { .. } => {}
        }
    }
    Final::GaveUp
}
