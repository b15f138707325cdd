//! Keys, tokens and password hashes, made with the `jwt-session` tool.

#[allow(unused_imports)]
use super::*;

/// A PBKDF2 hash of `password` from `jwt-session hash-password` (the password on stdin).
pub fn hash_password(paths: &Paths, password: &str) -> String {
    use std::io::Write as _;
    let mut child = Command::new(paths.bin_dir.join("jwt-session"))
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run jwt-session hash-password");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write the password");
    let out = child.wait_with_output().expect("hash-password output");
    assert!(out.status.success(), "jwt-session hash-password failed");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Runs the `jwt-session` tool; panics with its stderr on failure.
pub fn run_cli(paths: &Paths, args: &[&str]) -> String {
    let out = Command::new(paths.bin_dir.join("jwt-session"))
        .args(args)
        .output()
        .expect("run jwt-session");
    assert!(
        out.status.success(),
        "jwt-session {:?} failed: {}",
        args.first(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A private key set on disk.
#[derive(Debug, Clone)]
pub struct KeyFile {
    /// Its path.
    pub path: PathBuf,
    paths: Paths,
}

/// Generates a key set file with the CLI.
pub fn keygen(paths: &Paths, dir: &Path, file: &str, algs: &[&str]) -> KeyFile {
    let path = dir.join(file);
    let path_s = path.to_string_lossy().into_owned();
    let mut args = vec!["keygen", "--out", path_s.as_str()];
    for a in algs {
        args.extend(["--alg", a]);
    }
    run_cli(paths, &args);
    KeyFile {
        path,
        paths: paths.clone(),
    }
}

impl KeyFile {
    /// The private JWK Set text (for the secret).
    pub fn text(&self) -> String {
        std::fs::read_to_string(&self.path).expect("key file")
    }

    /// The `kid`s, in order.
    pub fn kids(&self) -> Vec<String> {
        let v: Value = serde_json::from_str(&self.text()).expect("json");
        v["keys"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|k| k["kid"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Mints a token with the CLI: `{"token", "csrf", "kid", "set_cookie"}`.
    pub fn mint(&self, extra: &[&str]) -> Minted {
        let path = self.path.to_string_lossy().into_owned();
        let mut args = vec![
            "mint", "--keys", &path, "--iss", ISSUER, "--aud", AUDIENCE, "--sub", "alice", "--json",
        ];
        args.extend_from_slice(extra);
        let v: Value = serde_json::from_str(&run_cli(&self.paths, &args)).expect("mint json");
        Minted {
            token: v["token"].as_str().unwrap_or_default().to_owned(),
            csrf: v["csrf"].as_str().map(str::to_owned),
            kid: v["kid"].as_str().unwrap_or_default().to_owned(),
            set_cookie: v["set_cookie"].as_str().unwrap_or_default().to_owned(),
        }
    }
}

/// A minted token.
#[derive(Debug, Clone)]
pub struct Minted {
    /// The compact JWS.
    pub token: String,
    /// Its `csrf` claim.
    pub csrf: Option<String>,
    /// Its `kid`.
    pub kid: String,
    /// The `Set-Cookie` value.
    pub set_cookie: String,
}

impl Minted {
    /// The same token with one character of the payload changed.
    pub fn tampered(&self) -> String {
        let mut parts: Vec<String> = self.token.split('.').map(str::to_owned).collect();
        let payload = &mut parts[1];
        let last = payload.pop().expect("payload");
        payload.push(if last == 'A' { 'B' } else { 'A' });
        parts.join(".")
    }

    /// The signature segment.
    pub fn signature(&self) -> &str {
        self.token.rsplit('.').next().unwrap_or_default()
    }
}
