//! Seeded, deterministic data for promptdesk's tests and benchmarks.
