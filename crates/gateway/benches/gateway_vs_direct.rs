//! GetSecretValue directly to LocalStack vs through the gateway, in the same run.
//!
//! Loopback only, bounded: `SMA_BENCH_REQUESTS` requests per round (default 1000),
//! `SMA_BENCH_CONCURRENCY` concurrent clients (comma-separated levels, default `4,16`:
//! LocalStack busy, then saturated), `SMA_BENCH_ROUNDS` rounds (default 10), each
//! running both targets, in alternating order. Prints requests/s, p50 and p99 per target
//! and the ratios against the targets (throughput >= 97% of direct, p99 added <= 1 ms);
//! writes them as JSON (one object per level) to `SMA_BENCH_OUT` when set. Uses `SMA_LOCALSTACK_ENDPOINT` or starts LocalStack.
//! `SMA_BENCH_CACHE_MAX_AGE_MS` sets the gateway's optional cache age bound (default:
//! none, the cache is invalidated by changes relayed through the gateway).
//!
//! Each round also reports LocalStack's CPU time per request (Linux: the process that
//! listens on the endpoint's port, from `/proc`). LocalStack is the bottleneck on a
//! small machine, so any extra work the gateway makes it do shows up there first.
//!
//! Run: `cargo bench -p gateway --bench gateway_vs_direct`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use test_support::sdk::Retries;

const REGION: &str = "eu-west-3";

fn client(endpoint: &str, akid: &str, secret: &str) -> aws_sdk_secretsmanager::Client {
    let keys = (akid.to_string(), secret.to_string(), None);
    test_support::sdk::secrets_manager(endpoint, REGION, &keys, Retries::Sdk)
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

/// The process listening on TCP `port` on this machine (Linux `/proc`), if visible.
fn listening_pid(port: u16) -> Option<u32> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let local_port = f.get(1).and_then(|a| a.rsplit(':').next());
            // State 0A is LISTEN; field 9 is the socket's inode.
            if local_port.and_then(|p| u16::from_str_radix(p, 16).ok()) == Some(port)
                && f.get(3) == Some(&"0A")
            {
                inodes.extend(f.get(9).map(|i| format!("socket:[{i}]")));
            }
        }
    }
    for proc_dir in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = proc_dir.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(proc_dir.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path()) {
                if inodes.iter().any(|i| target.as_os_str() == i.as_str()) {
                    return Some(pid);
                }
            }
        }
    }
    None
}

/// User + system CPU seconds of `pid` and its reaped children (clock ticks of 10 ms).
fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let f: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
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

/// One comparison of direct and gateway at one concurrency level.
struct Bench {
    direct: Arc<aws_sdk_secretsmanager::Client>,
    through: Arc<aws_sdk_secretsmanager::Client>,
    ls_pid: Option<u32>,
    requests: usize,
    rounds: usize,
    concurrency: usize,
}

impl Bench {
    /// Warms up, runs the alternated rounds, prints the comparison and returns it as
    /// JSON.
    async fn compare(&self) -> serde_json::Value {
        let (direct, through) = (self.direct.clone(), self.through.clone());
        let (requests, rounds, concurrency, ls_pid) =
            (self.requests, self.rounds, self.concurrency, self.ls_pid);
        // Warm-up: connection pools, caches.
        round(&direct, 100, concurrency).await;
        round(&through, 100, concurrency).await;

        // Rounds alternate which target goes first, so drift in LocalStack's speed (it is
        // the bottleneck, and its cost per request wanders by ±15% over a minute on a
        // small machine) weighs on both targets alike. Throughput is total requests over
        // total time per target.
        let me = Some(std::process::id());
        let measure = |client: Arc<aws_sdk_secretsmanager::Client>| async move {
            let (ls0, me0) = (cpu_seconds(ls_pid), cpu_seconds(me));
            let r = round(&client, requests, concurrency).await;
            let (ls1, me1) = (cpu_seconds(ls_pid), cpu_seconds(me));
            let n = r.latencies.len() as f64;
            let per_request = |a: Option<f64>, b: Option<f64>| Some((b? - a?) * 1000.0 / n);
            (r, per_request(ls0, ls1), per_request(me0, me1))
        };
        let shown = |ms: Option<f64>| ms.map_or("n/a".to_string(), |v| format!("{v:.3} ms"));
        let (mut d_lat, mut g_lat, mut d_secs, mut g_secs) = (Vec::new(), Vec::new(), 0.0, 0.0);
        println!(
            "GetSecretValue, {rounds} rounds x {requests} requests, concurrency {concurrency}"
        );
        for i in 1..=rounds {
            let (d, g) = if i % 2 == 1 {
                let d = measure(direct.clone()).await;
                (d, measure(through.clone()).await)
            } else {
                let g = measure(through.clone()).await;
                (measure(direct.clone()).await, g)
            };
            println!(
                "  round {i:2}: direct {:6.1} req/s, gateway {:6.1} req/s ({:5.1}%); CPU per request: LocalStack {} / {}, this process (clients + gateway) {} / {}",
                d.0.rps,
                g.0.rps,
                g.0.rps / d.0.rps * 100.0,
                shown(d.1),
                shown(g.1),
                shown(d.2),
                shown(g.2),
            );
            d_secs += d.0.latencies.len() as f64 / d.0.rps;
            g_secs += g.0.latencies.len() as f64 / g.0.rps;
            d_lat.extend(d.0.latencies);
            g_lat.extend(g.0.latencies);
        }
        let (drps, grps) = (d_lat.len() as f64 / d_secs, g_lat.len() as f64 / g_secs);
        d_lat.sort();
        g_lat.sort();
        let (d50, d99, g50, g99) = (
            percentile(&d_lat, 0.5),
            percentile(&d_lat, 0.99),
            percentile(&g_lat, 0.5),
            percentile(&g_lat, 0.99),
        );
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let ratio = grps / drps;
        let added_p99 = ms(g99) - ms(d99);
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
        println!("  throughput ratio {:.1}% (target >= 97%), p50 added {:.3} ms, p99 added {:.3} ms (target <= 1 ms)", ratio * 100.0, ms(g50) - ms(d50), added_p99);
        let verdict = ratio >= 0.97 && added_p99 <= 1.0;
        println!("  targets {}", if verdict { "met" } else { "NOT met" });
        json!({
            "benchmark": "GetSecretValue direct vs gateway",
            "rounds": rounds, "requests_per_round": requests, "concurrency": concurrency,
            "direct": {"rps": drps, "p50_ms": ms(d50), "p99_ms": ms(d99)},
            "gateway": {"rps": grps, "p50_ms": ms(g50), "p99_ms": ms(g99)},
            "throughput_ratio": ratio, "p99_added_ms": added_p99, "targets_met": verdict,
        })
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let requests = env_usize("SMA_BENCH_REQUESTS", 1000);
    let levels: Vec<usize> = std::env::var("SMA_BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "4,16".into())
        .split(',')
        .map(|l| {
            l.trim()
                .parse::<usize>()
                .expect("SMA_BENCH_CONCURRENCY: numbers")
                .max(1)
        })
        .collect();
    let rounds = env_usize("SMA_BENCH_ROUNDS", 10).max(1);
    let ls = tokio::task::spawn_blocking(localstack::test_endpoint)
        .await
        .unwrap();
    let mut config = gateway::Config::new(&ls, "127.0.0.1:0".parse().unwrap());
    if let Ok(ms) = std::env::var("SMA_BENCH_CACHE_MAX_AGE_MS") {
        config.policy_cache_max_age = Some(Duration::from_millis(
            ms.parse().expect("SMA_BENCH_CACHE_MAX_AGE_MS"),
        ));
    }
    let ls_pid = ls
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .and_then(listening_pid);
    let gw = gateway::Gateway::start(config).await.expect("gateway");
    let ep = gw.endpoint();

    // Seed through the gateway as root: a user allowed to read one secret.
    let account = test_support::fresh_account_id();
    let root = client(&ep, &account, "test");
    root.create_secret()
        .name("bench/db")
        .secret_string("value")
        .send()
        .await
        .expect("create secret");
    let iam = test_support::sdk::iam(
        &ep,
        "us-east-1",
        &test_support::sdk::root(&account),
        Retries::Sdk,
    );
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
    let mut results = Vec::new();
    for concurrency in levels {
        let bench = Bench {
            direct: direct.clone(),
            through: through.clone(),
            ls_pid,
            requests,
            rounds,
            concurrency,
        };
        results.push(bench.compare().await);
    }
    if let Ok(out) = std::env::var("SMA_BENCH_OUT") {
        std::fs::write(&out, serde_json::to_string_pretty(&results).unwrap())
            .expect("write SMA_BENCH_OUT");
    }
    gw.shutdown().await;
}
