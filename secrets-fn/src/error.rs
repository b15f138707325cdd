//! secrets-fn's errors, with stable codes; none carries key material.

use jwt_session::config::Problem;
use jwt_session::{KeyError, KeySetError};

use crate::aws::SdkFailure;
use crate::signer::SignError;

/// secrets-fn's errors. None carries key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad configuration (every problem listed).
    #[error("invalid configuration: {}", describe(.0))]
    Config(Vec<Problem>),
    /// An event this function does not handle.
    #[error("unsupported event: expected {{\"action\": \"get_keys\"}} or a Secrets Manager rotation event ({{\"Step\", \"SecretId\", \"ClientRequestToken\"}})")]
    UnsupportedEvent,
    /// An action this deployment is not configured to answer.
    #[error("this function does not answer `{0}` (SECRETS_FN_ACTIONS)")]
    ActionNotAllowed(&'static str),
    /// A Secrets Manager call failed.
    #[error("reading stage {stage}: {failure}")]
    SecretsManager {
        /// The version stage asked for.
        stage: &'static str,
        /// The call, whether it may succeed later, and the SDK error.
        #[source]
        failure: SdkFailure,
    },
    /// The version has no `SecretString` (binary secrets are not supported).
    #[error("the {0} version has no SecretString")]
    SecretNotString(&'static str),
    /// The key set of a version was refused.
    #[error("the {stage} version was refused: {source}")]
    KeySet {
        /// The version stage.
        stage: &'static str,
        /// Why.
        #[source]
        source: KeySetError,
    },
    /// The two versions share a `kid`.
    #[error("the key sets of AWSCURRENT and AWSPREVIOUS were refused: {0}")]
    Merge(#[source] KeyError),
    /// A rotation step was refused.
    #[error(transparent)]
    Rotation(#[from] RotationError),
    /// A signing request was refused.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// A revocation was asked of a deployment without `REVOCATION_TABLE`.
    #[error("revocation is off: set REVOCATION_TABLE on the signing deployment")]
    RevocationOff,
    /// A call to the revocation table failed.
    #[error(transparent)]
    RevocationStore(SdkFailure),
}

impl Error {
    /// A signing, renewal or revocation request refused: logged (`sign_refused`), then the
    /// function's error.
    pub(crate) fn refused(e: SignError) -> Error {
        tracing::warn!(event = "sign_refused", code = e.code(), error = %e, "signing request refused");
        Error::Sign(e)
    }

    /// Whether a later retry may succeed (a Secrets Manager or revocation-table time-out,
    /// connection failure, throttling or 5xx); configuration, key, request and rotation-state
    /// errors are not.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::SecretsManager { failure, .. }
            | Error::Rotation(RotationError::SecretsManager(failure)) => failure.transient,
            Error::RevocationStore(failure) => failure.transient,
            _ => false,
        }
    }
}

fn describe(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Config(_) => "config",
            Error::UnsupportedEvent => "unsupported_event",
            Error::ActionNotAllowed(_) => "action_not_allowed",
            Error::Rotation(e) => e.code(),
            Error::Sign(e) => e.code(),
            Error::SecretsManager { .. } => "secrets_manager",
            Error::SecretNotString(_) => "secret_not_string",
            Error::KeySet { source, .. } => source.code(),
            Error::Merge(_) => "key_invalid",
            Error::RevocationOff => "action_not_allowed",
            Error::RevocationStore(_) => "revocation_store",
        }
    }
}

impl From<Error> for lambda_runtime::Diagnostic {
    fn from(e: Error) -> Self {
        lambda_runtime::Diagnostic {
            error_type: e.code().to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// Why a rotation step was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RotationError {
    /// A Secrets Manager call failed.
    #[error(transparent)]
    SecretsManager(#[from] SdkFailure),
    /// Rotation is not enabled on the secret.
    #[error("rotation is not enabled on the secret")]
    RotationDisabled,
    /// The event names another secret than `SECRET_ID`.
    #[error("the event's secret is not the one this function rotates (SECRET_ID)")]
    WrongSecret,
    /// The token is not a version of the secret.
    #[error("version {0} is not a version of the secret")]
    UnknownVersion(String),
    /// The token's version is neither `AWSPENDING` nor `AWSCURRENT`.
    #[error("version {0} is not labelled AWSPENDING")]
    NotPending(String),
    /// `Step` is none of the four.
    #[error("unknown step: expected createSecret, setSecret, testSecret or finishSecret")]
    UnknownStep,
    /// A version's keys were refused.
    #[error("the {0} version was refused: {1}")]
    KeySet(&'static str, #[source] KeySetError),
    /// The new version does not work.
    #[error("the pending version failed its test: {0}")]
    TestFailed(&'static str),
    /// A new key could not be made.
    #[error("key generation failed")]
    KeyGeneration(#[source] jwt_session::Error),
}

impl RotationError {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            RotationError::SecretsManager(_) => "secrets_manager",
            RotationError::RotationDisabled => "rotation_disabled",
            RotationError::WrongSecret => "wrong_secret",
            RotationError::UnknownVersion(_) => "unknown_version",
            RotationError::NotPending(_) => "not_pending",
            RotationError::UnknownStep => "unknown_step",
            RotationError::KeySet(_, e) => e.code(),
            RotationError::TestFailed(_) => "rotation_test_failed",
            RotationError::KeyGeneration(_) => "key_generation",
        }
    }
}
