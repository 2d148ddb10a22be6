//! The bench data generator lives in the `promptdesk-testdata` crate; this shim keeps
//! `mod support;` working for benches and examples that still use it.
pub use promptdesk_testdata::*;
