//! Every attempt the browser made, newest first.

use leptos::prelude::*;

use super::page::Checkout;

/// The attempt log: number, key, status, replayed, latency and outcome of each send.
#[component]
pub fn AttemptLog() -> impl IntoView {
    let checkout = expect_context::<Checkout>();
    view! {
        <section class="card log" aria-labelledby="log-title">
            <h2 id="log-title">"Attempt log"</h2>
            <Show
                when=move || !checkout.attempts.with(Vec::is_empty)
                fallback=|| view! { <p class="muted">"No attempts yet. Each retry of one click reuses its key."</p> }
            >
                <table data-testid="attempt-log">
                    <thead>
                        <tr>
                            <th scope="col">"#"</th>
                            <th scope="col">"Key"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Replayed"</th>
                            <th scope="col">"Latency"</th>
                            <th scope="col">"Outcome"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || checkout.attempts.get() key=|record| record.id let:record>
                            <tr data-status=record.status.map(|s| s.to_string()).unwrap_or_else(|| "none".into())>
                                <td>{record.number}</td>
                                <td><code>{record.short_key.clone()}</code></td>
                                <td>{record.status.map(|s| s.to_string()).unwrap_or_else(|| "—".into())}</td>
                                <td>{if record.replayed { "yes" } else { "no" }}</td>
                                <td>{format!("{} ms", record.latency_ms)}</td>
                                <td>{record.outcome.clone()}</td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </Show>
        </section>
    }
}
