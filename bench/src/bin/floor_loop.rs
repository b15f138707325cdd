//! `floor_loop <keys.json> <token> <count>`: verifies `token` with the first key of the
//! private JWK Set `keys.json`, `count` times, with aws-lc-rs alone (the key parsed once): the
//! floor that `make bench` counts instructions against (see `tests/src/bin/instructions.rs`).

use authorizer_bench::floor;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let keys = std::fs::read_to_string(&args[1]).expect("keys file");
    let set = jwt_session::JwkSet::parse(&keys, jwt_session::Visibility::Private).expect("key set");
    let count: usize = args[3].parse().expect("count");
    let check = floor::floor(&set.keys[0], &args[2]);
    let ok = (0..count).filter(|_| std::hint::black_box(check())).count();
    assert_eq!(ok, count, "every verification succeeds");
}
