//! The checkout page: the form, the result, and the startup that signs in and resumes pending payments.

use gloo_net::http::Request;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::attempt_log::AttemptLog;
use super::client::{self, AttemptRecord, Fault, Final};
use super::flaky_panel::{Faults, FlakyPanel};
use super::ledger_view::LedgerView;
use super::pending::{self, PendingPayment};
use crate::browser;
use crate::semantics::{MethodSemantics, PreferencesPanel};
use crate::types::{format_amount, LedgerEntry, NewPayment, SessionInfo, SUPPORTED_CURRENCIES};

/// How a result reads: good news, a refusal that protected the user, or a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Success,
    Protected,
    Failure,
    Progress,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Success => "result success",
            Tone::Protected => "result protected",
            Tone::Failure => "result failure",
            Tone::Progress => "result progress",
        }
    }
}

/// What the result area says.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultView {
    pub tone: Tone,
    pub headline: String,
    pub protection: String,
}

/// The page's shared state, provided as context to its panels.
#[derive(Clone, Copy)]
pub struct Checkout {
    pub attempts: RwSignal<Vec<AttemptRecord>>,
    pub ledger: RwSignal<Vec<LedgerEntry>>,
    pub result: RwSignal<Option<ResultView>>,
    pub in_progress: RwSignal<usize>,
    pub faults: Faults,
    pub chaos_enabled: RwSignal<bool>,
    pub signed_in: RwSignal<bool>,
}

impl Checkout {
    fn new() -> Self {
        Checkout {
            attempts: RwSignal::new(Vec::new()),
            ledger: RwSignal::new(Vec::new()),
            result: RwSignal::new(None),
            in_progress: RwSignal::new(0),
            faults: Faults::new(),
            chaos_enabled: RwSignal::new(false),
            signed_in: RwSignal::new(false),
        }
    }

    /// Reads the ledger back from the server.
    pub async fn refresh_ledger(self) {
        if let Ok(answer) = browser::call(Request::get("/api/payments")).await {
            if let Some(entries) = answer.json::<Vec<LedgerEntry>>() {
                self.ledger.set(entries);
            }
        }
    }

    /// Runs one payment to its end: remembered before the first send, forgotten on a definitive answer.
    async fn run_payment(self, pending: PendingPayment, fault: Option<Fault>) {
        self.in_progress.update(|n| *n += 1);
        pending::remember(&pending);
        let attempts = self.attempts;
        let done = client::pay(&pending, fault, move |record| attempts.update(|log| log.insert(0, record))).await;
        if done.is_definitive() {
            pending::forget(&pending.key);
        }
        let seen: Vec<String> = self.attempts.with_untracked(|log| {
            log.iter()
                .filter(|r| r.short_key == pending.short_key())
                .rev()
                .filter_map(|r| r.protection.clone())
                .collect()
        });
        self.result.set(Some(explain(&done, &seen)));
        self.in_progress.update(|n| *n -= 1);
        self.refresh_ledger().await;
    }
}

/// Names the protections that acted, in the order they acted.
fn explain(done: &Final, seen: &[String]) -> ResultView {
    let named: Vec<&str> = seen
        .iter()
        .map(|p| match p.as_str() {
            "idempotency-in-flight" => "the key was still in flight (409), so the retry waited",
            "idempotency-replay" => "the Idempotency-Key replayed the stored answer instead of charging again",
            "idempotency-mismatch" => "the key had been used with a different payload (422)",
            "throttle" => "the fingerprint throttle refused a duplicate submit (429)",
            "database-constraint" => "the database's unique constraint found the existing payment",
            _ => "an unknown protection acted",
        })
        .collect();
    let protection = if named.is_empty() {
        "No protection was needed: one attempt, one charge.".to_string()
    } else {
        format!("Protection: {}.", named.join("; then "))
    };
    match done {
        Final::Paid { payment, replayed } => ResultView {
            tone: Tone::Success,
            headline: format!(
                "Paid {} — charged once{}",
                format_amount(payment.amount_minor, &payment.currency),
                if *replayed { " (answer replayed)" } else { "" }
            ),
            protection,
        },
        Final::Throttled { detail } => ResultView {
            tone: Tone::Protected,
            headline: "Duplicate click refused (429); nothing was charged for it".into(),
            protection: format!("{protection} {detail}"),
        },
        Final::Refused { status, detail } => ResultView {
            tone: Tone::Failure,
            headline: format!("Payment refused ({status})"),
            protection: detail.clone(),
        },
        Final::GaveUp => ResultView {
            tone: Tone::Failure,
            headline: "No definitive answer yet".into(),
            protection: "The payment stays pending in this browser; reload to resume it with the same key.".into(),
        },
    }
}

/// Parses "12.50" into minor units (1250); at most two decimals.
fn parse_amount(text: &str) -> Option<i64> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || fraction.len() > 2 || !whole.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let fraction: i64 = format!("{fraction:0<2}").parse().ok()?;
    whole.parse::<i64>().ok()?.checked_mul(100)?.checked_add(fraction)
}

/// The page.
#[component]
pub fn CheckoutPage() -> impl IntoView {
    let checkout = Checkout::new();
    provide_context(checkout);
    let hydrated = RwSignal::new(false);

    // Runs in the browser only, once hydrated: sign in, then resume what a refresh interrupted.
    Effect::new(move |_| {
        hydrated.set(true);
        spawn_local(async move {
            if let Ok(answer) = browser::call(Request::post("/api/session")).await {
                if let Some(info) = answer.json::<SessionInfo>() {
                    checkout.chaos_enabled.set(info.chaos);
                }
            }
            checkout.signed_in.set(true);
            let interrupted = pending::all();
            if !interrupted.is_empty() {
                checkout.result.set(Some(ResultView {
                    tone: Tone::Progress,
                    headline: "Resuming your payment…".into(),
                    protection: "A payment was still pending when the page closed; it is resent with the same key."
                        .into(),
                }));
            }
            for payment in interrupted {
                spawn_local(checkout.run_payment(payment, None));
            }
            checkout.refresh_ledger().await;
        });
    });

    view! {
        <div class="page" data-hydrated=move || hydrated.get().then_some("true")>
            <header class="masthead">
                <h1>"payonce"</h1>
                <p>"Pay exactly once — however often you click, refresh or lose the network."</p>
            </header>
            <div class="grid">
                <PayForm/>
                <FlakyPanel/>
                <AttemptLog/>
                <LedgerView/>
                <div class="side">
                    <MethodSemantics/>
                    <PreferencesPanel/>
                </div>
            </div>
        </div>
    }
}

/// The form: amount, currency, Pay, and the result.
#[component]
fn PayForm() -> impl IntoView {
    let checkout = expect_context::<Checkout>();
    let amount = RwSignal::new("12.50".to_string());
    let currency = RwSignal::new("EUR".to_string());
    let description = RwSignal::new(String::new());
    let invalid = RwSignal::new(None::<String>);
    let busy = move || checkout.in_progress.get() > 0;
    let guarded = move || !checkout.faults.unguarded.get();
    let disabled = move || !checkout.signed_in.get() || (busy() && guarded());

    let pay = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(amount_minor) = parse_amount(&amount.get_untracked()) else {
            invalid.set(Some("Enter an amount like 12.50".into()));
            return;
        };
        invalid.set(None);
        let description = description.get_untracked();
        let body = NewPayment {
            amount_minor,
            currency: currency.get_untracked(),
            description: (!description.trim().is_empty()).then(|| description.trim().to_string()),
        };
        checkout.result.set(Some(ResultView {
            tone: Tone::Progress,
            headline: "Paying…".into(),
            protection: "Retries reuse this click's key.".into(),
        }));
        spawn_local(checkout.run_payment(PendingPayment::new(body), checkout.faults.next_fault()));
    };

    view! {
        <section class="card checkout" aria-labelledby="checkout-title">
            <h2 id="checkout-title">"Checkout"</h2>
            <form on:submit=pay novalidate>
                <div class="fields">
                    <label>
                        "Amount"
                        <input
                            name="amount"
                            inputmode="decimal"
                            aria-invalid=move || invalid.get().is_some().then_some("true")
                            aria-describedby="amount-error"
                            prop:value=move || amount.get()
                            on:input=move |ev| amount.set(event_target_value(&ev))
                        />
                    </label>
                    <label>
                        "Currency"
                        <select name="currency" on:change=move |ev| currency.set(event_target_value(&ev))>
                            {SUPPORTED_CURRENCIES
                                .iter()
                                .map(|code| view! { <option value=*code selected=*code == "EUR">{*code}</option> })
                                .collect_view()}
                        </select>
                    </label>
                    <label class="wide">
                        "Description (optional)"
                        <input name="description" maxlength="200" prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev))/>
                    </label>
                </div>
                <p id="amount-error" class="field-error" role="alert">{move || invalid.get()}</p>
                <button type="submit" class="pay" disabled=disabled aria-busy=move || busy().then_some("true")>
                    {move || if busy() && guarded() { "Paying…" } else { "Pay" }}
                </button>
            </form>
            <div class="result-area" role="status" aria-live="polite" data-testid="result">
                {move || checkout.result.get().map(|result| view! {
                    <div class=result.tone.class()>
                        <p class="headline">{result.headline}</p>
                        <p class="protection" data-testid="protection">{result.protection}</p>
                    </div>
                })}
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_to_minor_units() {
        assert_eq!(parse_amount("12.50"), Some(1250));
        assert_eq!(parse_amount("12.5"), Some(1250));
        assert_eq!(parse_amount("7"), Some(700));
        assert_eq!(parse_amount(" 0.05 "), Some(5));
        for bad in ["", "abc", "1.234", "-1", ".5", "1,50"] {
            assert_eq!(parse_amount(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_result_names_each_protection_in_order() {
        let payment = crate::types::Payment {
            id: "p".into(),
            amount_minor: 1250,
            currency: "EUR".into(),
            description: None,
            status: crate::types::PaymentStatus::Succeeded,
            charge_id: None,
            created_at: String::new(),
        };
        let view = explain(
            &Final::Paid { payment, replayed: true },
            &["idempotency-in-flight".into(), "idempotency-replay".into()],
        );
        assert_eq!(view.tone, Tone::Success);
        assert!(view.headline.contains("12.50 EUR"));
        assert!(view.protection.contains("in flight (409)") && view.protection.contains("replayed"));
        assert!(view.protection.find("409") < view.protection.find("replayed"));
    }
}
