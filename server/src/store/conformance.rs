//! One suite, run against every store: the memory store and a real Redis
//! (`PAYONCE_TEST_REDIS_URL`, default redis://127.0.0.1:6379). A store is correct if it passes all of it.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::*;
use crate::idempotency::fingerprint::FingerprintSecret;

fn fresh_key() -> ScopedKey {
    ScopedKey::new(UserId::new_random(), IdempotencyKey::parse("order-42").unwrap())
}

fn fingerprint(body: &str) -> Fingerprint {
    FingerprintSecret::new(b"conformance").fingerprint(&[body.as_bytes()])
}

fn response(body: &'static [u8]) -> StoredResponse {
    StoredResponse {
        status: 201,
        headers: vec![("content-type".into(), "application/json".into()), ("location".into(), "/x/1".into())],
        body: Bytes::from_static(body),
        body_omitted: false,
    }
}

const LEASE: Duration = Duration::from_secs(30);
const TTL: Duration = Duration::from_secs(60);

pub async fn first_claim_wins_and_a_second_sees_it_in_flight(store: impl IdempotencyStore) {
    let key = fresh_key();
    let fp = fingerprint("a");
    assert_eq!(store.claim(&key, &fp, &FencingToken::new_random(), LEASE).await.unwrap(), Claim::Claimed);
    match store.claim(&key, &fp, &FencingToken::new_random(), LEASE).await.unwrap() {
        Claim::InFlight { lease_left } => assert!(lease_left > Duration::ZERO && lease_left <= LEASE),
        other => panic!("expected in flight, got {other:?}"),
    }
}

pub async fn another_fingerprint_is_a_mismatch_while_running_and_when_done(store: impl IdempotencyStore) {
    let key = fresh_key();
    let token = FencingToken::new_random();
    store.claim(&key, &fingerprint("a"), &token, LEASE).await.unwrap();
    let other = fingerprint("b");
    assert_eq!(store.claim(&key, &other, &FencingToken::new_random(), LEASE).await.unwrap(), Claim::Mismatch);
    store.save(&key, &token, &response(b"{}"), TTL).await.unwrap();
    assert_eq!(store.claim(&key, &other, &FencingToken::new_random(), LEASE).await.unwrap(), Claim::Mismatch);
}

pub async fn saved_response_replays_byte_for_byte(store: impl IdempotencyStore) {
    let key = fresh_key();
    let fp = fingerprint("a");
    let token = FencingToken::new_random();
    store.claim(&key, &fp, &token, LEASE).await.unwrap();
    let saved = StoredResponse { body: Bytes::from_static(b"\x00\xff binary {\"id\":1}"), ..response(b"") };
    assert_eq!(store.save(&key, &token, &saved, TTL).await.unwrap(), Fenced::Done);
    assert_eq!(store.claim(&key, &fp, &FencingToken::new_random(), LEASE).await.unwrap(), Claim::Replay(saved));
}

pub async fn empty_and_omitted_bodies_replay(store: impl IdempotencyStore) {
    let key = fresh_key();
    let fp = fingerprint("a");
    let token = FencingToken::new_random();
    store.claim(&key, &fp, &token, LEASE).await.unwrap();
    let saved = StoredResponse { status: 204, headers: vec![], body: Bytes::new(), body_omitted: true };
    store.save(&key, &token, &saved, TTL).await.unwrap();
    assert_eq!(store.claim(&key, &fp, &FencingToken::new_random(), LEASE).await.unwrap(), Claim::Replay(saved));
}

pub async fn save_with_a_foreign_token_is_refused(store: impl IdempotencyStore) {
    let key = fresh_key();
    let fp = fingerprint("a");
    store.claim(&key, &fp, &FencingToken::new_random(), LEASE).await.unwrap();
    let stranger = FencingToken::new_random();
    assert_eq!(store.save(&key, &stranger, &response(b"{}"), TTL).await.unwrap(), Fenced::Refused);
    assert!(matches!(store.claim(&key, &fp, &stranger, LEASE).await.unwrap(), Claim::InFlight { .. }));
}

pub async fn release_frees_the_key_for_the_next_request(store: impl IdempotencyStore) {
    let key = fresh_key();
    let fp = fingerprint("a");
    let token = FencingToken::new_random();
    store.claim(&key, &fp, &token, LEASE).await.unwrap();
    assert_eq!(store.release(&key, &FencingToken::new_random()).await.unwrap(), Fenced::Refused);
    assert_eq!(store.release(&key, &token).await.unwrap(), Fenced::Done);
    assert_eq!(store.claim(&key, &fp, &FencingToken::new_random(), LEASE).await.unwrap(), Claim::Claimed);
}

pub async fn a_finished_record_cannot_be_released_or_overwritten(store: impl IdempotencyStore) {
    let key = fresh_key();
    let fp = fingerprint("a");
    let token = FencingToken::new_random();
    store.claim(&key, &fp, &token, LEASE).await.unwrap();
    store.save(&key, &token, &response(b"{}"), TTL).await.unwrap();
    assert_eq!(store.release(&key, &token).await.unwrap(), Fenced::Refused);
    assert_eq!(store.save(&key, &token, &response(b"again"), TTL).await.unwrap(), Fenced::Refused);
    assert_eq!(store.claim(&key, &fp, &token, LEASE).await.unwrap(), Claim::Replay(response(b"{}")));
}

pub async fn an_expired_lease_lets_the_next_request_run_and_fences_the_old_owner(store: impl IdempotencyStore) {
    let key = fresh_key();
    let fp = fingerprint("a");
    let crashed = FencingToken::new_random();
    store.claim(&key, &fp, &crashed, Duration::from_millis(50)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(120)).await;
    let successor = FencingToken::new_random();
    assert_eq!(store.claim(&key, &fp, &successor, LEASE).await.unwrap(), Claim::Claimed);
    assert_eq!(store.save(&key, &crashed, &response(b"late"), TTL).await.unwrap(), Fenced::Refused);
    assert_eq!(store.release(&key, &crashed).await.unwrap(), Fenced::Refused);
    assert_eq!(store.save(&key, &successor, &response(b"{}"), TTL).await.unwrap(), Fenced::Done);
    assert_eq!(store.claim(&key, &fp, &crashed, LEASE).await.unwrap(), Claim::Replay(response(b"{}")));
}

pub async fn a_saved_record_expires_after_its_ttl(store: impl IdempotencyStore) {
    let key = fresh_key();
    let fp = fingerprint("a");
    let token = FencingToken::new_random();
    store.claim(&key, &fp, &token, LEASE).await.unwrap();
    store.save(&key, &token, &response(b"{}"), Duration::from_millis(50)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(store.claim(&key, &fp, &token, LEASE).await.unwrap(), Claim::Claimed);
}

pub async fn keys_are_scoped_per_user(store: impl IdempotencyStore) {
    let key = fresh_key();
    let fp = fingerprint("a");
    let token = FencingToken::new_random();
    store.claim(&key, &fp, &token, LEASE).await.unwrap();
    store.save(&key, &token, &response(b"mine"), TTL).await.unwrap();
    let other_user = ScopedKey::new(UserId::new_random(), key.key.clone());
    assert_eq!(store.claim(&other_user, &fp, &FencingToken::new_random(), LEASE).await.unwrap(), Claim::Claimed);
}

pub async fn fifty_concurrent_claims_make_one_owner(store: impl IdempotencyStore) {
    let store = Arc::new(store);
    let key = fresh_key();
    let fp = fingerprint("a");
    let claims = futures::future::join_all((0..50).map(|_| {
        let (store, key, fp) = (store.clone(), key.clone(), fp.clone());
        tokio::spawn(async move { store.claim(&key, &fp, &FencingToken::new_random(), LEASE).await.unwrap() })
    }))
    .await;
    let owners = claims.into_iter().filter(|c| matches!(c.as_ref().unwrap(), Claim::Claimed)).count();
    assert_eq!(owners, 1);
}

fn fresh_mark() -> String {
    format!("payonce:throttle:{{{}}}:test", UserId::new_random())
}

pub async fn a_mark_holds_for_its_window(store: impl ThrottleStore) {
    let mark = fresh_mark();
    let window = Duration::from_millis(2_000);
    assert_eq!(store.mark(&mark, &FencingToken::new_random(), window).await.unwrap(), None);
    let left = store.mark(&mark, &FencingToken::new_random(), window).await.unwrap().expect("throttled");
    assert!(left > Duration::ZERO && left <= window);
}

pub async fn a_mark_expires_after_its_window(store: impl ThrottleStore) {
    let mark = fresh_mark();
    let window = Duration::from_millis(50);
    store.mark(&mark, &FencingToken::new_random(), window).await.unwrap();
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(store.mark(&mark, &FencingToken::new_random(), window).await.unwrap(), None);
}

pub async fn only_the_owner_removes_a_mark(store: impl ThrottleStore) {
    let mark = fresh_mark();
    let owner = FencingToken::new_random();
    store.mark(&mark, &owner, LEASE).await.unwrap();
    assert_eq!(store.unmark(&mark, &FencingToken::new_random()).await.unwrap(), Fenced::Refused);
    assert_eq!(store.unmark(&mark, &owner).await.unwrap(), Fenced::Done);
    assert_eq!(store.mark(&mark, &FencingToken::new_random(), LEASE).await.unwrap(), None);
}

pub async fn fifty_concurrent_marks_let_one_through(store: impl ThrottleStore) {
    let store = Arc::new(store);
    let mark = fresh_mark();
    let results = futures::future::join_all((0..50).map(|_| {
        let (store, mark) = (store.clone(), mark.clone());
        tokio::spawn(async move { store.mark(&mark, &FencingToken::new_random(), LEASE).await.unwrap() })
    }))
    .await;
    assert_eq!(results.into_iter().filter(|r| r.as_ref().unwrap().is_none()).count(), 1);
}

/// Instantiates every conformance test for one store; `$make` builds a fresh store.
macro_rules! conformance_suite {
    ($suite:ident, $make:expr) => {
        mod $suite {
            use super::*;
            conformance_suite!(@tests $make;
                first_claim_wins_and_a_second_sees_it_in_flight,
                another_fingerprint_is_a_mismatch_while_running_and_when_done,
                saved_response_replays_byte_for_byte,
                empty_and_omitted_bodies_replay,
                save_with_a_foreign_token_is_refused,
                release_frees_the_key_for_the_next_request,
                a_finished_record_cannot_be_released_or_overwritten,
                an_expired_lease_lets_the_next_request_run_and_fences_the_old_owner,
                a_saved_record_expires_after_its_ttl,
                keys_are_scoped_per_user,
                fifty_concurrent_claims_make_one_owner,
                a_mark_holds_for_its_window,
                a_mark_expires_after_its_window,
                only_the_owner_removes_a_mark,
                fifty_concurrent_marks_let_one_through
            );
        }
    };
    (@tests $make:expr; $($test:ident),+) => {
        $(
            #[tokio::test]
            async fn $test() {
                super::$test($make).await;
            }
        )+
    };
}

conformance_suite!(memory, MemoryStore::new(10_000));
conformance_suite!(redis, RedisStore::connect(&test_redis_url()).await.expect("a Redis for the conformance suite"));

mod memory_only {
    use super::*;

    #[tokio::test]
    async fn a_full_store_refuses_new_keys_until_entries_expire() {
        let store = MemoryStore::new(2);
        let fp = fingerprint("a");
        let short = Duration::from_millis(50);
        store.claim(&fresh_key(), &fp, &FencingToken::new_random(), short).await.unwrap();
        store.claim(&fresh_key(), &fp, &FencingToken::new_random(), LEASE).await.unwrap();
        let err = store.claim(&fresh_key(), &fp, &FencingToken::new_random(), LEASE).await.unwrap_err();
        assert!(matches!(err, StoreError::Full(2)));
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(store.claim(&fresh_key(), &fp, &FencingToken::new_random(), LEASE).await.unwrap(), Claim::Claimed);
    }
}
