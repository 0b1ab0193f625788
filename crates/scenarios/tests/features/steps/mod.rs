//! Step definitions, one module per area.

mod common;
mod oidc;
mod role_arn;
mod smoke;
mod static_credentials;

/// A value that must never be printed (secret values): `Debug` hides it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Hidden(pub String);

impl std::fmt::Debug for Hidden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<hidden>")
    }
}
