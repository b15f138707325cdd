//! What API Gateway does with a Lambda authorizer's answer: IAM policies evaluated with IAM's
//! rules, simple responses, errors.
//!
//! IAM's rules, as far as an authorizer's policy needs them: a statement applies when its
//! `Action` and `Resource` match (`*` any run of characters, `?` one character; actions compared
//! without regard to case, resources with); an applicable `Deny` wins over any `Allow`; without
//! an applicable `Allow` the request is refused. `NotAction`, `NotResource`, `Condition` and
//! `Principal` have no place in an authorizer policy: such a statement makes the answer
//! malformed (500), as does an `Effect` that is neither `Allow` nor `Deny`.

use serde_json::{Map, Value};

/// The action API Gateway checks for a method.
pub const INVOKE_ACTION: &str = "execute-api:Invoke";

/// `text` against an IAM pattern with `*` and `?`.
pub fn wildcard_match(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| {
        if ignore_case {
            a.to_lowercase().eq(b.to_lowercase())
        } else {
            a == b
        }
    };
    // Greedy matching with backtracking to the last `*` (linear in practice, never recursive).
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match (p.get(pi), t.get(ti)) {
            (Some('*'), _) => {
                star = Some((pi, ti));
                pi += 1;
            }
            (Some('?'), Some(_)) => {
                pi += 1;
                ti += 1;
            }
            (Some(&pc), Some(&tc)) if eq(pc, tc) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

/// The outcome of evaluating a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// An applicable `Allow` and no applicable `Deny`.
    Allow,
    /// An applicable `Deny`.
    ExplicitDeny,
    /// No applicable statement.
    ImplicitDeny,
}

fn strings(v: &Value) -> Option<Vec<&str>> {
    match v {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(a) => a.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// Evaluates `document` (an IAM policy document) for `action` on `resource`; `Err` when the
/// document is not one an authorizer may return.
pub fn evaluate(document: &Value, action: &str, resource: &str) -> Result<Verdict, String> {
    let statements: Vec<&Value> = match document.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => return Err("policyDocument.Statement is missing".into()),
    };
    let mut allowed = false;
    for s in statements {
        let Value::Object(m) = s else {
            return Err("a statement is not an object".into());
        };
        for key in [
            "NotAction",
            "NotResource",
            "Condition",
            "Principal",
            "NotPrincipal",
        ] {
            if m.contains_key(key) {
                return Err(format!("{key} is not supported in an authorizer policy"));
            }
        }
        let actions = m
            .get("Action")
            .and_then(strings)
            .ok_or("a statement has no Action")?;
        let resources = m
            .get("Resource")
            .and_then(strings)
            .ok_or("a statement has no Resource")?;
        let applies = actions.iter().any(|a| wildcard_match(a, action, true))
            && resources.iter().any(|r| wildcard_match(r, resource, false));
        match m.get("Effect").and_then(Value::as_str) {
            Some("Deny") if applies => return Ok(Verdict::ExplicitDeny),
            Some("Allow") if applies => allowed = true,
            Some("Allow" | "Deny") => {}
            _ => return Err("a statement's Effect is neither Allow nor Deny".into()),
        }
    }
    Ok(if allowed {
        Verdict::Allow
    } else {
        Verdict::ImplicitDeny
    })
}

/// What API Gateway makes of an authorizer's answer for one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The request goes to the integration with this context (and principal, for policies).
    Allow {
        /// The answer's `context`.
        context: Map<String, Value>,
        /// The answer's `principalId` (IAM answers).
        principal: Option<String>,
    },
    /// 403: a simple answer `isAuthorized: false`.
    Forbidden,
    /// 403: an applicable `Deny` statement.
    ExplicitDeny,
    /// 403: no statement allows the request.
    NotAllowed,
    /// 401.
    Unauthorized,
    /// 500: the authorizer failed or answered something API Gateway cannot use.
    Failure(String),
}

fn context_of(answer: &Map<String, Value>, flat: bool) -> Result<Map<String, Value>, String> {
    match answer.get("context") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(c)) => {
            if flat && c.values().any(|v| v.is_object() || v.is_array()) {
                return Err("context values must be strings, numbers or booleans".into());
            }
            Ok(c.clone())
        }
        Some(_) => Err("context is not an object".into()),
    }
}

/// Interprets a successful (non-error) answer: `simple` for HTTP API simple responses, else an
/// IAM policy evaluated for `arn`. `flat_context`: REST APIs accept only scalar context values.
pub fn interpret(answer: &Value, simple: bool, arn: &str, flat_context: bool) -> Outcome {
    let Value::Object(m) = answer else {
        return Outcome::Failure("the answer is not a JSON object".into());
    };
    let context = match context_of(m, flat_context) {
        Ok(c) => c,
        Err(e) => return Outcome::Failure(e),
    };
    if simple {
        return match m.get("isAuthorized") {
            Some(Value::Bool(true)) => Outcome::Allow {
                context,
                principal: None,
            },
            Some(Value::Bool(false)) => Outcome::Forbidden,
            _ => Outcome::Failure("isAuthorized is not a boolean".into()),
        };
    }
    let Some(principal) = m.get("principalId").and_then(Value::as_str) else {
        return Outcome::Failure("principalId is missing".into());
    };
    let Some(document) = m.get("policyDocument") else {
        return Outcome::Failure("policyDocument is missing".into());
    };
    match evaluate(document, INVOKE_ACTION, arn) {
        Ok(Verdict::Allow) => Outcome::Allow {
            context,
            principal: Some(principal.to_owned()),
        },
        Ok(Verdict::ExplicitDeny) => Outcome::ExplicitDeny,
        Ok(Verdict::ImplicitDeny) => Outcome::NotAllowed,
        Err(e) => Outcome::Failure(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:api/dev/GET/orders";

    fn policy(statements: Value) -> Value {
        json!({"principalId": "alice", "policyDocument": {"Version": "2012-10-17", "Statement": statements}, "context": {"sub": "alice"}})
    }

    #[test]
    fn iam_wildcards_star_and_question_mark_match_as_iam_reads_them() {
        assert!(wildcard_match("arn:*:api/dev/GET/*", ARN, false));
        assert!(wildcard_match(
            "arn:aws:execute-api:us-east-1:123456789012:api/dev/???/orders",
            ARN,
            false
        ));
        assert!(!wildcard_match(
            "arn:aws:execute-api:us-east-1:123456789012:api/dev/??/orders",
            ARN,
            false
        ));
        assert!(!wildcard_match(
            "arn:aws:execute-api:us-east-1:123456789012:api/dev/get/orders",
            ARN,
            false
        ));
        assert!(wildcard_match("EXECUTE-API:invoke", INVOKE_ACTION, true));
        assert!(wildcard_match("*", "", false));
        assert!(wildcard_match("a*b*c", "axxbyyc", false));
        assert!(!wildcard_match("a*b*c", "axxbyy", false));
        assert!(!wildcard_match("", "x", false));
    }

    #[test]
    fn an_explicit_deny_wins_over_an_allow_in_any_order() {
        let allow = json!({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"});
        let deny = json!({"Effect": "Deny", "Action": ["execute-api:*"], "Resource": [ARN]});
        for st in [json!([allow, deny]), json!([deny, allow])] {
            assert_eq!(
                interpret(&policy(st), false, ARN, true),
                Outcome::ExplicitDeny
            );
        }
        assert!(matches!(
            interpret(&policy(json!([allow])), false, ARN, true),
            Outcome::Allow { principal: Some(p), .. } if p == "alice"
        ));
    }

    #[test]
    fn an_allow_for_another_resource_is_not_an_allow() {
        let st = json!([{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:us-east-1:123456789012:api/dev/GET/health"}]);
        assert_eq!(
            interpret(&policy(st), false, ARN, true),
            Outcome::NotAllowed
        );
        let st = json!([{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}]);
        assert_eq!(
            interpret(&policy(st), false, ARN, true),
            Outcome::NotAllowed
        );
    }

    #[test]
    fn malformed_answers_are_failures() {
        for bad in [
            json!("Allow"),
            json!({"policyDocument": {"Statement": []}}),
            json!({"principalId": "a"}),
            json!({"principalId": "a", "policyDocument": {"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}}),
            json!({"principalId": "a", "policyDocument": {"Statement": [{"Effect": "Allow", "NotAction": "x", "Resource": "*"}]}}),
            json!({"principalId": "a", "policyDocument": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, "context": {"x": {"nested": 1}}}),
        ] {
            assert!(
                matches!(interpret(&bad, false, ARN, true), Outcome::Failure(_)),
                "{bad}"
            );
        }
        assert!(matches!(
            interpret(&json!({"isAuthorized": "yes"}), true, ARN, false),
            Outcome::Failure(_)
        ));
    }

    #[test]
    fn simple_answers_allow_or_forbid_whatever_the_route() {
        let yes = json!({"isAuthorized": true, "context": {"sub": "alice"}});
        for arn in [
            ARN,
            "arn:aws:execute-api:us-east-1:123456789012:api/dev/DELETE/admin",
        ] {
            assert!(
                matches!(interpret(&yes, true, arn, false), Outcome::Allow { context, .. } if context["sub"] == "alice")
            );
        }
        assert_eq!(
            interpret(&json!({"isAuthorized": false}), true, ARN, false),
            Outcome::Forbidden
        );
    }
}
