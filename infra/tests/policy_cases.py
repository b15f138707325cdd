"""Proves the policy rules bite: each stack's template passes its rules, before and after SAM's
transform, each deliberately widened copy of it fails, and every mutant the mutation suite
(mutants.py) generates for a rule is rejected by that rule. With both stacks given, also checks
that they name each other alike (the names the app builds for the key stack's resources are the
ones the key stack gives them, and the other way round), and that the HTTP API's routes (events)
and integrations (DefinitionBody) match one to one.

Run by `make infra-check` with the repo's venv (PyYAML, aws-sam-translator) and cfn-guard.
Usage:
    policy_cases.py CFN_GUARD --keys KEYS_TEMPLATE RULES... [--keys-transformed RULES...]
                              --app APP_TEMPLATE RULES... [--app-transformed RULES...]
Either stack may be given alone (its cases only); the rules of a group are passed to cfn-guard
together (`-r` for each). The *-transformed rules judge the template after SAM's transform
(sam_transform.py, offline). POLICY_JOBS sets how many cfn-guard processes run at once
(default 2).
"""
import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mutants as mutation  # noqa: E402

USAGE = ("usage: policy_cases.py CFN_GUARD --keys TEMPLATE RULES... [--keys-transformed RULES...] "
         "[--app TEMPLATE RULES... [--app-transformed RULES...]]")

# ---------------------------------------------------------------- helpers


def res(t, name):
    return t["Resources"][name]


def stmts(t, role, policy=0):
    return res(t, role)["Properties"]["Policies"][policy]["PolicyDocument"]["Statement"]


def all_stmts(t, role):
    return [s for p in res(t, role)["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]


def sid(t, role, name):
    return next(s for s in all_stmts(t, role) if s.get("Sid") == name)


def drop_sid(t, role, name):
    for p in res(t, role)["Properties"]["Policies"]:
        p["PolicyDocument"]["Statement"] = [s for s in p["PolicyDocument"]["Statement"] if s.get("Sid") != name]


def cmk_statement(t, role):
    return next(s["Fn::If"][1] for s in stmts(t, role) if "Fn::If" in s)


def dynamo_stmt(t, role):
    return next(s for s in all_stmts(t, role)
                if any(a.startswith("dynamodb:") for a in s.get("Action", [])))


def key_arn(path):
    """An ARN of the key stack as the app builds it (path after the account)."""
    return {"Fn::Sub": [f"arn:${{AWS::Partition}}:{path}",
                        {"KeyAccount": {"Fn::If": ["KeysInThisAccount", {"Ref": "AWS::AccountId"},
                                                   {"Ref": "KeyAccountId"}]}}]}


def app_principal(role):
    return {"Fn::Sub": [f"arn:${{AWS::Partition}}:iam::${{AppAccount}}:role/jwt-app/${{Stage}}/${{Stage}}-${{AppStackName}}-{role}",
                        {"AppAccount": {"Fn::If": ["AppInThisAccount", {"Ref": "AWS::AccountId"},
                                                   {"Ref": "AppAccountId"}]}}]}


def table_statements(t):
    return res(t, "RevocationTable")["Properties"]["ResourcePolicy"]["PolicyDocument"]["Statement"]


def table_policy(t):
    """The table policy's Allow (to the app's authorizer, once it exists)."""
    return next(s["Fn::If"][1] for s in table_statements(t) if "Fn::If" in s)


def table_deny(t):
    return next(s for s in table_statements(t) if s.get("Effect") == "Deny")


def env(t, fn):
    return res(t, fn)["Properties"]["Environment"]["Variables"]


# ---------------------------------------------------------------- key stack: key functions


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


def rotation_partial_wildcard_action(t):
    stmts(t, "RotationRole")[0]["Action"] = ["secretsmanager:Get*", "secretsmanager:Put*"]


def rotation_can_delete(t):
    stmts(t, "RotationRole")[0]["Action"].append("secretsmanager:DeleteSecret")


def x86(t):
    res(t, "KeyServerFunction")["Properties"]["Architectures"] = ["x86_64"]


def key_server_text_logs(t):
    res(t, "KeyServerFunction")["Properties"]["LoggingConfig"]["LogFormat"] = "Text"


def signer_no_retention(t):
    del res(t, "SignerLogs")["Properties"]["RetentionInDays"]


def secret_with_value(t):
    res(t, "SigningKeysSecret")["Properties"]["SecretString"] = '{"keys": []}'


def secret_shared_across_stages(t):
    res(t, "SigningKeysSecret")["Properties"]["Name"] = {"Fn::Sub": "jwt-signing-keys/shared"}


def rotator_unscoped(t):
    del res(t, "RotationInvokedBySecretsManager")["Properties"]["SourceArn"]


def cmk_any_key(t):
    cmk_statement(t, "KeyServerRole")["Resource"] = "*"


def cmk_wildcard_action(t):
    cmk_statement(t, "RotationRole")["Action"] = ["kms:*"]


def signer_can_write(t):
    stmts(t, "SignerRole")[0]["Action"].append("secretsmanager:PutSecretValue")


def no_signer_resource_policy(t):
    del t["Resources"]["SignerInvokedByLoginOnly"]


def signer_callable_by_authorizer(t):
    res(t, "SignerInvokedByLoginOnly")["Properties"]["Principal"] = app_principal("authorizer")


def no_secret_resource_policy(t):
    del t["Resources"]["SigningKeysSecretPolicy"]


def secret_policy_admits_the_authorizer(t):
    cond = res(t, "SigningKeysSecretPolicy")["Properties"]["ResourcePolicy"]["Statement"][0]["Condition"]
    cond["ArnNotEquals"]["aws:PrincipalArn"].append(app_principal("authorizer"))


def cmk_without_deny(t):
    stmts_ = res(t, "SecretKey")["Properties"]["KeyPolicy"]["Statement"]
    res(t, "SecretKey")["Properties"]["KeyPolicy"]["Statement"] = [s for s in stmts_ if s.get("Effect") != "Deny"]


def cmk_deny_outside_any_stage(t):
    deny = res(t, "SecretKey")["Properties"]["KeyPolicy"]["Statement"][1]
    deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"] = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/jwt-keys/*"}


def key_role_path_of_another_stage(t):
    res(t, "SignerRole")["Properties"]["Path"] = {"Fn::Sub": "/jwt-keys/prod/${AWS::StackName}/"}


def secret_policy_allows_update_secret(t):
    st = res(t, "SigningKeysSecretPolicy")["Properties"]["ResourcePolicy"]["Statement"][0]
    st["Action"] = [a for a in st["Action"] if a != "secretsmanager:UpdateSecret"]


def extra_function_permission(t):
    t["Resources"]["SignerInvokedByAccount"] = {
        "Type": "AWS::Lambda::Permission",
        "Properties": {"Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "SignerFunction"},
                       "Principal": {"Ref": "AWS::AccountId"}}}


# ---------------------------------------------------------------- key stack: per environment


def key_server_granted_to_prod_app(t):
    p = res(t, "KeyServerInvokedByAuthorizerOnly")["Properties"]["Principal"]
    p["Fn::Sub"][0] = "arn:${AWS::Partition}:iam::${AppAccount}:role/jwt-app/prod/prod-${AppStackName}-authorizer"


def signer_granted_literal_arn(t):
    res(t, "SignerInvokedByLoginOnly")["Properties"]["Principal"] = \
        "arn:aws:iam::123456789012:role/jwt-app/prod/prod-cookie-jwt-prod-login"


def key_server_granted_any_app_stage(t):
    p = res(t, "KeyServerInvokedByAuthorizerOnly")["Properties"]["Principal"]
    p["Fn::Sub"][0] = "arn:${AWS::Partition}:iam::${AppAccount}:role/jwt-app/*"


def signer_granted_in_a_fixed_account(t):
    p = res(t, "SignerInvokedByLoginOnly")["Properties"]["Principal"]
    p["Fn::Sub"][1]["AppAccount"] = "111122223333"


def grants_before_the_app_exists(t):
    del res(t, "KeyServerInvokedByAuthorizerOnly")["Condition"]


def table_policy_grants_prod_app(t):
    table_policy(t)["Principal"]["AWS"]["Fn::Sub"][0] = \
        "arn:${AWS::Partition}:iam::${AppAccount}:role/jwt-app/prod/prod-${AppStackName}-authorizer"


# ---------------------------------------------------------------- key stack: revocations


def signer_deletes_revocations(t):
    dynamo_stmt(t, "SignerRole")["Action"].append("dynamodb:DeleteItem")


def revocations_provisioned(t):
    res(t, "RevocationTable")["Properties"]["BillingMode"] = "PROVISIONED"


def revocations_never_expire(t):
    del res(t, "RevocationTable")["Properties"]["TimeToLiveSpecification"]


def key_server_reads_revocations(t):
    stmts(t, "KeyServerRole").append(
        {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": {"Fn::GetAtt": ["RevocationTable", "Arn"]}})


def rotation_writes_revocations(t):
    stmts(t, "RotationRole").append(
        {"Effect": "Allow", "Action": ["dynamodb:PutItem"], "Resource": {"Fn::GetAtt": ["RevocationTable", "Arn"]}})


def table_policy_allows_put_item(t):
    table_policy(t)["Action"].append("dynamodb:PutItem")


def table_policy_whole_table(t):
    table_policy(t)["Resource"].append(
        {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Stage}-${AWS::StackName}-revocations"})


def table_policy_every_index(t):
    table_policy(t)["Resource"] = [
        {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Stage}-${AWS::StackName}-revocations/index/*"}]


def table_policy_a_third_index(t):
    table_policy(t)["Resource"].append(
        {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Stage}-${AWS::StackName}-revocations/index/by-subject"})


def table_policy_without_the_expiry_index(t):
    table_policy(t)["Resource"] = [r for r in table_policy(t)["Resource"] if not r["Fn::Sub"].endswith("/feed-expires")]


# the feed's shards and its two indexes


def gsi(t, name):
    return next(i for i in res(t, "RevocationTable")["Properties"]["GlobalSecondaryIndexes"] if i["IndexName"] == name)


def signer_without_shards(t):
    del env(t, "SignerFunction")["REVOCATION_SHARDS"]


def signer_shards_unbounded(t):
    del t["Parameters"]["RevocationShards"]["MaxValue"]


def no_expiry_index(t):
    props = res(t, "RevocationTable")["Properties"]
    props["GlobalSecondaryIndexes"] = [i for i in props["GlobalSecondaryIndexes"] if i["IndexName"] != "feed-expires"]


def no_feed_index(t):
    props = res(t, "RevocationTable")["Properties"]
    props["GlobalSecondaryIndexes"] = [i for i in props["GlobalSecondaryIndexes"] if i["IndexName"] != "feed-at"]


def expiry_index_sorted_by_at(t):
    gsi(t, "feed-expires")["KeySchema"][1]["AttributeName"] = "at"


def expiry_index_keyed_by_id(t):
    gsi(t, "feed-expires")["KeySchema"][0]["AttributeName"] = "id"


def expiry_index_without_range(t):
    del gsi(t, "feed-expires")["KeySchema"][1]


def expiry_index_keys_only(t):
    gsi(t, "feed-expires")["Projection"] = {"ProjectionType": "KEYS_ONLY"}


def feed_index_sorted_by_expiry(t):
    gsi(t, "feed-at")["KeySchema"][1]["AttributeName"] = "expires_at"


def expires_at_a_string(t):
    defs = res(t, "RevocationTable")["Properties"]["AttributeDefinitions"]
    next(d for d in defs if d["AttributeName"] == "expires_at")["AttributeType"] = "S"


def table_policy_unconditional(t):
    sts = table_statements(t)
    sts[:] = [s["Fn::If"][1] if "Fn::If" in s else s for s in sts]


# ---------------------------------------------------------------- key stack: alarms


def no_key_server_errors_alarm(t):
    del t["Resources"]["KeyServerErrors"]


def no_key_server_throttles_alarm(t):
    del t["Resources"]["KeyServerThrottles"]


def no_signer_errors_alarm(t):
    del t["Resources"]["SignerErrors"]


def no_signer_throttles_alarm(t):
    del t["Resources"]["SignerThrottles"]


def no_rotation_errors_alarm(t):
    del t["Resources"]["RotationErrors"]


def no_rotation_throttles_alarm(t):
    del t["Resources"]["RotationThrottles"]


def signer_errors_alarm_on_the_key_server(t):
    res(t, "SignerErrors")["Properties"]["Dimensions"][0]["Value"] = {"Ref": "KeyServerFunction"}


def no_rotation_failure_filter(t):
    del t["Resources"]["RotationFailuresMetric"]


def rotation_failure_alarm_elsewhere(t):
    res(t, "RotationFailures")["Properties"]["Namespace"] = {"Fn::Sub": "CookieJwtKeys"}


def key_alarm_without_actions(t):
    del res(t, "KeyServerErrors")["Properties"]["AlarmActions"]


# ---------------------------------------------------------------- key stack: its pipeline


def key_pipeline_resource_star(t):
    sid(t, "KeyPipelineRole", "ThisStack")["Resource"] = ["*"]


def key_pipeline_other_stack(t):
    sid(t, "KeyPipelineRole", "ThisStack")["Resource"] = [
        {"Fn::Sub": "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/cookie-jwt-prod/*"}]


def key_pipeline_any_function(t):
    sid(t, "KeyPipelineRole", "TheKeyFunctions")["Resource"] = [
        {"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:*"}]


def key_pipeline_app_functions(t):
    sid(t, "KeyPipelineRole", "TheKeyFunctions")["Resource"].append(
        {"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${Stage}-${AWS::StackName}-authorizer"})


def key_pipeline_any_role(t):
    sid(t, "KeyPipelineRole", "TheKeyFunctionRoles")["Resource"] = [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"}]


def key_pipeline_any_secret(t):
    sid(t, "KeyPipelineRole", "TheSecretNeverItsValue")["Resource"] = [
        {"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:jwt-signing-keys/*"}]


def key_pipeline_reads_the_keys(t):
    sid(t, "KeyPipelineRole", "TheSecretNeverItsValue")["Action"].append("secretsmanager:GetSecretValue")


def key_pipeline_writes_revocations(t):
    sid(t, "KeyPipelineRole", "TheRevocationTableNeverItsItems")["Action"].append("dynamodb:PutItem")


def key_pipeline_decrypts(t):
    sid(t, "KeyPipelineRole", "ManageTheSecretKeyNeverUseIt")["Action"].append("kms:Decrypt")


def key_pipeline_creates_untagged_keys(t):
    del sid(t, "KeyPipelineRole", "CreateTheSecretKeyTaggedForThisStack")["Condition"]


def key_pipeline_manages_any_key(t):
    del sid(t, "KeyPipelineRole", "ManageTheSecretKeyNeverUseIt")["Condition"]


def key_pipeline_passes_roles_anywhere(t):
    del sid(t, "KeyPipelineRole", "PassTheKeyFunctionRolesToLambdaOnly")["Condition"]


def key_pipeline_attaches_any_policy(t):
    del sid(t, "KeyPipelineRole", "AttachTheXRayPolicyOnly")["Condition"]


def key_pipeline_wildcard_action(t):
    sid(t, "KeyPipelineRole", "TheKeyFunctions")["Action"] = ["lambda:*"]


def key_pipeline_not_action(t):
    s = sid(t, "KeyPipelineRole", "TheKeyFunctions")
    s["NotAction"] = s.pop("Action")


def key_pipeline_admin_policy(t):
    res(t, "KeyPipelineRole")["Properties"]["ManagedPolicyArns"] = ["arn:aws:iam::aws:policy/AdministratorAccess"]


def key_pipeline_trusts_anyone(t):
    res(t, "KeyPipelineRole")["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] = {"AWS": "*"}


def key_pipeline_in_the_key_role_path(t):
    res(t, "KeyPipelineRole")["Properties"]["Path"] = {"Fn::Sub": "/jwt-keys/${Stage}/${AWS::StackName}/"}


def key_pipeline_deletes_the_stack(t):
    sid(t, "KeyPipelineRole", "ThisStack")["Action"].append("cloudformation:DeleteStack")


def key_pipeline_reads_any_artifact(t):
    s = next(s["Fn::If"][1] for s in all_stmts(t, "KeyPipelineRole") if "Fn::If" in s)
    s["Resource"] = [{"Fn::Sub": "arn:${AWS::Partition}:s3:::${ArtifactsBucketName}/*"}]



# ---------------------------------------------------------------- key stack: revocation items


def table_policy_only_once_the_app_exists(t):
    props = res(t, "RevocationTable")["Properties"]
    props["ResourcePolicy"] = {"Fn::If": ["AppPrincipalsReady", props["ResourcePolicy"], {"Ref": "AWS::NoValue"}]}


def no_table_policy(t):
    del res(t, "RevocationTable")["Properties"]["ResourcePolicy"]


def table_without_write_deny(t):
    sts = table_statements(t)
    sts[:] = [s for s in sts if s.get("Effect") != "Deny"]


def table_deny_admits_the_pipeline(t):
    cond = table_deny(t)["Condition"]["ArnNotEquals"]
    cond["aws:PrincipalArn"] = [cond["aws:PrincipalArn"],
                                {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/jwt-pipeline/${Stage}/${Stage}-${AWS::StackName}-pipeline"}]


def table_deny_admits_every_key_role(t):
    table_deny(t)["Condition"] = {"ArnNotLike": {"aws:PrincipalArn": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/jwt-keys/*"}}}


def table_deny_names_the_key_server(t):
    table_deny(t)["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] = \
        {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/jwt-keys/${Stage}/${AWS::StackName}/${Stage}-${AWS::StackName}-key-server"}


def table_deny_narrowed_to_other_accounts(t):
    table_deny(t)["Condition"]["StringNotEquals"] = {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"}}


def table_deny_lets_anyone_delete(t):
    table_deny(t)["Action"].remove("dynamodb:DeleteItem")


def table_deny_lets_anyone_update_by_partiql(t):
    table_deny(t)["Action"].remove("dynamodb:PartiQLUpdate")


def table_policy_allows_the_account(t):
    table_statements(t).append(
        {"Effect": "Allow", "Principal": {"AWS": {"Ref": "AWS::AccountId"}}, "Action": ["dynamodb:Scan"],
         "Resource": {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Stage}-${AWS::StackName}-revocations"}})


def signer_role_renamed(t):
    res(t, "SignerRole")["Properties"]["RoleName"] = {"Fn::Sub": "${Stage}-${AWS::StackName}-sign"}


def signer_role_name_generated(t):
    del res(t, "SignerRole")["Properties"]["RoleName"]


# ---------------------------------------------------------------- key stack: the boundary


def boundary_statements(t, name):
    return res(t, name)["Properties"]["PolicyDocument"]["Statement"]


def key_role_without_boundary(t):
    del res(t, "SignerRole")["Properties"]["PermissionsBoundary"]


def key_role_admin_boundary(t):
    res(t, "KeyServerRole")["Properties"]["PermissionsBoundary"] = "arn:aws:iam::aws:policy/AdministratorAccess"


def key_boundary_allows_everything(t):
    boundary_statements(t, "KeyFunctionsBoundary")[0]["Action"] = ["*"]


def key_boundary_any_secret(t):
    boundary_statements(t, "KeyFunctionsBoundary")[0]["Resource"] = "*"


def key_boundary_allows_iam(t):
    boundary_statements(t, "KeyFunctionsBoundary").append(
        {"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": "*"})


def key_boundary_deletes_revocations(t):
    next(s for s in boundary_statements(t, "KeyFunctionsBoundary") if s.get("Sid") == "TheRevocationItems")["Action"].append("dynamodb:DeleteItem")


def key_boundary_any_key(t):
    next(s for s in boundary_statements(t, "KeyFunctionsBoundary") if "Fn::If" in s)["Fn::If"][1]["Resource"] = "*"


def key_boundary_attached_as_a_grant(t):
    res(t, "KeyFunctionsBoundary")["Properties"]["Roles"] = [{"Ref": "KeyServerRole"}]


def key_role_trusts_the_pipeline(t):
    res(t, "SignerRole")["Properties"]["AssumeRolePolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Principal": {"AWS": {"Ref": "KeyPipelinePrincipalArn"}}, "Action": "sts:AssumeRole"})


def key_role_trusts_another_service(t):
    res(t, "RotationRole")["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"] = \
        ["lambda.amazonaws.com", "ec2.amazonaws.com"]


# ---------------------------------------------------------------- key stack: pipeline escalation


def key_pipeline_creates_roles_without_boundary(t):
    del sid(t, "KeyPipelineRole", "TheKeyFunctionRolesWithTheBoundaryOnly")["Condition"]


def key_pipeline_creates_roles_with_any_boundary(t):
    sid(t, "KeyPipelineRole", "TheKeyFunctionRolesWithTheBoundaryOnly")["Condition"] = \
        {"StringEquals": {"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"}}


def key_pipeline_puts_role_policies_freely(t):
    sid(t, "KeyPipelineRole", "TheKeyFunctionRoles")["Action"].append("iam:PutRolePolicy")


def key_pipeline_attaches_without_boundary(t):
    del sid(t, "KeyPipelineRole", "AttachTheXRayPolicyOnly")["Condition"]["StringEquals"]


def key_pipeline_updates_trust(t):
    sid(t, "KeyPipelineRole", "TheKeyFunctionRoles")["Action"].append("iam:UpdateAssumeRolePolicy")


def key_pipeline_removes_boundaries(t):
    sid(t, "KeyPipelineRole", "TheKeyFunctionRoles")["Action"].append("iam:DeleteRolePermissionsBoundary")


def key_pipeline_new_boundary_version(t):
    stmts(t, "KeyPipelineRole").append(
        {"Sid": "EditTheBoundary", "Effect": "Allow", "Action": ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"],
         "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/jwt-boundary/${Stage}/${Stage}-${AWS::StackName}-key-functions-boundary"}]})


def key_pipeline_may_change_the_boundary(t):
    drop_sid(t, "KeyPipelineRole", "NeverChangeTheBoundaryPolicy")


def key_pipeline_may_set_a_boundary_version(t):
    sid(t, "KeyPipelineRole", "NeverChangeTheBoundaryPolicy")["Action"].remove("iam:SetDefaultPolicyVersion")


def key_pipeline_boundary_deny_conditional(t):
    sid(t, "KeyPipelineRole", "NeverChangeTheBoundaryPolicy")["Condition"] = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}


def key_pipeline_may_remove_boundaries(t):
    drop_sid(t, "KeyPipelineRole", "NeverRemoveABoundary")


def key_pipeline_may_assume_key_roles(t):
    drop_sid(t, "KeyPipelineRole", "NeverAssumeAKeyFunctionRole")


def key_pipeline_puts_secret_policy(t):
    sid(t, "KeyPipelineRole", "TheSecretNeverItsValue")["Action"].append("secretsmanager:PutResourcePolicy")


def key_pipeline_deletes_secret_policy(t):
    sid(t, "KeyPipelineRole", "TheSecretNeverItsValue")["Action"].append("secretsmanager:DeleteResourcePolicy")


def key_pipeline_puts_table_policy(t):
    sid(t, "KeyPipelineRole", "TheRevocationTableNeverItsItems")["Action"].append("dynamodb:PutResourcePolicy")


def key_pipeline_deletes_table_policy(t):
    sid(t, "KeyPipelineRole", "TheRevocationTableNeverItsItems")["Action"].append("dynamodb:DeleteResourcePolicy")


def key_pipeline_tags_any_key(t):
    sid(t, "KeyPipelineRole", "CreateTheSecretKeyTaggedForThisStack")["Action"].append("kms:TagResource")


def key_pipeline_tags_keys_by_request_tag(t):
    stmts(t, "KeyPipelineRole").append(
        {"Sid": "TagKeys", "Effect": "Allow", "Action": ["kms:TagResource"],
         "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"}],
         "Condition": {"StringEquals": {"aws:RequestTag/jwt-keys-stack": {"Fn::Sub": "${Stage}/${AWS::StackName}"}}}})


def key_pipeline_grants_the_signer_to_anyone(t):
    del sid(t, "KeyPipelineRole", "TheSignerForTheAppLoginOnly")["Condition"]


def key_pipeline_grants_the_signer_to_the_authorizer(t):
    sid(t, "KeyPipelineRole", "TheSignerForTheAppLoginOnly")["Condition"]["StringEquals"]["lambda:Principal"] = \
        app_principal("authorizer")


def key_pipeline_grants_the_key_server_to_everyone(t):
    sid(t, "KeyPipelineRole", "TheKeyServerForTheAppAuthorizerOnly")["Condition"]["StringEquals"]["lambda:Principal"] = "*"


def key_pipeline_grants_the_rotation_to_another_service(t):
    sid(t, "KeyPipelineRole", "TheRotationForSecretsManagerOnly")["Condition"]["StringEquals"]["lambda:Principal"] = \
        "events.amazonaws.com"


def key_pipeline_grants_all_functions_to_the_login(t):
    s = sid(t, "KeyPipelineRole", "TheSignerForTheAppLoginOnly")
    s["Resource"] = copy.deepcopy(sid(t, "KeyPipelineRole", "TheKeyFunctions")["Resource"])


def key_pipeline_lambda_permission_unscoped(t):
    sid(t, "KeyPipelineRole", "TheKeyFunctions")["Action"].append("lambda:AddPermission")


KEY_CASES = [
    key_server_resource_star, key_server_any_secret, no_key_server_resource_policy,
    key_server_callable_by_anyone, rotation_wildcard_action, rotation_partial_wildcard_action,
    rotation_can_delete, x86, key_server_text_logs, signer_no_retention, secret_with_value,
    secret_shared_across_stages, rotator_unscoped, cmk_any_key, cmk_wildcard_action,
    signer_can_write, no_signer_resource_policy, signer_callable_by_authorizer,
    no_secret_resource_policy, secret_policy_admits_the_authorizer, cmk_without_deny,
    cmk_deny_outside_any_stage, key_role_path_of_another_stage, secret_policy_allows_update_secret,
    extra_function_permission,
    # per environment
    key_server_granted_to_prod_app, signer_granted_literal_arn, key_server_granted_any_app_stage,
    signer_granted_in_a_fixed_account, grants_before_the_app_exists, table_policy_grants_prod_app,
    # revocations
    signer_deletes_revocations, revocations_provisioned, revocations_never_expire,
    key_server_reads_revocations, rotation_writes_revocations, table_policy_allows_put_item,
    table_policy_whole_table, table_policy_every_index, table_policy_a_third_index,
    table_policy_without_the_expiry_index, table_policy_unconditional,
    # the feed's shards and its two indexes
    signer_without_shards, signer_shards_unbounded, no_expiry_index, no_feed_index,
    expiry_index_sorted_by_at, expiry_index_keyed_by_id, expiry_index_without_range,
    expiry_index_keys_only, feed_index_sorted_by_expiry, expires_at_a_string,
    # alarms
    no_key_server_errors_alarm, no_key_server_throttles_alarm, no_signer_errors_alarm,
    no_signer_throttles_alarm, no_rotation_errors_alarm, no_rotation_throttles_alarm,
    signer_errors_alarm_on_the_key_server, no_rotation_failure_filter,
    rotation_failure_alarm_elsewhere, key_alarm_without_actions,
    # the pipeline's role
    key_pipeline_resource_star, key_pipeline_other_stack, key_pipeline_any_function,
    key_pipeline_app_functions, key_pipeline_any_role, key_pipeline_any_secret,
    key_pipeline_reads_the_keys, key_pipeline_writes_revocations, key_pipeline_decrypts,
    key_pipeline_creates_untagged_keys, key_pipeline_manages_any_key,
    key_pipeline_passes_roles_anywhere, key_pipeline_attaches_any_policy,
    key_pipeline_wildcard_action, key_pipeline_not_action, key_pipeline_admin_policy,
    key_pipeline_trusts_anyone, key_pipeline_in_the_key_role_path, key_pipeline_deletes_the_stack,
    key_pipeline_reads_any_artifact,
    # revocation items: the table's policy, always attached, denies writes to all but the signer
    table_policy_only_once_the_app_exists, no_table_policy, table_without_write_deny,
    table_deny_admits_the_pipeline, table_deny_admits_every_key_role, table_deny_names_the_key_server,
    table_deny_narrowed_to_other_accounts, table_deny_lets_anyone_delete,
    table_deny_lets_anyone_update_by_partiql, table_policy_allows_the_account, signer_role_renamed,
    signer_role_name_generated,
    # the key functions' permissions boundary
    key_role_without_boundary, key_role_admin_boundary, key_boundary_allows_everything,
    key_boundary_any_secret, key_boundary_allows_iam, key_boundary_deletes_revocations,
    key_boundary_any_key, key_boundary_attached_as_a_grant, key_role_trusts_the_pipeline,
    key_role_trusts_another_service,
    # the pipeline's role cannot escalate
    key_pipeline_creates_roles_without_boundary, key_pipeline_creates_roles_with_any_boundary,
    key_pipeline_puts_role_policies_freely, key_pipeline_attaches_without_boundary,
    key_pipeline_updates_trust, key_pipeline_removes_boundaries, key_pipeline_new_boundary_version,
    key_pipeline_may_change_the_boundary, key_pipeline_may_set_a_boundary_version,
    key_pipeline_boundary_deny_conditional, key_pipeline_may_remove_boundaries,
    key_pipeline_may_assume_key_roles, key_pipeline_puts_secret_policy,
    key_pipeline_deletes_secret_policy, key_pipeline_puts_table_policy,
    key_pipeline_deletes_table_policy, key_pipeline_tags_any_key, key_pipeline_tags_keys_by_request_tag,
    key_pipeline_grants_the_signer_to_anyone, key_pipeline_grants_the_signer_to_the_authorizer,
    key_pipeline_grants_the_key_server_to_everyone, key_pipeline_grants_the_rotation_to_another_service,
    key_pipeline_grants_all_functions_to_the_login, key_pipeline_lambda_permission_unscoped,
]

# ---------------------------------------------------------------- app stack


def authorizer_reads_secret(t):
    stmts(t, "AuthorizerRole").append(
        {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
         "Resource": key_arn("secretsmanager:${AWS::Region}:${KeyAccount}:secret:jwt-signing-keys/${Stage}/${KeyStackName}-??????")})


def backend_star_action(t):
    stmts(t, "BackendRole")[0]["Action"] = ["*"]


def authorizer_not_action(t):
    s = stmts(t, "AuthorizerRole")[0]
    s["NotAction"] = s.pop("Action")


def authorizer_invokes_anything(t):
    stmts(t, "AuthorizerRole")[0]["Resource"] = "*"


def authorizer_invokes_the_rotator(t):
    stmts(t, "AuthorizerRole")[0]["Resource"] = key_arn("lambda:${AWS::Region}:${KeyAccount}:function:${Stage}-${KeyStackName}-rotation")


def old_runtime(t):
    res(t, "AuthorizerFunction")["Properties"]["Runtime"] = "provided.al2"


def text_logs(t):
    res(t, "AuthorizerFunction")["Properties"]["LoggingConfig"]["LogFormat"] = "Text"


def no_retention(t):
    del res(t, "AuthorizerLogs")["Properties"]["RetentionInDays"]


def no_key_unavailable_alarm(t):
    del t["Resources"]["KeysUnavailable"]


def default_api_permissions(t):
    res(t, "HttpApi")["Properties"]["Auth"]["Authorizers"]["CookieAuthorizer"]["EnableFunctionDefaultPermissions"] = True


def authorizer_callable_by_the_account(t):
    res(t, "AuthorizerInvokedByHttpApi")["Properties"]["Principal"] = {"Ref": "AWS::AccountId"}


def login_invokes_key_server(t):
    stmts(t, "LoginRole")[0]["Resource"] = key_arn("lambda:${AWS::Region}:${KeyAccount}:function:${Stage}-${KeyStackName}-key-server")


def login_reads_secret(t):
    stmts(t, "LoginRole").append(
        {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
         "Resource": key_arn("secretsmanager:${AWS::Region}:${KeyAccount}:secret:jwt-signing-keys/${Stage}/${KeyStackName}-??????")})


def unsafe_route_without_csrf_identity(t):
    res(t, "ExampleBackendFunction")["Properties"]["Events"]["HttpCreateOrder"]["Properties"]["Auth"]["Authorizer"] = "CookieAuthorizer"


def cache_key_without_route(t):
    del res(t, "HttpApi")["Properties"]["Auth"]["Authorizers"]["CookieAuthorizer"]["Identity"]["Context"]


def rest_cache_key_without_resource(t):
    res(t, "RestApi")["Properties"]["Auth"]["Authorizers"]["CookieCsrfAuthorizer"]["Identity"]["Context"] = ["httpMethod", "path"]


def http_cache_key_without_method(t):
    res(t, "HttpApi")["Properties"]["Auth"]["Authorizers"]["CookieCsrfAuthorizer"]["Identity"]["Context"] = ["routeKey", "path"]


# revocations


def authorizer_writes_revocations(t):
    dynamo_stmt(t, "AuthorizerRole")["Action"].append("dynamodb:PutItem")


def authorizer_reads_the_whole_table(t):
    dynamo_stmt(t, "AuthorizerRole")["Resource"].append(key_arn("dynamodb:${AWS::Region}:${KeyAccount}:table/${Stage}-${KeyStackName}-revocations"))


def authorizer_reads_every_index(t):
    dynamo_stmt(t, "AuthorizerRole")["Resource"] = [key_arn("dynamodb:${AWS::Region}:${KeyAccount}:table/${Stage}-${KeyStackName}-revocations/index/*")]


def authorizer_reads_a_third_index(t):
    dynamo_stmt(t, "AuthorizerRole")["Resource"].append(key_arn("dynamodb:${AWS::Region}:${KeyAccount}:table/${Stage}-${KeyStackName}-revocations/index/by-subject"))


def authorizer_without_the_expiry_index(t):
    dynamo_stmt(t, "AuthorizerRole")["Resource"] = [key_arn("dynamodb:${AWS::Region}:${KeyAccount}:table/${Stage}-${KeyStackName}-revocations/index/feed-at")]


def authorizer_index_as_one_arn(t):
    dynamo_stmt(t, "AuthorizerRole")["Resource"] = key_arn("dynamodb:${AWS::Region}:${KeyAccount}:table/${Stage}-${KeyStackName}-revocations/index/feed-at")


def authorizer_without_shards(t):
    del env(t, "AuthorizerFunction")["REVOCATION_SHARDS"]


def app_boundary_queries_the_table(t):
    res(t, "AppFunctionsBoundary")["Properties"]["PolicyDocument"]["Statement"][2]["Resource"].append(
        key_arn("dynamodb:${AWS::Region}:${KeyAccount}:table/${Stage}-${KeyStackName}-revocations"))


def app_boundary_queries_every_index(t):
    res(t, "AppFunctionsBoundary")["Properties"]["PolicyDocument"]["Statement"][2]["Resource"] = [
        key_arn("dynamodb:${AWS::Region}:${KeyAccount}:table/${Stage}-${KeyStackName}-revocations/index/*")]


# the session routes' throttling


def route_settings(t):
    return res(t, "HttpApi")["Properties"]["RouteSettings"]


def session_routes_unthrottled(t):
    del res(t, "HttpApi")["Properties"]["RouteSettings"]


def renew_unthrottled(t):
    del route_settings(t)["POST /renew"]


def logout_throttled_under_another_key(t):
    route_settings(t)["POST /signout"] = route_settings(t).pop("POST /logout")


def login_route_key_lower_case(t):
    route_settings(t)["post /login"] = route_settings(t).pop("POST /login")


def login_without_burst_limit(t):
    del route_settings(t)["POST /login"]["ThrottlingBurstLimit"]


def renew_without_rate_limit(t):
    del route_settings(t)["POST /renew"]["ThrottlingRateLimit"]


def logout_rate_limit_unset(t):
    route_settings(t)["POST /logout"]["ThrottlingRateLimit"] = {"Ref": "AWS::NoValue"}


def login_route_moved(t):
    res(t, "LoginFunction")["Properties"]["Events"]["Login"]["Properties"]["Path"] = "/signin"


def session_rate_limit_may_be_zero(t):
    t["Parameters"]["SessionRoutesRateLimit"]["MinValue"] = 0


# the revocation feed's unknown items


def no_revocation_item_unknown_filter(t):
    del t["Resources"]["RevocationItemsUnknownMetric"]


def no_revocation_item_unknown_alarm(t):
    del t["Resources"]["RevocationItemsUnknown"]


def revocation_item_unknown_filter_on_the_login_log(t):
    res(t, "RevocationItemsUnknownMetric")["Properties"]["LogGroupName"] = {"Ref": "LoginLogs"}


def revocation_item_unknown_alarm_elsewhere(t):
    res(t, "RevocationItemsUnknown")["Properties"]["Namespace"] = {"Fn::Sub": "CookieJwtAuthorizer"}


def revocation_item_unknown_alarm_threshold_raised(t):
    res(t, "RevocationItemsUnknown")["Properties"]["Threshold"] = 10


def login_writes_revocations(t):
    stmts(t, "LoginRole").append(
        {"Effect": "Allow", "Action": ["dynamodb:PutItem"],
         "Resource": key_arn("dynamodb:${AWS::Region}:${KeyAccount}:table/${Stage}-${KeyStackName}-revocations")})


def backend_reads_revocations(t):
    stmts(t, "BackendRole").append(
        {"Effect": "Allow", "Action": ["dynamodb:Query"],
         "Resource": key_arn("dynamodb:${AWS::Region}:${KeyAccount}:table/${Stage}-${KeyStackName}-revocations/index/feed-at")})


# per environment


def key_server_arn_hard_coded_prod(t):
    env(t, "AuthorizerFunction")["KEYS_FUNCTION_NAME"] = \
        "arn:aws:lambda:eu-west-1:123456789012:function:prod-cookie-jwt-keys-prod-key-server"


def signer_arn_of_prod(t):
    env(t, "LoginFunction")["SIGNER_FUNCTION_NAME"]["Fn::Sub"][0] = \
        "arn:${AWS::Partition}:lambda:${AWS::Region}:${KeyAccount}:function:prod-${KeyStackName}-signer"


def revocation_table_of_prod(t):
    env(t, "AuthorizerFunction")["REVOCATION_TABLE"] = {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/prod-cookie-jwt-keys-prod-revocations"}


def authorizer_invokes_prod_key_server(t):
    stmts(t, "AuthorizerRole")[0]["Resource"] = key_arn("lambda:${AWS::Region}:${KeyAccount}:function:prod-${KeyStackName}-key-server")


def authorizer_queries_prod_index(t):
    dynamo_stmt(t, "AuthorizerRole")["Resource"][1] = key_arn("dynamodb:${AWS::Region}:${KeyAccount}:table/prod-${KeyStackName}-revocations/index/feed-expires")


def authorizer_queries_index_in_any_account(t):
    dynamo_stmt(t, "AuthorizerRole")["Resource"][1]["Fn::Sub"][1]["KeyAccount"]["Fn::If"][2] = "*"


def key_account_fixed(t):
    env(t, "AuthorizerFunction")["KEYS_FUNCTION_NAME"]["Fn::Sub"][1]["KeyAccount"] = "111122223333"


def login_invokes_signer_in_any_account(t):
    stmts(t, "LoginRole")[0]["Resource"]["Fn::Sub"][1]["KeyAccount"]["Fn::If"][2] = "*"


def authorizer_role_outside_app_path(t):
    res(t, "AuthorizerRole")["Properties"]["Path"] = "/"


def login_role_unstaged_name(t):
    res(t, "LoginRole")["Properties"]["RoleName"] = {"Fn::Sub": "${AWS::StackName}-login"}


# the pipeline's role


def app_pipeline_without_denies(t):
    pols = res(t, "AppPipelineRole")["Properties"]["Policies"]
    res(t, "AppPipelineRole")["Properties"]["Policies"] = [p for p in pols if p["PolicyName"] != "never-the-key-stack"]


def app_pipeline_may_update_the_key_stack(t):
    sid(t, "AppPipelineRole", "NotTheKeyStack")["Action"] = ["cloudformation:DeleteStack"]


def app_pipeline_denies_another_stack(t):
    sid(t, "AppPipelineRole", "NotTheKeyStack")["Resource"] = [
        {"Fn::Sub": "arn:${AWS::Partition}:cloudformation:*:*:stack/cookie-jwt-keys-prod/*"}]


def app_pipeline_may_read_the_secret(t):
    drop_sid(t, "AppPipelineRole", "NoSigningKeySecret")


def app_pipeline_secret_deny_conditional(t):
    sid(t, "AppPipelineRole", "NoSigningKeySecret")["Condition"] = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}


def app_pipeline_may_update_key_functions(t):
    sid(t, "AppPipelineRole", "NotTheKeyFunctions")["Action"] = ["lambda:InvokeFunction"]


def app_pipeline_may_touch_key_roles(t):
    sid(t, "AppPipelineRole", "NoKeyRole")["Resource"] = [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/jwt-keys/prod/*"}]


def app_pipeline_may_use_kms(t):
    drop_sid(t, "AppPipelineRole", "NoKms")


def app_pipeline_may_write_the_index(t):
    sid(t, "AppPipelineRole", "NotTheRevocationTable")["Resource"].pop()


def app_pipeline_deny_by_not_resource(t):
    s = sid(t, "AppPipelineRole", "NotTheKeyStack")
    s["NotResource"] = s.pop("Resource")


def app_pipeline_resource_star(t):
    sid(t, "AppPipelineRole", "TheAppFunctions")["Resource"] = ["*"]


def app_pipeline_key_functions(t):
    sid(t, "AppPipelineRole", "TheAppFunctions")["Resource"].append(
        {"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${Stage}-${KeyStackName}-signer"})


def app_pipeline_other_stack(t):
    sid(t, "AppPipelineRole", "ThisStack")["Resource"] = [
        {"Fn::Sub": "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/${AWS::StackName}-keys/*"}]


def app_pipeline_key_roles(t):
    sid(t, "AppPipelineRole", "TheAppRoles")["Resource"] = [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/jwt-keys/${Stage}/${KeyStackName}/*"}]


def app_pipeline_writes_revocations(t):
    stmts(t, "AppPipelineRole", 1).append(
        {"Effect": "Allow", "Action": ["dynamodb:PutItem"],
         "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Stage}-${AWS::StackName}-revocations"}]})


def app_pipeline_wildcard_action(t):
    sid(t, "AppPipelineRole", "TheApisTaggedForThisStack")["Action"] = ["apigateway:*"]


def app_pipeline_admin_policy(t):
    res(t, "AppPipelineRole")["Properties"]["ManagedPolicyArns"] = ["arn:aws:iam::aws:policy/AdministratorAccess"]


def app_pipeline_trusts_anyone(t):
    res(t, "AppPipelineRole")["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] = {"AWS": "*"}


def app_pipeline_in_the_app_role_path(t):
    res(t, "AppPipelineRole")["Properties"]["Path"] = {"Fn::Sub": "/jwt-app/${Stage}/"}


def app_pipeline_passes_roles_anywhere(t):
    del sid(t, "AppPipelineRole", "PassTheAppRolesToLambdaOnly")["Condition"]



# the app functions' permissions boundary


def app_role_without_boundary(t):
    del res(t, "BackendRole")["Properties"]["PermissionsBoundary"]


def app_role_admin_boundary(t):
    res(t, "AuthorizerRole")["Properties"]["PermissionsBoundary"] = "arn:aws:iam::aws:policy/AdministratorAccess"


def app_boundary_allows_everything(t):
    res(t, "AppFunctionsBoundary")["Properties"]["PolicyDocument"]["Statement"][0]["Action"] = ["*"]


def app_boundary_invokes_any_function(t):
    res(t, "AppFunctionsBoundary")["Properties"]["PolicyDocument"]["Statement"][0]["Resource"] = "*"


def app_boundary_invokes_prod_signer(t):
    res(t, "AppFunctionsBoundary")["Properties"]["PolicyDocument"]["Statement"][1]["Resource"] = \
        key_arn("lambda:${AWS::Region}:${KeyAccount}:function:prod-${KeyStackName}-signer")


def app_boundary_reads_secrets(t):
    res(t, "AppFunctionsBoundary")["Properties"]["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
         "Resource": key_arn("secretsmanager:${AWS::Region}:${KeyAccount}:secret:jwt-signing-keys/${Stage}/${KeyStackName}-??????")})


def app_boundary_writes_revocations(t):
    res(t, "AppFunctionsBoundary")["Properties"]["PolicyDocument"]["Statement"][2]["Action"].append("dynamodb:PutItem")


def backend_role_trusts_the_pipeline(t):
    res(t, "BackendRole")["Properties"]["AssumeRolePolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Principal": {"AWS": {"Ref": "AppPipelinePrincipalArn"}}, "Action": "sts:AssumeRole"})


# the pipeline's role cannot escalate


def app_pipeline_creates_roles_without_boundary(t):
    del sid(t, "AppPipelineRole", "TheAppRolesWithTheBoundaryOnly")["Condition"]


def app_pipeline_creates_roles_with_any_boundary(t):
    sid(t, "AppPipelineRole", "TheAppRolesWithTheBoundaryOnly")["Condition"] = \
        {"StringEquals": {"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"}}


def app_pipeline_puts_role_policies_freely(t):
    sid(t, "AppPipelineRole", "TheAppRoles")["Action"].append("iam:PutRolePolicy")


def app_pipeline_attaches_without_boundary(t):
    del sid(t, "AppPipelineRole", "AttachTheXRayPolicyOnly")["Condition"]["StringEquals"]


def app_pipeline_updates_trust(t):
    sid(t, "AppPipelineRole", "TheAppRoles")["Action"].append("iam:UpdateAssumeRolePolicy")


def app_pipeline_may_change_the_boundary(t):
    drop_sid(t, "AppPipelineRole", "NeverChangeTheBoundaryPolicy")


def app_pipeline_may_delete_the_boundary(t):
    sid(t, "AppPipelineRole", "NeverChangeTheBoundaryPolicy")["Action"].remove("iam:DeletePolicy")


def app_pipeline_may_remove_boundaries(t):
    drop_sid(t, "AppPipelineRole", "NeverRemoveABoundary")


def app_pipeline_may_assume_app_roles(t):
    drop_sid(t, "AppPipelineRole", "NeverAssumeAnAppRole")


def app_pipeline_grants_functions_to_anyone(t):
    del sid(t, "AppPipelineRole", "TheAppFunctionsForApiGatewayOnly")["Condition"]


def app_pipeline_lambda_permission_unscoped(t):
    sid(t, "AppPipelineRole", "TheAppFunctions")["Action"].append("lambda:AddPermission")


APP_CASES = [
    authorizer_reads_secret, backend_star_action, authorizer_not_action, authorizer_invokes_anything,
    authorizer_invokes_the_rotator, old_runtime, text_logs, no_retention, no_key_unavailable_alarm,
    default_api_permissions, authorizer_callable_by_the_account, login_invokes_key_server,
    login_reads_secret, unsafe_route_without_csrf_identity, cache_key_without_route,
    rest_cache_key_without_resource, http_cache_key_without_method,
    # revocations
    authorizer_writes_revocations, authorizer_reads_the_whole_table, login_writes_revocations,
    backend_reads_revocations, authorizer_reads_every_index, authorizer_reads_a_third_index,
    authorizer_without_the_expiry_index, authorizer_index_as_one_arn, authorizer_without_shards,
    app_boundary_queries_the_table, app_boundary_queries_every_index,
    # the session routes' throttling
    session_routes_unthrottled, renew_unthrottled, logout_throttled_under_another_key,
    login_route_key_lower_case, login_without_burst_limit, renew_without_rate_limit,
    logout_rate_limit_unset, login_route_moved, session_rate_limit_may_be_zero,
    # the revocation feed's unknown items
    no_revocation_item_unknown_filter, no_revocation_item_unknown_alarm,
    revocation_item_unknown_filter_on_the_login_log, revocation_item_unknown_alarm_elsewhere,
    revocation_item_unknown_alarm_threshold_raised,
    # per environment
    key_server_arn_hard_coded_prod, signer_arn_of_prod, revocation_table_of_prod,
    authorizer_invokes_prod_key_server, authorizer_queries_prod_index,
    authorizer_queries_index_in_any_account, key_account_fixed,
    login_invokes_signer_in_any_account, authorizer_role_outside_app_path, login_role_unstaged_name,
    # the pipeline's role
    app_pipeline_without_denies, app_pipeline_may_update_the_key_stack,
    app_pipeline_denies_another_stack, app_pipeline_may_read_the_secret,
    app_pipeline_secret_deny_conditional, app_pipeline_may_update_key_functions,
    app_pipeline_may_touch_key_roles, app_pipeline_may_use_kms, app_pipeline_may_write_the_index,
    app_pipeline_deny_by_not_resource, app_pipeline_resource_star, app_pipeline_key_functions,
    app_pipeline_other_stack, app_pipeline_key_roles, app_pipeline_writes_revocations,
    app_pipeline_wildcard_action, app_pipeline_admin_policy, app_pipeline_trusts_anyone,
    app_pipeline_in_the_app_role_path, app_pipeline_passes_roles_anywhere,
    # the app functions' permissions boundary
    app_role_without_boundary, app_role_admin_boundary, app_boundary_allows_everything,
    app_boundary_invokes_any_function, app_boundary_invokes_prod_signer, app_boundary_reads_secrets,
    app_boundary_writes_revocations, backend_role_trusts_the_pipeline,
    # the pipeline's role cannot escalate
    app_pipeline_creates_roles_without_boundary, app_pipeline_creates_roles_with_any_boundary,
    app_pipeline_puts_role_policies_freely, app_pipeline_attaches_without_boundary,
    app_pipeline_updates_trust, app_pipeline_may_change_the_boundary,
    app_pipeline_may_delete_the_boundary, app_pipeline_may_remove_boundaries,
    app_pipeline_may_assume_app_roles, app_pipeline_grants_functions_to_anyone,
    app_pipeline_lambda_permission_unscoped,
]

# ---------------------------------------------------------------- both stacks: the wiring


def wiring_problems(keys, app):
    """Where the names one stack builds for the other's resources are not the names the other
    gives them (None when they all agree)."""
    problems = []
    kr, ar = keys["Resources"], app["Resources"]
    if keys["Parameters"]["Stage"].get("AllowedValues") != app["Parameters"]["Stage"].get("AllowedValues"):
        problems.append("the stacks' Stage values differ")

    def built(v):
        return v["Fn::Sub"][0] if isinstance(v, dict) and isinstance(v.get("Fn::Sub"), list) else None

    def in_keys(arn_tail):  # an app-built name, as the key stack spells its own
        return arn_tail.replace("${KeyStackName}", "${AWS::StackName}")

    ks = built(ar["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]["KEYS_FUNCTION_NAME"])
    sg = built(ar["LoginFunction"]["Properties"]["Environment"]["Variables"]["SIGNER_FUNCTION_NAME"])
    tb = built(ar["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]["REVOCATION_TABLE"])
    for what, arn, fn in [("key server", ks, "KeyServerFunction"), ("signer", sg, "SignerFunction")]:
        name = kr[fn]["Properties"]["FunctionName"]["Fn::Sub"]
        if arn is None or in_keys(arn.split(":function:")[-1]) != name:
            problems.append(f"the app's {what} ARN {arn!r} does not name {name!r}")
    table = kr["RevocationTable"]["Properties"]["TableName"]["Fn::Sub"]
    if tb is None or in_keys(tb.split(":table/")[-1]) != table:
        problems.append(f"the app's revocation table ARN {tb!r} does not name {table!r}")
    # The authorizer Queries exactly the key stack's indexes (feed-at and feed-expires).
    indexes = sorted(f"{table}/index/{i['IndexName']}"
                     for i in kr["RevocationTable"]["Properties"].get("GlobalSecondaryIndexes", []))
    query = next((s["Resource"] for p in ar["AuthorizerRole"]["Properties"]["Policies"]
                  for s in p["PolicyDocument"]["Statement"] if "dynamodb:Query" in s.get("Action", [])), None)
    queried = sorted(in_keys(b.split(":table/")[-1]) if b else repr(r)
                     for r in (query if isinstance(query, list) else [query]) for b in [built(r)])
    if queried != indexes:
        problems.append(f"the authorizer Queries {queried!r}, the key stack's indexes are {indexes!r}")

    # The authorizers read at least the shards the signer writes to.
    def shards(t):
        return t["Parameters"].get("RevocationShards", {}).get("Default")
    if not isinstance(shards(keys), int) or not isinstance(shards(app), int) or shards(app) < shards(keys):
        problems.append(f"the app's RevocationShards default {shards(app)!r} is not at least the key "
                        f"stack's {shards(keys)!r}")

    for perm, role in [("KeyServerInvokedByAuthorizerOnly", "AuthorizerRole"), ("SignerInvokedByLoginOnly", "LoginRole")]:
        principal = built(kr[perm]["Properties"]["Principal"])
        props = ar[role]["Properties"]
        path, name = props.get("Path", {}).get("Fn::Sub"), props.get("RoleName", {}).get("Fn::Sub")
        want = f"role{path}{name}" if path and name else None
        got = principal.split(":role/")[-1].replace("${AppStackName}", "${AWS::StackName}") if principal else None
        if want is None or got != want.replace("role/", "", 1):
            problems.append(f"the key stack grants {principal!r}, the app's {role} is {want!r}")
    return problems or None


def wiring_key_function_renamed(keys, app):
    res(keys, "SignerFunction")["Properties"]["FunctionName"] = {"Fn::Sub": "${Stage}-${AWS::StackName}-sign"}


def wiring_table_renamed(keys, app):
    res(keys, "RevocationTable")["Properties"]["TableName"] = {"Fn::Sub": "${Stage}-${AWS::StackName}-revoked"}


def wiring_index_renamed(keys, app):
    res(keys, "RevocationTable")["Properties"]["GlobalSecondaryIndexes"][0]["IndexName"] = "by-feed"


def wiring_expiry_index_renamed(keys, app):
    next(i for i in res(keys, "RevocationTable")["Properties"]["GlobalSecondaryIndexes"]
         if i["IndexName"] == "feed-expires")["IndexName"] = "by-expiry"


def wiring_key_stack_adds_an_index(keys, app):
    res(keys, "RevocationTable")["Properties"]["GlobalSecondaryIndexes"].append(
        {"IndexName": "by-subject", "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
         "Projection": {"ProjectionType": "ALL"}})


def wiring_app_reads_fewer_shards(keys, app):
    app["Parameters"]["RevocationShards"]["Default"] = keys["Parameters"]["RevocationShards"]["Default"] - 1


def wiring_app_role_renamed(keys, app):
    res(app, "AuthorizerRole")["Properties"]["RoleName"] = {"Fn::Sub": "${Stage}-${AWS::StackName}-authz"}


def wiring_stage_values_differ(keys, app):
    app["Parameters"]["Stage"]["AllowedValues"] = ["dev", "staging", "prod"]


WIRING_CASES = [
    wiring_key_function_renamed, wiring_table_renamed, wiring_index_renamed,
    wiring_expiry_index_renamed, wiring_key_stack_adds_an_index, wiring_app_reads_fewer_shards,
    wiring_app_role_renamed, wiring_stage_values_differ,
]

# ---------------------------------------------------------------- the app: routes and integrations


def route_table_problems(app):
    """Where the HTTP API's events (its routes) and its DefinitionBody (their integrations) do
    not match one to one: every event's route has an operation whose integration invokes the
    event's function, and every operation has its event (None when they match). This is the
    table the local gateway reads: the route from the event, the parameter mapping from the
    operation's x-amazon-apigateway-integration.requestParameters."""
    problems = []
    for api_id, api in app["Resources"].items():
        if api.get("Type") != "AWS::Serverless::HttpApi":
            continue
        paths = (api["Properties"].get("DefinitionBody") or {}).get("paths") or {}
        ops = {(path, m.lower()): op for path, item in paths.items() for m, op in item.items()
               if re.fullmatch(r"(?i)get|put|post|delete|options|head|patch|trace|x-amazon-apigateway-any-method", m)}
        seen = set()
        for fn, r in app["Resources"].items():
            if r.get("Type") != "AWS::Serverless::Function":
                continue
            for name, ev in (r["Properties"].get("Events") or {}).items():
                p = ev.get("Properties") or {}
                if ev.get("Type") != "HttpApi" or p.get("ApiId") != {"Ref": api_id}:
                    continue
                method = str(p.get("Method", "ANY")).lower()
                key = (p.get("Path", "$default"), "x-amazon-apigateway-any-method" if method == "any" else method)
                op = ops.get(key)
                if op is None:
                    problems.append(f"{api_id}: event {fn}.{name} ({key[1]} {key[0]}) has no operation in DefinitionBody")
                    continue
                if key in seen:
                    problems.append(f"{api_id}: two events for {key[1]} {key[0]}")
                seen.add(key)
                uri = (op.get("x-amazon-apigateway-integration") or {}).get("uri") or {}
                if "${%s.Arn}" % fn not in str(uri.get("Fn::Sub", "")):
                    problems.append(f"{api_id}: {key[1]} {key[0]} integrates {uri!r}, its event is {fn}'s")
        for key in sorted(set(ops) - seen):
            problems.append(f"{api_id}: DefinitionBody operation {key[1]} {key[0]} has no event")
    return problems or None


def route_table_operation_without_event(app):
    res(app, "HttpApi")["Properties"]["DefinitionBody"]["paths"]["/admin"] = copy.deepcopy(
        res(app, "HttpApi")["Properties"]["DefinitionBody"]["paths"]["/orders"])


def route_table_integration_of_another_function(app):
    op = res(app, "HttpApi")["Properties"]["DefinitionBody"]["paths"]["/orders"]["post"]
    op["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"] = \
        op["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"].replace("ExampleBackendFunction", "LoginFunction")


def route_table_event_without_operation(app):
    del res(app, "HttpApi")["Properties"]["DefinitionBody"]["paths"]["/renew"]


ROUTE_TABLE_CASES = [route_table_operation_without_event, route_table_integration_of_another_function,
                     route_table_event_without_operation]

# ---------------------------------------------------------------- the run


GROUPS = ("--keys", "--keys-transformed", "--app", "--app-transformed")


def parse_args(argv):
    if len(argv) < 2 or argv[1].startswith("--"):
        sys.exit(USAGE)
    guard, groups, current = argv[1], {}, None
    for a in argv[2:]:
        if a in GROUPS:
            current = a[2:]
            if current in groups:
                sys.exit(f"{a} given twice\n{USAGE}")
            groups[current] = []
        elif current is None:
            sys.exit(USAGE)
        else:
            groups[current].append(a)
    stacks = {}
    for kind in ("keys", "app"):
        if kind in groups:
            if len(groups[kind]) < 2:
                sys.exit(USAGE)
            stacks[kind] = (groups[kind][0], groups[kind][1:], groups.get(f"{kind}-transformed", []))
        elif f"{kind}-transformed" in groups:
            sys.exit(f"--{kind}-transformed without --{kind}\n{USAGE}")
    if not stacks:
        sys.exit(USAGE)
    return guard, stacks


def _run_guard(guard, rules, data):
    cmd = [guard, "validate", "-d", data, "--show-summary", "all"]
    for r in rules:
        cmd += ["-r", r]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _parse_guard(stdout):
    """file -> {"": [status per rule file], rule id: status}."""
    out, current = {}, None
    for line in stdout.splitlines():
        m = re.match(r"^(\S+) Status = (PASS|FAIL|SKIP)$", line)
        if m:
            current = out.setdefault(m.group(1), {"": []})
            current[""].append(m.group(2))
            continue
        m = re.match(r"^(\S+\.(?:guard|ruleset)/\S+)\s+(PASS|FAIL|SKIP)$", line)
        if m and current is not None:
            current[m.group(1)] = m.group(2)
    return out


def split_rules(path, into):
    """One rule file per rule of `path` (its top-level `let`s, then the rule), written under
    `into`: rule id ("app.guard/<rule>") -> path of a file named like `path`, so that cfn-guard
    reports the same rule id. Relies on the layout of this project's rule files: a rule starts
    with `rule <name>` and ends with a `}` in column 0; a top-level `let` starts in column 0 and
    continues on indented lines."""
    with open(path) as f:
        lines = f.read().split("\n")
    lets, rules, current, in_let = [], {}, None, False
    for line in lines:
        if current is not None:
            rules[current].append(line)
            if line == "}":
                current = None
            continue
        m = re.match(r"^rule (\w+)", line)
        if m:
            current, in_let = m.group(1), False
            rules[current] = [line]
        elif line.startswith("let "):
            in_let = True
            lets.append(line)
        elif in_let and line[:1] in (" ", "\t"):
            lets.append(line)
        else:
            in_let = False
    if current is not None:
        sys.exit(f"{path}: rule {current} does not end with a '}}' in column 0")
    base = os.path.basename(path)
    out = {}
    for name, body in rules.items():
        d = os.path.join(into, f"{base}.{name}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, base), "w") as f:
            f.write("\n".join(lets + [""] + body) + "\n")
        out[f"{base}/{name}"] = os.path.join(d, base)
    return out


def run_guard_jobs(guard, jobs, workers=None, chunk=40):
    """Runs cfn-guard jobs, `workers` processes at a time (POLICY_JOBS, default 2). A job is
    (key, rule files, {name: template}); each job's templates go in batches of `chunk` files.
    Returns {key: {name: {rule id: PASS|FAIL|SKIP}, or None when cfn-guard could not evaluate
    the template}}. cfn-guard stops a whole batch on an evaluation error: that batch's templates
    are then run one by one."""
    workers = workers or max(1, int(os.environ.get("POLICY_JOBS", "2")))
    results = {key: {} for key, _, _ in jobs}
    with tempfile.TemporaryDirectory() as d:
        batches = []  # (key, rules, directory, {path: name})
        for j, (key, rules, templates) in enumerate(jobs):
            names = list(templates)
            for c in range(0, len(names), chunk):
                bdir = os.path.join(d, f"job{j}-{c}")
                os.mkdir(bdir)
                files = {}
                for i, name in enumerate(names[c:c + chunk]):
                    path = os.path.join(bdir, f"{c + i:04d}.json")
                    with open(path, "w") as f:
                        json.dump(templates[name], f)
                    files[path] = name
                batches.append((key, rules, bdir, files))
        pending, running = list(batches), []
        while pending or running:
            while pending and len(running) < workers:
                batch = pending.pop(0)
                running.append((batch, _run_guard(guard, batch[1], batch[2])))
            (key, rules, bdir, files), proc = running.pop(0)
            stdout, _ = proc.communicate()
            parsed = _parse_guard(stdout)
            for path, name in files.items():
                v = parsed.get(path)
                if v is None or len(v[""]) != len(rules):
                    one = _run_guard(guard, rules, path)
                    out1, err1 = one.communicate()
                    v = _parse_guard(out1).get(path)
                    if v is None or len(v[""]) != len(rules):
                        print(f"      cfn-guard could not evaluate {name or '(shipped)'} with {' '.join(rules)}: "
                              f"{(err1 or out1).strip().splitlines()[-1:]}")
                        results[key][name] = None
                        continue
                results[key][name] = {k: x for k, x in v.items() if k}
    return results


def transformed(template):
    import sam_transform  # the SAM translator: only when transformed rules are given
    return sam_transform.transform(template)


def main():
    guard, stacks = parse_args(sys.argv)
    passed = failed = 0
    generated = rejected = 0
    started = time.monotonic()

    def report(ok, text):
        nonlocal passed, failed
        print(("ok    " if ok else "FAIL  ") + text)
        if ok:
            passed += 1
        else:
            failed += 1

    def shipped_report(v, what):
        if v is not None and "FAIL" not in v.values():
            report(True, f"{what} passes every rule ({len(v)})")
        else:
            bad = sorted(r for r, x in (v or {}).items() if x == "FAIL")
            report(False, f"{what} breaks a rule: {', '.join(bad) or 'cfn-guard error'}")

    templates = {}
    with tempfile.TemporaryDirectory() as split_dir:
        for kind, cases, generate in [("keys", KEY_CASES, mutation.keys_mutants), ("app", APP_CASES, mutation.app_mutants)]:
            if kind not in stacks:
                continue
            path, rules, trules = stacks[kind]
            with open(path) as f:
                template = yaml.safe_load(f)
            templates[kind] = template
            mutants = generate(template)
            applied = {m.name: m.apply(template) for m in mutants}

            # Each rule alone (its file's lets and the rule): a mutant is judged by the rules it
            # targets only, which is what it must fail, and far cheaper than every rule.
            single = {}
            for r in rules + trules:
                single.update(split_rules(r, os.path.join(split_dir, kind)))
            tprefixes = tuple(os.path.basename(x) + "/" for x in trules)

            # The source template and the hand-picked widened copies against every rule: the
            # largest job, run while SAM transforms the mutants.
            variants = {"": template}
            for case in cases:
                t = copy.deepcopy(template)
                case(t)
                variants[case.__name__] = t
            source = {}
            source_run = threading.Thread(target=lambda: source.update(run_guard_jobs(guard, [("source", rules, variants)])))
            source_run.start()

            # SAM's transform: the shipped template and every mutant aimed at a transformed rule.
            tvariants, refused = {}, {}
            if trules:
                try:
                    tvariants[""] = transformed(template)
                except Exception as e:  # noqa: BLE001
                    report(False, f"SAM refuses {path}: {e}")
                for m in mutants:
                    if any(r.startswith(tprefixes) for r in m.targets):
                        try:
                            tvariants[m.name] = transformed(applied[m.name])
                        except Exception as e:  # noqa: BLE001
                            refused[m.name] = str(e)

            jobs = []
            if trules:
                jobs.append(("transformed", trules, {"": tvariants[""]} if "" in tvariants else {}))
            targeted = {}
            for m in mutants:
                for r in m.targets:
                    if r not in single:
                        sys.exit(f"mutant {m.name} targets {r}, which no rule file given defines")
                    if r.startswith(tprefixes):
                        if m.name in tvariants:
                            targeted.setdefault(r, {})[m.name] = tvariants[m.name]
                    else:
                        targeted.setdefault(r, {})[m.name] = applied[m.name]
            jobs += [(r, [single[r]], ts) for r, ts in sorted(targeted.items())]
            results = run_guard_jobs(guard, jobs)
            source_run.join()
            results.update(source)

            print(f"== {path} ({kind} stack): {' '.join(rules)}")
            shipped_report(results["source"][""], path)
            for case in cases:
                v = results["source"][case.__name__]
                if v is not None and "FAIL" in v.values():
                    report(True, f"rejected: {case.__name__}")
                else:
                    report(False, f"widened copy accepted: {case.__name__}")
            if trules:
                print(f"== {path} after SAM's transform ({kind} stack): {' '.join(trules)}")
                shipped_report(results["transformed"].get(""), f"{path} after SAM's transform")

            # the mutants: each rejected by every rule it targets
            print(f"== mutants of {path} ({kind} stack), each rejected by the rules it targets:")
            per_rule = {}
            for m in mutants:
                missed = []
                for r in m.targets:
                    if r.startswith(tprefixes) and m.name in refused:
                        continue  # SAM (and so CloudFormation) refuses the template
                    v = results[r].get(m.name)
                    status = None if v is None else v.get(r)
                    if status != "FAIL":
                        missed.append(f"{r}: {status or 'not evaluated'}")
                ok = not missed
                generated += 1
                rejected += ok
                for r in m.targets:
                    g, n = per_rule.get(r, (0, 0))
                    per_rule[r] = (g + 1, n + ok)
                if not ok:
                    print(f"FAIL  survived: {m.name} ({m.kind}): {'; '.join(missed)}")
            for r in sorted(per_rule):
                g, n = per_rule[r]
                print(f"      {r}: {g} generated, {n} rejected")
            kinds = {}
            for m in mutants:
                kinds[m.kind] = kinds.get(m.kind, 0) + 1
            print(f"      {len(mutants)} mutants, by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
            if refused:
                print(f"      SAM refuses {len(refused)} of them (CloudFormation would too): {', '.join(sorted(refused))}")

    if "app" in templates:
        print("== the HTTP API's routes (events) and integrations (DefinitionBody) match one to one")
        problems = route_table_problems(templates["app"])
        if problems:
            for p in problems:
                report(False, f"route table: {p}")
        else:
            report(True, "every event has its integration, every integration its event")
        for case in ROUTE_TABLE_CASES:
            app = copy.deepcopy(templates["app"])
            case(app)
            if route_table_problems(app):
                report(True, f"rejected: {case.__name__}")
            else:
                report(False, f"mismatch accepted: {case.__name__}")

    if "keys" in templates and "app" in templates:
        print("== the two stacks name each other alike")
        problems = wiring_problems(templates["keys"], templates["app"])
        if problems:
            for p in problems:
                report(False, f"wiring: {p}")
        else:
            report(True, "the key stack's names and the app's ARNs for them agree")
        for case in WIRING_CASES:
            keys, app = copy.deepcopy(templates["keys"]), copy.deepcopy(templates["app"])
            case(keys, app)
            if wiring_problems(keys, app):
                report(True, f"rejected: {case.__name__}")
            else:
                report(False, f"mismatch accepted: {case.__name__}")

    print(f"mutants: {generated} generated, {rejected} rejected, {generated - rejected} survived")
    print(f"policy checks: {passed} passed, {failed} failed ({time.monotonic() - started:.0f} s)")
    sys.exit(1 if failed or generated != rejected else 0)


if __name__ == "__main__":
    main()
