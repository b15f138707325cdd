//! Building the answer API Gateway expects, with the `aws_lambda_events` response types.

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerResponse,
    ApiGatewayV2CustomAuthorizerIamPolicyResponse, ApiGatewayV2CustomAuthorizerSimpleResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::decision::Decision;
use crate::decision::Verified;
use crate::event::{Payload, Request};

/// The context handed to the route: string values only, in this order; absent ones omitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// `sub` of the verified token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// `exp`, in decimal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<String>,
    /// `kid` of the key that verified it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// `scope` (or `scp` joined with spaces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `jti`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// `"true"` in the last third of the token's lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renew: Option<Cow<'static, str>>,
    /// The reason of a refusal (Deny policy, or `isAuthorized: false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Cow<'static, str>>,
}

/// A response, in the `aws_lambda_events` type the event and configuration call for.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Response {
    /// REST API (payload 1.0): IAM policy.
    Rest(ApiGatewayCustomAuthorizerResponse<Context>),
    /// HTTP API payload 2.0, IAM policy.
    HttpIam(ApiGatewayV2CustomAuthorizerIamPolicyResponse<Context>),
    /// HTTP API payload 2.0, simple response.
    Simple(ApiGatewayV2CustomAuthorizerSimpleResponse<Context>),
}

/// What the handler returns.
#[derive(Debug, Clone, PartialEq)]
// Built once per invocation and moved to the runtime: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Answer {
    /// A response, serialized once by the runtime.
    Json(Response),
    /// The `Unauthorized` error (401).
    Unauthorized,
}

impl Answer {
    /// The response as a JSON value (`None` for `Unauthorized`): for tests and tools.
    pub fn to_value(&self) -> Option<Value> {
        match self {
            Answer::Json(r) => serde_json::to_value(r).ok(),
            Answer::Unauthorized => None,
        }
    }
}

/// The context of a verified token.
pub fn context(v: &Verified) -> Context {
    Context {
        sub: Some(v.sub.clone()),
        exp: Some(v.exp.to_string()),
        kid: Some(v.kid.clone()),
        scope: v.scope.clone(),
        jti: v.jti.clone(),
        renew: Some(Cow::Borrowed(if v.renew { "true" } else { "false" })),
        reason: None,
    }
}

fn policy(effect: IamPolicyEffect, resource: &str) -> ApiGatewayCustomAuthorizerPolicy {
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".into()];
    statement.effect = effect;
    statement.resource = vec![resource.to_owned()];
    let mut p = ApiGatewayCustomAuthorizerPolicy::default();
    p.version = Some("2012-10-17".into());
    p.statement = vec![statement];
    p
}

fn iam(
    payload: Payload,
    principal: &str,
    effect: IamPolicyEffect,
    resource: &str,
    ctx: Context,
) -> Answer {
    let policy_document = policy(effect, resource);
    Answer::Json(if payload == Payload::Http {
        let mut r = ApiGatewayV2CustomAuthorizerIamPolicyResponse::<Context>::default();
        r.principal_id = Some(principal.to_owned());
        r.policy_document = policy_document;
        r.context = ctx;
        Response::HttpIam(r)
    } else {
        let mut r = ApiGatewayCustomAuthorizerResponse::<Context>::default();
        r.principal_id = Some(principal.to_owned());
        r.policy_document = policy_document;
        r.context = ctx;
        Response::Rest(r)
    })
}

fn simple(authorized: bool, ctx: Context) -> Answer {
    let mut r = ApiGatewayV2CustomAuthorizerSimpleResponse::<Context>::default();
    r.is_authorized = authorized;
    r.context = ctx;
    Answer::Json(Response::Simple(r))
}

/// How HTTP API (payload 2.0) events are answered (`HTTP_API_RESPONSE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpApiResponse {
    /// `{"isAuthorized": bool, "context": {...}}`. The default.
    #[default]
    Simple,
    /// An IAM policy, as for REST APIs.
    Iam,
}

/// The shape of the answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AnswerRules {
    /// Answers to HTTP API (payload 2.0) events. Default: [`HttpApiResponse::Simple`].
    pub http_api: HttpApiResponse,
}

/// The answer for `decision` in the format the event and the policy call for.
pub fn build(req: &Request, decision: &Decision, cfg: &AnswerRules) -> Answer {
    let simple_mode = req.payload == Payload::Http && cfg.http_api == HttpApiResponse::Simple;
    // The exact ARN: the template's cache key holds the request's method and path, so a
    // cached policy is only ever evaluated for the request it names. The ARN was checked to
    // hold no `*` or `?` before any decision.
    let resource = req.resource_arn.as_deref();
    match decision {
        Decision::Allow(v) => match (simple_mode, resource) {
            (true, _) => simple(true, context(v)),
            (false, Some(arn)) => iam(req.payload, &v.sub, IamPolicyEffect::Allow, arn, context(v)),
            // No resource to grant: nothing can be allowed.
            (false, None) => Answer::Unauthorized,
        },
        Decision::Forbidden(v, reason) => {
            let ctx = Context {
                reason: Some(Cow::Borrowed(reason.as_str())),
                ..context(v)
            };
            match (simple_mode, resource) {
                (true, _) => simple(false, ctx),
                (false, Some(arn)) => iam(req.payload, &v.sub, IamPolicyEffect::Deny, arn, ctx),
                (false, None) => Answer::Unauthorized,
            }
        }
        Decision::Unauthorized(refusal) => {
            if simple_mode {
                simple(
                    false,
                    Context {
                        reason: Some(Cow::Borrowed(refusal.reason.as_str())),
                        ..Context::default()
                    },
                )
            } else {
                Answer::Unauthorized
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::{Forbidden, Refusal, Refused};
    use jwt_session::strict::Rejected;
    use jwt_session::testing::VerifiedBuilder;
    use serde_json::json;

    fn cfg(mode: &str) -> AnswerRules {
        AnswerRules {
            http_api: match mode {
                "iam" => HttpApiResponse::Iam,
                _ => HttpApiResponse::Simple,
            },
        }
    }

    fn verified() -> Verified {
        VerifiedBuilder::new("user-1")
            .kid("k1")
            .exp(1_900_000_000)
            .jti("j1")
            .scope("read")
            .csrf(Some("secret-csrf"))
            .build()
    }

    fn rest() -> Request {
        crate::headers::production_request(
            &json!({"type": "REQUEST", "methodArn": "arn:aws:execute-api:r:1:a/s/GET/x", "requestContext": {}}),
        )
    }

    fn http() -> Request {
        crate::headers::production_request(
            &json!({"version": "2.0", "routeArn": "arn:route", "requestContext": {"http": {"method": "GET"}}}),
        )
    }

    #[test]
    fn rest_allow_is_an_allow_policy_for_the_method_arn_with_string_context() {
        let Some(v) = build(&rest(), &Decision::Allow(verified()), &cfg("simple")).to_value()
        else {
            panic!()
        };
        assert_eq!(v["principalId"], "user-1");
        let st = &v["policyDocument"]["Statement"][0];
        assert_eq!(st["Effect"], "Allow");
        assert_eq!(st["Action"], json!(["execute-api:Invoke"]));
        assert_eq!(st["Resource"], json!(["arn:aws:execute-api:r:1:a/s/GET/x"]));
        assert_eq!(
            v["context"],
            json!({"sub": "user-1", "exp": "1900000000", "kid": "k1", "scope": "read", "jti": "j1", "renew": "false"})
        );
        assert!(!v.to_string().contains("secret-csrf"));
    }

    #[test]
    fn rest_forbid_is_a_deny_policy_and_deny_is_unauthorized() {
        let Some(v) = build(
            &rest(),
            &Decision::Forbidden(verified(), Forbidden::Csrf),
            &cfg("simple"),
        )
        .to_value() else {
            panic!()
        };
        assert_eq!(v["policyDocument"]["Statement"][0]["Effect"], "Deny");
        assert_eq!(v["context"]["reason"], "csrf");
        let d = Decision::Unauthorized(Refusal::from(Refused::Token(Rejected::BadSig)));
        assert_eq!(build(&rest(), &d, &cfg("simple")), Answer::Unauthorized);
    }

    #[test]
    fn http_simple_answers_is_authorized() {
        let Some(v) = build(&http(), &Decision::Allow(verified()), &cfg("simple")).to_value()
        else {
            panic!()
        };
        assert_eq!(v["isAuthorized"], true);
        assert_eq!(v["context"]["sub"], "user-1");
        let Some(v) = build(
            &http(),
            &Decision::Unauthorized(Refused::NoToken.into()),
            &cfg("simple"),
        )
        .to_value() else {
            panic!()
        };
        assert_eq!(v["isAuthorized"], false);
        assert_eq!(v["context"], json!({"reason": "no_token"}));
    }

    #[test]
    fn http_iam_answers_like_rest_with_the_route_arn() {
        let Some(v) = build(&http(), &Decision::Allow(verified()), &cfg("iam")).to_value() else {
            panic!()
        };
        assert_eq!(
            v["policyDocument"]["Statement"][0]["Resource"],
            json!(["arn:route"])
        );
        assert_eq!(
            build(
                &http(),
                &Decision::Unauthorized(Refused::Token(Rejected::Expired).into()),
                &cfg("iam")
            ),
            Answer::Unauthorized
        );
    }
}
