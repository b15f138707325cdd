//! moto + `cargo lambda watch` + the function binaries, and the Invoke API to reach them.

#[allow(unused_imports)]
use super::*;
use jwt_session::invoke::Invoked;

/// The answer to one Invoke.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    /// The function returned this JSON.
    Ok(Value),
    /// The function returned an error.
    Error {
        /// `errorType`.
        error_type: String,
        /// `errorMessage`.
        message: String,
    },
}

impl Invocation {
    /// Whether this is the `Unauthorized` error API Gateway turns into a 401.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Invocation::Error { message, .. } if message == "Unauthorized")
    }

    /// The `Effect` of an IAM policy answer (`Allow`/`Deny`), if this is one.
    pub fn effect(&self) -> Option<&str> {
        match self {
            Invocation::Ok(v) => v["policyDocument"]["Statement"][0]["Effect"].as_str(),
            Invocation::Error { .. } => None,
        }
    }

    /// The JSON answer; panics on an error.
    pub fn json(&self) -> &Value {
        match self {
            Invocation::Ok(v) => v,
            other => panic!("expected a JSON answer, got {other:?}"),
        }
    }
}

/// What every function needs to reach the local stand-ins of AWS instead of AWS: fake
/// credentials, the region, no instance metadata, and an endpoint for every service a
/// function calls (Secrets Manager and DynamoDB in moto, Lambda in the watch). One list for
/// the harness and for `make watch`, so the two cannot drift apart.
pub fn local_aws_env(moto_port: u16, watch_port: u16) -> Vec<(String, String)> {
    [
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        (
            "AWS_ENDPOINT_URL_SECRETS_MANAGER",
            format!("http://127.0.0.1:{moto_port}"),
        ),
        (
            "AWS_ENDPOINT_URL_DYNAMODB",
            format!("http://127.0.0.1:{moto_port}"),
        ),
        (
            "AWS_ENDPOINT_URL_LAMBDA",
            format!("http://127.0.0.1:{watch_port}"),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The environment every function process gets: nothing inherited but `PATH`,
/// [`local_aws_env`], no AWS configuration files.
pub(crate) fn base_env(moto_port: u16, watch_port: u16) -> Vec<(String, String)> {
    let mut env = local_aws_env(moto_port, watch_port);
    env.extend(
        [
            ("AWS_CONFIG_FILE", "/nonexistent".to_owned()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "1".to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON".to_owned()),
            ("AWS_LAMBDA_LOG_LEVEL", "INFO".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v)),
    );
    env
}

/// moto + `cargo lambda watch` + the functions.
#[derive(Debug)]
pub struct Stack {
    /// Paths used.
    pub paths: Paths,
    /// Scratch folder (logs, key files); removed on drop.
    pub dir: tempfile::TempDir,
    /// moto's port.
    pub moto_port: u16,
    /// The watch's port.
    pub watch_port: u16,
    moto: Option<Service>,
    watch: Service,
    functions: HashMap<String, Service>,
    starts: u32,
    /// Secrets Manager client (against moto).
    pub sm: aws_sdk_secretsmanager::Client,
    /// Lambda client (against the watch), no retries.
    pub lambda: aws_sdk_lambda::Client,
    /// DynamoDB client (against moto).
    pub dynamodb: aws_sdk_dynamodb::Client,
}

impl Stack {
    /// Starts moto and the watch on free ports.
    pub fn start() -> Stack {
        let paths = Paths::discover();
        let dir = tempfile::Builder::new()
            .prefix("jwt-e2e-")
            .tempdir()
            .expect("scratch dir");
        let moto_port = free_port();
        let watch_port = free_port();
        let moto = Self::spawn_moto(&paths, dir.path(), moto_port, 0);
        let mut cmd = Command::new(paths.venv_bin.join("cargo-lambda"));
        cmd.args([
            "lambda",
            "watch",
            "--only-lambda-apis",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            &watch_port.to_string(),
        ])
        .current_dir(&paths.root)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::var_os("HOME").unwrap_or_default())
        .env("CARGO_LAMBDA_NO_UPDATE_CHECK", "1");
        let watch = Service::spawn("cargo-lambda-watch", cmd, dir.path().join("watch.log"));
        assert!(
            wait_for_port(watch_port, Duration::from_secs(60)),
            "cargo lambda watch did not start:\n{}",
            watch.output()
        );
        let sm_conf = aws_sdk_secretsmanager::config::Builder::new()
            .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
            .region(aws_sdk_secretsmanager::config::Region::new(REGION))
            .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
                "testing", "testing", None, None, "e2e",
            ))
            .endpoint_url(format!("http://127.0.0.1:{moto_port}"))
            .build();
        let (retry, timeouts) =
            jwt_session::aws::one_attempt(Duration::from_secs(60), Duration::from_secs(60));
        let lambda_conf = aws_sdk_lambda::config::Builder::new()
            .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
            .region(aws_sdk_lambda::config::Region::new(REGION))
            .credentials_provider(aws_sdk_lambda::config::Credentials::new(
                "testing", "testing", None, None, "e2e",
            ))
            .endpoint_url(format!("http://127.0.0.1:{watch_port}"))
            .retry_config(retry)
            .timeout_config(timeouts)
            .build();
        let dynamodb_conf = aws_sdk_dynamodb::config::Builder::new()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new(REGION))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "testing", "testing", None, None, "e2e",
            ))
            .endpoint_url(format!("http://127.0.0.1:{moto_port}"))
            .build();
        Stack {
            sm: aws_sdk_secretsmanager::Client::from_conf(sm_conf),
            dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb_conf),
            lambda: aws_sdk_lambda::Client::from_conf(lambda_conf),
            paths,
            dir,
            moto_port,
            watch_port,
            moto: Some(moto),
            watch,
            functions: HashMap::new(),
            starts: 0,
        }
    }

    fn spawn_moto(paths: &Paths, dir: &Path, port: u16, n: u32) -> Service {
        let mut cmd = Command::new(paths.venv_bin.join("moto_server"));
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        let moto = Service::spawn("moto", cmd, dir.join(format!("moto-{n}.log")));
        assert!(
            wait_for_port(port, Duration::from_secs(60)),
            "moto did not start:\n{}",
            moto.output()
        );
        moto
    }

    /// What `cargo lambda watch` printed.
    pub fn watch_output(&self) -> String {
        self.watch.output()
    }

    /// Stops moto (Secrets Manager goes down; its data is lost).
    pub fn stop_moto(&mut self) {
        if let Some(mut m) = self.moto.take() {
            m.stop();
        }
    }

    /// Starts moto again on the same port (empty).
    pub fn restart_moto(&mut self) {
        self.stop_moto();
        self.starts += 1;
        self.moto = Some(Self::spawn_moto(
            &self.paths,
            self.dir.path(),
            self.moto_port,
            self.starts,
        ));
    }

    /// Creates the revocation table in moto as the key stack declares it: key `id`, the feed
    /// index (`feed`, `at`), the expiry index (`feed`, `expires_at`), TTL on `expires_at`.
    pub async fn create_revocation_table(&self) {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
            Projection, ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
        };
        use jwt_session::revocation::table;
        let attr = |name: &str, t: ScalarAttributeType| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(t)
                .build()
                .expect("attribute")
        };
        let key = |name: &str, t: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(t)
                .build()
                .expect("key")
        };
        self.dynamodb
            .create_table()
            .table_name(REVOCATION_TABLE)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr(table::ID, ScalarAttributeType::S))
            .attribute_definitions(attr(table::FEED, ScalarAttributeType::S))
            .attribute_definitions(attr(table::AT, ScalarAttributeType::N))
            .attribute_definitions(attr(table::EXPIRES_AT, ScalarAttributeType::N))
            .key_schema(key(table::ID, KeyType::Hash))
            .set_global_secondary_indexes(Some(
                [
                    (table::FEED_INDEX, table::AT),
                    (table::EXPIRY_INDEX, table::EXPIRES_AT),
                ]
                .into_iter()
                .map(|(name, sort)| {
                    GlobalSecondaryIndex::builder()
                        .index_name(name)
                        .key_schema(key(table::FEED, KeyType::Hash))
                        .key_schema(key(sort, KeyType::Range))
                        .projection(
                            Projection::builder()
                                .projection_type(ProjectionType::All)
                                .build(),
                        )
                        .build()
                        .expect("index")
                })
                .collect(),
            ))
            .send()
            .await
            .expect("create the revocation table in moto");
        self.dynamodb
            .update_time_to_live()
            .table_name(REVOCATION_TABLE)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(table::EXPIRES_AT)
                    .enabled(true)
                    .build()
                    .expect("ttl"),
            )
            .send()
            .await
            .expect("enable TTL on the revocation table");
    }

    /// Starts (or restarts) a function binary registered with the watch under `name`.
    pub fn start_function(&mut self, name: &str, binary: &str, env: &[(&str, &str)]) {
        if let Some(mut old) = self.functions.remove(name) {
            old.stop();
        }
        self.starts += 1;
        let mut cmd = Command::new(self.paths.bin_dir.join(binary));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(base_env(self.moto_port, self.watch_port))
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{}/.rt/{name}", self.watch_port),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .envs(env.iter().map(|(k, v)| (*k, *v)));
        let log = self.dir.path().join(format!("{name}-{}.log", self.starts));
        self.functions
            .insert(name.to_owned(), Service::spawn(name, cmd, log));
    }

    /// Stops a function.
    pub fn stop_function(&mut self, name: &str) {
        if let Some(mut f) = self.functions.remove(name) {
            f.stop();
        }
    }

    /// Whether a function process is still running.
    pub fn function_running(&mut self, name: &str) -> bool {
        self.functions
            .get_mut(name)
            .is_some_and(Service::is_running)
    }

    /// Invokes `name` through the Invoke API.
    pub async fn invoke(&self, name: &str, payload: &Value) -> Invocation {
        let body = serde_json::to_vec(payload).expect("json");
        match jwt_session::invoke::invoke(&self.lambda, name, body).await {
            Ok(Invoked::Answer(bytes)) => {
                Invocation::Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
            }
            Ok(Invoked::FunctionError {
                error_type,
                message,
            }) => Invocation::Error {
                error_type,
                message,
            },
            Err(failed) if failed.status.is_some() => Invocation::Error {
                error_type: String::new(),
                message: format!("{failed}: {}", failed.source),
            },
            Err(failed) => panic!("invoke {name} failed without an answer: {failed:?}"),
        }
    }

    /// Every line a function printed since it was (re)started, in order, parsed as JSON
    /// where it is JSON.
    pub fn lines(&self, name: &str) -> Vec<String> {
        self.functions
            .get(name)
            .map(|f| f.output().lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// The audit records a function wrote since it was (re)started.
    pub fn audit(&self, name: &str) -> Vec<Value> {
        self.lines(name)
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["target"] == "audit")
            .collect()
    }

    /// Waits until `name` has written `count` audit records (output is flushed per line but
    /// read from a file).
    pub async fn wait_audit(&self, name: &str, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let records = self.audit(name);
            if records.len() >= count || Instant::now() > deadline {
                return records;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Everything every process printed (for leak checks).
    pub fn all_output(&self) -> String {
        let mut out = String::new();
        for entry in std::fs::read_dir(self.dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if entry.path().extension().is_some_and(|e| e == "log") {
                out.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
        out
    }

    /// Creates the secret with `keys` (a private JWK Set) as its first version.
    pub async fn create_secret(&self, keys: &str) {
        self.sm
            .create_secret()
            .name(SECRET_ID)
            .secret_string(keys)
            .send()
            .await
            .expect("create secret in moto");
    }

    /// Puts a new `AWSCURRENT` version (the old one becomes `AWSPREVIOUS`).
    pub async fn put_secret(&self, keys: &str) {
        self.sm
            .put_secret_value()
            .secret_id(SECRET_ID)
            .secret_string(keys)
            .send()
            .await
            .expect("put secret value in moto");
    }

    /// Runs the `jwt-session` tool.
    pub fn cli(&self, args: &[&str]) -> String {
        run_cli(&self.paths, args)
    }

    /// Generates a private key set into the scratch folder (mode 0600) and returns its path.
    pub fn keygen(&self, file: &str, algs: &[&str]) -> KeyFile {
        keygen(&self.paths, self.dir.path(), file, algs)
    }

    /// A PBKDF2 hash of `password` for the example login's user store.
    pub fn hash_password(&self, password: &str) -> String {
        hash_password(&self.paths, password)
    }

    /// Starts the example login (`login-example`) with `users` as its user store, asking
    /// `secrets-fn` for tokens; `extra` is added to its environment.
    pub fn start_login(&mut self, users: &serde_json::Value, extra: &[(&str, &str)]) {
        let users = users.to_string();
        let mut env = vec![
            ("LOGIN_USERS", users.as_str()),
            ("SIGNER_FUNCTION_NAME", "secrets-fn"),
        ];
        env.extend_from_slice(extra);
        self.start_function("login-example", "login-example", &env);
    }

    /// Starts the local API Gateway in front of the functions registered with the watch;
    /// `env` is added to its environment. Its log is part of [`Stack::all_output`].
    pub fn start_gateway(&self, env: &[(&str, &str)]) -> GatewayProc {
        start_gateway(&self.paths, self.dir.path(), self.watch_port, env)
    }
}

impl Stack {
    /// The process id of a running function.
    pub fn function_pid(&self, name: &str) -> Option<u32> {
        self.functions.get(name).map(Service::pid)
    }

    /// Resident memory of a function process, in KiB (from /proc).
    pub fn function_rss_kib(&self, name: &str) -> Option<u64> {
        let pid = self.function_pid(name)?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    }

    /// Enables rotation on the secret the way Secrets Manager starts one: the version
    /// `token` labelled `AWSPENDING` without a value. (moto then tries to call the rotation
    /// function in its own Lambda backend, which does not exist; that error is expected.)
    pub async fn start_rotation(&self, token: &str) {
        let _ = self
            .sm
            .rotate_secret()
            .secret_id(SECRET_ID)
            .client_request_token(token)
            .rotation_lambda_arn(
                "arn:aws:lambda:us-east-1:123456789012:function:secrets-fn-rotation",
            )
            .rotation_rules(
                aws_sdk_secretsmanager::types::RotationRulesType::builder()
                    .automatically_after_days(30)
                    .build(),
            )
            .send()
            .await;
    }

    /// The version ids labelled with `stage`.
    pub async fn versions_with(&self, stage: &str) -> Vec<String> {
        let d = self
            .sm
            .describe_secret()
            .secret_id(SECRET_ID)
            .send()
            .await
            .expect("describe");
        d.version_ids_to_stages()
            .map(|m| {
                m.iter()
                    .filter(|(_, s)| s.iter().any(|x| x == stage))
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The key set of the version labelled `stage`.
    pub async fn secret_keys(&self, stage: &str) -> Value {
        let out = self
            .sm
            .get_secret_value()
            .secret_id(SECRET_ID)
            .version_stage(stage)
            .send()
            .await
            .expect("get secret value");
        serde_json::from_str(out.secret_string().unwrap_or("null")).expect("json")
    }
}

/// The authorizer configuration used by the demo and most tests.
pub fn authorizer_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("JWT_ISSUER", ISSUER),
        ("JWT_AUDIENCE", AUDIENCE),
        ("KEYS_FUNCTION_NAME", "secrets-fn"),
        ("ALLOWED_ORIGINS", "https://app.local.test"),
    ]
}

/// Revocation on (docs/revocation.md), for the authorizer and the signing secrets-fn alike.
pub fn revocation_env() -> Vec<(&'static str, &'static str)> {
    vec![("REVOCATION_TABLE", REVOCATION_TABLE)]
}

/// The secrets-fn configuration used by the demo and most tests.
pub fn secrets_env() -> Vec<(&'static str, &'static str)> {
    vec![("SECRET_ID", SECRET_ID)]
}
