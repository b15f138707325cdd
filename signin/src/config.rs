//! `OIDC_PROVIDERS`: the providers a team signs in with (docs/contract.md §9), read once at
//! start-up, every problem reported together.
//!
//! A JSON array; each provider:
//!
//! ```json
//! {"name": "corp", "issuer": "https://login.example.com", "client_id": "orders",
//!  "client_secret_arn": "arn:aws:secretsmanager:…", "scopes": ["openid", "email"],
//!  "claims": {"copy": ["email"], "scopes_from": "groups", "scope_map": {"orders-readers": "orders:read"}}}
//! ```
//!
//! Unknown members are refused (a misspelt setting must not be ignored silently).

use std::collections::BTreeMap;

use jwt_session::config::{Code, Env, Problem};
use jwt_session::SecretString;
use serde::Deserialize;

/// Environment variable names.
pub mod vars {
    /// The providers, a JSON array.
    pub const OIDC_PROVIDERS: &str = "OIDC_PROVIDERS";
}

/// The longest provider name: it becomes part of every session's subject (`<name>:<sub>`).
const MAX_NAME: usize = 32;

/// Where a confidential client's secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientSecret {
    /// In the configuration itself: local development only (a loopback issuer).
    Literal(SecretString),
    /// A Secrets Manager secret the sign-in function alone may read.
    Arn(String),
}

/// Which provider claims become session claims and scopes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimMapping {
    /// Provider claims copied into the session as they are (`email`).
    #[serde(default)]
    pub copy: Vec<String>,
    /// The provider claim whose values become scopes (`groups`), through `scope_map`.
    #[serde(default)]
    pub scopes_from: Option<String>,
    /// Value of `scopes_from` → session scope. Values not listed give no scope.
    #[serde(default)]
    pub scope_map: BTreeMap<String, String>,
}

/// One provider, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// Its name: in `?provider=`, in session subjects (`<name>:<sub>`) and audit records.
    pub name: String,
    /// Its issuer, exactly as discovery must name it.
    pub issuer: String,
    /// Our client id there.
    pub client_id: String,
    /// Our client secret, or where to read it.
    pub client_secret: ClientSecret,
    /// The scopes asked for (`openid` always among them).
    pub scopes: Vec<String>,
    /// Claims and scopes taken into the session.
    pub claims: ClaimMapping,
}

impl Provider {
    /// The session's subject for the provider's `sub`: subjects of different providers never
    /// collide.
    pub fn session_subject(&self, sub: &str) -> String {
        format!("{}:{sub}", self.name)
    }

    /// The session scopes the provider's claims grant (through the claim mapping), sorted,
    /// without repeats.
    pub fn scopes_granted(
        &self,
        claims: &serde_json::Map<String, serde_json::Value>,
    ) -> Vec<String> {
        let Some(claim) = &self.claims.scopes_from else {
            return Vec::new();
        };
        let values: Vec<&str> = match claims.get(claim) {
            Some(serde_json::Value::String(s)) => s.split(' ').collect(),
            Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str()).collect(),
            _ => Vec::new(),
        };
        let mut out: Vec<String> = values
            .into_iter()
            .filter_map(|v| self.claims.scope_map.get(v).cloned())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Every configured provider.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Providers {
    /// In the configured order.
    pub providers: Vec<Provider>,
}

impl Providers {
    /// The provider called `name`.
    pub fn get(&self, name: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.name == name)
    }

    /// Reads `OIDC_PROVIDERS` through `lookup`, every problem reported together.
    pub fn from_lookup<F: Fn(&str) -> Option<String>>(
        lookup: F,
    ) -> Result<Providers, Vec<Problem>> {
        let mut env = Env::new(lookup);
        let providers = read(&mut env);
        let problems = env.into_problems();
        if problems.is_empty() {
            Ok(providers)
        } else {
            Err(problems)
        }
    }
}

/// A provider as written, before its checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: String,
    issuer: String,
    client_id: String,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    client_secret_arn: Option<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    claims: ClaimMapping,
}

fn read<F: Fn(&str) -> Option<String>>(env: &mut Env<F>) -> Providers {
    const VAR: &str = vars::OIDC_PROVIDERS;
    let Some(text) = env.get(VAR) else {
        env.problem(
            VAR,
            Code::Missing,
            "a JSON array of providers (docs/sessions.md)",
        );
        return Providers::default();
    };
    let raws: Vec<Raw> = match serde_json::from_str(&text) {
        Ok(r) => r,
        Err(e) => {
            // serde's message names the member and position, never a value of ours.
            env.problem(
                VAR,
                Code::Invalid,
                format!("not a JSON array of providers: {e}"),
            );
            return Providers::default();
        }
    };
    if raws.is_empty() {
        env.problem(VAR, Code::Invalid, "no provider");
    }
    let mut providers: Vec<Provider> = Vec::new();
    for raw in raws {
        let at = format!("provider {:?}", raw.name);
        let mut bad = |code: Code, hint: String| env.problem(VAR, code, format!("{at}: {hint}"));
        let name_ok = !raw.name.is_empty()
            && raw.name.len() <= MAX_NAME
            && raw
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !name_ok {
            bad(
                Code::Invalid,
                format!("a name is 1 to {MAX_NAME} of a-z, 0-9 and -"),
            );
        }
        if providers.iter().any(|p| p.name == raw.name) {
            bad(Code::Contradictory, "the name is used twice".into());
        }
        let loopback = is_loopback_issuer(&raw.issuer);
        if !(loopback || is_https_issuer(&raw.issuer)) {
            bad(
                Code::Invalid,
                "the issuer must be https://host[/path] (or http://127.0.0.1:port, \
                 http://localhost:port for local development), without query or fragment"
                    .into(),
            );
        }
        if raw.client_id.trim().is_empty() {
            bad(Code::Missing, "client_id is empty".into());
        }
        let secret = match (raw.client_secret, raw.client_secret_arn) {
            (Some(s), None) if loopback && !s.is_empty() => {
                ClientSecret::Literal(SecretString::new(s))
            }
            (Some(_), None) => {
                bad(
                    Code::Contradictory,
                    "client_secret is for a loopback issuer only: put the secret in Secrets \
                     Manager and give client_secret_arn"
                        .into(),
                );
                ClientSecret::Arn(String::new())
            }
            (None, Some(arn)) if arn.starts_with("arn:") && arn.contains(":secretsmanager:") => {
                ClientSecret::Arn(arn)
            }
            (None, Some(_)) => {
                bad(
                    Code::Invalid,
                    "client_secret_arn is not a Secrets Manager ARN".into(),
                );
                ClientSecret::Arn(String::new())
            }
            (Some(_), Some(_)) => {
                bad(
                    Code::Contradictory,
                    "give client_secret or client_secret_arn, not both".into(),
                );
                ClientSecret::Arn(String::new())
            }
            (None, None) => {
                bad(
                    Code::Missing,
                    "client_secret_arn (the client is confidential)".into(),
                );
                ClientSecret::Arn(String::new())
            }
        };
        let scopes = raw.scopes.unwrap_or_else(|| vec!["openid".to_owned()]);
        if !scopes.iter().any(|s| s == "openid") {
            bad(Code::Invalid, "scopes must include openid".into());
        }
        if scopes.iter().any(|s| !is_scope_token(s)) {
            bad(
                Code::Invalid,
                "a scope is empty or holds a space, quote or backslash".into(),
            );
        }
        if raw.claims.scopes_from.is_none() && !raw.claims.scope_map.is_empty() {
            bad(
                Code::Contradictory,
                "claims.scope_map without claims.scopes_from".into(),
            );
        }
        if raw.claims.scope_map.values().any(|s| !is_scope_token(s)) {
            bad(
                Code::Invalid,
                "a scope in claims.scope_map is not a scope token".into(),
            );
        }
        providers.push(Provider {
            name: raw.name,
            issuer: raw.issuer,
            client_id: raw.client_id,
            client_secret: secret,
            scopes,
            claims: raw.claims,
        });
    }
    Providers { providers }
}

/// `https://host[:port][/path]`, no query, fragment or user information.
fn is_https_issuer(issuer: &str) -> bool {
    issuer.strip_prefix("https://").is_some_and(|rest| {
        let host = rest.split('/').next().unwrap_or("");
        !host.is_empty() && !host.contains('@') && !rest.contains(['?', '#', ' '])
    })
}

/// `http://127.0.0.1:<port>` or `http://localhost:<port>` (an optional path), for local
/// development only.
fn is_loopback_issuer(issuer: &str) -> bool {
    let Some(rest) = issuer.strip_prefix("http://") else {
        return false;
    };
    if rest.contains(['?', '#', ' ', '@']) {
        return false;
    }
    let authority = rest.split('/').next().unwrap_or("");
    let Some((host, port)) = authority.rsplit_once(':') else {
        return false;
    };
    matches!(host, "127.0.0.1" | "localhost")
        && !port.is_empty()
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
}

/// A scope token (RFC 6749 §3.3: printable ASCII but space, `"` and `\`).
fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<Providers, Vec<Problem>> {
        Providers::from_lookup(|k| (k == vars::OIDC_PROVIDERS).then(|| json.to_owned()))
    }

    fn hints(r: Result<Providers, Vec<Problem>>) -> String {
        r.err()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_provider_with_its_secret_in_secrets_manager_is_read_with_openid_by_default() {
        let p = read(
            r#"[{"name":"corp","issuer":"https://login.example.com/tenant","client_id":"orders",
                 "client_secret_arn":"arn:aws:secretsmanager:eu-west-1:123456789012:secret:corp"}]"#,
        )
        .unwrap();
        let corp = p.get("corp").unwrap();
        assert_eq!(corp.scopes, ["openid"]);
        assert_eq!(corp.session_subject("alice"), "corp:alice");
        assert!(matches!(corp.client_secret, ClientSecret::Arn(ref a) if a.ends_with(":corp")));
    }

    #[test]
    fn every_problem_of_every_provider_is_reported_together() {
        let h = hints(read(
            r#"[{"name":"Corp!","issuer":"http://login.example.com","client_id":"",
                 "client_secret":"s","scopes":["email"]},
                {"name":"b","issuer":"https://b.example","client_id":"x","client_secret_arn":"nope"}]"#,
        ));
        for want in [
            "a name is 1 to 32",
            "the issuer must be https://",
            "client_id is empty",
            "client_secret is for a loopback issuer only",
            "scopes must include openid",
            "client_secret_arn is not a Secrets Manager ARN",
        ] {
            assert!(h.contains(want), "{want:?} missing from:\n{h}");
        }
        assert!(
            !h.contains("\"s\""),
            "a secret's value never reaches a problem: {h}"
        );
    }

    #[test]
    fn a_literal_client_secret_is_accepted_for_a_loopback_issuer_only() {
        for issuer in ["http://127.0.0.1:8080", "http://localhost:9000/op"] {
            let json = format!(
                r#"[{{"name":"local","issuer":"{issuer}","client_id":"c","client_secret":"dev"}}]"#
            );
            let p = read(&json).unwrap();
            assert!(
                matches!(p.providers[0].client_secret, ClientSecret::Literal(_)),
                "{issuer}"
            );
        }
        for issuer in [
            "http://127.0.0.2:8080",
            "http://localhost",
            "http://localhost:80?x",
            "https://127.0.0.1:8080",
        ] {
            let json = format!(
                r#"[{{"name":"local","issuer":"{issuer}","client_id":"c","client_secret":"dev"}}]"#
            );
            assert!(
                read(&json).is_err(),
                "{issuer} accepted with a literal secret"
            );
        }
    }

    #[test]
    fn unknown_members_duplicate_names_and_an_empty_list_are_refused() {
        assert!(hints(read(r#"[{"name":"a","issuer":"https://a","client_id":"c","client_secret_arn":"arn:aws:secretsmanager:x","scope":["openid"]}]"#)).contains("unknown field"));
        let twice = r#"{"name":"a","issuer":"https://a","client_id":"c","client_secret_arn":"arn:aws:secretsmanager:x"}"#;
        assert!(hints(read(&format!("[{twice},{twice}]"))).contains("used twice"));
        assert!(hints(read("[]")).contains("no provider"));
        assert!(hints(Providers::from_lookup(|_| None)).contains("missing"));
    }

    #[test]
    fn groups_become_scopes_through_the_map_only() {
        let p = read(
            r#"[{"name":"corp","issuer":"https://login.example.com","client_id":"c",
                 "client_secret_arn":"arn:aws:secretsmanager:x",
                 "claims":{"scopes_from":"groups","scope_map":{"readers":"orders:read","admins":"admin"}}}]"#,
        )
        .unwrap();
        let corp = &p.providers[0];
        let claims = serde_json::json!({"groups": ["readers", "other", "readers"]});
        assert_eq!(
            corp.scopes_granted(claims.as_object().unwrap()),
            ["orders:read"]
        );
        let claims = serde_json::json!({"groups": "admins readers"});
        assert_eq!(
            corp.scopes_granted(claims.as_object().unwrap()),
            ["admin", "orders:read"]
        );
        let claims = serde_json::json!({"groups": 7});
        assert!(corp.scopes_granted(claims.as_object().unwrap()).is_empty());
        let bad = r#"[{"name":"c","issuer":"https://c","client_id":"c","client_secret_arn":"arn:aws:secretsmanager:x","claims":{"scope_map":{"a":"b"}}}]"#;
        assert!(hints(read(bad)).contains("scope_map without claims.scopes_from"));
    }
}
