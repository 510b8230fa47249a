//! Plain helpers the library and its binaries both need, with nothing of DCS in them.
//!
//! The binaries are crates of their own that see only the library's public API. Rather than
//! widen that API with helpers a dependent has no use for, each binary compiles these files
//! too (`#[path = "../shared/mod.rs"] mod shared;`): one source, checked by the compiler in
//! every crate that uses it.

pub mod causes;
pub mod file;
pub mod text;

/// Cases per property test: `PROPTEST_CASES` when set (to fuzz longer), else `default`,
/// which keeps `cargo test` within CI's time.
#[cfg(test)]
pub fn proptest_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}
