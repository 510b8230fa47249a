//! Plain helpers the library and its binaries both need, with nothing of DCS in them.
//!
//! The binaries are crates of their own that see only the library's public API. Rather than
//! widen that API with helpers a dependent has no use for, each binary compiles these files
//! too (`#[path = "../common/mod.rs"] mod common;`): one source, checked by the compiler in
//! every crate that uses it.

pub mod causes;
pub mod file;
pub mod text;

/// A property test's settings: `PROPTEST_CASES` cases when set (to fuzz longer), else
/// `default`, which keeps `cargo test` within CI's time.
#[cfg(test)]
pub fn proptest_config(default: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(default),
        ..Default::default()
    }
}
