//! The heap the authorizer's revocation set holds for 100,000 active revocations, counted by
//! dhat's allocator (deterministic: bytes, not resident pages). The README quotes the number
//! this prints; the assertion keeps it from growing unnoticed.

use jwt_session::revocation::{Entry, RevocationSet};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

#[test]
fn a_hundred_thousand_revoked_sessions_hold_at_most_40_bytes_each() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let now_ms = 1_800_000_000_000;
    let before = dhat::HeapStats::get().curr_bytes;
    let mut set = RevocationSet::default();
    for i in 0..100_000 {
        // Session ids as the signer makes them: 16 random bytes, base64url, 22 characters.
        let sid = format!("{i:0>22}");
        set.insert(Entry::session(sid, now_ms, 900, 0), now_ms / 1000);
    }
    let after = dhat::HeapStats::get();
    let bytes = after.curr_bytes - before;
    assert_eq!(set.len(), 100_000);
    println!(
        "100,000 revoked sessions: {bytes} bytes of heap in the set ({} per revocation, {} blocks)",
        bytes / 100_000,
        after.curr_blocks
    );
    assert!(bytes <= 40 * 100_000, "{bytes} bytes");
}
