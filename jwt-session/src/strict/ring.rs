//! Verification keys, prepared once per key set.

use std::collections::HashMap;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::DecodeSliceError;
use base64::Engine as _;

use super::paseto::PasetoKey;
use super::Rejected;
use crate::jwk::{KeyMaterial, Verifier};
use crate::{Alg, Jwk, JwkSet};

/// A verification key with its pinned algorithm, parsed once when the key set loads
/// ([`crate::jwk::Verifier`]; a test checks it agrees with `jsonwebtoken::crypto::verify`
/// on valid, tampered and foreign-key tokens of every algorithm).
pub struct VerifyingKey {
    /// The key's id.
    pub kid: String,
    /// The one algorithm it verifies.
    pub alg: Alg,
    /// The JWT signature check (every algorithm but `v4.public`).
    verifier: Option<Verifier>,
    /// The PASETO key (`v4.public` only).
    paseto: Option<PasetoKey>,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// Longest signature accepted: RSA with an 8192-bit modulus.
const MAX_SIGNATURE_BYTES: usize = 1024;

impl VerifyingKey {
    /// Prepares the verification key of a validated JWK (`None` if aws-lc-rs refuses it).
    pub fn new(jwk: &Jwk) -> Option<VerifyingKey> {
        let (verifier, paseto) = match (&jwk.material, jwk.alg) {
            (KeyMaterial::Okp { x, .. }, Alg::V4Public) => {
                let key = PasetoKey::from_public(x).filter(|k| k.kid == jwk.kid)?;
                (None, Some(key))
            }
            (_, Alg::V4Public) => return None,
            _ => (Some(jwk.verifier().ok()?), None),
        };
        Some(VerifyingKey {
            kid: jwk.kid.clone(),
            alg: jwk.alg,
            verifier,
            paseto,
        })
    }

    /// The PASETO key, for a `v4.public` key only.
    pub fn paseto(&self) -> Option<&PasetoKey> {
        self.paseto.as_ref()
    }

    /// Checks `signature` (base64url, as in the token) over `message`. `Err(Malformed)` when
    /// the signature is not base64url, `Err(BadSig)` when it does not verify.
    pub fn verify_signature(&self, message: &[u8], signature: &str) -> Result<(), Rejected> {
        let mut buf = [0u8; MAX_SIGNATURE_BYTES];
        let len = match URL_SAFE_NO_PAD.decode_slice(signature, &mut buf) {
            Ok(len) => len,
            Err(DecodeSliceError::OutputSliceTooSmall) => return Err(Rejected::BadSig),
            Err(DecodeSliceError::DecodeError(_)) => return Err(Rejected::Malformed),
        };
        let sig = buf.get(..len).ok_or(Rejected::BadSig)?;
        // A PASETO key never verifies a JWT.
        let verifier = self.verifier.as_ref().ok_or(Rejected::BadAlg)?;
        if verifier.verify(message, sig) {
            Ok(())
        } else {
            Err(Rejected::BadSig)
        }
    }
}

/// The verification keys, by `kid`.
#[derive(Debug, Default)]
pub struct KeyRing {
    pub(super) keys: HashMap<String, Arc<VerifyingKey>>,
}

impl KeyRing {
    /// Builds the ring from a validated public key set.
    pub fn from_set(set: &JwkSet) -> KeyRing {
        let keys = set
            .keys
            .iter()
            .filter_map(VerifyingKey::new)
            .map(|k| (k.kid.clone(), Arc::new(k)))
            .collect();
        KeyRing { keys }
    }

    /// The key for `kid`.
    pub fn get(&self, kid: &str) -> Option<&Arc<VerifyingKey>> {
        self.keys.get(kid)
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there is no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
