//! The whole handler from raw event bytes: event reading, cookie, token, CSRF, route rules,
//! answer building.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let f = common::fixture();
    let _ = authorizer::internal::handle_offline(data, &f.cfg, common::NOW, &f.ring);
});
