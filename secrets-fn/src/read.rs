//! Reading the key set from Secrets Manager: the versions `AWSCURRENT` and `AWSPREVIOUS`,
//! validated together, and the public answer built once per load.

use std::fmt;

use aws_sdk_secretsmanager::Client;
use jwt_session::wire::KeysResponse;
use jwt_session::{JwkSet, KeySetError, Visibility};

use crate::aws::{SdkFailure, Service};
use crate::config::Config;
use crate::error::Error;

/// Stage labels of Secrets Manager.
pub mod stages {
    /// The version in use; its first key signs.
    pub const CURRENT: &str = "AWSCURRENT";
    /// The version before the last rotation; its keys still verify.
    pub const PREVIOUS: &str = "AWSPREVIOUS";
    /// A version being rotated in; never trusted for verification.
    pub const PENDING: &str = "AWSPENDING";
}

/// The keys read from the secret, with the answer served from them.
pub struct Loaded {
    /// Private keys: `AWSCURRENT` first, then `AWSPREVIOUS`.
    pub keys: JwkSet,
    /// The public answer, built once per load.
    pub public: KeysResponse,
    /// The versions they came from.
    pub versions: Versions,
}

impl fmt::Debug for Loaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loaded")
            .field("keys", &self.keys.keys.len())
            .finish_non_exhaustive()
    }
}

/// The version ids that hold `AWSCURRENT` and `AWSPREVIOUS`, from `DescribeSecret`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versions {
    /// `AWSCURRENT`.
    pub current: String,
    /// `AWSPREVIOUS`, if any.
    pub previous: Option<String>,
}

/// `DescribeSecret`, reduced to what the serving path needs.
pub(crate) async fn describe_versions(client: &Client, secret_id: &str) -> Result<Versions, Error> {
    let out = client
        .describe_secret()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| Error::SecretsManager {
            stage: stages::CURRENT,
            failure: SdkFailure::new(Service::SecretsManager, "DescribeSecret", e),
        })?;
    let find = |stage: &str| {
        out.version_ids_to_stages().and_then(|m| {
            m.iter()
                .find(|(_, stages)| stages.iter().any(|s| s == stage))
                .map(|(id, _)| id.clone())
        })
    };
    Ok(Versions {
        current: find(stages::CURRENT).ok_or(Error::SecretNotString(stages::CURRENT))?,
        previous: find(stages::PREVIOUS),
    })
}

/// One version of the secret as stored.
pub(crate) struct StoredVersion {
    /// Its key set; `None` when the version has no `SecretString`.
    pub set: Option<Result<JwkSet, KeySetError>>,
    /// When the version was created (seconds since the epoch).
    pub created: Option<i64>,
}

/// `GetSecretValue` of one version, by id, by stage or both: the one place a key set is read
/// from Secrets Manager, for serving and for rotation alike. The secret string is taken out
/// of the answer, so the only copy this function holds is wiped once parsed (a copy would
/// leave the answer's own string behind, unwiped).
pub(crate) async fn get_version(
    client: &Client,
    secret_id: &str,
    version_id: Option<&str>,
    stage: Option<&str>,
) -> Result<StoredVersion, SdkFailure> {
    let mut out = client
        .get_secret_value()
        .secret_id(secret_id)
        .set_version_id(version_id.map(str::to_owned))
        .set_version_stage(stage.map(str::to_owned))
        .send()
        .await
        .map_err(|e| {
            let missing = e
                .as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception());
            let mut failure = SdkFailure::new(Service::SecretsManager, "GetSecretValue", e);
            failure.not_found |= missing;
            failure
        })?;
    let set = out
        .secret_string
        .take()
        .map(zeroize::Zeroizing::new)
        .map(|text| JwkSet::parse(&text, Visibility::Private));
    Ok(StoredVersion {
        set,
        created: out.created_date().map(|d| d.secs()),
    })
}

/// Reads one version's key set by id, for serving.
#[tracing::instrument(skip_all, fields(stage))]
async fn read_version(
    client: &Client,
    secret_id: &str,
    version_id: &str,
    stage: &'static str,
) -> Result<JwkSet, Error> {
    let stored = get_version(client, secret_id, Some(version_id), None)
        .await
        .map_err(|failure| Error::SecretsManager { stage, failure })?;
    stored
        .set
        .ok_or(Error::SecretNotString(stage))?
        .map_err(|source| Error::KeySet { stage, source })
}

/// Loads the two versions and validates them together.
pub(crate) async fn load(
    client: &Client,
    cfg: &Config,
    versions: &Versions,
) -> Result<Loaded, Error> {
    let current = read_version(client, &cfg.secret_id, &versions.current, stages::CURRENT).await?;
    let previous = match &versions.previous {
        Some(id) => Some(read_version(client, &cfg.secret_id, id, stages::PREVIOUS).await?),
        None => None,
    };
    let keys =
        JwkSet::merge(std::iter::once(&current).chain(previous.as_ref())).map_err(Error::Merge)?;
    let answer = KeysResponse {
        keys: keys.to_public(cfg.allow_symmetric),
        cache_ttl_seconds: cfg.cache_ttl.as_secs(),
        // Set per answer, from the cache's last confirmation.
        confirmed_at: None,
        revalidated: false,
    };
    tracing::info!(
        event = "keys_loaded",
        current_version = %versions.current,
        previous_version = versions.previous.as_deref(),
        current = current.keys.len(),
        previous = previous.as_ref().map_or(0, |p| p.keys.len()),
        served = answer.keys.keys.len(),
        signing_kid = current.keys.first().map(|k| k.kid.as_str()),
        "key set loaded from Secrets Manager"
    );
    Ok(Loaded {
        keys,
        public: answer,
        versions: versions.clone(),
    })
}
