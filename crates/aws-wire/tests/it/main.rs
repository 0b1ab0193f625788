//! Integration tests of `aws-wire` (one binary): the SDK's own SigV4 signer as the
//! oracle of our verifier, and presigned URLs against fixed references.

mod presigned;
mod sigv4_oracle;
