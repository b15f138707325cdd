//! Token parsing and validation with a fixed key set: arbitrary token text, and mutations of
//! valid tokens (the input's first byte picks a token, the rest is spliced into it).
#![no_main]

#[path = "common.rs"]
mod common;

use authorizer::internal::strict::{inspect, verify};
use libfuzzer_sys::fuzz_target;

fn check(token: &str) {
    let f = common::fixture();
    if let Ok(header) = inspect(token, &f.cfg.token) {
        if let Some(key) = f.ring.get(&header.kid) {
            let _ = verify(token, &header, key, &f.cfg.token, common::NOW);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check(&String::from_utf8_lossy(data));
    let f = common::fixture();
    if let Some((first, rest)) = data.split_first() {
        let base = &f.tokens[usize::from(*first) % f.tokens.len()];
        let at = rest.first().map_or(0, |b| usize::from(*b)) % (base.len() + 1);
        let mut t = base.as_bytes()[..at].to_vec();
        t.extend_from_slice(rest.get(1..).unwrap_or_default());
        if at < base.len() {
            t.extend_from_slice(&base.as_bytes()[at..]);
        }
        check(&String::from_utf8_lossy(&t));
    }
});
