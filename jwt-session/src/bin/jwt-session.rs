//! `jwt-session`: generate key sets, print their public part, mint tokens, build cookies.
//!
//! ```text
//! jwt-session keygen --alg EdDSA --out dev-keys.json     # private JWK Set, file mode 0600
//! jwt-session public --keys dev-keys.json                # public JWK Set on stdout
//! jwt-session mint --keys dev-keys.json --iss https://auth.example --aud api --sub alice
//! jwt-session cookie --token "$TOKEN"                    # the Set-Cookie value to send
//! ```

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use jwt_session::cookie::{set_cookie, SameSite, DEFAULT_COOKIE_NAME};
use jwt_session::jwk::{Alg, JwkSet, Visibility};
use jwt_session::keygen::generate;
use jwt_session::mint::{random_token, SessionClaims, SigningKey};
use serde_json::Value;

#[derive(Parser)]
#[command(
    name = "jwt-session",
    version,
    about = "Keys, tokens and cookies for the cookie-JWT authorizer"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a private JWK Set (kid = RFC 7638 thumbprint; random for HMAC keys). The first key signs.
    Keygen {
        /// Algorithm of each key, in order (EdDSA, ES256, ES384, RS256..PS512, HS256..HS512).
        #[arg(long = "alg", default_value = "EdDSA")]
        algs: Vec<String>,
        /// Write to this file (created with mode 0600) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the public JWK Set of a private one.
    Public {
        /// The private JWK Set file.
        #[arg(long)]
        keys: PathBuf,
        /// Also print `oct` (HMAC) keys, which are secrets.
        #[arg(long)]
        include_symmetric: bool,
    },
    /// Mint a token with the first key of a key set (or the key `--kid`).
    Mint(Box<MintArgs>),
    /// Hash a password read from standard input (for the example login's user store).
    HashPassword,
    /// Print the Set-Cookie value that stores a token.
    Cookie {
        /// The token.
        #[arg(long)]
        token: String,
        /// Cookie name.
        #[arg(long, default_value = DEFAULT_COOKIE_NAME)]
        name: String,
        /// SameSite: Strict or Lax.
        #[arg(long, default_value = "Strict")]
        same_site: String,
        /// Max-Age in seconds (default: until the token's `exp`).
        #[arg(long)]
        max_age: Option<u64>,
    },
}

#[derive(clap::Args)]
struct MintArgs {
    /// The private JWK Set file.
    #[arg(long)]
    keys: PathBuf,
    /// Key to sign with (default: the first).
    #[arg(long)]
    kid: Option<String>,
    /// `iss`.
    #[arg(long)]
    iss: String,
    /// `aud`.
    #[arg(long)]
    aud: String,
    /// `sub`.
    #[arg(long)]
    sub: String,
    /// Lifetime in seconds (`exp` = now + this).
    #[arg(long, default_value_t = 900)]
    ttl: u64,
    /// Pretend the token is issued at this offset from now (seconds, may be negative).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    issued_offset: i64,
    /// `csrf` claim (default: random; `-` for none).
    #[arg(long)]
    csrf: Option<String>,
    /// `jti` claim (default: random).
    #[arg(long)]
    jti: Option<String>,
    /// `scope` claim.
    #[arg(long)]
    scope: Option<String>,
    /// Header `typ`.
    #[arg(long, default_value = "JWT")]
    typ: String,
    /// Set or override a claim: NAME=JSON (e.g. exp=1 or aud='["a","b"]').
    #[arg(long = "set", value_name = "NAME=JSON")]
    set: Vec<String>,
    /// Remove a claim.
    #[arg(long = "unset", value_name = "NAME")]
    unset: Vec<String>,
    /// Print `{"token", "csrf", "set_cookie"}` as JSON instead of the bare token.
    #[arg(long)]
    json: bool,
    /// Cookie name for `--json`.
    #[arg(long, default_value = DEFAULT_COOKIE_NAME)]
    cookie_name: String,
}

fn read_keys(path: &PathBuf) -> Result<JwkSet, String> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
    );
    JwkSet::parse(&text, Visibility::Private).map_err(|e| e.to_string())
}

/// `exp` of a token, read without verification (only to size the cookie).
fn token_exp(token: &str) -> Option<u64> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice::<Value>(&bytes)
        .ok()?
        .get("exp")?
        .as_u64()
}

fn run(cli: Cli) -> Result<String, String> {
    match cli.command {
        Command::Keygen { algs, out } => {
            let mut set = JwkSet::default();
            for name in &algs {
                let alg: Alg = name
                    .parse()
                    .map_err(|_| format!("unsupported algorithm `{name}`"))?;
                set.push(generate(alg).map_err(|e| e.to_string())?)
                    .map_err(|e| e.to_string())?;
            }
            let text = zeroize::Zeroizing::new(
                serde_json::to_string_pretty(&set).map_err(|e| e.to_string())?,
            );
            match out {
                None => Ok(text.to_string()),
                Some(path) => {
                    let mut f = open_private(&path)
                        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                    f.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
                    let kids: Vec<&str> = set.keys.iter().map(|k| k.kid.as_str()).collect();
                    Ok(format!(
                        "wrote {} key(s) to {}: {}",
                        kids.len(),
                        path.display(),
                        kids.join(", ")
                    ))
                }
            }
        }
        Command::Public {
            keys,
            include_symmetric,
        } => {
            let set = read_keys(&keys)?;
            serde_json::to_string_pretty(&set.to_public(include_symmetric))
                .map_err(|e| e.to_string())
        }
        Command::Mint(args) => {
            let MintArgs {
                keys,
                kid,
                iss,
                aud,
                sub,
                ttl,
                issued_offset,
                csrf,
                jti,
                scope,
                typ,
                set,
                unset,
                json,
                cookie_name,
            } = *args;
            let keyset = read_keys(&keys)?;
            let jwk = match &kid {
                Some(k) => keyset
                    .get(k)
                    .ok_or_else(|| format!("no key with kid `{k}`"))?,
                None => keyset.keys.first().ok_or("empty key set")?,
            };
            let signer = SigningKey::from_jwk(jwk).map_err(|e| e.to_string())?;
            let csrf = match csrf.as_deref() {
                Some("-") => None,
                Some(c) => Some(c.to_owned()),
                None => Some(random_token(16).map_err(|e| e.to_string())?),
            };
            let jti = match jti {
                Some(j) => j,
                None => random_token(16).map_err(|e| e.to_string())?,
            };
            let issued_at = jwt_session::unix_now().saturating_add_signed(issued_offset);
            let claims = SessionClaims {
                issuer: &iss,
                audience: &aud,
                subject: &sub,
                issued_at,
                lifetime: ttl,
                jti: Some(&jti),
                csrf: csrf.as_deref(),
                scope: scope.as_deref(),
            };
            let mut map = claims.to_map();
            for item in &set {
                let (name, value) = item
                    .split_once('=')
                    .ok_or_else(|| format!("--set {item}: expected NAME=JSON"))?;
                let value: Value =
                    serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
                map.insert(name.to_owned(), value);
            }
            for name in &unset {
                map.remove(name);
            }
            let typ = (!typ.is_empty()).then_some(typ.as_str());
            let token = signer.mint(&map, typ).map_err(|e| e.to_string())?;
            if !json {
                return Ok(token.expose().to_owned());
            }
            let max_age = map
                .get("exp")
                .and_then(Value::as_u64)
                .unwrap_or(0)
                .saturating_sub(jwt_session::unix_now());
            let cookie = set_cookie(&cookie_name, token.expose(), max_age, SameSite::Strict)
                .map_err(|e| e.to_string())?;
            Ok(serde_json::json!({"token": token.expose(), "csrf": csrf, "kid": signer.kid(), "set_cookie": cookie}).to_string())
        }
        Command::HashPassword => {
            let mut line = zeroize::Zeroizing::new(String::new());
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| e.to_string())?;
            jwt_session::password::hash(line.trim_end_matches(['\n', '\r']))
                .map_err(|e| e.to_string())
        }
        Command::Cookie {
            token,
            name,
            same_site,
            max_age,
        } => {
            let same_site: SameSite = same_site
                .parse()
                .map_err(|e: jwt_session::Error| e.to_string())?;
            let max_age = match max_age {
                Some(m) => m,
                None => token_exp(&token)
                    .ok_or("the token has no readable `exp`; pass --max-age")?
                    .saturating_sub(jwt_session::unix_now()),
            };
            set_cookie(&name, &token, max_age, same_site).map_err(|e| e.to_string())
        }
    }
}

#[cfg(unix)]
fn open_private(path: &PathBuf) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &PathBuf) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("jwt-session: {e}");
            ExitCode::FAILURE
        }
    }
}
