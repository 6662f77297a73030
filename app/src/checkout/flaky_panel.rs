//! The flaky-network panel: break the network on purpose and watch the retries stay safe.

use leptos::prelude::*;

use super::client::Fault;
use super::page::Checkout;

/// One toggle of the panel.
#[component]
fn Toggle(id: &'static str, label: &'static str, hint: &'static str, checked: RwSignal<bool>) -> impl IntoView {
    view! {
        <label class="toggle" for=id>
            <input
                type="checkbox"
                id=id
                prop:checked=move || checked.get()
                on:change=move |ev| checked.set(event_target_checked(&ev))
            />
            <span>
                <strong>{label}</strong>
                <small>{hint}</small>
            </span>
        </label>
    }
}

/// The panel's toggles; the server honours the faults only when it runs with chaos enabled.
#[component]
pub fn FlakyPanel() -> impl IntoView {
    let checkout = expect_context::<Checkout>();
    let faults = checkout.faults;
    view! {
        <section class="card flaky" aria-labelledby="flaky-title">
            <h2 id="flaky-title">"Flaky network"</h2>
            <p class="muted">"A fault applies to the first attempt of the next payment; the retries go through."</p>
            <Show when=move || !checkout.chaos_enabled.get()>
                <p class="notice" role="note">"The server runs without chaos (PAYONCE_CHAOS=1 enables it): faults are ignored."</p>
            </Show>
            <Toggle id="fault-lose-request" label="Lose the request" hint="The server never sees it." checked=faults.lose_request/>
            <Toggle id="fault-lose-response" label="Lose the response" hint="The card is charged, then the connection drops." checked=faults.lose_response/>
            <Toggle id="fault-slow-response" label="Slow response" hint="The server starts after the browser's 3 s timeout." checked=faults.slow_response/>
            <Toggle id="fault-unguarded" label="Unguarded double click" hint="Pay stays enabled; every click makes a new key." checked=faults.unguarded/>
        </section>
    }
}

/// The panel's state.
#[derive(Clone, Copy)]
pub struct Faults {
    pub lose_request: RwSignal<bool>,
    pub lose_response: RwSignal<bool>,
    pub slow_response: RwSignal<bool>,
    pub unguarded: RwSignal<bool>,
}

impl Faults {
    pub fn new() -> Self {
        Faults {
            lose_request: RwSignal::new(false),
            lose_response: RwSignal::new(false),
            slow_response: RwSignal::new(false),
            unguarded: RwSignal::new(false),
        }
    }

    /// The fault for the next payment's first attempt (the first one ticked, if several are).
    pub fn next_fault(&self) -> Option<Fault> {
        [
            (self.lose_request, Fault::LoseRequest),
            (self.lose_response, Fault::LoseResponse),
            (self.slow_response, Fault::SlowResponse),
        ]
        .into_iter()
        .find_map(|(on, fault)| on.get_untracked().then_some(fault))
    }
}
