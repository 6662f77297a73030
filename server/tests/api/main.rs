//! Black-box tests of the whole server over HTTP, against real Redis, SQLite and PostgreSQL.

mod helpers;

mod chaos;
mod idempotency;
mod ledger;
mod method_semantics;
mod payments;
mod sessions;
mod store_failures;
mod throttle;
