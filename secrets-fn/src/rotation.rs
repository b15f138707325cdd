//! Key rotation with Secrets Manager's four-step protocol.
//!
//! Secrets Manager calls the rotation function with `Step` = `createSecret`, `setSecret`,
//! `testSecret`, `finishSecret`, the `SecretId` and a `ClientRequestToken` (the id of the new
//! version, which it has already labelled `AWSPENDING`). Every step:
//!
//! - checks that the secret is the one this function is configured for, that rotation is
//!   enabled on it, and that the token names a version of it labelled `AWSPENDING` (a version
//!   already `AWSCURRENT` means the step has nothing left to do);
//! - is safe to repeat;
//! - logs what it did, never key material.
//!
//! `createSecret` puts the new version: a newly generated key of the current signing key's
//! algorithm first (it signs once the version is current; `ROTATION_ALGORITHM` when the secret
//! has no value yet, which is how a new deployment gets its first key), then the current
//! signing key, and
//! the other current keys if the current version is younger than `ROTATION_OVERLAP_SECONDS`
//! (they were retired when it was created). `setSecret` has nothing external to set.
//! `testSecret` signs and verifies a token with the new key and checks that the new version,
//! served together with the current one, passes every rule the serving path applies.
//! `finishSecret` moves `AWSCURRENT` to the new version (Secrets Manager labels the old one
//! `AWSPREVIOUS`) and removes `AWSPENDING`.

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::Client;
use jwt_session::keygen::generate;
use jwt_session::mint::{random_token, SessionClaims, SigningKey};
use jwt_session::strict::{KeyRing, TokenRules};
use jwt_session::wire::{RotationEvent, RotationResponse, RotationResult, RotationStep};
use jwt_session::{JwkSet, Visibility};

use crate::aws::{SdkFailure, Service};
use crate::config::Config;
use crate::error::RotationError;
use crate::read::{get_version, stages};

fn sm<E>(op: &'static str) -> impl FnOnce(SdkError<E>) -> RotationError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |e| RotationError::SecretsManager(SdkFailure::new(Service::SecretsManager, op, e))
}

struct Version {
    set: JwkSet,
    created: Option<i64>,
}

async fn read(
    client: &Client,
    secret_id: &str,
    version_id: Option<&str>,
    stage: &'static str,
) -> Result<Option<Version>, RotationError> {
    let stored = match get_version(client, secret_id, version_id, Some(stage)).await {
        Ok(stored) => stored,
        Err(failure) if failure.not_found => return Ok(None),
        Err(failure) => return Err(RotationError::SecretsManager(failure)),
    };
    // A version without a string value is refused as an empty secret would be (not JSON).
    let set = stored
        .set
        .unwrap_or_else(|| JwkSet::parse("", Visibility::Private))
        .map_err(|e| RotationError::KeySet(stage, e))?;
    Ok(Some(Version {
        set,
        created: stored.created,
    }))
}

fn unix_now() -> i64 {
    i64::try_from(jwt_session::unix_now()).unwrap_or(i64::MAX)
}

/// The rotation action: runs one step, and logs a failed one (`rotation_failed`, which the
/// stack's alarm watches).
pub(crate) async fn handle(
    client: &Client,
    cfg: &Config,
    event: RotationEvent,
) -> Result<RotationResponse, RotationError> {
    let result = rotate(client, cfg, &event).await;
    if let Err(e) = &result {
        let cause = std::error::Error::source(e).map(ToString::to_string);
        tracing::error!(event = "rotation_failed", step = event.step.as_str(), version = %event.client_request_token, code = e.code(), error = %e, cause, "rotation step failed");
    }
    Ok(RotationResponse {
        step: event.step,
        result: result?,
    })
}

/// Runs one rotation step. Returns what it did: `created`, `already_created`, `nothing_to_set`,
/// `tested`, `finished`, `already_current`.
async fn rotate(
    client: &Client,
    cfg: &Config,
    event: &RotationEvent,
) -> Result<RotationResult, RotationError> {
    let token = event.client_request_token.as_str();
    let meta = client
        .describe_secret()
        .secret_id(&event.secret_id)
        .send()
        .await
        .map_err(sm("DescribeSecret"))?;
    // The secret is matched by ARN, never by name: a name is the same in every account and
    // region, an ARN is not. A configured name is resolved to the ARN of the secret it names
    // where this function runs.
    let configured = cfg.secret_id.as_str();
    let ours = if configured.starts_with("arn:") {
        configured.to_owned()
    } else {
        client
            .describe_secret()
            .secret_id(configured)
            .send()
            .await
            .map_err(sm("DescribeSecret"))?
            .arn()
            .unwrap_or_default()
            .to_owned()
    };
    if ours.is_empty() || meta.arn() != Some(ours.as_str()) {
        return Err(RotationError::WrongSecret);
    }
    if meta.rotation_enabled() != Some(true) {
        return Err(RotationError::RotationDisabled);
    }
    let versions = meta.version_ids_to_stages();
    let stages_of = |id: &str| versions.and_then(|m| m.get(id)).cloned();
    let token_stages =
        stages_of(token).ok_or_else(|| RotationError::UnknownVersion(token.to_owned()))?;
    let secret = meta.arn().unwrap_or(configured).to_owned();
    let result = if token_stages.iter().any(|s| s == stages::CURRENT) {
        RotationResult::AlreadyCurrent
    } else if !token_stages.iter().any(|s| s == stages::PENDING) {
        return Err(RotationError::NotPending(token.to_owned()));
    } else {
        match event.step {
            RotationStep::Create => create(client, cfg, &secret, token).await?,
            RotationStep::Set => RotationResult::NothingToSet,
            RotationStep::Test => test(client, &secret, token).await?,
            RotationStep::Finish => {
                // The pending keys are promoted only once they pass testSecret's checks, here
                // and now: a finishSecret whose testSecret never ran (or failed) is refused.
                test(client, &secret, token).await?;
                let current = versions.and_then(|m| {
                    m.iter()
                        .find(|(_, st)| st.iter().any(|s| s == stages::CURRENT))
                        .map(|(id, _)| id.clone())
                });
                finish(client, &secret, token, current.as_deref()).await?
            }
            RotationStep::Unknown => return Err(RotationError::UnknownStep),
        }
    };
    tracing::info!(
        event = "rotation",
        step = event.step.as_str(),
        version = token,
        result = result.as_str(),
        "rotation step done"
    );
    Ok(result)
}

async fn create(
    client: &Client,
    cfg: &Config,
    secret: &str,
    token: &str,
) -> Result<RotationResult, RotationError> {
    if read(client, secret, Some(token), stages::PENDING)
        .await?
        .is_some()
    {
        return Ok(RotationResult::AlreadyCreated);
    }
    let current = read(client, secret, None, stages::CURRENT).await?;
    let alg = current
        .as_ref()
        .and_then(|c| c.set.keys.first())
        .map_or(cfg.rotation_algorithm, |k| k.alg);
    let new_key = generate(alg).map_err(RotationError::KeyGeneration)?;
    let mut next = JwkSet::default();
    let new_kid = new_key.kid.clone();
    next.keys.push(new_key);
    if let Some(current) = &current {
        let overlap = i64::try_from(cfg.rotation_overlap.as_secs()).unwrap_or(i64::MAX);
        let young = current
            .created
            .is_some_and(|c| unix_now().saturating_sub(c) < overlap);
        for (i, key) in current.set.keys.iter().enumerate() {
            if (i == 0 || young) && key.kid != new_kid {
                next.keys.push(key.clone());
            }
        }
    }
    let text = zeroize::Zeroizing::new(
        serde_json::to_string(&next).map_err(|_| RotationError::TestFailed("serialisation"))?,
    );
    client
        .put_secret_value()
        .secret_id(secret)
        .client_request_token(token)
        .secret_string(text.as_str())
        .version_stages(stages::PENDING)
        .send()
        .await
        .map_err(sm("PutSecretValue"))?;
    tracing::info!(
        event = "rotation_key_created",
        version = token,
        new_kid = %new_kid,
        alg = %alg,
        carried = next.keys.len() - 1,
        first_version = current.is_none(),
        "pending version created"
    );
    Ok(RotationResult::Created)
}

async fn test(client: &Client, secret: &str, token: &str) -> Result<RotationResult, RotationError> {
    let pending = read(client, secret, Some(token), stages::PENDING)
        .await?
        .ok_or(RotationError::TestFailed(
            "the pending version has no value",
        ))?;
    let current = read(client, secret, None, stages::CURRENT).await?;
    // Served together after finishSecret: pending as AWSCURRENT, current as AWSPREVIOUS.
    JwkSet::merge(std::iter::once(&pending.set).chain(current.as_ref().map(|c| &c.set))).map_err(
        |_| {
            RotationError::TestFailed(
                "the pending and current versions reuse a kid for different keys",
            )
        },
    )?;
    let key = pending
        .set
        .keys
        .first()
        .ok_or(RotationError::TestFailed("no key"))?;
    let signer = SigningKey::from_jwk(key)
        .map_err(|_| RotationError::TestFailed("the new key cannot sign"))?;
    let jti = random_token(16).map_err(|_| RotationError::TestFailed("random"))?;
    let now = u64::try_from(unix_now()).unwrap_or(0);
    let claims = SessionClaims {
        issuer: "rotation-test",
        audience: "rotation-test",
        subject: "rotation-test",
        issued_at: now,
        lifetime: 60,
        jti: Some(&jti),
        csrf: None,
        scope: None,
    };
    let token_text = signer
        .mint(&claims.to_map(), Some("JWT"))
        .map_err(|_| RotationError::TestFailed("the new key cannot sign"))?;
    // Checked by the project's strict verifier, as the authorizer and the renewal will.
    let policy = TokenRules {
        algorithms: vec![key.alg].into_iter().filter(|a| a.is_jwt()).collect(),
        formats: jwt_session::strict::TokenFormats::of(&[key.alg]),
        ..TokenRules::new("rotation-test", vec!["rotation-test".to_owned()])
    };
    let ring = KeyRing::from_set(&JwkSet {
        keys: vec![key.clone()],
    });
    jwt_session::strict::check(token_text.expose(), &policy, &ring, now)
        .map_err(|_| RotationError::TestFailed("a token signed by the new key does not verify"))?;
    Ok(RotationResult::Tested)
}

async fn finish(
    client: &Client,
    secret: &str,
    token: &str,
    current: Option<&str>,
) -> Result<RotationResult, RotationError> {
    let mut req = client
        .update_secret_version_stage()
        .secret_id(secret)
        .version_stage(stages::CURRENT)
        .move_to_version_id(token);
    if let Some(c) = current {
        req = req.remove_from_version_id(c);
    }
    req.send().await.map_err(sm("UpdateSecretVersionStage"))?;
    client
        .update_secret_version_stage()
        .secret_id(secret)
        .version_stage(stages::PENDING)
        .remove_from_version_id(token)
        .send()
        .await
        .map_err(sm("UpdateSecretVersionStage"))?;
    Ok(RotationResult::Finished)
}
