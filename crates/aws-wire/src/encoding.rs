//! Byte encodings used by SigV4, JWTs and the query protocol: hex, base64 (standard and
//! URL-safe), AWS URI encoding, percent decoding and `application/x-www-form-urlencoded`.
//!
//! Decoders are strict: anything malformed is an error, never a best effort.

use thiserror::Error;

/// A malformed encoded value.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Not valid hexadecimal.
    #[error("invalid hex")]
    Hex,
    /// Not valid base64 for the alphabet in use.
    #[error("invalid base64")]
    Base64,
    /// A `%` not followed by two hex digits.
    #[error("invalid percent-encoding")]
    Percent,
    /// The decoded bytes are not UTF-8.
    #[error("decoded value is not UTF-8")]
    Utf8,
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex of `bytes`.
pub fn hex_encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes lowercase hex only (SigV4 signatures are lowercase).
pub fn hex_decode_lower(s: &str) -> Result<Vec<u8>, DecodeError> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) || b.iter().any(|c| c.is_ascii_uppercase()) {
        return Err(DecodeError::Hex);
    }
    b.chunks(2)
        .map(|p| {
            Ok(hex_val(p[0]).ok_or(DecodeError::Hex)? << 4
                | hex_val(p[1]).ok_or(DecodeError::Hex)?)
        })
        .collect()
}

const B64_STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn b64_encode(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = match chunk.len() {
            3 => (chunk[0] as u32) << 16 | (chunk[1] as u32) << 8 | chunk[2] as u32,
            2 => (chunk[0] as u32) << 16 | (chunk[1] as u32) << 8,
            _ => (chunk[0] as u32) << 16,
        };
        let chars = chunk.len() + 1;
        for i in 0..4 {
            if i < chars {
                out.push(alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// Whether a base64 text ends with `=` padding to a multiple of four characters.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Padding {
    Required,
    Forbidden,
    Optional,
}

fn b64_decode(s: &str, alphabet: &[u8; 64], padding: Padding) -> Result<Vec<u8>, DecodeError> {
    let mut b = s.as_bytes();
    let pads = b.iter().rev().take_while(|&&c| c == b'=').count();
    let padded = match padding {
        Padding::Required => true,
        Padding::Forbidden => false,
        Padding::Optional => pads > 0,
    };
    if padded {
        if !b.len().is_multiple_of(4) || pads > 2 {
            return Err(DecodeError::Base64);
        }
        b = &b[..b.len() - pads];
    }
    if b.len() % 4 == 1 {
        return Err(DecodeError::Base64);
    }
    let mut table = [255u8; 256];
    for (i, &c) in alphabet.iter().enumerate() {
        table[c as usize] = i as u8;
    }
    let mut out = Vec::with_capacity(b.len() * 3 / 4);
    for chunk in b.chunks(4) {
        let mut n: u32 = 0;
        for (i, &c) in chunk.iter().enumerate() {
            let v = table[c as usize];
            if v == 255 {
                return Err(DecodeError::Base64);
            }
            n |= (v as u32) << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let take = chunk.len() - 1;
        // Reject non-canonical trailing bits (the same string must not have two meanings).
        let unused_bits = match chunk.len() {
            2 => n & 0xFFFF,
            3 => n & 0xFF,
            _ => 0,
        };
        if unused_bits != 0 {
            return Err(DecodeError::Base64);
        }
        out.extend_from_slice(&bytes[..take]);
    }
    Ok(out)
}

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    b64_encode(bytes, B64_STD, true)
}

/// Decodes standard base64 with padding.
pub fn base64_decode(s: &str) -> Result<Vec<u8>, DecodeError> {
    b64_decode(s, B64_STD, Padding::Required)
}

/// Decodes standard base64 whose padding is optional (IAM's `Binary*` condition
/// values): with `=` the length must be a multiple of four, without it the last group
/// may be short. Non-canonical trailing bits are refused as everywhere else.
pub fn base64_decode_padding_optional(s: &str) -> Result<Vec<u8>, DecodeError> {
    b64_decode(s, B64_STD, Padding::Optional)
}

/// URL-safe base64 without padding (JWTs, JWKs).
pub fn base64url_encode(bytes: &[u8]) -> String {
    b64_encode(bytes, B64_URL, false)
}

/// Decodes URL-safe base64 without padding (JWTs, JWKs). Padding is rejected.
pub fn base64url_decode(s: &str) -> Result<Vec<u8>, DecodeError> {
    b64_decode(s, B64_URL, Padding::Forbidden)
}

/// AWS `UriEncode`: every byte except unreserved `A-Z a-z 0-9 - . _ ~` becomes `%XX`
/// (uppercase hex); `/` is kept when `keep_slash`.
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize].to_ascii_uppercase() as char);
            out.push(HEX[(b & 15) as usize].to_ascii_uppercase() as char);
        }
    }
    out
}

/// Decodes `%XX` escapes to bytes (`+` stays `+`).
pub fn percent_decode_bytes(s: &str) -> Result<Vec<u8>, DecodeError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hi = b
                .get(i + 1)
                .and_then(|&c| hex_val(c))
                .ok_or(DecodeError::Percent)?;
            let lo = b
                .get(i + 2)
                .and_then(|&c| hex_val(c))
                .ok_or(DecodeError::Percent)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// Decodes `%XX` escapes to a UTF-8 string (`+` stays `+`).
pub fn percent_decode(s: &str) -> Result<String, DecodeError> {
    String::from_utf8(percent_decode_bytes(s)?).map_err(|_| DecodeError::Utf8)
}

/// Parses `application/x-www-form-urlencoded` (`+` is a space) into ordered pairs.
/// Empty segments (`a=1&&b=2`) are skipped; a name without `=` has an empty value.
pub fn parse_form(s: &str) -> Result<Vec<(String, String)>, DecodeError> {
    let mut out = Vec::new();
    for part in s.split('&') {
        if part.is_empty() {
            continue;
        }
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let k = percent_decode(&k.replace('+', " "))?;
        let v = percent_decode(&v.replace('+', " "))?;
        out.push((k, v));
    }
    Ok(out)
}

/// Encodes pairs as `application/x-www-form-urlencoded` (spaces as `%20`, which every
/// AWS query endpoint accepts).
pub fn encode_form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", uri_encode(k, false), uri_encode(v, false)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        assert_eq!(hex_encode(&[0, 0xab, 0xff]), "00abff");
        assert_eq!(hex_decode_lower("00abff").unwrap(), vec![0, 0xab, 0xff]);
        assert!(hex_decode_lower("00ABFF").is_err());
        assert!(hex_decode_lower("0").is_err());
        assert!(hex_decode_lower("zz").is_err());
    }

    #[test]
    fn base64_round_trip() {
        for data in [
            &b""[..],
            b"f",
            b"fo",
            b"foo",
            b"foob",
            b"fooba",
            b"foobar",
            &[0xff, 0xfe, 0xfd],
        ] {
            assert_eq!(base64_decode(&base64_encode(data)).unwrap(), data);
            assert_eq!(base64url_decode(&base64url_encode(data)).unwrap(), data);
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64url_encode(&[0xfb, 0xff]), "-_8");
        assert!(base64url_decode("Zm8=").is_err());
        assert!(base64url_decode("Z").is_err());
        assert_eq!(base64url_decode("Zm8").unwrap(), b"fo");
        assert!(base64url_decode("Zm+").is_err());
        // Non-canonical trailing bits.
        assert!(base64url_decode("Zm9=").is_err());
        assert!(base64url_decode("Zn").is_err());
        // Standard base64, padding optional (IAM Binary condition values).
        for (text, bytes) in [
            ("TWFu", &b"Man"[..]),
            ("TWE=", b"Ma"),
            ("TQ==", b"M"),
            ("TQ", b"M"),
            ("", b""),
        ] {
            assert_eq!(
                base64_decode_padding_optional(text).unwrap(),
                bytes,
                "{text}"
            );
        }
        for bad in ["T", "T$==", "TQ=", "TQ===", "=", "TR==", "-_8"] {
            assert!(base64_decode_padding_optional(bad).is_err(), "{bad}");
        }
        assert!(base64_decode("TQ").is_err());
    }

    #[test]
    fn uri_and_form() {
        assert_eq!(uri_encode("a b/c~", false), "a%20b%2Fc~");
        assert_eq!(uri_encode("a b/c", true), "a%20b/c");
        assert_eq!(percent_decode("a%20b%2f").unwrap(), "a b/");
        assert!(percent_decode("%2").is_err());
        assert!(percent_decode("%").is_err());
        assert!(percent_decode("%zz").is_err());
        assert!(percent_decode("%ff").is_err());
        let f = parse_form("Action=AssumeRole&Tags.member.1.Key=a+b&&x").unwrap();
        assert_eq!(
            f,
            vec![
                ("Action".into(), "AssumeRole".into()),
                ("Tags.member.1.Key".into(), "a b".into()),
                ("x".into(), "".into())
            ]
        );
        assert_eq!(
            encode_form(&[("A", "x y"), ("B", "1/2")]),
            "A=x%20y&B=1%2F2"
        );
    }
}
