//! GetSecretValue directly to LocalStack vs through the gateway, in the same run.
//!
//! Loopback only, bounded: `SMA_BENCH_REQUESTS` requests per round (default 2000),
//! `SMA_BENCH_CONCURRENCY` concurrent clients (default 4), 3 alternating rounds per
//! target. Prints requests/s, p50 and p99 per target and the ratios; writes them as
//! JSON to `SMA_BENCH_OUT` when set. Uses `SMA_LOCALSTACK_ENDPOINT` or starts LocalStack.
//! `SMA_BENCH_CACHE_TTL_MS` overrides the gateway's cache bound (default 1 s).
//!
//! Run: `cargo bench -p gateway --bench gateway_vs_direct`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use serde_json::json;

const REGION: &str = "eu-west-3";

fn client(endpoint: &str, akid: &str, secret: &str) -> aws_sdk_secretsmanager::Client {
    let conf = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(akid, secret, None, None, "bench"))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(conf)
}

struct Round {
    rps: f64,
    latencies: Vec<Duration>,
}

async fn round(c: &aws_sdk_secretsmanager::Client, requests: usize, concurrency: usize) -> Round {
    let per = requests / concurrency;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per);
            for _ in 0..per {
                let t = Instant::now();
                c.get_secret_value()
                    .secret_id("bench/db")
                    .send()
                    .await
                    .expect("GetSecretValue");
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed();
    Round {
        rps: latencies.len() as f64 / elapsed.as_secs_f64(),
        latencies,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let requests = env_usize("SMA_BENCH_REQUESTS", 2000);
    let concurrency = env_usize("SMA_BENCH_CONCURRENCY", 4).max(1);
    let rounds = env_usize("SMA_BENCH_ROUNDS", 3).max(1);
    let ls = tokio::task::spawn_blocking(localstack::test_endpoint)
        .await
        .unwrap();
    let mut config = gateway::Config::new(&ls, "127.0.0.1:0".parse().unwrap());
    if let Ok(ms) = std::env::var("SMA_BENCH_CACHE_TTL_MS") {
        config.policy_cache_ttl =
            Duration::from_millis(ms.parse().expect("SMA_BENCH_CACHE_TTL_MS"));
    }
    let gw = gateway::Gateway::start(config).await.expect("gateway");
    let ep = gw.endpoint();

    // Seed through the gateway as root: a user allowed to read one secret.
    let account = format!(
        "{:012}",
        100_000_000_000u64 + (gateway::time::unix_now() as u64 % 899_999_999_999)
    );
    let root = client(&ep, &account, "test");
    root.create_secret()
        .name("bench/db")
        .secret_string("value")
        .send()
        .await
        .expect("create secret");
    let iam_conf = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&ep)
        .credentials_provider(Credentials::new(&account, "test", None, None, "bench"))
        .build();
    let iam = aws_sdk_iam::Client::from_conf(iam_conf);
    iam.create_user().user_name("bench").send().await.unwrap();
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
        "Resource": format!("arn:aws:secretsmanager:{REGION}:{account}:secret:bench/*")}]});
    iam.put_user_policy()
        .user_name("bench")
        .policy_name("read")
        .policy_document(policy.to_string())
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("bench")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let (akid, secret) = (
        key.access_key_id().to_string(),
        key.secret_access_key().to_string(),
    );

    let direct = Arc::new(client(&ls, &akid, &secret));
    let through = Arc::new(client(&ep, &akid, &secret));
    // Warm-up: connection pools, caches.
    round(&direct, 100, concurrency).await;
    round(&through, 100, concurrency).await;

    let (mut d_lat, mut g_lat, mut d_rps, mut g_rps) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let d = round(&direct, requests, concurrency).await;
        let g = round(&through, requests, concurrency).await;
        d_rps.push(d.rps);
        g_rps.push(g.rps);
        d_lat.extend(d.latencies);
        g_lat.extend(g.latencies);
    }
    d_lat.sort();
    g_lat.sort();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (drps, grps) = (mean(&d_rps), mean(&g_rps));
    let (d50, d99, g50, g99) = (
        percentile(&d_lat, 0.5),
        percentile(&d_lat, 0.99),
        percentile(&g_lat, 0.5),
        percentile(&g_lat, 0.99),
    );
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let ratio = grps / drps;
    let added_p99 = ms(g99) - ms(d99);
    println!("GetSecretValue, {rounds} rounds x {requests} requests, concurrency {concurrency}");
    println!(
        "  direct : {drps:8.1} req/s  p50 {:6.3} ms  p99 {:6.3} ms",
        ms(d50),
        ms(d99)
    );
    println!(
        "  gateway: {grps:8.1} req/s  p50 {:6.3} ms  p99 {:6.3} ms",
        ms(g50),
        ms(g99)
    );
    println!("  throughput ratio {:.1}% (target >= 90%), p50 added {:.3} ms, p99 added {:.3} ms (target <= 2 ms)", ratio * 100.0, ms(g50) - ms(d50), added_p99);
    let verdict = ratio >= 0.9 && added_p99 <= 2.0;
    println!("  targets {}", if verdict { "met" } else { "NOT met" });
    if let Ok(out) = std::env::var("SMA_BENCH_OUT") {
        let v = json!({
            "benchmark": "GetSecretValue direct vs gateway",
            "rounds": rounds, "requests_per_round": requests, "concurrency": concurrency,
            "direct": {"rps": drps, "p50_ms": ms(d50), "p99_ms": ms(d99)},
            "gateway": {"rps": grps, "p50_ms": ms(g50), "p99_ms": ms(g99)},
            "throughput_ratio": ratio, "p99_added_ms": added_p99, "targets_met": verdict,
        });
        std::fs::write(&out, serde_json::to_string_pretty(&v).unwrap())
            .expect("write SMA_BENCH_OUT");
    }
    gw.shutdown().await;
}
