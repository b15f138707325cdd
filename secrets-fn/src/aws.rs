//! AWS SDK failures in one shape for every call this function makes (Secrets Manager for the
//! key sets, DynamoDB for the revocation table): the service, the operation, whether a later
//! retry may succeed (the shared rule, `jwt_session::aws::is_transient`), and the SDK error as
//! the source.

use std::fmt;

// Every AWS SDK crate re-exports the same smithy `SdkError` and `ProvideErrorMetadata`, so
// these serve DynamoDB's errors as well.
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};

/// The AWS service a failed call went to, with what this function keeps there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Service {
    /// Secrets Manager: the key sets.
    SecretsManager,
    /// DynamoDB: the revocation table.
    RevocationTable,
}

impl Service {
    /// What follows the operation in a failure's message.
    fn on(self) -> &'static str {
        match self {
            Service::SecretsManager => "",
            Service::RevocationTable => " on the revocation table",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::SecretsManager => "Secrets Manager",
            Service::RevocationTable => "DynamoDB",
        })
    }
}

/// One failed AWS SDK call.
#[derive(Debug, thiserror::Error)]
#[error("{service} {operation}{} failed ({})", .service.on(), if *.transient { "transient: a retry may succeed" } else { "permanent" })]
pub struct SdkFailure {
    /// The service called.
    pub service: Service,
    /// The API call.
    pub operation: &'static str,
    /// Whether retrying later may succeed (time-outs, connection failures, throttling, 5xx);
    /// not for missing secrets or versions, denied access or invalid requests.
    pub transient: bool,
    /// Whether what was asked for does not exist (`ResourceNotFoundException`: for Secrets
    /// Manager, the secret or the version).
    pub not_found: bool,
    /// The SDK error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl SdkFailure {
    /// The failure of `operation` on `service` with the SDK's error.
    pub fn new<E>(service: Service, operation: &'static str, e: SdkError<E>) -> SdkFailure
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        SdkFailure {
            service,
            operation,
            transient: jwt_session::aws::is_transient(&e),
            not_found: e.code() == Some("ResourceNotFoundException"),
            source: Box::new(e),
        }
    }
}
