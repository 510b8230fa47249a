//! What lies under an error.

use std::error::Error;

/// Every error under `error`, the nearest first. An `io::Error` that wraps another error is
/// opened: its own `source` skips the one it wraps.
pub fn causes<'a>(
    error: &'a (dyn Error + 'static),
) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(
        error.source(),
        |&cause: &&'a (dyn Error + 'static)| match cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn Error + 'static)),
            None => cause.source(),
        },
    )
}

/// `text`, then after `: ` each cause under `error` that does not repeat the one above it
/// (a layer that only says again what it wraps is said once).
pub fn said_with_causes(mut text: String, error: &(dyn Error + 'static)) -> String {
    let mut said = text.clone();
    for cause in causes(error) {
        let next = cause.to_string();
        if !said.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        said = next;
    }
    text
}
