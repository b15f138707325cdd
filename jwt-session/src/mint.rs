//! Signing: a private JWK turned into a `jsonwebtoken` signing key, and tokens minted with it.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use der::Decode as _;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Map, Value};

use crate::jwk::{ec_point, rsa_key_pair, Alg, Jwk, KeyMaterial};
use crate::secret::SecretString;
use crate::Error;

/// A key that can sign: built once from a private JWK, reused for every token.
pub struct SigningKey {
    kid: String,
    alg: Alg,
    key: Signer,
}

enum Signer {
    /// A JWT key, as `jsonwebtoken` takes it.
    Jwt(EncodingKey),
    /// A PASETO v4.public key: the Ed25519 seed and public key, 64 bytes.
    Paseto(crate::SecretBytes),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Builds the signing key from a validated private JWK.
    pub fn from_jwk(jwk: &Jwk) -> Result<SigningKey, Error> {
        let key = match &jwk.material {
            KeyMaterial::Okp { x, d: Some(d) } if jwk.alg == Alg::V4Public => {
                let mut both = zeroize::Zeroizing::new(d.expose().to_vec());
                both.extend_from_slice(x);
                return Ok(SigningKey {
                    kid: jwk.kid.clone(),
                    alg: jwk.alg,
                    key: Signer::Paseto(crate::SecretBytes::new(both.to_vec())),
                });
            }
            KeyMaterial::Okp { x, d: Some(d) } => {
                let pair = Ed25519KeyPair::from_seed_and_public_key(d.expose(), x)
                    .map_err(|_| Error::NotASigningKey)?;
                let doc = pair.to_pkcs8().map_err(|_| Error::NotASigningKey)?;
                EncodingKey::from_ed_der(doc.as_ref())
            }
            KeyMaterial::Ec {
                x, y, d: Some(d), ..
            } => {
                let pair = EcdsaKeyPair::from_private_key_and_public_key(
                    jwk.alg.curve().sign,
                    d.expose(),
                    &ec_point(x, y),
                )
                .map_err(|_| Error::NotASigningKey)?;
                let doc = pair.to_pkcs8v1().map_err(|_| Error::NotASigningKey)?;
                EncodingKey::from_ec_der(doc.as_ref())
            }
            KeyMaterial::Rsa {
                n,
                e,
                private: Some(private),
            } => {
                let pair = rsa_key_pair(n, e, private).map_err(|_| Error::NotASigningKey)?;
                let pkcs8 =
                    AsDer::<Pkcs8V1Der>::as_der(&pair).map_err(|_| Error::NotASigningKey)?;
                let info = pkcs8::PrivateKeyInfoRef::from_der(pkcs8.as_ref())
                    .map_err(|_| Error::NotASigningKey)?;
                EncodingKey::from_rsa_der(info.private_key.as_bytes())
            }
            KeyMaterial::Oct { k } => {
                EncodingKey::from_secret(k.expose()).map_err(|_| Error::NotASigningKey)?
            }
            _ => return Err(Error::NotASigningKey),
        };
        Ok(SigningKey {
            kid: jwk.kid.clone(),
            alg: jwk.alg,
            key: Signer::Jwt(key),
        })
    }

    /// The key's `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key's algorithm.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// Signs arbitrary bytes (a JWS signing input) and returns the base64url signature. For
    /// tests that must build tokens a JWT library would refuse to build.
    pub fn sign_raw(&self, message: &[u8]) -> Result<String, Error> {
        let (Signer::Jwt(key), Some(alg)) = (&self.key, self.alg.to_jsonwebtoken()) else {
            return Err(Error::NotASigningKey);
        };
        jsonwebtoken::crypto::sign(message, key, alg).map_err(Error::Signing)
    }

    /// Signs `claims` into a compact JWS with header `{"alg", "kid", "typ"}`, or, with a
    /// `v4.public` key, into a PASETO v4.public token (footer `{"kid"}`, `exp`/`nbf`/`iat` as
    /// RFC 3339; `typ` does not apply).
    pub fn mint(
        &self,
        claims: &Map<String, Value>,
        typ: Option<&str>,
    ) -> Result<SecretString, Error> {
        let key = match &self.key {
            Signer::Paseto(secret) => {
                return crate::strict::paseto::sign(secret.expose(), claims)
                    .map(SecretString::new)
                    .map_err(|_| Error::NotASigningKey);
            }
            Signer::Jwt(key) => key,
        };
        let alg = self.alg.to_jsonwebtoken().ok_or(Error::NotASigningKey)?;
        let mut header = Header::new(alg);
        header.kid = Some(self.kid.clone());
        header.typ = typ.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, key)
            .map(SecretString::new)
            .map_err(Error::Signing)
    }
}

/// The registered claims a session token carries, plus `csrf`.
#[derive(Debug, Clone)]
pub struct SessionClaims<'a> {
    /// `iss`.
    pub issuer: &'a str,
    /// `aud` (a single string).
    pub audience: &'a str,
    /// `sub`.
    pub subject: &'a str,
    /// `iat` and `nbf`, seconds since the epoch.
    pub issued_at: u64,
    /// Lifetime in seconds: `exp` = `iat` + this.
    pub lifetime: u64,
    /// `jti`.
    pub jti: Option<&'a str>,
    /// `csrf`: the value the page echoes in the CSRF header on unsafe methods.
    pub csrf: Option<&'a str>,
    /// `scope`, space-separated.
    pub scope: Option<&'a str>,
}

impl SessionClaims<'_> {
    /// The claims as a JSON object, ready for [`SigningKey::mint`].
    pub fn to_map(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("iss".into(), self.issuer.into());
        m.insert("aud".into(), self.audience.into());
        m.insert("sub".into(), self.subject.into());
        m.insert("iat".into(), self.issued_at.into());
        m.insert("nbf".into(), self.issued_at.into());
        m.insert(
            "exp".into(),
            self.issued_at.saturating_add(self.lifetime).into(),
        );
        for (name, value) in [
            ("jti", self.jti),
            ("csrf", self.csrf),
            ("scope", self.scope),
        ] {
            if let Some(v) = value {
                m.insert(name.into(), v.into());
            }
        }
        m
    }
}

/// A random value, base64url, for `jti` and `csrf` claims (`bytes` of entropy).
pub fn random_token(bytes: usize) -> Result<String, Error> {
    use aws_lc_rs::rand::{SecureRandom, SystemRandom};
    let mut buf = vec![0u8; bytes];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| Error::KeyGeneration)?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwk::Alg;
    use crate::keygen::generate;
    use jsonwebtoken::{decode, Validation};

    #[test]
    fn tokens_minted_with_every_algorithm_verify_with_the_public_key() {
        for alg in Alg::ALL {
            let jwk = generate(alg).unwrap();
            let signer = SigningKey::from_jwk(&jwk).unwrap();
            let claims = SessionClaims {
                issuer: "https://issuer.example",
                audience: "api",
                subject: "user-1",
                issued_at: jsonwebtoken::get_current_timestamp(),
                lifetime: 600,
                jti: Some("j1"),
                csrf: Some("c1"),
                scope: None,
            };
            let token = signer.mint(&claims.to_map(), Some("JWT")).unwrap();
            let public = if alg.is_symmetric() {
                jwk.clone()
            } else {
                jwk.to_public().unwrap()
            };
            let mut v = Validation::new(alg.to_jsonwebtoken().unwrap());
            v.set_audience(&["api"]);
            let data = decode::<Value>(token.expose(), &public.decoding_key().unwrap(), &v)
                .unwrap_or_else(|e| panic!("{alg}: {e}"));
            assert_eq!(data.header.kid.as_deref(), Some(jwk.kid.as_str()));
            assert_eq!(data.claims["sub"], "user-1");
        }
    }

    #[test]
    fn a_public_key_cannot_sign() {
        let jwk = generate(Alg::EdDSA).unwrap().to_public().unwrap();
        assert!(matches!(
            SigningKey::from_jwk(&jwk),
            Err(Error::NotASigningKey)
        ));
    }

    #[test]
    fn debug_of_a_signing_key_shows_no_material() {
        let jwk = generate(Alg::HS256).unwrap();
        let KeyMaterial::Oct { k } = &jwk.material else {
            panic!()
        };
        let text = format!("{:?}", SigningKey::from_jwk(&jwk).unwrap());
        assert!(!text.contains(&crate::jwk::b64url(k.expose())));
    }
}
