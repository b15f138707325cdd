//! Key generation with aws-lc-rs. The `kid` of a new key pair is its RFC 7638 thumbprint; a
//! new symmetric key gets a random `kid` (its thumbprint would be a hash of the secret).

use aws_lc_rs::encoding::{AsBigEndian, AsDer};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
use der::Decode as _;

use crate::jwk::{Alg, Jwk, KeyMaterial, RsaPrivate};
use crate::secret::SecretBytes;
use crate::Error;

fn secret(bytes: &[u8]) -> SecretBytes {
    SecretBytes::new(bytes.to_vec())
}

/// Generates a new key for `alg`: Ed25519, P-256/P-384, RSA-2048, or a random HMAC key of the
/// hash's length.
pub fn generate(alg: Alg) -> Result<Jwk, Error> {
    let material = match alg {
        Alg::EdDSA | Alg::V4Public => {
            let pair = Ed25519KeyPair::generate().map_err(|_| Error::KeyGeneration)?;
            let seed = pair
                .seed()
                .and_then(|s| s.as_be_bytes())
                .map_err(|_| Error::KeyGeneration)?;
            KeyMaterial::Okp {
                x: pair.public_key().as_ref().to_vec(),
                d: Some(secret(seed.as_ref())),
            }
        }
        Alg::ES256 | Alg::ES384 => {
            let curve = alg.curve();
            let (crv, size) = (curve.crv, curve.size);
            let pair = EcdsaKeyPair::generate(curve.sign).map_err(|_| Error::KeyGeneration)?;
            let scalar = pair
                .private_key()
                .as_be_bytes()
                .map_err(|_| Error::KeyGeneration)?;
            let point = pair.public_key().as_ref();
            let x = point.get(1..=size).ok_or(Error::KeyGeneration)?;
            let y = point.get(size + 1..=2 * size).ok_or(Error::KeyGeneration)?;
            KeyMaterial::Ec {
                crv,
                x: x.to_vec(),
                y: y.to_vec(),
                d: Some(secret(scalar.as_ref())),
            }
        }
        Alg::HS256 | Alg::HS384 | Alg::HS512 => {
            let mut k = zeroize::Zeroizing::new(vec![0u8; alg.min_hmac_len()]);
            SystemRandom::new()
                .fill(&mut k)
                .map_err(|_| Error::KeyGeneration)?;
            KeyMaterial::Oct { k: secret(&k) }
        }
        _ => rsa_material()?,
    };
    let mut jwk = Jwk {
        kid: String::new(),
        alg,
        material,
    };
    jwk.kid = if alg == Alg::V4Public {
        // A PASETO key's `kid` is its PASERK id (docs/paseto.md).
        match &jwk.material {
            KeyMaterial::Okp { x, .. } => crate::jwk::paserk_id(x).ok_or(Error::KeyGeneration)?,
            _ => return Err(Error::KeyGeneration),
        }
    } else if alg.is_symmetric() {
        // The thumbprint of an `oct` key is a hash of the secret itself: a `kid` (public, in
        // every token header and log line) must not be derived from it. A random id instead.
        random_kid()?
    } else {
        jwk.thumbprint()
    };
    Ok(jwk)
}

/// 32 random bytes, base64url: the `kid` of a new symmetric key.
fn random_kid() -> Result<String, Error> {
    let mut id = [0u8; 32];
    SystemRandom::new()
        .fill(&mut id)
        .map_err(|_| Error::KeyGeneration)?;
    Ok(crate::jwk::b64url(&id))
}

fn rsa_material() -> Result<KeyMaterial, Error> {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| Error::KeyGeneration)?;
    let pkcs8 = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair)
        .map_err(|_| Error::KeyGeneration)?;
    let info =
        pkcs8::PrivateKeyInfoRef::from_der(pkcs8.as_ref()).map_err(|_| Error::KeyGeneration)?;
    let rsa = pkcs1::RsaPrivateKey::<der::asn1::UintRef<'_>>::from_der(info.private_key.as_bytes())
        .map_err(|_| Error::KeyGeneration)?;
    Ok(KeyMaterial::Rsa {
        n: rsa.modulus.as_bytes().to_vec(),
        e: rsa.public_exponent.as_bytes().to_vec(),
        private: Some(Box::new(RsaPrivate {
            d: secret(rsa.private_exponent.as_bytes()),
            p: secret(rsa.prime1.as_bytes()),
            q: secret(rsa.prime2.as_bytes()),
            dp: secret(rsa.exponent1.as_bytes()),
            dq: secret(rsa.exponent2.as_bytes()),
            qi: secret(rsa.coefficient.as_bytes()),
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kid_is_the_thumbprint_and_differs_between_keys() {
        let a = generate(Alg::EdDSA).unwrap();
        let b = generate(Alg::EdDSA).unwrap();
        assert_eq!(a.kid, a.thumbprint());
        assert_ne!(a.kid, b.kid);
        assert_eq!(a.kid.len(), 43);
    }

    #[test]
    fn a_symmetric_keys_kid_is_not_derived_from_the_secret() {
        let k = generate(Alg::HS256).unwrap();
        assert_ne!(k.kid, k.thumbprint());
        assert_eq!(k.kid.len(), 43);
        assert!(crate::jwk::is_valid_kid(&k.kid));
    }

    #[test]
    fn hmac_keys_have_the_hash_length() {
        for (alg, len) in [(Alg::HS256, 32), (Alg::HS384, 48), (Alg::HS512, 64)] {
            let KeyMaterial::Oct { k } = generate(alg).unwrap().material else {
                panic!("not oct");
            };
            assert_eq!(k.expose().len(), len);
        }
    }
}
