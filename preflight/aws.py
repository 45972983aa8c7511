"""AWS credentials, proven with one STS GetCallerIdentity call, and where the stack will deploy.

The program's AWS provider takes only the region from the stack config, so its credentials come from the
standard chain (environment, AWS_PROFILE and the shared files, SSO, instance role): boto3 follows the same.
"""
from __future__ import annotations

import os

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from preflight.report import FAIL, OK, Finding

CHECK = "AWS"
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2})
# STS answers in every region; without aws:region (reported by the stack config check) ask its first one.
STS_FALLBACK_REGION = "us-east-1"
HOW_TO_LOG_IN = (
    "run `aws configure` or `aws sso login --profile <profile>` and `export AWS_PROFILE=<profile>`, "
    "or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)"
)


def check_aws(region: str | None) -> Finding:
    target = f"region {region}" if region else "no region (aws:region is not set)"
    profile = os.environ.get("AWS_PROFILE")
    try:
        session = boto3.Session()
        credentials = session.get_credentials()
        if credentials is None:
            raise NoCredentialsError()
        origin = f"credentials from {credentials.method}" + (f", profile {profile}" if profile else "")
        sts = session.client("sts", region_name=region or STS_FALLBACK_REGION, config=CLIENT_CONFIG)
        identity = sts.get_caller_identity()
    except NoCredentialsError:
        return Finding(FAIL, CHECK, f"no credentials found for the deploy to {target}: {HOW_TO_LOG_IN}")
    except ClientError as error:
        detail = error.response.get("Error", {})
        return Finding(
            FAIL, CHECK,
            f"STS refused the {origin} ({detail.get('Code', 'error')}: {detail.get('Message', error)}): "
            f"they are wrong or expired; {HOW_TO_LOG_IN}, or unset stale AWS_* variables",
        )
    except BotoCoreError as error:
        return Finding(FAIL, CHECK, f"could not get the caller's identity from STS ({error}); {HOW_TO_LOG_IN}")
    return Finding(OK, CHECK, f"deploying to account {identity['Account']}, {target}, as {identity['Arn']} ({origin})")
