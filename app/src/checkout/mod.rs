//! The checkout page and its panels.

mod attempt_log;
mod client;
mod flaky_panel;
mod ledger_view;
mod page;
mod pending;

pub use page::CheckoutPage;
