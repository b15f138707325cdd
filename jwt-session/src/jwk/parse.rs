//! Reading one JWK member by member, with every rule of the contract checked.

#[allow(unused_imports)]
use super::*;

fn bit_len(bytes: &[u8]) -> usize {
    let trimmed = trim_leading_zeros(bytes);
    match trimmed.first() {
        Some(top) => trimmed.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    }
}

pub(crate) const PRIVATE_MEMBERS: [&str; 6] = ["d", "p", "q", "dp", "dq", "qi"];

struct Reader<'a> {
    map: &'a Map<String, Value>,
}

impl<'a> Reader<'a> {
    fn opt_str(&self, name: &'static str) -> Result<Option<&'a str>, KeyProblem> {
        match self.map.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(KeyProblem::BadMember(name)),
        }
    }

    fn req_str(&self, name: &'static str) -> Result<&'a str, KeyProblem> {
        self.opt_str(name)?.ok_or(KeyProblem::MissingMember(name))
    }

    /// A base64url member that must decode to exactly `len` bytes (any length when `None`).
    fn b64_member(&self, name: &'static str, len: Option<usize>) -> Result<Vec<u8>, KeyProblem> {
        let text = self.req_str(name)?;
        let bytes = b64(text).ok_or(KeyProblem::BadMember(name))?;
        if bytes.is_empty() || len.is_some_and(|l| l != bytes.len()) {
            return Err(KeyProblem::BadMember(name));
        }
        Ok(bytes)
    }

    fn secret_member(
        &self,
        name: &'static str,
        len: Option<usize>,
    ) -> Result<Option<SecretBytes>, KeyProblem> {
        let Some(text) = self.opt_str(name)? else {
            return Ok(None);
        };
        let bytes = b64_secret(text).ok_or(KeyProblem::BadMember(name))?;
        if bytes.expose().is_empty() || len.is_some_and(|l| l != bytes.expose().len()) {
            return Err(KeyProblem::BadMember(name));
        }
        Ok(Some(bytes))
    }
}

impl Jwk {
    /// Parses and validates one key. `visibility` says whether private members are required
    /// (the secret) or forbidden (what the authorizer receives; `oct` keys excepted).
    pub fn from_value(value: &Value, visibility: Visibility) -> Result<Jwk, KeyProblem> {
        let map = value.as_object().ok_or(KeyProblem::NotAnObject)?;
        let r = Reader { map };
        let kid = match map.get("kid") {
            None => return Err(KeyProblem::MissingKid),
            Some(Value::String(k)) if is_valid_kid(k) => k.clone(),
            Some(_) => return Err(KeyProblem::BadKid),
        };
        let alg: Alg = match map.get("alg") {
            None => return Err(KeyProblem::MissingAlg),
            Some(Value::String(a)) => a.parse().map_err(|_| KeyProblem::UnsupportedAlg)?,
            Some(_) => return Err(KeyProblem::UnsupportedAlg),
        };
        if r.opt_str("kty").ok().flatten() != Some(alg.kty()) {
            return Err(KeyProblem::KtyMismatch {
                alg,
                expected: alg.kty(),
            });
        }
        match map.get("use") {
            None => {}
            Some(Value::String(u)) if u == "sig" => {}
            Some(_) => return Err(KeyProblem::BadUse),
        }
        let material = match alg {
            Alg::EdDSA | Alg::V4Public => parse_okp(&r, alg)?,
            Alg::ES256 | Alg::ES384 => parse_ec(&r, alg)?,
            Alg::HS256 | Alg::HS384 | Alg::HS512 => parse_oct(&r, alg)?,
            _ => parse_rsa(&r)?,
        };
        let jwk = Jwk { kid, alg, material };
        // A PASETO key is bound to its PASERK id: the `kid` is computed, never chosen.
        if alg == Alg::V4Public {
            let KeyMaterial::Okp { x, .. } = &jwk.material else {
                return Err(KeyProblem::BadKid);
            };
            if super::paserk_id(x).as_deref() != Some(jwk.kid.as_str()) {
                return Err(KeyProblem::BadKid);
            }
        }
        match visibility {
            Visibility::Private if !jwk.has_private() => Err(KeyProblem::MissingPrivateKey),
            Visibility::Public if !alg.is_symmetric() => {
                match PRIVATE_MEMBERS.iter().find(|m| map.contains_key(**m)) {
                    Some(member) => Err(KeyProblem::UnexpectedPrivateMember(member)),
                    None => Ok(jwk),
                }
            }
            _ => Ok(jwk),
        }
    }

    /// Whether the private part (or the shared secret) is present.
    pub fn has_private(&self) -> bool {
        match &self.material {
            KeyMaterial::Okp { d, .. } | KeyMaterial::Ec { d, .. } => d.is_some(),
            KeyMaterial::Rsa { private, .. } => private.is_some(),
            KeyMaterial::Oct { .. } => true,
        }
    }

    /// The same key without its private members. `None` for a symmetric key, which has no
    /// public part.
    pub fn to_public(&self) -> Option<Jwk> {
        let material = match &self.material {
            KeyMaterial::Okp { x, .. } => KeyMaterial::Okp {
                x: x.clone(),
                d: None,
            },
            KeyMaterial::Ec { crv, x, y, .. } => KeyMaterial::Ec {
                crv,
                x: x.clone(),
                y: y.clone(),
                d: None,
            },
            KeyMaterial::Rsa { n, e, .. } => KeyMaterial::Rsa {
                n: n.clone(),
                e: e.clone(),
                private: None,
            },
            KeyMaterial::Oct { .. } => return None,
        };
        Some(Jwk {
            kid: self.kid.clone(),
            alg: self.alg,
            material,
        })
    }

    /// RFC 7638 thumbprint (SHA-256, base64url) of the public part; for `oct` keys, of `k`.
    pub fn thumbprint(&self) -> String {
        let canonical = match &self.material {
            KeyMaterial::Okp { x, .. } => zeroize::Zeroizing::new(format!(
                r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                b64url(x)
            )),
            KeyMaterial::Ec { crv, x, y, .. } => zeroize::Zeroizing::new(format!(
                r#"{{"crv":"{crv}","kty":"EC","x":"{}","y":"{}"}}"#,
                b64url(x),
                b64url(y)
            )),
            KeyMaterial::Rsa { n, e, .. } => zeroize::Zeroizing::new(format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                b64url(e),
                b64url(n)
            )),
            // The canonical form of a secret key holds the secret: wiped once hashed.
            KeyMaterial::Oct { k } => zeroize::Zeroizing::new(format!(
                r#"{{"k":"{}","kty":"oct"}}"#,
                *zeroize::Zeroizing::new(b64url(k.expose()))
            )),
        };
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
        URL_SAFE_NO_PAD.encode(digest.as_ref())
    }

    /// The `jsonwebtoken` verification key.
    pub fn decoding_key(&self) -> Result<jsonwebtoken::DecodingKey, KeyProblem> {
        use jsonwebtoken::DecodingKey;
        let key = match &self.material {
            // The raw public key, the SEC 1 point and the secret, exactly as
            // `from_ed_components`, `from_ec_components` and `from_secret` store them after
            // decoding base64url.
            KeyMaterial::Okp { x, .. } => DecodingKey::from_ed_der(x),
            KeyMaterial::Ec { x, y, .. } => DecodingKey::from_ec_der(&ec_point(x, y)),
            KeyMaterial::Rsa { n, e, .. } => DecodingKey::from_rsa_raw_components(n, e),
            KeyMaterial::Oct { k } => {
                DecodingKey::from_secret(k.expose()).map_err(|_| KeyProblem::BadMember("k"))?
            }
        };
        Ok(key)
    }
}

/// The Ed25519 points of small order (orders 1, 2, 4 and 8), little-endian `y` with the sign
/// bit cleared (libsodium's `ge25519_has_small_order` list; each checked in a test to give the
/// identity when multiplied by 8). Their sign-bit variants are refused too.
pub(crate) const ED25519_SMALL_ORDER: [[u8; 32]; 5] = [
    // y = 0: order 4.
    [0; 32],
    // y = 1, the identity: order 1.
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    // Order 8.
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    // Order 8.
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
    // y = p - 1: order 2.
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
];

/// Whether a 32-byte Ed25519 public key must be refused: a point of small order (a forged
/// signature verifies under it), or a non-canonical encoding (`y ≥ p`, p = 2^255 − 19), which
/// libraries decode differently.
pub(crate) fn is_weak_ed25519(key: &[u8]) -> bool {
    let Ok(mut y) = <[u8; 32]>::try_from(key) else {
        return true;
    };
    y[31] &= 0x7f;
    let non_canonical = y[31] == 0x7f && y[1..31].iter().all(|b| *b == 0xff) && y[0] >= 0xed;
    non_canonical || ED25519_SMALL_ORDER.contains(&y)
}

fn parse_okp(r: &Reader<'_>, alg: Alg) -> Result<KeyMaterial, KeyProblem> {
    if r.opt_str("crv").ok().flatten() != Some("Ed25519") {
        return Err(KeyProblem::CurveMismatch {
            alg,
            expected: "Ed25519",
        });
    }
    let x = r.b64_member("x", Some(32))?;
    if is_weak_ed25519(&x) {
        return Err(KeyProblem::WeakPublicKey);
    }
    ParsedPublicKey::new(&ED25519, &x).map_err(|_| KeyProblem::InvalidPublicKey)?;
    let d = r.secret_member("d", Some(32))?;
    if let Some(d) = &d {
        Ed25519KeyPair::from_seed_and_public_key(d.expose(), &x)
            .map_err(|_| KeyProblem::InconsistentPrivateKey)?;
    }
    Ok(KeyMaterial::Okp { x, d })
}

fn parse_ec(r: &Reader<'_>, alg: Alg) -> Result<KeyMaterial, KeyProblem> {
    let curve = alg.curve();
    let (crv, size) = (curve.crv, curve.size);
    if r.opt_str("crv").ok().flatten() != Some(crv) {
        return Err(KeyProblem::CurveMismatch { alg, expected: crv });
    }
    let x = r.b64_member("x", Some(size))?;
    let y = r.b64_member("y", Some(size))?;
    let point = ec_point(&x, &y);
    ParsedPublicKey::new(curve.verify, &point).map_err(|_| KeyProblem::InvalidPublicKey)?;
    let d = r.secret_member("d", Some(size))?;
    if let Some(d) = &d {
        EcdsaKeyPair::from_private_key_and_public_key(curve.sign, d.expose(), &point)
            .map_err(|_| KeyProblem::InconsistentPrivateKey)?;
    }
    Ok(KeyMaterial::Ec { crv, x, y, d })
}

fn parse_rsa(r: &Reader<'_>) -> Result<KeyMaterial, KeyProblem> {
    let n = r.b64_member("n", None)?;
    let e = r.b64_member("e", None)?;
    let bits = bit_len(&n);
    if bits < 2048 {
        return Err(KeyProblem::RsaTooSmall { bits });
    }
    let e_trimmed = trim_leading_zeros(&e);
    let e_odd = e_trimmed.last().is_some_and(|b| b & 1 == 1);
    if bits > 8192 || !e_odd || bit_len(e_trimmed) < 2 || bit_len(e_trimmed) > 33 {
        return Err(KeyProblem::InvalidPublicKey);
    }
    let present: Vec<&str> = PRIVATE_MEMBERS
        .iter()
        .copied()
        .filter(|m| r.map.contains_key(*m))
        .collect();
    let private = if present.is_empty() {
        None
    } else {
        let get = |name: &'static str| -> Result<SecretBytes, KeyProblem> {
            r.secret_member(name, None)?
                .ok_or(KeyProblem::MissingMember(name))
        };
        let private = RsaPrivate {
            d: get("d")?,
            p: get("p")?,
            q: get("q")?,
            dp: get("dp")?,
            dq: get("dq")?,
            qi: get("qi")?,
        };
        rsa_key_pair(&n, &e, &private)?;
        Some(Box::new(private))
    };
    Ok(KeyMaterial::Rsa { n, e, private })
}

/// Builds (and so validates) the aws-lc RSA key pair from JWK members.
pub(crate) fn rsa_key_pair(
    n: &[u8],
    e: &[u8],
    private: &RsaPrivate,
) -> Result<RsaKeyPair, KeyProblem> {
    let components = KeyPairComponents {
        public_key: PublicKeyComponents {
            n: trim_leading_zeros(n),
            e: trim_leading_zeros(e),
        },
        d: private.d.expose().to_vec(),
        p: private.p.expose().to_vec(),
        q: private.q.expose().to_vec(),
        dP: private.dp.expose().to_vec(),
        dQ: private.dq.expose().to_vec(),
        qInv: private.qi.expose().to_vec(),
    };
    let pair = RsaKeyPair::from_components(&components);
    // The component vectors are private key material: wipe them before they are freed.
    let KeyPairComponents {
        d,
        p,
        q,
        dP,
        dQ,
        qInv,
        ..
    } = components;
    for v in [d, p, q, dP, dQ, qInv] {
        drop(zeroize::Zeroizing::new(v));
    }
    pair.map_err(|_| KeyProblem::InconsistentPrivateKey)
}

fn parse_oct(r: &Reader<'_>, alg: Alg) -> Result<KeyMaterial, KeyProblem> {
    let k = r
        .secret_member("k", None)?
        .ok_or(KeyProblem::MissingMember("k"))?;
    let len = k.expose().len();
    let min = alg.min_hmac_len();
    if len < min {
        return Err(KeyProblem::HmacTooShort { alg, len, min });
    }
    Ok(KeyMaterial::Oct { k })
}
