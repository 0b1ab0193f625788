//! Step definitions, one module per area.

pub mod common;
pub mod eso_cluster;
mod eso_find;
mod gcp;
mod gke_web_identity;
mod irsa;
pub mod prove;

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
