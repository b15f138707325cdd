//! Building the answer API Gateway expects, with the `aws_lambda_events` response types.

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerResponse,
    ApiGatewayV2CustomAuthorizerIamPolicyResponse, ApiGatewayV2CustomAuthorizerSimpleResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use serde_json::{Map, Value};

use crate::config::{Config, HttpApiResponse};
use crate::event::{Payload, Request};
use crate::token::Verified;
use crate::Decision;

/// What the handler returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A JSON response.
    Json(Value),
    /// The `Unauthorized` error (401).
    Unauthorized,
}

/// The context handed to the route: string values only.
pub fn context(v: &Verified) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("sub".into(), Value::String(v.sub.clone()));
    m.insert("exp".into(), Value::String(v.exp.to_string()));
    m.insert("kid".into(), Value::String(v.kid.clone()));
    if let Some(s) = &v.scope {
        m.insert("scope".into(), Value::String(s.clone()));
    }
    if let Some(j) = &v.jti {
        m.insert("jti".into(), Value::String(j.clone()));
    }
    m.insert("renew".into(), Value::String(v.renew.to_string()));
    m
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
    ctx: Map<String, Value>,
) -> Answer {
    let policy_document = policy(effect, resource);
    let value = if payload == Payload::Http {
        let mut r = ApiGatewayV2CustomAuthorizerIamPolicyResponse::<Map<String, Value>>::default();
        r.principal_id = Some(principal.to_owned());
        r.policy_document = policy_document;
        r.context = ctx;
        serde_json::to_value(r)
    } else {
        let mut r = ApiGatewayCustomAuthorizerResponse::<Map<String, Value>>::default();
        r.principal_id = Some(principal.to_owned());
        r.policy_document = policy_document;
        r.context = ctx;
        serde_json::to_value(r)
    };
    value.map(Answer::Json).unwrap_or(Answer::Unauthorized)
}

fn simple(authorized: bool, ctx: Map<String, Value>) -> Answer {
    let mut r = ApiGatewayV2CustomAuthorizerSimpleResponse::<Map<String, Value>>::default();
    r.is_authorized = authorized;
    r.context = ctx;
    serde_json::to_value(r)
        .map(Answer::Json)
        .unwrap_or(Answer::Unauthorized)
}

/// The answer for `decision` in the format the event and configuration call for.
pub fn build(req: &Request, decision: &Decision, cfg: &Config) -> Answer {
    let simple_mode =
        req.payload == Payload::Http && cfg.http_api_response == HttpApiResponse::Simple;
    let resource = req.resource_arn.as_deref();
    match decision {
        Decision::Allow(v) => match (simple_mode, resource) {
            (true, _) => simple(true, context(v)),
            (false, Some(arn)) => iam(req.payload, &v.sub, IamPolicyEffect::Allow, arn, context(v)),
            // No resource to grant: nothing can be allowed.
            (false, None) => Answer::Unauthorized,
        },
        Decision::Forbid(v, reason) => {
            let mut ctx = context(v);
            ctx.insert("reason".into(), Value::String(reason.as_str().into()));
            match (simple_mode, resource) {
                (true, _) => simple(false, ctx),
                (false, Some(arn)) => iam(req.payload, &v.sub, IamPolicyEffect::Deny, arn, ctx),
                (false, None) => Answer::Unauthorized,
            }
        }
        Decision::Deny(refusal) => {
            if simple_mode {
                let mut ctx = Map::new();
                ctx.insert(
                    "reason".into(),
                    Value::String(refusal.reason.as_str().into()),
                );
                simple(false, ctx)
            } else {
                Answer::Unauthorized
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::Refusal;
    use crate::Reason;
    use serde_json::json;
    use std::collections::HashMap;

    fn cfg(mode: &str) -> Config {
        let m: HashMap<&str, &str> = [
            ("JWT_ISSUER", "i"),
            ("JWT_AUDIENCE", "a"),
            ("HTTP_API_RESPONSE", mode),
        ]
        .into_iter()
        .collect();
        Config::from_lookup(|k| m.get(k).map(|v| v.to_string())).unwrap()
    }

    fn verified() -> Verified {
        Verified {
            kid: "k1".into(),
            sub: "user-1".into(),
            exp: 1_900_000_000,
            iat: None,
            jti: Some("j1".into()),
            scope: Some("read".into()),
            scopes: vec!["read".into()],
            csrf: Some("secret-csrf".into()),
            renew: false,
        }
    }

    fn rest() -> Request {
        Request::from_value(
            &json!({"type": "REQUEST", "methodArn": "arn:aws:execute-api:r:1:a/s/GET/x", "requestContext": {}}),
        )
    }

    fn http() -> Request {
        Request::from_value(
            &json!({"version": "2.0", "routeArn": "arn:route", "requestContext": {"http": {"method": "GET"}}}),
        )
    }

    #[test]
    fn rest_allow_is_an_allow_policy_for_the_method_arn_with_string_context() {
        let Answer::Json(v) = build(&rest(), &Decision::Allow(verified()), &cfg("simple")) else {
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
        let Answer::Json(v) = build(
            &rest(),
            &Decision::Forbid(verified(), Reason::Csrf),
            &cfg("simple"),
        ) else {
            panic!()
        };
        assert_eq!(v["policyDocument"]["Statement"][0]["Effect"], "Deny");
        assert_eq!(v["context"]["reason"], "csrf");
        let d = Decision::Deny(Refusal::from(Reason::BadSig));
        assert_eq!(build(&rest(), &d, &cfg("simple")), Answer::Unauthorized);
    }

    #[test]
    fn http_simple_answers_is_authorized() {
        let Answer::Json(v) = build(&http(), &Decision::Allow(verified()), &cfg("simple")) else {
            panic!()
        };
        assert_eq!(v["isAuthorized"], true);
        assert_eq!(v["context"]["sub"], "user-1");
        let Answer::Json(v) = build(
            &http(),
            &Decision::Deny(Reason::NoToken.into()),
            &cfg("simple"),
        ) else {
            panic!()
        };
        assert_eq!(v["isAuthorized"], false);
        assert_eq!(v["context"], json!({"reason": "no_token"}));
    }

    #[test]
    fn http_iam_answers_like_rest_with_the_route_arn() {
        let Answer::Json(v) = build(&http(), &Decision::Allow(verified()), &cfg("iam")) else {
            panic!()
        };
        assert_eq!(
            v["policyDocument"]["Statement"][0]["Resource"],
            json!(["arn:route"])
        );
        assert_eq!(
            build(
                &http(),
                &Decision::Deny(Reason::Expired.into()),
                &cfg("iam")
            ),
            Answer::Unauthorized
        );
    }
}
