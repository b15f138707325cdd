//! The sign-in flow cookie (`signin`): any value, opened with a fixed key, never panics and
//! never opens unless it was sealed with that key; a sealed flow opens to what was sealed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signin::{FlowKey, FlowState};

const NOW: u64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    // A fixed key (the fuzzer cannot forge an AES-GCM tag, so nothing it writes may open).
    let key = FlowKey::new(1, &[7u8; 32]).expect("a 32-byte key");
    let value = String::from_utf8_lossy(data);
    assert!(
        FlowState::open(Some(&value), std::slice::from_ref(&key), NOW).is_err(),
        "a value the fuzzer wrote opened"
    );
    // Its bytes as a return path: a flow sealed with it opens to a path of this site.
    let flow = FlowState::start("p", &value, NOW).expect("a flow");
    let cookie = flow.set_cookie(&key).expect("sealed");
    let sealed = cookie
        .strip_prefix("__Host-oidc-flow=")
        .and_then(|c| c.split(';').next())
        .expect("a cookie value");
    let opened = FlowState::open(Some(sealed), std::slice::from_ref(&key), NOW).expect("opens");
    assert!(opened.return_to.starts_with('/') && !opened.return_to.starts_with("//"));
    assert_eq!(opened, flow);
});
