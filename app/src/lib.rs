//! The payonce checkout: the page, its panels, and the browser half of the Stripe method.

// The checkout page's view type is deep; the compiler needs more room to lay it out.
#![recursion_limit = "256"]

pub mod browser;
mod checkout;
mod semantics;
pub mod types;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::StaticSegment;

use checkout::CheckoutPage;

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The app: one checkout page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/payonce.css"/>
        <Title text="payonce — pay exactly once"/>
        <Router>
            <main id="main">
                <Routes fallback=|| "Page not found.".into_view()>
                    <Route path=StaticSegment("") view=CheckoutPage/>
                </Routes>
            </main>
        </Router>
    }
}
