//! GetSecretValue directly to LocalStack vs through the gateway, in the same run.
//!
//! Loopback only, bounded: `SMA_BENCH_REQUESTS` requests per round (default 500),
//! `SMA_BENCH_CONCURRENCY` concurrent clients (comma-separated levels, default `4,16`:
//! LocalStack busy, then saturated), `SMA_BENCH_ROUNDS` rounds (default 20), each
//! running both targets, in alternating order. Prints requests/s, p50 and p99 per target
//! and the ratios against the targets (throughput >= 97% of direct, p99 added <= 1 ms);
//! writes them as JSON (one object per level) to `SMA_BENCH_OUT` when set. Uses
//! `SMA_LOCALSTACK_ENDPOINT` or starts LocalStack. `SMA_BENCH_CACHE_MAX_AGE_MS` sets the
//! gateway's optional cache age bound (default: none, the cache is invalidated by
//! changes relayed through the gateway).
//!
//! LocalStack is the bottleneck, and its own speed wanders between rounds (±15% on a
//! 2-core machine), so one total ratio can land anywhere near the target. Each round is
//! therefore a pair (direct, gateway) measured back to back, and the verdict comes from
//! the per-round ratios and p99 differences: their mean with a 95% confidence interval
//! (Student's t). A target is `met` when the whole interval is on the right side of it,
//! `NOT met` when the whole interval is on the wrong side, and `unresolved` when the
//! interval straddles it: more rounds, or a quieter machine, are needed to tell.
//!
//! On a machine with at least two CPUs, LocalStack's threads are pinned to the last CPU
//! and this process (clients and gateway) to the others (`SMA_BENCH_PIN=0`: no
//! pinning), so the clients and the gateway do not take LocalStack's core from it: the
//! comparison is of what each path costs LocalStack, as on a machine where the gateway
//! has its own core. Each round also reports LocalStack's CPU time per request (Linux:
//! the process that listens on the endpoint's port, from `/proc`).
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

/// The machine's CPU ticks so far: (stolen by the hypervisor, all). On a virtual
/// machine the hypervisor's steal takes a varying share of every core, which moves
/// LocalStack's speed between rounds whatever the gateway does.
fn cpu_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    Some((*ticks.get(7)?, ticks.iter().sum()))
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

/// Mean of `xs` and the half-width of its 95% confidence interval (Student's t, two
/// sided; the half-width is infinite for fewer than two values).
fn mean_ci95(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, f64::INFINITY);
    }
    let variance = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    // t(0.975, df) for df = 1..=30; 1.96 beyond.
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    let t = T.get(xs.len() - 2).copied().unwrap_or(1.96);
    (mean, t * (variance / n).sqrt())
}

/// A target's verdict from a mean and its interval: `met` when the whole interval is
/// on the good side of `bound`, `NOT met` when it is all on the bad side.
fn verdict(mean: f64, half: f64, bound: f64, higher_is_better: bool) -> &'static str {
    let (low, high) = (mean - half, mean + half);
    let (good, bad) = if higher_is_better {
        (low >= bound, high < bound)
    } else {
        (high <= bound, low > bound)
    };
    match (good, bad) {
        (true, _) => "met",
        (_, true) => "NOT met",
        _ => "unresolved",
    }
}

/// Pins LocalStack's threads to the last CPU and this process's threads to the others,
/// when there are at least two CPUs. Returns what was done, for the output.
fn pin_cpus(ls_pid: Option<u32>) -> String {
    if std::env::var("SMA_BENCH_PIN").as_deref() == Ok("0") {
        return "not pinned (SMA_BENCH_PIN=0)".into();
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let Some(ls_pid) = ls_pid else {
        return "not pinned (LocalStack's process is not visible)".into();
    };
    if cpus < 2 {
        return "not pinned (one CPU)".into();
    }
    let last = cpus - 1;
    let ls = pin_threads(ls_pid, &[last]);
    let own = pin_threads(std::process::id(), &(0..last).collect::<Vec<_>>());
    match (ls, own) {
        (Ok(()), Ok(())) => {
            let others = if last == 1 {
                "0".to_string()
            } else {
                format!("0-{}", last - 1)
            };
            format!("LocalStack (pid {ls_pid}) on CPU {last}, clients and gateway on CPU {others}")
        }
        (Err(e), _) | (_, Err(e)) => format!("not pinned ({e})"),
    }
}

/// Sets the CPU affinity of every thread of `pid` (`/proc/PID/task`).
fn pin_threads(pid: u32, cpus: &[usize]) -> Result<(), String> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).map_err(|e| e.to_string())?;
    for task in tasks.flatten() {
        let Ok(tid) = task.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET writes within it, and
        // sched_setaffinity reads `size_of::<cpu_set_t>()` bytes of it.
        let rc = unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            for &cpu in cpus {
                libc::CPU_SET(cpu, &mut set);
            }
            libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set)
        };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            // A thread that ended since the listing is not an error.
            if e.raw_os_error() != Some(libc::ESRCH) {
                return Err(format!("thread {tid} of pid {pid}: {e}"));
            }
        }
    }
    Ok(())
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
            let (ls0, me0, t0) = (cpu_seconds(ls_pid), cpu_seconds(me), cpu_ticks());
            let r = round(&client, requests, concurrency).await;
            let (ls1, me1, t1) = (cpu_seconds(ls_pid), cpu_seconds(me), cpu_ticks());
            let stolen = match (t0, t1) {
                (Some((s0, a0)), Some((s1, a1))) if a1 > a0 => {
                    Some((s1 - s0) as f64 / (a1 - a0) as f64 * 100.0)
                }
                _ => None,
            };
            let n = r.latencies.len() as f64;
            let per_request = |a: Option<f64>, b: Option<f64>| Some((b? - a?) * 1000.0 / n);
            (r, per_request(ls0, ls1), per_request(me0, me1), stolen)
        };
        let shown = |ms: Option<f64>| ms.map_or("n/a".to_string(), |v| format!("{v:.3} ms"));
        let percent = |p: Option<f64>| p.map_or("n/a".to_string(), |v| format!("{v:.1}%"));
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let (mut d_lat, mut g_lat, mut d_secs, mut g_secs) = (Vec::new(), Vec::new(), 0.0, 0.0);
        let (mut ratios, mut p99_added) = (Vec::new(), Vec::new());
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
            let (mut dl, mut gl) = (d.0.latencies.clone(), g.0.latencies.clone());
            dl.sort();
            gl.sort();
            let added = ms(percentile(&gl, 0.99)) - ms(percentile(&dl, 0.99));
            ratios.push(g.0.rps / d.0.rps);
            p99_added.push(added);
            println!(
                "  round {i:2}: direct {:6.1} req/s, gateway {:6.1} req/s ({:5.1}%), p99 added {added:+6.2} ms; CPU per request: LocalStack {} / {}, this process (clients + gateway) {} / {}; CPU stolen by the hypervisor {} / {}",
                d.0.rps,
                g.0.rps,
                g.0.rps / d.0.rps * 100.0,
                shown(d.1),
                shown(g.1),
                shown(d.2),
                shown(g.2),
                percent(d.3),
                percent(g.3),
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
        let spread = |xs: &[f64]| {
            let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (min, max)
        };
        let (ratio, ratio_half) = mean_ci95(&ratios);
        let (ratio_min, ratio_max) = spread(&ratios);
        let (p99_mean, p99_half) = mean_ci95(&p99_added);
        let (p99_min, p99_max) = spread(&p99_added);
        let throughput_verdict = verdict(ratio, ratio_half, 0.97, true);
        let p99_verdict = verdict(p99_mean, p99_half, 1.0, false);
        println!(
            "  direct : {drps:8.1} req/s  p50 {:6.3} ms  p99 {:6.3} ms (all rounds)",
            ms(d50),
            ms(d99)
        );
        println!(
            "  gateway: {grps:8.1} req/s  p50 {:6.3} ms  p99 {:6.3} ms (all rounds)",
            ms(g50),
            ms(g99)
        );
        println!(
            "  throughput ratio per round: mean {:.1}% ± {:.1} (95% CI), rounds {:.1}–{:.1}%; target >= 97%: {throughput_verdict}",
            ratio * 100.0,
            ratio_half * 100.0,
            ratio_min * 100.0,
            ratio_max * 100.0
        );
        println!(
            "  p99 added per round: mean {p99_mean:+.2} ms ± {p99_half:.2} (95% CI), rounds {p99_min:+.2}…{p99_max:+.2} ms; target <= 1 ms: {p99_verdict}"
        );
        json!({
            "benchmark": "GetSecretValue direct vs gateway",
            "rounds": rounds, "requests_per_round": requests, "concurrency": concurrency,
            "direct": {"rps": drps, "p50_ms": ms(d50), "p99_ms": ms(d99)},
            "gateway": {"rps": grps, "p50_ms": ms(g50), "p99_ms": ms(g99)},
            "throughput_ratio": {"mean": ratio, "ci95_half_width": ratio_half,
                "min": ratio_min, "max": ratio_max, "per_round": ratios,
                "target": 0.97, "verdict": throughput_verdict},
            "p99_added_ms": {"mean": p99_mean, "ci95_half_width": p99_half,
                "min": p99_min, "max": p99_max, "per_round": p99_added,
                "target": 1.0, "verdict": p99_verdict},
        })
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let requests = env_usize("SMA_BENCH_REQUESTS", 500);
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
    let rounds = env_usize("SMA_BENCH_ROUNDS", 20).max(1);
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
    println!("CPUs: {}", pin_cpus(ls_pid));
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
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
        "Resource": format!("arn:aws:secretsmanager:{REGION}:{account}:secret:bench/*")}]});
    let (akid, secret, _) =
        test_support::sdk::user_with_policy(&iam, "bench", &policy.to_string()).await;

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
