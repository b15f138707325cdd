"""SAM's transform (AWS::Serverless-2016-10-31), run locally: the template CloudFormation would
deploy, with every SAM shorthand expanded (functions' events become the APIs' OpenAPI bodies,
authorizers and Lambda permissions). The policy rules in infra/policy/*-transformed.guard judge
this output.

Offline: the PyPI package aws-sam-translator (pinned in the Makefile) with a fixed region,
partition and account; no AWS call is made (the managed-policy loader, which SAM only needs
for a function's `Policies` property, is a stub that knows no policy). Local `CodeUri` paths
become placeholder S3 URIs, as `sam package` would make them.

Usage (prints the transformed template as YAML):
    .venv/bin/python infra/tests/sam_transform.py infra/template.yaml [Name=Value ...]
"""
import copy
import logging
import os
import sys

# Before boto3 is imported by the translator: a region for its session, and no instance
# metadata look-up.
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

import yaml  # noqa: E402
from samtranslator.model.exceptions import InvalidDocumentException  # noqa: E402
from samtranslator.translator.transform import transform as sam_transform  # noqa: E402

# The translator's metrics warn at exit that nothing published them.
logging.getLogger("samtranslator").setLevel(logging.ERROR)

PSEUDO = {"AWS::Region": "eu-west-1", "AWS::Partition": "aws", "AWS::AccountId": "123456789012",
          "AWS::StackName": "cookie-jwt-dev"}


class SamRefuses(Exception):
    """SAM would not transform the template (CloudFormation refuses it too)."""


class NoManagedPolicies:
    """The managed-policy loader: SAM asks it only for a function's `Policies` names."""

    def load(self):
        return {}


def parameter_values(template, overrides=None):
    """A value for every parameter without a default (its first allowed value, or a stand-in),
    then the overrides."""
    values = {}
    for name, p in (template.get("Parameters") or {}).items():
        if isinstance(p, dict) and "Default" not in p:
            allowed = p.get("AllowedValues")
            values[name] = allowed[0] if allowed else "stand-in"
    values.update(overrides or {})
    values.update(PSEUDO)
    return values


def packaged(template):
    """A copy with local code paths replaced by S3 URIs, as `sam package` would leave them."""
    t = copy.deepcopy(template)
    for name, r in (t.get("Resources") or {}).items():
        if not isinstance(r, dict):
            continue
        props = r.get("Properties")
        if not isinstance(props, dict):
            continue
        if r.get("Type") == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str) \
                and not props["CodeUri"].startswith("s3://"):
            props["CodeUri"] = f"s3://artifacts/{name}.zip"
        if r.get("Type") == "AWS::Serverless::LayerVersion" and isinstance(props.get("ContentUri"), str) \
                and not props["ContentUri"].startswith("s3://"):
            props["ContentUri"] = f"s3://artifacts/{name}.zip"
    return t


def transform(template, overrides=None):
    """The template after SAM's transform. Raises SamRefuses with SAM's message."""
    t = packaged(template)
    try:
        return sam_transform(t, parameter_values(template, overrides), NoManagedPolicies())
    except InvalidDocumentException as e:
        raise SamRefuses("; ".join(str(c) for c in e.causes) or str(e)) from None
    except Exception as e:  # noqa: BLE001 - SAM raises many kinds on a malformed template
        raise SamRefuses(f"{type(e).__name__}: {e}") from None


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        template = yaml.safe_load(f)
    overrides = dict(a.split("=", 1) for a in sys.argv[2:])
    try:
        out = transform(template, overrides)
    except SamRefuses as e:
        sys.exit(f"SAM refuses {sys.argv[1]}: {e}")
    yaml.safe_dump(out, sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
