"""STS GetCallerIdentity through boto3 and the AWS CLI: who the credentials belong to, and STS's
own error shapes for bad credentials and unknown actions."""

import json
import os
import subprocess

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, admin_keys


def sts(endpoint, keys):
    return boto3.session.Session().client(
        "sts", endpoint_url=endpoint, region_name=REGION,
        aws_access_key_id=keys[0], aws_secret_access_key=keys[1])


def test_get_caller_identity_names_the_admin(endpoint, data_dir):
    me = sts(endpoint, admin_keys(data_dir)).get_caller_identity()
    assert me["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/admin"
    assert me["Account"] == ACCOUNT
    assert me["UserId"].startswith("AIDA") and len(me["UserId"]) == 20


def test_aws_cli_get_caller_identity(endpoint, data_dir):
    env = dict(os.environ, AWS_SHARED_CREDENTIALS_FILE=str(data_dir / "credentials"), AWS_DEFAULT_REGION=REGION)
    done = subprocess.run(["aws", "--endpoint-url", endpoint, "sts", "get-caller-identity"],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Account"] == ACCOUNT


def test_sts_errors_are_stss(endpoint, data_dir):
    with pytest.raises(ClientError) as unknown_key:
        sts(endpoint, ("AKIAAAAAAAAAAAAAAAAA", "x" * 40)).get_caller_identity()
    assert unknown_key.value.response["Error"]["Code"] == "InvalidClientTokenId"
    key_id, secret = admin_keys(data_dir)
    with pytest.raises(ClientError) as wrong_secret:
        sts(endpoint, (key_id, secret[:-1] + ("A" if secret[-1] != "A" else "B"))).get_caller_identity()
    assert wrong_secret.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    with pytest.raises(ClientError) as unknown_action:
        sts(endpoint, admin_keys(data_dir)).get_session_token()
    assert unknown_action.value.response["Error"]["Code"] == "InvalidAction"
