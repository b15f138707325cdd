//! A key's signature check, prepared once.

#[allow(unused_imports)]
use super::*;

/// A key's signature check, prepared once for many: the aws-lc-rs primitive of its `alg` (the
/// ones `jsonwebtoken`'s `aws_lc_rs` backend calls) with the key already parsed, where
/// `jsonwebtoken::crypto::verify` parses it on every call.
pub struct Verifier {
    check: Check,
}

enum Check {
    Public(ParsedPublicKey),
    Hmac(Box<hmac::Key>),
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.check {
            Check::Public(_) => "Verifier(public key)",
            Check::Hmac(_) => "Verifier(HMAC, redacted)",
        })
    }
}

impl Verifier {
    /// Whether `signature` (raw bytes, JOSE form) signs `message`. HMAC tags are compared in
    /// constant time.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.check {
            Check::Public(key) => key.verify_sig(message, signature).is_ok(),
            Check::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
        }
    }
}

impl Jwk {
    /// The key's signature check for its `alg`, prepared once ([`Verifier`]).
    pub fn verifier(&self) -> Result<Verifier, KeyProblem> {
        let bad = || KeyProblem::InvalidPublicKey;
        let check = match (&self.material, self.alg) {
            (KeyMaterial::Okp { x, .. }, Alg::EdDSA) => {
                Check::Public(ParsedPublicKey::new(&ED25519, x).map_err(|_| bad())?)
            }
            (KeyMaterial::Ec { x, y, .. }, Alg::ES256 | Alg::ES384) => {
                let point = ec_point(x, y);
                Check::Public(
                    ParsedPublicKey::new(self.alg.curve().verify, point).map_err(|_| bad())?,
                )
            }
            (KeyMaterial::Rsa { n, e, .. }, alg) => {
                let params = rsa_params(alg).ok_or_else(bad)?;
                let components = PublicKeyComponents {
                    n: trim_leading_zeros(n),
                    e: trim_leading_zeros(e),
                };
                Check::Public(components.to_parsed_public_key(params).map_err(|_| bad())?)
            }
            (KeyMaterial::Oct { k }, alg) => {
                let mac = match alg {
                    Alg::HS256 => hmac::HMAC_SHA256,
                    Alg::HS384 => hmac::HMAC_SHA384,
                    Alg::HS512 => hmac::HMAC_SHA512,
                    _ => return Err(bad()),
                };
                Check::Hmac(Box::new(hmac::Key::new(mac, k.expose())))
            }
            _ => return Err(bad()),
        };
        Ok(Verifier { check })
    }
}
