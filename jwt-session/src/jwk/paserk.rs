//! The PASERK id (`k4.pid.…`) of a v4.public key: what binds a PASETO key to its `kid`
//! (the `kid` is computed, never chosen).

use pasetors::keys::AsymmetricPublicKey;
use pasetors::paserk::{FormatAsPaserk, Id};
use pasetors::version4::V4;

/// The PASERK id of a 32-byte Ed25519 public key, if it is one.
pub fn paserk_id(public: &[u8]) -> Option<String> {
    let key = AsymmetricPublicKey::<V4>::from(public).ok()?;
    let mut out = String::new();
    Id::from(&key).fmt(&mut out).ok()?;
    Some(out)
}
