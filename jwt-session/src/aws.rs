//! What every function's AWS calls share: one rule for whether a failed call may succeed
//! later (time-outs, failed connections, throttling and server errors may; a missing resource,
//! denied access or an invalid request will fail again until someone changes something), and
//! one way to bound a call (a single attempt within a time-out).

use std::time::Duration;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;

/// Service error codes that say "try again later" (Secrets Manager's and DynamoDB's).
const TRANSIENT_CODES: [&str; 6] = [
    "ThrottlingException",
    "InternalServiceError",
    "ServiceUnavailable",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "InternalServerError",
];

/// Whether a later retry of the call that failed with `e` may succeed.
pub fn is_transient<E: ProvideErrorMetadata>(e: &SdkError<E, Response>) -> bool {
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

/// One attempt per call, bounded: no SDK retries (each caller retries on its own schedule, so a
/// failure is not multiplied by the SDK's), connecting within `connect` and the whole call
/// within `timeout`. For every service's config builder:
/// `Builder::from(&sdk).retry_config(retry).timeout_config(timeouts)`.
pub fn one_attempt(connect: Duration, timeout: Duration) -> (RetryConfig, TimeoutConfig) {
    (
        RetryConfig::disabled(),
        TimeoutConfig::builder()
            .connect_timeout(connect)
            .operation_attempt_timeout(timeout)
            .operation_timeout(timeout)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_attempt_means_no_sdk_retry_and_every_time_out_set() {
        let (retry, timeouts) = one_attempt(Duration::from_millis(200), Duration::from_secs(2));
        assert_eq!(retry.max_attempts(), 1);
        assert_eq!(timeouts.connect_timeout(), Some(Duration::from_millis(200)));
        assert_eq!(
            timeouts.operation_attempt_timeout(),
            Some(Duration::from_secs(2))
        );
        assert_eq!(timeouts.operation_timeout(), Some(Duration::from_secs(2)));
    }
}
