//! Key sets: parsing, lookup by `kid`, merging versions, the public view.

#[allow(unused_imports)]
use super::*;

impl JwkSet {
    /// Parses `{"keys": [...]}` text. Every key is validated; `kid`s must be unique.
    pub fn parse(text: &str, visibility: Visibility) -> Result<JwkSet, KeySetError> {
        let value: Value = serde_json::from_str(text).map_err(|e| KeySetError::NotJson {
            line: e.line(),
            column: e.column(),
        })?;
        Self::from_value(&value, visibility)
    }

    /// Parses an already decoded `{"keys": [...]}` document.
    pub fn from_value(value: &Value, visibility: Visibility) -> Result<JwkSet, KeySetError> {
        let keys = value
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(KeySetError::NotAKeySet)?;
        let mut set = JwkSet::default();
        for (index, key) in keys.iter().enumerate() {
            let jwk = Jwk::from_value(key, visibility).map_err(|problem| KeyError {
                kid: describe_kid(key, index),
                problem,
            })?;
            set.push(jwk)?;
        }
        if set.keys.is_empty() {
            return Err(KeySetError::Empty);
        }
        Ok(set)
    }

    /// Adds a key, refusing a duplicate `kid`.
    pub fn push(&mut self, jwk: Jwk) -> Result<(), KeyError> {
        if self.get(&jwk.kid).is_some() {
            return Err(KeyError {
                kid: jwk.kid,
                problem: KeyProblem::DuplicateKid,
            });
        }
        self.keys.push(jwk);
        Ok(())
    }

    /// The key with this `kid`.
    pub fn get(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// Joins the keys of several versions (`AWSCURRENT` first). A key carried over from one
    /// version to the next (same `kid`, same `alg`, same public key) is kept once; the same
    /// `kid` naming a different key is refused.
    pub fn merge<'a>(sets: impl IntoIterator<Item = &'a JwkSet>) -> Result<JwkSet, KeyError> {
        let mut out = JwkSet::default();
        for set in sets {
            for key in &set.keys {
                match out.get(&key.kid) {
                    None => out.keys.push(key.clone()),
                    Some(seen) if seen.alg == key.alg && seen.thumbprint() == key.thumbprint() => {}
                    Some(_) => {
                        return Err(KeyError {
                            kid: key.kid.clone(),
                            problem: KeyProblem::DuplicateKid,
                        })
                    }
                }
            }
        }
        Ok(out)
    }

    /// The public set to hand to verifiers: private members removed; `oct` keys kept only when
    /// `include_symmetric` (they are secrets, and leave secrets-fn only when opted in).
    pub fn to_public(&self, include_symmetric: bool) -> JwkSet {
        let keys = self
            .keys
            .iter()
            .filter_map(|k| {
                if k.alg.is_symmetric() {
                    include_symmetric.then(|| k.clone())
                } else {
                    k.to_public()
                }
            })
            .collect();
        JwkSet { keys }
    }
}

fn describe_kid(key: &Value, index: usize) -> String {
    match key.get("kid").and_then(Value::as_str) {
        Some(kid) if is_valid_kid(kid) => kid.to_owned(),
        _ => format!("#{index} (no valid kid)"),
    }
}
