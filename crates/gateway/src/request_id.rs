//! Request ids in the UUID v4 text form AWS uses in `x-amzn-RequestId`.

use aws_lc_rs::rand;

/// `n` random bytes from the system generator (zeros if it fails, which aws-lc never does
/// on Linux; ids built from them are not security-relevant).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    let _ = rand::fill(&mut out);
    out
}

/// A request id in the UUID v4 text form AWS uses in `x-amzn-RequestId`.
///
/// Ids only need to be unique, not secret: they come from a counter mixed with a
/// per-process random seed (read once), because the system generator costs more than
/// the rest of a request's gateway work (aws-lc seeds it from CPU jitter).
pub fn request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static SEED: OnceLock<[u64; 2]> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = SEED.get_or_init(|| {
        let b = random_bytes::<16>();
        let word = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]));
        [word(0), word(8)]
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&mix64(seed[0] ^ n).to_be_bytes());
    b[8..].copy_from_slice(&mix64(seed[1].wrapping_add(n)).to_be_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = aws_wire::encoding::hex_encode(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// SplitMix64's finaliser: a bijection on u64, so distinct counters give distinct ids.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_uuid_v4_text() {
        let ids: std::collections::HashSet<String> = (0..10_000).map(|_| request_id()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids
            .iter()
            .all(|id| id.len() == 36 && id.as_bytes()[14] == b'4'));
    }
}
