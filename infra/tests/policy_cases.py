"""Proves the policy rules bite: the template passes, and each deliberately widened copy fails.

Run by `make infra-check` with the repo's venv (PyYAML comes with cfn-lint) and cfn-guard.
Usage: policy_cases.py CFN_GUARD RULES TEMPLATE
"""
import copy
import subprocess
import sys
import tempfile

import yaml

guard, rules, template_path = sys.argv[1:4]
with open(template_path) as f:
    template = yaml.safe_load(f)


def res(t, name):
    return t["Resources"][name]


def stmts(t, role, policy=0):
    return res(t, role)["Properties"]["Policies"][policy]["PolicyDocument"]["Statement"]


def cmk_statement(t, role):
    return next(s["Fn::If"][1] for s in stmts(t, role) if "Fn::If" in s)


def authorizer_reads_secret(t):
    stmts(t, "AuthorizerRole").append(
        {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": {"Ref": "SigningKeysSecret"}})


def key_server_resource_star(t):
    stmts(t, "KeyServerRole")[0]["Resource"] = "*"


def key_server_any_secret(t):
    stmts(t, "KeyServerRole")[0]["Resource"] = {"Fn::Sub": "arn:aws:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:*"}


def no_key_server_resource_policy(t):
    del t["Resources"]["KeyServerInvokedByAuthorizerOnly"]


def key_server_callable_by_anyone(t):
    res(t, "KeyServerInvokedByAuthorizerOnly")["Properties"]["Principal"] = "*"


def rotation_wildcard_action(t):
    stmts(t, "RotationRole")[0]["Action"] = ["secretsmanager:*"]


def backend_star_action(t):
    stmts(t, "BackendRole")[0]["Action"] = ["*"]


def rotation_can_delete(t):
    stmts(t, "RotationRole")[0]["Action"].append("secretsmanager:DeleteSecret")


def authorizer_invokes_anything(t):
    stmts(t, "AuthorizerRole")[0]["Resource"] = "*"


def authorizer_invokes_the_rotator(t):
    stmts(t, "AuthorizerRole")[0]["Resource"] = {"Fn::GetAtt": ["RotationFunction", "Arn"]}


def old_runtime(t):
    res(t, "AuthorizerFunction")["Properties"]["Runtime"] = "provided.al2"


def x86(t):
    res(t, "KeyServerFunction")["Properties"]["Architectures"] = ["x86_64"]


def text_logs(t):
    res(t, "AuthorizerFunction")["Properties"]["LoggingConfig"]["LogFormat"] = "Text"


def no_retention(t):
    del res(t, "AuthorizerLogs")["Properties"]["RetentionInDays"]


def no_key_unavailable_alarm(t):
    del t["Resources"]["KeysUnavailable"]


def secret_with_value(t):
    res(t, "SigningKeysSecret")["Properties"]["SecretString"] = '{"keys": []}'


def secret_shared_across_stages(t):
    res(t, "SigningKeysSecret")["Properties"]["Name"] = {"Fn::Sub": "jwt-signing-keys/shared"}


def rotator_unscoped(t):
    del res(t, "RotationInvokedBySecretsManager")["Properties"]["SourceArn"]


def default_api_permissions(t):
    res(t, "HttpApi")["Properties"]["Auth"]["Authorizers"]["CookieAuthorizer"]["EnableFunctionDefaultPermissions"] = True


def cmk_any_key(t):
    cmk_statement(t, "KeyServerRole")["Resource"] = "*"


def cmk_wildcard_action(t):
    cmk_statement(t, "RotationRole")["Action"] = ["kms:*"]


def login_invokes_key_server(t):
    stmts(t, "LoginRole")[0]["Resource"] = {"Fn::GetAtt": ["KeyServerFunction", "Arn"]}


def signer_can_write(t):
    stmts(t, "SignerRole")[0]["Action"].append("secretsmanager:PutSecretValue")


def no_signer_resource_policy(t):
    del t["Resources"]["SignerInvokedByLoginOnly"]


def signer_callable_by_authorizer(t):
    res(t, "SignerInvokedByLoginOnly")["Properties"]["Principal"] = {"Fn::GetAtt": ["AuthorizerRole", "Arn"]}


def login_reads_secret(t):
    stmts(t, "LoginRole").append(
        {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": {"Ref": "SigningKeysSecret"}})


def no_secret_resource_policy(t):
    del t["Resources"]["SigningKeysSecretPolicy"]


def secret_policy_admits_the_authorizer(t):
    cond = res(t, "SigningKeysSecretPolicy")["Properties"]["ResourcePolicy"]["Statement"][0]["Condition"]
    cond["ArnNotEquals"]["aws:PrincipalArn"].append({"Fn::GetAtt": ["AuthorizerRole", "Arn"]})


def cmk_without_deny(t):
    stmts_ = res(t, "SecretKey")["Properties"]["KeyPolicy"]["Statement"]
    res(t, "SecretKey")["Properties"]["KeyPolicy"]["Statement"] = [s for s in stmts_ if s.get("Effect") != "Deny"]


def unsafe_route_without_csrf_identity(t):
    res(t, "ExampleBackendFunction")["Properties"]["Events"]["HttpCreateOrder"]["Properties"]["Auth"]["Authorizer"] = "CookieAuthorizer"


def cache_key_without_route(t):
    del res(t, "HttpApi")["Properties"]["Auth"]["Authorizers"]["CookieAuthorizer"]["Identity"]["Context"]


def rest_cache_key_without_resource(t):
    res(t, "RestApi")["Properties"]["Auth"]["Authorizers"]["CookieCsrfAuthorizer"]["Identity"]["Context"] = ["httpMethod", "path"]


def http_cache_key_without_method(t):
    res(t, "HttpApi")["Properties"]["Auth"]["Authorizers"]["CookieCsrfAuthorizer"]["Identity"]["Context"] = ["routeKey", "path"]


def secret_policy_allows_update_secret(t):
    st = res(t, "SigningKeysSecretPolicy")["Properties"]["ResourcePolicy"]["Statement"][0]
    st["Action"] = [a for a in st["Action"] if a != "secretsmanager:UpdateSecret"]


def dynamo_stmt(t, role):
    return next(s for p in res(t, role)["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]
                if any(a.startswith("dynamodb:") for a in s.get("Action", [])))


def authorizer_writes_revocations(t):
    dynamo_stmt(t, "AuthorizerRole")["Action"].append("dynamodb:PutItem")


def authorizer_reads_the_whole_table(t):
    dynamo_stmt(t, "AuthorizerRole")["Resource"] = {"Fn::GetAtt": ["RevocationTable", "Arn"]}


def signer_deletes_revocations(t):
    dynamo_stmt(t, "SignerRole")["Action"].append("dynamodb:DeleteItem")


def login_writes_revocations(t):
    stmts(t, "LoginRole").append(
        {"Effect": "Allow", "Action": ["dynamodb:PutItem"], "Resource": {"Fn::GetAtt": ["RevocationTable", "Arn"]}})


def revocations_provisioned(t):
    res(t, "RevocationTable")["Properties"]["BillingMode"] = "PROVISIONED"


def revocations_never_expire(t):
    del res(t, "RevocationTable")["Properties"]["TimeToLiveSpecification"]


CASES = [
    authorizer_writes_revocations, authorizer_reads_the_whole_table, signer_deletes_revocations,
    login_writes_revocations, revocations_provisioned, revocations_never_expire,
    unsafe_route_without_csrf_identity, cache_key_without_route, rest_cache_key_without_resource,
    http_cache_key_without_method, secret_policy_allows_update_secret,
    no_secret_resource_policy, secret_policy_admits_the_authorizer, cmk_without_deny,
    login_invokes_key_server, signer_can_write, no_signer_resource_policy,
    signer_callable_by_authorizer, login_reads_secret,
    authorizer_reads_secret, key_server_resource_star, key_server_any_secret,
    no_key_server_resource_policy, key_server_callable_by_anyone, rotation_wildcard_action,
    backend_star_action, rotation_can_delete, authorizer_invokes_anything,
    authorizer_invokes_the_rotator, old_runtime, x86, text_logs, no_retention,
    no_key_unavailable_alarm, secret_with_value, secret_shared_across_stages, rotator_unscoped,
    default_api_permissions, cmk_any_key, cmk_wildcard_action,
]


def guard_passes(t):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        yaml.safe_dump(t, f, sort_keys=False)
        f.flush()
        r = subprocess.run([guard, "validate", "-r", rules, "-d", f.name, "--show-summary", "none"],
                           capture_output=True, text=True)
        return r.returncode == 0


passed = failed = 0
if guard_passes(template):
    print("ok    the template passes every rule")
    passed += 1
else:
    print("FAIL  the template itself breaks a rule")
    failed += 1
for case in CASES:
    t = copy.deepcopy(template)
    case(t)
    if guard_passes(t):
        print(f"FAIL  widened copy accepted: {case.__name__}")
        failed += 1
    else:
        print(f"ok    rejected: {case.__name__}")
        passed += 1
print(f"policy checks: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
