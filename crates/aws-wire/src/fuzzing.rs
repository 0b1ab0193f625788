//! One entry point that feeds arbitrary bytes to every parser of untrusted input
//! (SigV4 headers and query strings, forms, percent/base64/hex decoding, JWTs, JWKS,
//! XML, STS answers). Used by the cargo-fuzz target `gateway_parsers` and by a deterministic smoke
//! test; it must never panic.

use http::{HeaderMap, HeaderValue, Uri};

/// Runs every parser on `data` (split on `\n` into a few fields).
pub fn fuzz_parsers(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split('\n');
    let a = fields.next().unwrap_or("");
    let b = fields.next().unwrap_or("");
    let c = fields.next().unwrap_or("");

    let _ = crate::xml::parse(data);
    let _ = crate::encoding::parse_form(&text);
    let _ = crate::encoding::percent_decode(&text);
    let _ = crate::encoding::base64url_decode(a);
    let _ = crate::encoding::base64_decode(a);
    let _ = crate::encoding::hex_decode_lower(a);
    let _ = crate::time::parse_amz_date(a);
    let _ = crate::time::parse_rfc3339(a);
    let _ = crate::jwt::Jwks::parse(&text);
    if let Ok(t) = crate::jwt::decode(a) {
        let _ = t.issuer();
        if let Ok(jwks) = crate::jwt::Jwks::parse(b) {
            let _ = crate::jwt::verify(&t, &jwks, 1_700_000_000);
        }
    }
    let _ = crate::sigv4::canonical_uri(a);
    let _ = crate::sigv4::canonical_query(b, true);
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(a) {
        headers.insert("authorization", v);
    }
    if let Ok(v) = HeaderValue::from_str(c) {
        headers.insert("x-amz-date", v.clone());
        headers.insert("x-amz-security-token", v);
    }
    let uri = format!(
        "http://h/?{}",
        b.replace(|ch: char| ch.is_whitespace() || ch == '#', "")
    );
    if let Ok(uri) = uri.parse::<Uri>() {
        if let Ok(Some(auth)) = crate::sigv4::parse(&uri, &headers) {
            let _ =
                crate::sigv4::verify(&auth, &http::Method::POST, &uri, &headers, data, "secret");
            let _ = crate::sigv4::check_time(&auth, 1_700_000_000);
        }
    }
    let _ = crate::sts_answer::parse_issued(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers_never_panic_on_random_and_mutated_input() {
        let seeds: [&[u8]; 6] = [
            b"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2F20150830%2Fus-east-1%2Fsts%2Faws4_request\n20150830T123600Z",
            b"<a><b>x&amp;y</b><![CDATA[z]]></a>",
            b"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwczovL3gifQ.c2ln\n{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}]}",
            b"Action=AssumeRole&Tags.member.1.Key=a+b&x=%41",
            b"2015-08-30T12:36:00.123+02:00",
            b"<ErrorResponse><Error><Code>x</Code></Error></ErrorResponse>",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for seed in seeds {
            fuzz_parsers(seed);
            for _ in 0..3000 {
                let mut d = seed.to_vec();
                for _ in 0..(next() % 8 + 1) {
                    let r = next() as usize;
                    match r % 4 {
                        0 if !d.is_empty() => {
                            let i = r / 4 % d.len();
                            d[i] = (next() & 0xff) as u8;
                        }
                        1 if !d.is_empty() => {
                            let i = r / 4 % d.len();
                            d.remove(i);
                        }
                        2 => {
                            let i = if d.is_empty() { 0 } else { r / 4 % d.len() };
                            {
                                let alphabet = b"<>&%=.;/\n\"{}[]";
                                d.insert(i, alphabet[(next() % alphabet.len() as u64) as usize]);
                            }
                        }
                        _ => {
                            let i = if d.is_empty() { 0 } else { r / 4 % d.len() };
                            d.truncate(i);
                        }
                    }
                }
                fuzz_parsers(&d);
            }
        }
    }
}
