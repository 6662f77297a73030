//! The ledger: what is stored in the database, where unique constraints and upserts make repeats harmless
//! even when every layer above has been bypassed.

pub mod db;
pub mod payments;
pub mod preferences;
pub mod processor;
pub mod products;
pub mod users;
