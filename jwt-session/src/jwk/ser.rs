//! Serialising keys and sets (private members only where they exist).

#[allow(unused_imports)]
use super::*;

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
                m.serialize_entry("x", x)?;
                if let Some(d) = d {
                    m.serialize_entry("d", d)?;
                }
            }
            KeyMaterial::Ec { crv, x, y, d } => {
                m.serialize_entry("crv", crv)?;
                m.serialize_entry("x", x)?;
                m.serialize_entry("y", y)?;
                if let Some(d) = d {
                    m.serialize_entry("d", d)?;
                }
            }
            KeyMaterial::Rsa { n, e, private } => {
                m.serialize_entry("n", n)?;
                m.serialize_entry("e", e)?;
                if let Some(p) = private {
                    m.serialize_entry("d", &p.d)?;
                    m.serialize_entry("p", &p.p)?;
                    m.serialize_entry("q", &p.q)?;
                    m.serialize_entry("dp", &p.dp)?;
                    m.serialize_entry("dq", &p.dq)?;
                    m.serialize_entry("qi", &p.qi)?;
                }
            }
            KeyMaterial::Oct { k } => m.serialize_entry("k", k)?,
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
