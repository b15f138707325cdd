//! secrets-fn's configuration: every variable read once, every problem reported together.

use std::time::Duration;

use jwt_session::config::Code;
use jwt_session::revocation::FeedShards;
use jwt_session::wire::GET_KEYS;

use crate::error::Error;
use crate::signer::SignConfig;

/// Environment variable names.
pub mod vars {
    /// Secret name or ARN.
    pub const SECRET_ID: &str = "SECRET_ID";
    /// Cache lifetime of the loaded key set.
    pub const SECRET_CACHE_TTL_SECONDS: &str = "SECRET_CACHE_TTL_SECONDS";
    /// How long the last key set serves while Secrets Manager fails.
    pub const SECRET_MAX_STALE_SECONDS: &str = "SECRET_MAX_STALE_SECONDS";
    /// Serve `oct` keys.
    pub const ALLOW_SYMMETRIC_KEYS: &str = "ALLOW_SYMMETRIC_KEYS";
    /// Which actions this deployment answers.
    pub const SECRETS_FN_ACTIONS: &str = "SECRETS_FN_ACTIONS";
    /// How long a retired signing key is carried into new versions.
    pub const ROTATION_OVERLAP_SECONDS: &str = "ROTATION_OVERLAP_SECONDS";
    /// Algorithm of the first key written into an empty secret.
    pub const ROTATION_ALGORITHM: &str = "ROTATION_ALGORITHM";
    /// `iss` of issued tokens (signing role).
    pub const SIGN_ISSUER: &str = "SIGN_ISSUER";
    /// `aud` of issued tokens (signing role).
    pub const SIGN_AUDIENCE: &str = "SIGN_AUDIENCE";
    /// Lifetime of one issued token.
    pub const SIGN_LIFETIME_SECONDS: &str = "SIGN_LIFETIME_SECONDS";
    /// Absolute session lifetime.
    pub const SESSION_MAX_SECONDS: &str = "SESSION_MAX_SECONDS";
    /// Session cookie name.
    pub const SESSION_COOKIE_NAME: &str = "SESSION_COOKIE_NAME";
    /// Session cookie `SameSite`.
    pub const SESSION_SAME_SITE: &str = "SESSION_SAME_SITE";
    /// Largest accepted size of a caller's claims.
    pub const SIGN_MAX_CLAIMS_BYTES: &str = "SIGN_MAX_CLAIMS_BYTES";
    /// The DynamoDB revocation table (signing role: revoke, and check before renewing).
    pub const REVOCATION_TABLE: &str = "REVOCATION_TABLE";
}

/// One configuration problem.
pub use jwt_session::config::Problem;

/// secrets-fn's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Secret name or ARN.
    pub secret_id: String,
    /// Cache lifetime.
    pub cache_ttl: Duration,
    /// Staleness bound while Secrets Manager fails.
    pub max_stale: Duration,
    /// Serve `oct` keys.
    pub allow_symmetric: bool,
    /// Answer key requests.
    pub serve_keys: bool,
    /// Answer rotation events.
    pub rotate: bool,
    /// How long a retired signing key is carried into new versions.
    pub rotation_overlap: Duration,
    /// Algorithm of the first key written into an empty secret.
    pub rotation_algorithm: jwt_session::Alg,
    /// Signing settings, when this deployment signs.
    pub sign: Option<SignConfig>,
    /// The revocation table, when this signing deployment revokes (and checks renewals).
    pub revocation_table: Option<String>,
    /// The partitions of the revocation feed items are written to (`REVOCATION_SHARDS`; the
    /// authorizers must read at least as many).
    pub revocation_shards: FeedShards,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, Error> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `lookup`; every problem is reported together.
    pub fn from_lookup<F: Fn(&str) -> Option<String>>(lookup: F) -> Result<Config, Error> {
        let mut env = jwt_session::config::Env::new(lookup);
        let secret_id = env.required(vars::SECRET_ID, "set it to the secret's name or ARN");
        let seconds = "must be a whole number of seconds from 0 to 86400";
        let ttl = env.number_or(vars::SECRET_CACHE_TTL_SECONDS, 60, 0, 86_400, seconds);
        let max_stale = env.number_or(vars::SECRET_MAX_STALE_SECONDS, 3_600, 0, 86_400, seconds);
        let overlap = env.number_or(
            vars::ROTATION_OVERLAP_SECONDS,
            86_400,
            0,
            31_536_000,
            "must be a whole number of seconds up to one year",
        );
        let rotation_algorithm = match env.get(vars::ROTATION_ALGORITHM) {
            None => jwt_session::Alg::EdDSA,
            Some(a) => a.parse().unwrap_or_else(|_| {
                env.problem(
                    vars::ROTATION_ALGORITHM,
                    Code::Invalid,
                    "must be one of EdDSA, ES256, ES384, RS256..PS512, HS256..HS512",
                );
                jwt_session::Alg::EdDSA
            }),
        };
        // Default: serve keys only. Rotation writes the secret and signing mints sessions:
        // each must be asked for, on a function whose role allows it.
        let (mut serve_keys, mut rotate, mut sign) = (true, false, false);
        if let Some(list) = env.get(vars::SECRETS_FN_ACTIONS) {
            serve_keys = false;
            rotate = false;
            for action in list.split(',').map(str::trim).filter(|a| !a.is_empty()) {
                match action {
                    GET_KEYS => serve_keys = true,
                    "rotate" => rotate = true,
                    "sign" => sign = true,
                    _ => env.problem(
                        vars::SECRETS_FN_ACTIONS,
                        Code::Invalid,
                        "list `get_keys`, `rotate` and/or `sign`, comma-separated",
                    ),
                }
            }
            if !serve_keys && !rotate && !sign {
                env.problem(
                    vars::SECRETS_FN_ACTIONS,
                    Code::Invalid,
                    "list at least one of `get_keys`, `rotate`, `sign`",
                );
            }
        }
        let sign = if sign {
            let needed = "required when SECRETS_FN_ACTIONS lists `sign`";
            let issuer = env.required(vars::SIGN_ISSUER, needed);
            let audience = env.required(vars::SIGN_AUDIENCE, needed);
            let bounded = "must be a positive whole number within its documented bound";
            let lifetime = env.number_or(vars::SIGN_LIFETIME_SECONDS, 900, 1, 86_400, bounded);
            let session_max =
                env.number_or(vars::SESSION_MAX_SECONDS, 43_200, 1, 2_592_000, bounded);
            let max_claims_bytes =
                env.number_or(vars::SIGN_MAX_CLAIMS_BYTES, 2048, 1, 2048, bounded) as usize;
            let cookie_name = env
                .get(vars::SESSION_COOKIE_NAME)
                .unwrap_or_else(|| jwt_session::cookie::DEFAULT_COOKIE_NAME.to_owned());
            if !jwt_session::cookie::is_valid_cookie_name(&cookie_name) {
                env.problem(
                    vars::SESSION_COOKIE_NAME,
                    Code::Invalid,
                    "must be a cookie name",
                );
            }
            let same_site = match env.get(vars::SESSION_SAME_SITE) {
                None => jwt_session::cookie::SameSite::Strict,
                Some(v) => v.parse().unwrap_or_else(|_| {
                    env.problem(
                        vars::SESSION_SAME_SITE,
                        Code::Invalid,
                        "must be `Strict` or `Lax`",
                    );
                    jwt_session::cookie::SameSite::Strict
                }),
            };
            Some(SignConfig {
                issuer,
                audience,
                lifetime,
                session_max,
                cookie_name,
                same_site,
                max_claims_bytes,
            })
        } else {
            None
        };
        let revocation_table = env.get(vars::REVOCATION_TABLE).filter(|t| !t.is_empty());
        if revocation_table.is_some() && sign.is_none() {
            env.problem(
                vars::REVOCATION_TABLE,
                Code::Contradictory,
                "only the signing deployment revokes: list `sign` in SECRETS_FN_ACTIONS, or unset it",
            );
        }
        let revocation_shards = FeedShards::from_env(&mut env);
        let allow_symmetric = env.flag(vars::ALLOW_SYMMETRIC_KEYS);
        let problems = env.into_problems();
        if !problems.is_empty() {
            return Err(Error::Config(problems));
        }
        Ok(Config {
            secret_id,
            cache_ttl: Duration::from_secs(ttl),
            max_stale: Duration::from_secs(max_stale.max(ttl)),
            allow_symmetric,
            serve_keys,
            rotate,
            rotation_overlap: Duration::from_secs(overlap),
            rotation_algorithm,
            sign,
            revocation_table,
            revocation_shards,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use super::Config;
    use crate::error::Error;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, Error> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn secret_id_is_required_and_defaults_apply() {
        let err = cfg(&[]).unwrap_err();
        assert_eq!(err.code(), "config");
        assert!(err.to_string().contains("SECRET_ID [missing]"));
        let c = cfg(&[("SECRET_ID", "dev/jwt")]).unwrap();
        assert_eq!(c.cache_ttl, Duration::from_secs(60));
        assert!(!c.allow_symmetric);
    }

    #[test]
    fn every_bad_variable_is_reported() {
        let err = cfg(&[
            ("SECRET_CACHE_TTL_SECONDS", "soon"),
            ("ALLOW_SYMMETRIC_KEYS", "yes"),
        ])
        .unwrap_err();
        let text = err.to_string();
        for v in [
            "SECRET_ID",
            "SECRET_CACHE_TTL_SECONDS",
            "ALLOW_SYMMETRIC_KEYS",
        ] {
            assert!(text.contains(v), "{text}");
        }
    }

    #[test]
    fn actions_can_be_restricted_per_deployment() {
        let c = cfg(&[("SECRET_ID", "s"), ("SECRETS_FN_ACTIONS", "get_keys")]).unwrap();
        assert!(c.serve_keys && !c.rotate);
        let c = cfg(&[("SECRET_ID", "s"), ("SECRETS_FN_ACTIONS", "rotate")]).unwrap();
        assert!(!c.serve_keys && c.rotate);
        let c = cfg(&[("SECRET_ID", "s")]).unwrap();
        assert!(
            c.serve_keys && !c.rotate && c.sign.is_none(),
            "by default the key server serves keys only"
        );
        assert!(cfg(&[("SECRET_ID", "s"), ("SECRETS_FN_ACTIONS", "sign")]).is_err());
    }

    #[test]
    fn only_the_signing_deployment_takes_a_revocation_table() {
        let err = cfg(&[("SECRET_ID", "s"), ("REVOCATION_TABLE", "t")]).unwrap_err();
        assert!(
            err.to_string().contains("REVOCATION_TABLE [contradictory]"),
            "{err}"
        );
        let c = cfg(&[
            ("SECRET_ID", "s"),
            ("SECRETS_FN_ACTIONS", "sign"),
            ("SIGN_ISSUER", "i"),
            ("SIGN_AUDIENCE", "a"),
            ("REVOCATION_TABLE", "t"),
        ])
        .unwrap();
        assert_eq!(c.revocation_table.as_deref(), Some("t"));
    }
}
