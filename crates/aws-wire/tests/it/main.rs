//! Integration tests of `aws-wire` (one binary): the SDK's own SigV4 signer as the
//! oracle of our verifier.

mod sigv4_oracle;
