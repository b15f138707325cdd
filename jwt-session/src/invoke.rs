//! Calling a function through the Lambda Invoke API, and reading what came back — one reading
//! for every caller (the authorizer's key fetch, the example login's signer calls, the local
//! gateway, the test harness).
//!
//! Lambda answers a function's error with 200, `X-Amz-Function-Error` and the error as the
//! payload (`{"errorType", "errorMessage"}`); a local Invoke API (`cargo lambda watch`)
//! answers it with an error status and the same body. Both are [`Invoked::FunctionError`]: the
//! function ran and refused, which is not a failure to reach it ([`InvokeFailed`]).

use aws_sdk_lambda::primitives::Blob;

/// The longest `errorType` kept (it reaches logs and answers).
const MAX_ERROR_TYPE: usize = 64;

/// What a function answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invoked {
    /// Its answer: the payload, as returned.
    Answer(Vec<u8>),
    /// It failed: its `errorType` (at most 64 characters) and `errorMessage`, empty when the
    /// error's body had none.
    FunctionError {
        /// `errorType`.
        error_type: String,
        /// `errorMessage`.
        message: String,
    },
}

/// The Invoke call itself failed: no answer, or one that is not a function's error (no such
/// function, throttling, a time-out, a refused connection).
#[derive(Debug, thiserror::Error)]
#[error("the Invoke call failed{}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
pub struct InvokeFailed {
    /// The HTTP status of the Invoke API's answer, when there was one.
    pub status: Option<u16>,
    /// The SDK's error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// Invokes `function` with `payload` and reads the outcome (see the module's docs).
pub async fn invoke(
    client: &aws_sdk_lambda::Client,
    function: &str,
    payload: Vec<u8>,
) -> Result<Invoked, InvokeFailed> {
    match client
        .invoke()
        .function_name(function)
        .payload(Blob::new(payload))
        .send()
        .await
    {
        Ok(out) => {
            let body = out.payload().map(|b| b.as_ref()).unwrap_or_default();
            Ok(match out.function_error() {
                Some(_) => function_error(body).unwrap_or_else(|| Invoked::FunctionError {
                    error_type: String::new(),
                    message: String::new(),
                }),
                None => Invoked::Answer(body.to_vec()),
            })
        }
        Err(e) => {
            let raw = e.raw_response();
            let status = raw.map(|r| r.status().as_u16());
            match raw.and_then(|r| r.body().bytes()).and_then(function_error) {
                Some(refused) => Ok(refused),
                None => Err(InvokeFailed {
                    status,
                    source: Box::new(e),
                }),
            }
        }
    }
}

/// A function error's body (`{"errorType", "errorMessage"}`), if it is one.
pub fn function_error(body: &[u8]) -> Option<Invoked> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = |k: &str| v.get(k).and_then(|x| x.as_str());
    if text("errorType").is_none() && text("errorMessage").is_none() {
        return None;
    }
    Some(Invoked::FunctionError {
        error_type: text("errorType")
            .unwrap_or_default()
            .chars()
            .take(MAX_ERROR_TYPE)
            .collect(),
        message: text("errorMessage").unwrap_or_default().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_error_body_is_read_with_its_type_bounded() {
        let long = "E".repeat(100);
        let body = format!(r#"{{"errorType":"{long}","errorMessage":"no"}}"#);
        assert_eq!(
            function_error(body.as_bytes()),
            Some(Invoked::FunctionError {
                error_type: "E".repeat(64),
                message: "no".into()
            })
        );
        assert_eq!(
            function_error(br#"{"errorMessage":"only a message"}"#),
            Some(Invoked::FunctionError {
                error_type: String::new(),
                message: "only a message".into()
            })
        );
        for not_one in [
            &b"{}"[..],
            b"[]",
            b"<html>bad gateway</html>",
            b"",
            br#"{"keys":[]}"#,
            br#"{"message":"Rate exceeded"}"#,
        ] {
            assert_eq!(function_error(not_one), None);
        }
    }
}
