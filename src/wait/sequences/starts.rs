//! Random faults on an operation's start, for the "never twice" property tests.

use crate::sim::{Fault, StartFault};
use proptest::prelude::*;

/// A fault on the start, on one or two of the first five starts. An answer that proves
/// nothing started (`truthful`: busy, 429, refused) never comes after a start: that would be
/// a server that lies, which no client can undo. Every answer that proves nothing may come
/// before or after one.
pub(super) fn start_fault(
    truthful: impl Strategy<Value = Fault> + 'static,
) -> impl Strategy<Value = StartFault> {
    let truthful = truthful.prop_map(|fault| (fault, false));
    let inconclusive = (
        prop_oneof![
            Just(Fault::Drop),
            Just(Fault::server_error(502)),
            Just(Fault::Html {
                http_status: 504,
                title: None
            }),
            (0u64..30_000).prop_map(|ms| Fault::Stall { ms: Some(ms) }),
            Just(Fault::Empty),
        ],
        any::<bool>(),
    );
    (
        proptest::collection::vec(1u32..6, 1..3),
        prop_oneof![truthful, inconclusive],
    )
        .prop_map(|(requests, (fault, started))| StartFault::on(&requests, fault, started))
}
