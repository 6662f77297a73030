//! Two small panels on HTTP method semantics: the products API (POST is not idempotent; PUT and DELETE
//! are) and the preferences toggle (an upsert).

use gloo_net::http::Request;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser::{self, Answer};
use crate::types::{Preferences, Product, ProductInput, Theme};

/// How long the throttle refuses an identical POST; the demo waits it out to show POST's own behaviour.
const THROTTLE_WINDOW_MS: u32 = 2_100;

fn line(method: &str, path: &str, answer: &Result<Answer, String>) -> String {
    match answer {
        Ok(answer) => {
            let id = answer.json::<Product>().map(|p| format!(" {}", p.id)).unwrap_or_default();
            format!("{method} {path} → {}{id}", answer.status)
        }
        Err(error) => format!("{method} {path} → {error}"),
    }
}

fn product(name: &str) -> ProductInput {
    ProductInput { name: name.into(), price_minor: 4_500 }
}

/// Each demo sends its requests, appends a line per answer, and ends with a verdict.
async fn post_twice(output: RwSignal<Vec<String>>) {
    let mut ids = Vec::new();
    for round in 0..2 {
        if round == 1 {
            output.update(|o| o.push("… waiting out the 2 s throttle window, so POST itself is shown".into()));
            gloo_timers::future::TimeoutFuture::new(THROTTLE_WINDOW_MS).await;
        }
        let answer = browser::call_json(Request::post("/api/products"), &product("Desk lamp")).await;
        ids.extend(answer.as_ref().ok().and_then(|a| a.json::<Product>()).map(|p| p.id));
        output.update(|o| o.push(line("POST", "/api/products", &answer)));
    }
    let distinct = ids.len() == 2 && ids[0] != ids[1];
    output.update(|o| {
        o.push(
            if distinct { "Two products: POST is not idempotent." } else { "Unexpected: see the answers above." }
                .into(),
        )
    });
}

async fn put_twice(output: RwSignal<Vec<String>>) {
    let path = "/api/products/demo-chair";
    let mut states = Vec::new();
    for _ in 0..2 {
        let answer = browser::call_json(Request::put(path), &product("Chair")).await;
        output.update(|o| o.push(line("PUT", path, &answer)));
        let shown = browser::call(Request::get(path)).await;
        states.extend(shown.ok().and_then(|a| a.json::<Product>()));
    }
    let same = states.len() == 2 && states[0] == states[1];
    output.update(|o| {
        o.push(
            if same { "Same state after each PUT: PUT is idempotent." } else { "Unexpected: the state changed." }
                .into(),
        )
    });
}

async fn delete_twice(output: RwSignal<Vec<String>>) {
    let path = "/api/products/demo-chair";
    let _ = browser::call_json(Request::put(path), &product("Chair")).await;
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let answer = browser::call(Request::delete(path)).await;
        statuses.extend(answer.as_ref().ok().map(|a| a.status));
        output.update(|o| o.push(line("DELETE", path, &answer)));
    }
    let as_expected = statuses == [204, 404];
    output.update(|o| {
        o.push(
            if as_expected {
                "204 then 404: the product is gone either way; DELETE is idempotent."
            } else {
                "Unexpected answers."
            }
            .into(),
        )
    });
}

#[derive(Clone, Copy)]
/// Which method to repeat.
enum Repeat {
    Post,
    Put,
    Delete,
}

/// The products panel: what repeating each method does.
#[component]
pub fn MethodSemantics() -> impl IntoView {
    let output = RwSignal::new(Vec::<String>::new());
    let running = RwSignal::new(false);
    let run = move |demo: Repeat| {
        output.set(Vec::new());
        running.set(true);
        spawn_local(async move {
            match demo {
                Repeat::Post => post_twice(output).await,
                Repeat::Put => put_twice(output).await,
                Repeat::Delete => delete_twice(output).await,
            }
            running.set(false);
        });
    };
    view! {
        <section class="card semantics" aria-labelledby="semantics-title">
            <h2 id="semantics-title">"Method semantics"</h2>
            <p class="muted">"Repeat a request and see what each HTTP method promises."</p>
            <div class="buttons">
                <button disabled=move || running.get() on:click=move |_| run(Repeat::Post)>"POST twice"</button>
                <button disabled=move || running.get() on:click=move |_| run(Repeat::Put)>"PUT twice"</button>
                <button disabled=move || running.get() on:click=move |_| run(Repeat::Delete)>"DELETE twice"</button>
            </div>
            <ol class="output" aria-live="polite" data-testid="semantics-output">
                {move || output.get().into_iter().map(|text| view! { <li>{text}</li> }).collect_view()}
            </ol>
        </section>
    }
}

/// The preferences panel: a theme switch saved with an upsert.
#[component]
pub fn PreferencesPanel() -> impl IntoView {
    let theme = RwSignal::new(Theme::Light);
    let status = RwSignal::new(String::new());
    Effect::new(move |_| {
        spawn_local(async move {
            // The session may be a moment behind the page; the checkout's startup creates it.
            for _ in 0..20 {
                if let Ok(answer) = browser::call(Request::get("/api/preferences")).await {
                    if let Some(preferences) = answer.json::<Preferences>() {
                        theme.set(preferences.theme);
                        return;
                    }
                }
                gloo_timers::future::TimeoutFuture::new(100).await;
            }
        });
    });
    Effect::new(move |_| {
        if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
            let _ = root.set_attribute("data-theme", theme.get().as_str());
        }
    });
    let toggle = move |_| {
        let next = if theme.get_untracked() == Theme::Dark { Theme::Light } else { Theme::Dark };
        theme.set(next);
        status.set("Saving…".into());
        spawn_local(async move {
            let answer = browser::call_json(Request::put("/api/preferences"), &Preferences { theme: next }).await;
            status.set(match answer {
                Ok(answer) if answer.ok() => {
                    format!("Saved {} with one upsert: one row, however often it is sent.", next.as_str())
                }
                Ok(answer) => answer.problem_detail(),
                Err(error) => error,
            });
        });
    };
    view! {
        <section class="card preferences" aria-labelledby="preferences-title">
            <h2 id="preferences-title">"Preferences"</h2>
            <button
                role="switch"
                aria-checked=move || if theme.get() == Theme::Dark { "true" } else { "false" }
                on:click=toggle
            >
                "Dark theme"
            </button>
            <p class="muted" role="status" data-testid="preferences-status">{move || status.get()}</p>
        </section>
    }
}
