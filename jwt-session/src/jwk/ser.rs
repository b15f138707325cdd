//! Serialising keys and sets (private members only where they exist).

#[allow(unused_imports)]
use super::*;

/// A private member, encoded into a string that is wiped once written.
fn secret(bytes: &SecretBytes) -> zeroize::Zeroizing<String> {
    zeroize::Zeroizing::new(b64url(bytes.expose()))
}

impl Serialize for Jwk {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("kty", self.alg.kty())?;
        m.serialize_entry("kid", &self.kid)?;
        m.serialize_entry("alg", self.alg.as_str())?;
        m.serialize_entry("use", "sig")?;
        match &self.material {
            KeyMaterial::Okp { x, d } => {
                m.serialize_entry("crv", "Ed25519")?;
                m.serialize_entry("x", &b64url(x))?;
                if let Some(d) = d {
                    m.serialize_entry("d", &*secret(d))?;
                }
            }
            KeyMaterial::Ec { crv, x, y, d } => {
                m.serialize_entry("crv", crv)?;
                m.serialize_entry("x", &b64url(x))?;
                m.serialize_entry("y", &b64url(y))?;
                if let Some(d) = d {
                    m.serialize_entry("d", &*secret(d))?;
                }
            }
            KeyMaterial::Rsa { n, e, private } => {
                m.serialize_entry("n", &b64url(n))?;
                m.serialize_entry("e", &b64url(e))?;
                if let Some(p) = private {
                    m.serialize_entry("d", &*secret(&p.d))?;
                    m.serialize_entry("p", &*secret(&p.p))?;
                    m.serialize_entry("q", &*secret(&p.q))?;
                    m.serialize_entry("dp", &*secret(&p.dp))?;
                    m.serialize_entry("dq", &*secret(&p.dq))?;
                    m.serialize_entry("qi", &*secret(&p.qi))?;
                }
            }
            KeyMaterial::Oct { k } => m.serialize_entry("k", &*secret(k))?,
        }
        m.end()
    }
}

impl Serialize for JwkSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(Some(1))?;
        m.serialize_entry("keys", &self.keys)?;
        m.end()
    }
}
