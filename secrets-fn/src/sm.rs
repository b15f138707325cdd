//! Secrets Manager failures in one shape for every caller (serving and rotation): the
//! operation, whether a later retry may succeed, and the SDK error as the source.

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};

/// Service error codes that say "try again later" (Secrets Manager's and DynamoDB's).
const TRANSIENT_CODES: [&str; 6] = [
    "ThrottlingException",
    "InternalServiceError",
    "ServiceUnavailable",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "InternalServerError",
];

/// One failed Secrets Manager call.
#[derive(Debug, thiserror::Error)]
#[error("Secrets Manager {operation} failed ({})", if *.transient { "transient: a retry may succeed" } else { "permanent" })]
pub struct SmFailure {
    /// The API call.
    pub operation: &'static str,
    /// Whether retrying later may succeed (time-outs, connection failures, throttling, 5xx);
    /// not for missing secrets or versions, denied access or invalid requests.
    pub transient: bool,
    /// Whether the secret or the version asked for does not exist
    /// (`ResourceNotFoundException`).
    pub not_found: bool,
    /// The SDK error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl SmFailure {
    /// The failure of `operation` with the SDK's error.
    pub fn new<E>(operation: &'static str, e: SdkError<E>) -> SmFailure
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        SmFailure {
            operation,
            transient: is_transient(&e),
            not_found: e.code() == Some("ResourceNotFoundException"),
            source: Box::new(e),
        }
    }
}

/// Whether an SDK error is worth retrying later.
pub fn is_transient<E: ProvideErrorMetadata>(e: &SdkError<E>) -> bool {
    match e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(s) => {
            let status = s.raw().status().as_u16();
            s.err().code().is_some_and(|c| TRANSIENT_CODES.contains(&c))
                || status == 429
                || status >= 500
        }
        _ => false,
    }
}
