//! Integration tests of `templates` (one binary): golden examples, ESO manifests against
//! the vendored CRDs, generated IAM policies through `iam`, atomic output.

mod eso_crds;
mod golden;
mod iam_policies;
mod output;
