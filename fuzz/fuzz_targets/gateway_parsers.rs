//! Fuzz target: every parser of untrusted input in the gateway (SigV4 headers and
//! query strings, forms, percent/base64/hex, JWTs and JWKS, XML answers). Must never
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    gateway::fuzzing::fuzz_parsers(data);
});
