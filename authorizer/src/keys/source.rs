//! What every key source answers: a key set, or why there is none.

use jwt_session::{JwkSet, KeySetError};

/// A key set a source fetched.
#[derive(Debug, Clone)]
pub struct FetchedKeys {
    /// The public verification keys.
    pub keys: JwkSet,
    /// When the source's own store last confirmed them (seconds since the epoch): staleness
    /// is bounded from here. `None`: not known (counted as now).
    pub confirmed_at: Option<u64>,
    /// Whether the source confirmed them with its store for this very fetch: only then does a
    /// `kid` missing from them mean the store does not have it.
    pub revalidated: bool,
}

/// Why a key fetch failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The Invoke call failed (network, timeout, throttling, HTTP error from the endpoint).
    #[error("invoking the key function failed")]
    Invoke {
        /// The Invoke API's HTTP status, when it answered.
        status: Option<u16>,
        /// What failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The key function ran and returned an error.
    #[error("the key function returned an error ({error_type})")]
    FunctionError {
        /// Its `errorType` (secrets-fn's error code).
        error_type: String,
        /// Its `errorMessage` (at most 256 characters; secrets-fn's messages hold no key).
        message: String,
    },
    /// The key function answered with no payload.
    #[error("the key function returned no payload")]
    EmptyPayload,
    /// The answer is not a valid public key set.
    #[error("the key function returned an invalid key set")]
    InvalidKeySet(#[source] KeySetError),
}

impl FetchError {
    /// A stable code for the logs.
    pub fn code(&self) -> &'static str {
        match self {
            FetchError::Invoke { .. } => "keys_invoke_failed",
            FetchError::FunctionError { .. } => "keys_function_error",
            FetchError::EmptyPayload => "keys_empty_payload",
            FetchError::InvalidKeySet(_) => "keys_invalid_set",
        }
    }

    /// Whether a later fetch may succeed where this one failed: no answer, throttling or a
    /// server error of the Invoke API. A refusal of the key function or a bad key set will be
    /// the same next time until someone changes it.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Invoke { status, .. } => status.is_none_or(|s| s == 429 || s >= 500),
            FetchError::FunctionError { .. }
            | FetchError::EmptyPayload
            | FetchError::InvalidKeySet(_) => false,
        }
    }

    /// What caused it, for the log: the failure underneath, or the key function's message.
    pub fn cause(&self) -> Option<String> {
        match self {
            FetchError::FunctionError { message, .. } => Some(message.chars().take(256).collect()),
            other => std::error::Error::source(other).map(ToString::to_string),
        }
    }
}
