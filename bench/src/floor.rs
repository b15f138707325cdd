//! The floor of a decision: the token's signature verified with aws-lc-rs alone, the key
//! parsed once. Shared by the criterion benchmark (`benches/decision.rs`) and the instruction
//! count (`src/bin/floor_loop.rs`), so both measure the same thing.

use aws_lc_rs::signature::{
    ParsedPublicKey, ECDSA_P256_SHA256_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jwt_session::jwk::KeyMaterial;
use jwt_session::Jwk;

/// The floor: verify the token's signature with aws-lc-rs alone, key parsed once.
pub fn floor(jwk: &Jwk, token: &str) -> Box<dyn Fn() -> bool> {
    let (input, sig) = token.rsplit_once('.').expect("token");
    let input = input.as_bytes().to_vec();
    let sig = URL_SAFE_NO_PAD.decode(sig).expect("sig");
    match &jwk.material {
        KeyMaterial::Okp { x, .. } => {
            let key = ParsedPublicKey::new(&ED25519, x).expect("key");
            Box::new(move || key.verify_sig(&input, &sig).is_ok())
        }
        KeyMaterial::Ec { x, y, .. } => {
            let mut point = vec![4];
            point.extend_from_slice(x);
            point.extend_from_slice(y);
            let key = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).expect("key");
            Box::new(move || key.verify_sig(&input, &sig).is_ok())
        }
        KeyMaterial::Rsa { n, e, .. } => {
            let pkcs1 = pkcs1::RsaPublicKey {
                modulus: der::asn1::UintRef::new(n).expect("n"),
                public_exponent: der::asn1::UintRef::new(e).expect("e"),
            };
            let der = der::Encode::to_der(&pkcs1).expect("der");
            let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der).expect("key");
            Box::new(move || key.verify_sig(&input, &sig).is_ok())
        }
        KeyMaterial::Oct { k } => {
            let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, k.expose());
            Box::new(move || aws_lc_rs::hmac::verify(&key, &input, &sig).is_ok())
        }
    }
}
