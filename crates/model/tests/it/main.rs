//! Integration tests of `model` (one binary): bad input gets an error naming the field and
//! the fix; the `web-identity` setup.

mod bad_input;
mod web_identity;
