//! A store that is down or slow fails closed: 503 with Retry-After, and nothing runs.

use std::time::Duration;

use crate::helpers::*;

#[tokio::test]
async fn a_dead_redis_means_503_and_nothing_is_charged() {
    let mut redis = OwnRedis::start().await;
    let app = Setup::new(Database::Sqlite).redis(redis.url()).spawn().await.signed_in().await;
    redis.stop();
    let response = app.pay(&app.client, &fresh_key(), &payment(100)).await;
    assert!(response.headers().get("retry-after").is_some());
    problem(response, 503).await;
    assert_eq!(app.state.processor.requests(), 0);
    assert!(app.ledger(&app.client).await.is_empty());
}

#[tokio::test]
async fn a_redis_slower_than_the_timeout_means_503() {
    let redis = OwnRedis::start().await;
    let app = Setup::new(Database::Sqlite).redis(redis.url()).spawn().await.signed_in().await;
    let blocker = tokio::spawn({
        let url = redis.url();
        async move {
            let mut connection = redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap();
            let _: Result<(), _> = redis::cmd("DEBUG").arg("SLEEP").arg(1.5).query_async(&mut connection).await;
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let response = app.pay(&app.client, &fresh_key(), &payment(100)).await;
    problem(response, 503).await;
    blocker.await.unwrap();
    assert_eq!(app.state.processor.requests(), 0);
}

/// Commands per request, from Redis's own `INFO commandstats` on a Redis of the test's own.
#[tokio::test]
async fn a_fresh_keyed_payment_costs_three_script_calls_and_a_replay_one() {
    let redis = OwnRedis::start().await;
    let app = Setup::new(Database::Sqlite).redis(redis.url()).spawn().await.signed_in().await;
    let mut connection = redis.connection().await;
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query_async(&mut connection).await.unwrap();
    let key = fresh_key();
    app.pay(&app.client, &key, &payment(100)).await;
    let fresh = command_stats(&mut connection).await;
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query_async(&mut connection).await.unwrap();
    app.pay(&app.client, &key, &payment(100)).await;
    let replay = command_stats(&mut connection).await;
    println!("redis commands per fresh keyed payment: {fresh:?}");
    println!("redis commands per replay: {replay:?}");
    assert_eq!(calls(&fresh, "evalsha"), 3, "claim, throttle mark, save");
    assert_eq!(calls(&replay, "evalsha"), 1, "claim only");
}

async fn command_stats(connection: &mut redis::aio::MultiplexedConnection) -> Vec<(String, u64)> {
    let info: String = redis::cmd("INFO").arg("commandstats").query_async(connection).await.unwrap();
    info.lines()
        .filter_map(|line| {
            let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest.split(',').find_map(|kv| kv.strip_prefix("calls="))?.parse().ok()?;
            // The stats commands this test itself sends are not the request's.
            (!name.starts_with("config") && !name.starts_with("info")).then(|| (name.to_owned(), calls))
        })
        .collect()
}

fn calls(stats: &[(String, u64)], command: &str) -> u64 {
    stats.iter().find(|(name, _)| name == command).map(|(_, calls)| *calls).unwrap_or(0)
}
