//! Fuzz target: every parser of untrusted input the gateway uses, all in `aws-wire`
//! (SigV4 headers and query strings, forms, percent/base64/hex, JWTs and JWKS, XML and
//! STS answers). Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    aws_wire::fuzzing::fuzz_parsers(data);
});
