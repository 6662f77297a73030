//! The browser entry point: cargo-leptos builds this crate to wasm and calls `hydrate` from the page.

// The checkout page's view type is deep; the compiler needs more room to lay it out.
#![recursion_limit = "256"]

/// Takes over the server-rendered page so its buttons run in the browser.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
