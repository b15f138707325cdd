//! Keys from secrets-fn, through the Lambda Invoke API (the deployed source).

use std::time::Duration;

use jwt_session::invoke::Invoked;
use jwt_session::wire::{KeyServerRequest, KeysResponse};

use super::source::{FetchError, FetchedKeys};

/// `KEYS_FUNCTION_NAME`'s default.
pub const DEFAULT_FUNCTION_NAME: &str = "secrets-fn";
/// `KEYS_CONNECT_TIMEOUT_MS`'s default.
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 500;
/// `KEYS_FETCH_TIMEOUT_MS`'s default.
pub const DEFAULT_FETCH_TIMEOUT_MS: u64 = 2_000;

/// Where the keys come from and how long a fetch may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRules {
    /// Function name or ARN of the key server (`KEYS_FUNCTION_NAME`). Default: `secrets-fn`.
    pub function_name: String,
    /// Connect timeout of the Invoke call (`KEYS_CONNECT_TIMEOUT_MS`). Default: 500 ms.
    pub connect_timeout: Duration,
    /// Total timeout of the Invoke call (`KEYS_FETCH_TIMEOUT_MS`). Default: 2000 ms.
    pub timeout: Duration,
}

impl Default for FetchRules {
    fn default() -> Self {
        FetchRules {
            function_name: DEFAULT_FUNCTION_NAME.to_owned(),
            connect_timeout: Duration::from_millis(DEFAULT_CONNECT_TIMEOUT_MS),
            timeout: Duration::from_millis(DEFAULT_FETCH_TIMEOUT_MS),
        }
    }
}

/// Calls secrets-fn with the real Lambda client.
#[derive(Debug, Clone)]
pub struct LambdaKeySource {
    client: aws_sdk_lambda::Client,
    function_name: String,
}

impl LambdaKeySource {
    /// Wraps a client (built once at start-up) and the function to invoke.
    pub fn new(client: aws_sdk_lambda::Client, function_name: String) -> Self {
        LambdaKeySource {
            client,
            function_name,
        }
    }

    /// Builds the Lambda client from the shared SDK config: no SDK retries (a failed fetch is
    /// retried by the cache's backoff, not multiplied here) and the configured timeouts.
    pub fn client_config(
        sdk: &aws_config::SdkConfig,
        cfg: &FetchRules,
    ) -> aws_sdk_lambda::config::Config {
        let (retry, timeouts) = jwt_session::aws::one_attempt(cfg.connect_timeout, cfg.timeout);
        aws_sdk_lambda::config::Builder::from(sdk)
            .retry_config(retry)
            .timeout_config(timeouts)
            .build()
    }

    /// Fetches and validates the public key set. `revalidate` asks secrets-fn to check its own
    /// cache against Secrets Manager first (used for an unknown `kid`).
    #[tracing::instrument(skip_all, fields(function = %self.function_name))]
    pub async fn fetch(&self, revalidate: bool) -> Result<FetchedKeys, FetchError> {
        // The typed request of the shared wire protocol (a few bytes, serialised per fetch:
        // fetches are rare and rate-limited).
        let body = KeyServerRequest::GetKeys {
            refresh: revalidate,
        }
        .to_json()
        .map_err(|e| FetchError::Invoke {
            status: None,
            source: Box::new(e),
        })?;
        let payload =
            match jwt_session::invoke::invoke(&self.client, &self.function_name, body).await {
                Ok(Invoked::Answer(payload)) if payload.is_empty() => {
                    return Err(FetchError::EmptyPayload)
                }
                Ok(Invoked::Answer(payload)) => payload,
                Ok(Invoked::FunctionError {
                    error_type,
                    message,
                }) => {
                    return Err(FetchError::FunctionError {
                        error_type,
                        message,
                    })
                }
                Err(failed) => {
                    return Err(FetchError::Invoke {
                        status: failed.status,
                        source: failed.source,
                    })
                }
            };
        let answer = KeysResponse::parse(payload.as_ref()).map_err(FetchError::InvalidKeySet)?;
        Ok(FetchedKeys {
            keys: answer.keys,
            confirmed_at: answer.confirmed_at,
            revalidated: answer.revalidated,
        })
    }
}
