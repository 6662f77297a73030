//! The server's ledger: what was really charged, read back from `GET /api/payments`.

use leptos::prelude::*;

use super::page::Checkout;
use crate::types::format_amount;

/// The ledger panel: each payment with its charge count and a clear "charged once" mark.
#[component]
pub fn LedgerView() -> impl IntoView {
    let checkout = expect_context::<Checkout>();
    let totals = move || {
        checkout.ledger.with(|entries| {
            let charges: i64 = entries.iter().map(|e| e.charge_count).sum();
            let plural = |n: i64, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
            format!("{}, {}", plural(entries.len() as i64, "payment"), plural(charges, "charge"))
        })
    };
    view! {
        <section class="card ledger" aria-labelledby="ledger-title">
            <div class="card-head">
                <h2 id="ledger-title">"Ledger"</h2>
                <span class="muted" data-testid="ledger-totals">{totals}</span>
            </div>
            <Show
                when=move || !checkout.ledger.with(Vec::is_empty)
                fallback=|| view! { <p class="muted">"No payments yet."</p> }
            >
                <table data-testid="ledger">
                    <thead>
                        <tr>
                            <th scope="col">"Key"</th>
                            <th scope="col">"Amount"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Charges"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || checkout.ledger.get() key=|entry| (entry.payment.id.clone(), entry.payment.status, entry.charge_count) let:entry>
                            <tr data-key=entry.idempotency_key.clone() data-charges=entry.charge_count>
                                <td><code>{entry.idempotency_key.chars().take(8).collect::<String>()}</code></td>
                                <td>{format_amount(entry.payment.amount_minor, &entry.payment.currency)}</td>
                                <td><span class=format!("status {}", entry.payment.status.as_str())>{entry.payment.status.as_str()}</span></td>
                                <td>{charge_mark(entry.charge_count)}</td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </Show>
        </section>
    }
}

fn charge_mark(count: i64) -> impl IntoView {
    let (class, text) = match count {
        0 => ("mark none", "not charged".to_string()),
        1 => ("mark once", "✓ charged once".to_string()),
        n => ("mark many", format!("✗ charged {n} times")),
    };
    view! { <span class=class>{text}</span> }
}
