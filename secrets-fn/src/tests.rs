//! Requests through the function ([`SecretsFn::handle`]), with the real SDK clients answered
//! by `aws-smithy-mocks`: Secrets Manager serves a key set, DynamoDB is the revocation table.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use jwt_session::keygen::generate;
use jwt_session::revocation::dynamodb::to_item;
use jwt_session::revocation::{Entry, FeedShards};
use jwt_session::wire::{KeysResponse, RotationResponse};
use jwt_session::{Alg, JwkSet};
use serde_json::{json, Map, Value};

use super::*;
use crate::signer::Session;

const SIGNER: [(&str, &str); 6] = [
    ("SECRET_ID", "s"),
    ("SECRETS_FN_ACTIONS", "sign"),
    ("SIGN_ISSUER", "https://auth.example"),
    ("SIGN_AUDIENCE", "api"),
    ("SIGN_LIFETIME_SECONDS", "900"),
    ("SESSION_MAX_SECONDS", "3600"),
];

fn cfg(pairs: &[(&str, &str)]) -> Config {
    let m: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| m.get(k).cloned()).unwrap()
}

/// A function whose Secrets Manager client is never answered (for requests refused before).
fn function(pairs: &[(&str, &str)]) -> SecretsFn {
    let conf = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
        .build();
    SecretsFn::new(cfg(pairs), Client::from_conf(conf))
}

/// A signing function whose secret holds `keys` (one version, `AWSCURRENT`).
fn signer(keys: &JwkSet) -> SecretsFn {
    let secret = serde_json::to_string(keys).unwrap();
    let describe = mock!(Client::describe_secret).then_output(|| {
        DescribeSecretOutput::builder()
            .version_ids_to_stages("v1", vec!["AWSCURRENT".to_owned()])
            .build()
    });
    let get = mock!(Client::get_secret_value).then_output(move || {
        GetSecretValueOutput::builder()
            .version_id("v1")
            .secret_string(secret.clone())
            .build()
    });
    let client = mock_client!(
        aws_sdk_secretsmanager,
        RuleMode::MatchAny,
        [&describe, &get]
    );
    SecretsFn::new(cfg(&SIGNER), client)
}

/// The same, revoking in (and checking renewals against) a table answered by `rules`.
fn revoking(keys: &JwkSet, rules: &[&Rule]) -> SecretsFn {
    let table = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, rules, |c| c
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled()));
    let mut f = signer(keys);
    f.cfg.revocation_table = Some("t".into());
    f.with_revocations(table)
}

fn keys(alg: Alg) -> JwkSet {
    JwkSet {
        keys: vec![generate(alg).unwrap()],
    }
}

async fn answer(f: &SecretsFn, event: Value) -> Result<Value, Error> {
    f.handle(&event)
        .await
        .map(|a| serde_json::to_value(a).unwrap())
}

async fn sign_alice(f: &SecretsFn) -> Value {
    let event = json!({"action": "sign", "sub": "alice", "claims": {"scope": "read"}});
    answer(f, event).await.unwrap()
}

async fn renew(f: &SecretsFn, token: &Value) -> Result<Value, Error> {
    answer(f, json!({"action": "renew", "token": token})).await
}

/// The claims of a token we issued (already verified by the function that answered it).
fn claims(token: &Value) -> Map<String, Value> {
    jwt_session::strict::claims_map(token.as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn anything_but_a_request_of_the_protocol_is_explained() {
    let f = function(&[("SECRET_ID", "s")]);
    for e in [
        json!({}),
        json!(null),
        json!({"action": "delete"}),
        json!({"Step": 1}),
        json!({"action": "get_keys", "refresh": "yes"}),
    ] {
        let err = f.handle(&e).await.unwrap_err();
        assert!(err.to_string().contains("get_keys"), "{e}");
        assert!(err.to_string().contains("ClientRequestToken"));
        let d = lambda_runtime::Diagnostic::from(err);
        assert_eq!(d.error_type, "unsupported_event");
    }
    let sign = json!({"action": "sign"});
    assert_eq!(
        f.handle(&sign).await.unwrap_err().code(),
        "action_not_allowed"
    );
    let signer = function(&SIGNER);
    assert_eq!(
        signer.handle(&sign).await.unwrap_err().code(),
        "bad_request"
    );
}

#[test]
fn answers_serialise_as_the_public_set_built_at_load_or_as_typed() {
    let loaded = Arc::new(Loaded {
        keys: JwkSet::default(),
        public: KeysResponse {
            keys: JwkSet::default(),
            cache_ttl_seconds: 300,
            confirmed_at: None,
            revalidated: false,
        },
        versions: Versions {
            current: "v1".into(),
            previous: None,
        },
    });
    let confirmation = Confirmation {
        confirmed_at: 1_800_000_000,
        revalidated: true,
    };
    let keys = serde_json::to_value(Answer::Keys(loaded, confirmation)).unwrap();
    assert_eq!(
        keys,
        json!({"keys": [], "cache_ttl_seconds": 300, "confirmed_at": 1_800_000_000u64, "revalidated": true})
    );
    let rotated = Answer::Rotated(RotationResponse {
        step: jwt_session::wire::RotationStep::Set,
        result: jwt_session::wire::RotationResult::NothingToSet,
    });
    assert_eq!(
        serde_json::to_value(rotated).unwrap(),
        json!({"step": "setSecret", "result": "nothing_to_set"})
    );
}

#[tokio::test]
async fn revocations_are_refused_where_revocation_is_off() {
    let signer = function(&SIGNER);
    let err = signer
        .handle(&json!({"action": "revoke_subject", "sub": "alice"}))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "action_not_allowed");
    assert!(err.to_string().contains("REVOCATION_TABLE"));
    let keys_only = function(&[("SECRET_ID", "s")]);
    let err = keys_only
        .handle(&json!({"action": "revoke_session", "sid": "x"}))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "action_not_allowed");
    let malformed = signer
        .handle(&json!({"action": "revoke_session"}))
        .await
        .unwrap_err();
    assert_eq!(malformed.code(), "bad_request");
}

#[tokio::test]
async fn a_session_is_signed_and_renewed_with_its_id_and_claims_kept() {
    let f = signer(&keys(Alg::EdDSA));
    let first = sign_alice(&f).await;
    let first_claims = claims(&first["token"]);
    let iat = first_claims["iat"].as_u64().unwrap();
    assert_eq!(first["expires_at"], iat + 900);
    assert_eq!(first["session_expires_at"], iat + 3600);
    assert_eq!(first_claims["auth_time"], iat);
    assert_eq!(first_claims["csrf"], first["csrf"]);
    assert_eq!(first_claims["iss"], "https://auth.example");
    let cookie = first["set_cookie"].as_str().unwrap();
    assert!(
        cookie.starts_with("__Host-session=")
            && cookie.contains("Max-Age=900; Path=/; Secure; HttpOnly; SameSite=Strict"),
        "{cookie}"
    );
    let renewed = renew(&f, &first["token"]).await.unwrap();
    let renewed_claims = claims(&renewed["token"]);
    // One session id from the login through every renewal (docs/revocation.md).
    assert_eq!(renewed["sid"], first["sid"]);
    assert_eq!(renewed_claims["sid"], first["sid"]);
    assert_eq!(renewed_claims["auth_time"], iat);
    assert_eq!(renewed_claims["scope"], "read");
    assert_ne!(renewed["jti"], first["jti"]);
    assert_ne!(renewed["csrf"], first["csrf"]);
    let another = sign_alice(&f).await;
    assert_ne!(
        another["sid"], first["sid"],
        "each login is a session of its own"
    );
    let reserved = json!({"action": "sign", "sub": "alice", "claims": {"sid": "mine"}});
    assert_eq!(
        answer(&f, reserved).await.unwrap_err().code(),
        "reserved_claim"
    );
}

#[tokio::test]
async fn an_old_session_is_renewed_up_to_its_absolute_limit_and_an_expired_token_not_at_all() {
    let k = keys(Alg::EdDSA);
    let f = signer(&k);
    let now = jwt_session::unix_now();
    let sign = f.cfg.sign.as_ref().unwrap();
    let scope = json!({"scope": "read"});
    let session = Session {
        sid: "s-old".into(),
        auth_time: now - 3200,
    };
    // Issued 1000 s ago: expired.
    let expired = signer::issue(
        &k,
        sign,
        "alice",
        scope.as_object().unwrap(),
        &session,
        now - 1000,
    )
    .unwrap();
    let err = renew(&f, &json!(expired.token.expose())).await.unwrap_err();
    assert_eq!(err.code(), "invalid_token");
    // Issued 100 s ago, in a session begun 3200 s ago: renewed until the session's end.
    let live = signer::issue(
        &k,
        sign,
        "alice",
        scope.as_object().unwrap(),
        &session,
        now - 100,
    )
    .unwrap();
    let renewed = renew(&f, &json!(live.token.expose())).await.unwrap();
    assert_eq!(
        renewed["expires_at"],
        now - 3200 + 3600,
        "capped at auth_time + SESSION_MAX_SECONDS"
    );
    assert_eq!(renewed["sid"], "s-old");
    assert_eq!(claims(&renewed["token"])["auth_time"], now - 3200);
}

#[tokio::test]
async fn a_paseto_key_signs_and_renews_paseto_sessions() {
    let k = keys(Alg::V4Public);
    let f = signer(&k);
    let first = sign_alice(&f).await;
    let token = first["token"].as_str().unwrap();
    assert!(token.starts_with("v4.public."), "{token}");
    assert_eq!(first["kid"], k.keys[0].kid.as_str());
    assert!(first["kid"].as_str().unwrap().starts_with("k4.pid."));
    let renewed = renew(&f, &first["token"]).await.unwrap();
    assert!(renewed["token"].as_str().unwrap().starts_with("v4.public."));
    assert_eq!(renewed["sid"], first["sid"]);
    assert_ne!(renewed["jti"], first["jti"]);
    // A JWT key set cannot renew it, nor can a PASETO key set renew a JWT.
    let jwt_signer = signer(&keys(Alg::EdDSA));
    let err = renew(&jwt_signer, &first["token"]).await.unwrap_err();
    assert_eq!(err.code(), "invalid_token");
    let jwt = sign_alice(&jwt_signer).await;
    let err = renew(&f, &jwt["token"]).await.unwrap_err();
    assert_eq!(err.code(), "invalid_token");
}

#[tokio::test]
async fn a_forged_or_foreign_token_cannot_be_renewed() {
    let f = signer(&keys(Alg::EdDSA));
    let other = signer(&keys(Alg::EdDSA));
    let foreign = answer(&other, json!({"action": "sign", "sub": "mallory"}))
        .await
        .unwrap();
    let err = renew(&f, &foreign["token"]).await.unwrap_err();
    assert_eq!(err.code(), "invalid_token");
    let err = renew(&f, &json!("not.a.token")).await.unwrap_err();
    assert_eq!(err.code(), "invalid_token");
}

#[tokio::test]
async fn a_revoked_session_is_not_renewed_and_an_unreadable_table_refuses_the_renewal() {
    let k = keys(Alg::EdDSA);
    let first = sign_alice(&signer(&k)).await;
    let sid = first["sid"].as_str().unwrap().to_owned();

    // The table holds nothing for the session or its subject: renewed, read consistently.
    let nothing = mock!(aws_sdk_dynamodb::Client::get_item)
        .match_requests(|r| r.consistent_read() == Some(true))
        .then_output(|| GetItemOutput::builder().build());
    let f = revoking(&k, &[&nothing]);
    renew(&f, &first["token"]).await.unwrap();
    assert_eq!(
        nothing.num_calls(),
        2,
        "the subject's item and the session's"
    );

    // The session was revoked: refused.
    let item = to_item(
        &Entry::session(sid, jwt_session::unix_now_ms(), 900, 0),
        FeedShards::DEFAULT,
    );
    let revoked = mock!(aws_sdk_dynamodb::Client::get_item).then_output(move || {
        GetItemOutput::builder()
            .set_item(Some(item.clone()))
            .build()
    });
    let f = revoking(&k, &[&revoked]);
    let err = renew(&f, &first["token"]).await.unwrap_err();
    assert_eq!(err.code(), "revoked");

    // The table cannot be read: refused, and a retry may succeed.
    let failing = mock!(aws_sdk_dynamodb::Client::get_item).then_http_response(|| {
        aws_sdk_dynamodb::config::http::HttpResponse::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(500).unwrap(),
            aws_smithy_types::body::SdkBody::from(r#"{"__type":"InternalServerError"}"#),
        )
    });
    let f = revoking(&k, &[&failing]);
    let err = renew(&f, &first["token"]).await.unwrap_err();
    assert_eq!(err.code(), "revocation_store");
    assert!(err.is_transient(), "{err}");
    assert!(err
        .to_string()
        .contains("DynamoDB GetItem on the revocation table failed"));
}

#[tokio::test]
async fn a_session_is_revoked_by_its_token_and_a_subject_once_its_second_is_over() {
    let k = keys(Alg::EdDSA);
    let first = sign_alice(&signer(&k)).await;
    let put =
        mock!(aws_sdk_dynamodb::Client::put_item).then_output(|| PutItemOutput::builder().build());
    let f = revoking(&k, &[&put]);

    let revoked = answer(
        &f,
        json!({"action": "revoke_session", "token": first["token"]}),
    )
    .await
    .unwrap();
    assert_eq!(revoked["revoked"], "session");
    assert_eq!(revoked["sid"], first["sid"]);
    assert_eq!(revoked["sub"], "alice");

    let err = answer(
        &f,
        json!({"action": "revoke_session", "sid": "x".repeat(2000)}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "bad_request");

    let revoked = answer(&f, json!({"action": "revoke_subject", "sub": "alice"}))
        .await
        .unwrap();
    assert_eq!(revoked["revoked"], "subject");
    let before = revoked["before"].as_u64().unwrap();
    assert!(
        jwt_session::unix_now() > before,
        "answered only once the revoked second is over"
    );
    assert_eq!(put.num_calls(), 2);
}
