//! The attack catalogue through the real binaries under `cargo lambda watch`, with Secrets
//! Manager from moto: the cases of [`e2e::catalogue`] that need a process (see
//! [`catalogue::needing_the_binaries`]); every case is also run in-process by `make unit`
//! (`tests/tests/catalogue.rs`).
//!
//! Besides each answer and audit reason, the suite checks the logs as a whole: exactly one
//! audit record per attempt, every reason from the contract's set, and no token, signature,
//! session cookie value, key material, or claim value of a token whose signature failed
//! anywhere in any process's output or in any answer.

use e2e::catalogue::{self, secrets_of, Case, Catalogue, Keys, Want};
use e2e::{authorizer_env, secrets_env, Invocation, Stack};

/// The contract's reasons: the authorizer's own table.
fn reasons() -> Vec<&'static str> {
    authorizer::Reason::ALL.iter().map(|r| r.as_str()).collect()
}

/// Runs the cases on a stack and checks answers, audit records and logs.
async fn run(stack: &Stack, cases: &[Case], secrets: &[String], forged_markers: &[&str]) {
    let mut answers = String::new();
    let mut failures = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let ans = stack.invoke("authorizer", &c.event).await;
        answers.push_str(&format!("{ans:?}\n"));
        let records = stack.wait_audit("authorizer", i + 1).await;
        let reason = records
            .get(i)
            .and_then(|r| r["reason"].as_str())
            .unwrap_or("<no record>")
            .to_owned();
        let decision = records
            .get(i)
            .and_then(|r| r["decision"].as_str())
            .unwrap_or("")
            .to_owned();
        let want_reason = c.reason();
        let want_allow = c.want == Want::Allow;
        let answer_ok = match &ans {
            Invocation::Ok(v) => c.answer_ok(Some(v)),
            inv => inv.is_unauthorized() && c.answer_ok(None),
        };
        let decision_ok = decision == if want_allow { "allow" } else { "deny" };
        if let Some(id) = c.event["requestContext"]["requestId"].as_str() {
            let logged = records.get(i).and_then(|r| r["request_id"].as_str());
            if logged != Some(id) {
                failures.push(format!(
                    "#{i} {}: request id {logged:?} logged for {id}",
                    c.name
                ));
            }
        }
        if reason != want_reason || !answer_ok || !decision_ok {
            failures.push(format!("#{i} {}: want {want_reason}, got reason {reason} decision {decision}, answer {ans:?}", c.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    let records = stack.audit("authorizer");
    assert_eq!(
        records.len(),
        cases.len(),
        "exactly one audit record per attempt"
    );
    for r in &records {
        assert!(
            reasons().contains(&r["reason"].as_str().unwrap_or("")),
            "reason outside the contract: {r}"
        );
        assert!(
            r["lambda_request_id"].is_string(),
            "lambda request id missing: {r}"
        );
        assert!(
            r["_aws"]["CloudWatchMetrics"].is_array(),
            "not an EMF record: {r}"
        );
    }
    let output = stack.all_output();
    for s in secrets {
        assert!(
            !output.contains(s.as_str()),
            "a token, signature, cookie value or key reached the logs"
        );
        assert!(
            !answers.contains(s.as_str()),
            "a token, signature, cookie value or key reached an answer"
        );
    }
    for m in forged_markers {
        assert!(
            !output.contains(m) && !answers.contains(m),
            "a claim of a token whose signature failed leaked"
        );
    }
}

async fn stack(algs: &[&str], auth: &[(&str, &str)]) -> (Stack, Keys) {
    let mut s = Stack::start();
    let file = s.keygen("keys.json", algs);
    s.create_secret(&file.text()).await;
    s.start_function("secrets-fn", "secrets-fn", &secrets_env());
    let mut ae = authorizer_env();
    ae.extend_from_slice(auth);
    s.start_function("authorizer", "authorizer", &ae);
    let keys = Keys::load(&file);
    (s, keys)
}

/// Runs the cases of `catalogue` that need the binaries, on a stack of its configuration.
async fn through_the_binaries(catalogue: &Catalogue) {
    let (stack, keys) = stack(catalogue.algs, catalogue.authorizer_env).await;
    let all = (catalogue.build)(&keys);
    let total = all.len();
    let cases = catalogue::needing_the_binaries(all);
    let secrets = secrets_of(&cases, &keys);
    run(&stack, &cases, &secrets, catalogue.markers).await;
    println!(
        "{}: {} of {total} cases through the binaries passed",
        catalogue.name,
        cases.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn attack_catalogue_with_the_default_configuration() {
    through_the_binaries(&catalogue::DEFAULT).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn attack_catalogue_with_a_permissive_allowlist_and_explicit_typing() {
    through_the_binaries(&catalogue::PERMISSIVE).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn route_rules_and_double_token_mode() {
    through_the_binaries(&catalogue::ROUTES_AND_DOUBLE_TOKEN).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn attack_catalogue_for_paseto() {
    through_the_binaries(&catalogue::PASETO).await;
}
