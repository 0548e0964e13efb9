"""Roles and STS AssumeRole through boto3 and the AWS CLI: `ferrokms role ...` creates a role with a
trust policy; a principal the trust policy (and, through the account, its own identity policy)
lets in gets temporary credentials; KMS accepts them with their session token, with the role's
permissions, narrowed by a session policy; a tampered token, a deleted role and a caller the trust
policy does not name are refused."""

import base64
import json
import os
import subprocess
import time
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, admin_keys, record_needle
from test_principals import create_principal, eventually_allowed, put_policy


def run_role(binary, data_dir, *args):
    done = subprocess.run([binary, "role", *args, "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def trust(principal):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]})


def allow(actions, resource="*"):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": actions, "Resource": resource}]})


def sts(endpoint, keys):
    return boto3.session.Session().client(
        "sts", endpoint_url=endpoint, region_name=REGION,
        aws_access_key_id=keys[0], aws_secret_access_key=keys[1])


def session_clients(endpoint, credentials):
    session = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"], region_name=REGION)
    record_needle("session secret", credentials["SecretAccessKey"])
    return (session.client("kms", endpoint_url=endpoint),
            session.client("sts", endpoint_url=endpoint))


@pytest.fixture
def role(binary, data_dir):
    """A role anyone of the account may assume (with an identity policy allowing it), allowed to
    encrypt and decrypt with any key of the account."""
    name = f"encryptor-{uuid.uuid4().hex[:8]}"
    created = run_role(binary, data_dir, "create", "--name", name,
                       "--assume-role-policy-document", trust(f"arn:aws:iam::{ACCOUNT}:root"))
    arn = created["Role"]["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:role/{name}"
    assert created["Role"]["RoleId"].startswith("AROA")
    run_role(binary, data_dir, "put-policy", "--name", name, "--policy-name", "crypto",
             "--policy-document", allow(["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"]))
    return name, arn


def assumer(binary, data_dir, endpoint, role_arn):
    """A user whose only permission is to assume `role_arn`."""
    name = f"assumer-{uuid.uuid4().hex[:8]}"
    created = create_principal(binary, data_dir, name)
    put_policy(binary, data_dir, name, "assume", allow("sts:AssumeRole", role_arn))
    return created, sts(endpoint, (created["AccessKeyId"], created["SecretAccessKey"]))


def test_assumed_role_has_the_roles_permissions_and_no_more(binary, data_dir, endpoint, kms, role):
    name, role_arn = role
    _, user_sts = assumer(binary, data_dir, endpoint, role_arn)
    answer = eventually_allowed(lambda: user_sts.assume_role(RoleArn=role_arn, RoleSessionName="ci-run"))
    credentials = answer["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/ci-run"
    assert answer["AssumedRoleUser"]["AssumedRoleId"].endswith(":ci-run")
    remaining = credentials["Expiration"].timestamp() - time.time()
    assert 3500 < remaining <= 3600

    session_kms, session_sts = session_clients(endpoint, credentials)
    me = session_sts.get_caller_identity()
    assert me["Arn"] == answer["AssumedRoleUser"]["Arn"]
    assert me["UserId"] == answer["AssumedRoleUser"]["AssumedRoleId"]

    key = kms.create_key(Description="for the role")["KeyMetadata"]["KeyId"]
    blob = session_kms.encrypt(KeyId=key, Plaintext=b"role data")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"role data"
    with pytest.raises(ClientError) as denied:
        session_kms.create_key()
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{name}/ci-run is not authorized" in str(denied.value)


def test_session_policy_narrows_the_role(binary, data_dir, endpoint, kms, role):
    _, role_arn = role
    _, user_sts = assumer(binary, data_dir, endpoint, role_arn)
    credentials = eventually_allowed(lambda: user_sts.assume_role(
        RoleArn=role_arn, RoleSessionName="decrypt-only", DurationSeconds=900,
        Policy=allow("kms:Decrypt")))["Credentials"]
    session_kms, _ = session_clients(endpoint, credentials)
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    assert session_kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    with pytest.raises(ClientError) as denied:
        session_kms.encrypt(KeyId=key, Plaintext=b"y")
    assert "no session policy allows the kms:Encrypt action" in str(denied.value)


def test_trust_policy_decides_who_may_assume(binary, data_dir, endpoint, role):
    _, role_arn = role
    # Authenticated, but no identity policy allows sts:AssumeRole: the account-root trust is not enough.
    outsider = create_principal(binary, data_dir, f"outsider-{uuid.uuid4().hex[:8]}")
    outsider_sts = sts(endpoint, (outsider["AccessKeyId"], outsider["SecretAccessKey"]))
    with pytest.raises(ClientError) as denied:
        outsider_sts.assume_role(RoleArn=role_arn, RoleSessionName="nope")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert f"not authorized to perform: sts:AssumeRole on resource: {role_arn}" in str(denied.value)
    # A role that does not exist is denied the same way.
    with pytest.raises(ClientError) as missing:
        outsider_sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/missing-role", RoleSessionName="x1")
    assert missing.value.response["Error"]["Code"] == "AccessDenied"
    # Bad parameters are STS validation errors.
    with pytest.raises(ClientError) as invalid:
        outsider_sts.assume_role(RoleArn=role_arn, RoleSessionName="ok-name", DurationSeconds=7200)
    assert invalid.value.response["Error"]["Code"] == "ValidationError"


def test_trust_policy_naming_a_user_needs_no_identity_policy(binary, data_dir, endpoint):
    user = create_principal(binary, data_dir, f"named-{uuid.uuid4().hex[:8]}")
    name = f"direct-{uuid.uuid4().hex[:8]}"
    arn = run_role(binary, data_dir, "create", "--name", name,
                   "--assume-role-policy-document", trust(user["Arn"]))["Role"]["Arn"]
    user_sts = sts(endpoint, (user["AccessKeyId"], user["SecretAccessKey"]))
    credentials = eventually_allowed(
        lambda: user_sts.assume_role(RoleArn=arn, RoleSessionName="direct"))["Credentials"]
    _, session_sts = session_clients(endpoint, credentials)
    assert session_sts.get_caller_identity()["Arn"].endswith(f":assumed-role/{name}/direct")


def test_tampered_token_and_deleted_role_are_refused(binary, data_dir, endpoint, kms, role):
    name, role_arn = role
    _, user_sts = assumer(binary, data_dir, endpoint, role_arn)
    credentials = eventually_allowed(
        lambda: user_sts.assume_role(RoleArn=role_arn, RoleSessionName="short-lived"))["Credentials"]
    raw = bytearray(base64.b64decode(credentials["SessionToken"]))
    raw[len(raw) // 2] ^= 1
    tampered = dict(credentials, SessionToken=base64.b64encode(bytes(raw)).decode())
    tampered_kms, _ = session_clients(endpoint, tampered)
    with pytest.raises(ClientError) as refused:
        tampered_kms.list_aliases()
    assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"
    # Another session's token with this session's key is refused too.
    other = eventually_allowed(
        lambda: user_sts.assume_role(RoleArn=role_arn, RoleSessionName="other"))["Credentials"]
    mixed_kms, _ = session_clients(endpoint, dict(credentials, SessionToken=other["SessionToken"]))
    with pytest.raises(ClientError) as mixed:
        mixed_kms.list_aliases()
    assert mixed.value.response["Error"]["Code"] == "UnrecognizedClientException"

    session_kms, _ = session_clients(endpoint, credentials)
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    session_kms.encrypt(KeyId=key, Plaintext=b"before")
    run_role(binary, data_dir, "delete", "--name", name)
    deadline = time.time() + 3
    while True:
        try:
            session_kms.encrypt(KeyId=key, Plaintext=b"after")
        except ClientError as e:
            assert e.response["Error"]["Code"] == "UnrecognizedClientException"
            break
        assert time.time() < deadline, "a deleted role's session kept working"
        time.sleep(0.1)


def test_a_role_created_again_under_its_name_does_not_revive_old_sessions(
        binary, data_dir, endpoint, kms, role):
    """Security review finding 8: the role id was derived from the ARN, so re-creating a deleted
    role under the same name (trusting someone else) brought its old sessions back."""
    name, role_arn = role
    _, user_sts = assumer(binary, data_dir, endpoint, role_arn)
    credentials = eventually_allowed(
        lambda: user_sts.assume_role(RoleArn=role_arn, RoleSessionName="old"))["Credentials"]
    session_kms, session_sts = session_clients(endpoint, credentials)
    old_id = session_sts.get_caller_identity()["UserId"].split(":")[0]
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    session_kms.encrypt(KeyId=key, Plaintext=b"before")

    run_role(binary, data_dir, "delete", "--name", name)
    created = run_role(binary, data_dir, "create", "--name", name,
                       "--assume-role-policy-document", trust(f"arn:aws:iam::{ACCOUNT}:user/nobody"))
    assert created["Role"]["RoleId"].startswith("AROA")
    assert created["Role"]["RoleId"] != old_id
    run_role(binary, data_dir, "put-policy", "--name", name, "--policy-name", "crypto",
             "--policy-document", allow(["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"]))
    deadline = time.time() + 3
    while True:
        try:
            session_kms.encrypt(KeyId=key, Plaintext=b"after")
        except ClientError as e:
            assert e.response["Error"]["Code"] == "UnrecognizedClientException"
            break
        assert time.time() < deadline, "the old session works for the new role"
        time.sleep(0.1)


def test_aws_cli_assume_role(binary, data_dir, endpoint, role):
    _, role_arn = role
    created, _ = assumer(binary, data_dir, endpoint, role_arn)
    env = dict(os.environ, AWS_ACCESS_KEY_ID=created["AccessKeyId"],
               AWS_SECRET_ACCESS_KEY=created["SecretAccessKey"], AWS_DEFAULT_REGION=REGION)
    env.pop("AWS_SHARED_CREDENTIALS_FILE", None)
    env.pop("AWS_PROFILE", None)
    deadline = time.time() + 3
    while True:
        done = subprocess.run(["aws", "--endpoint-url", endpoint, "sts", "assume-role", "--role-arn", role_arn,
                               "--role-session-name", "cli"], capture_output=True, text=True, env=env,
                              timeout=60, check=False)
        if done.returncode == 0 or time.time() > deadline:
            break
        time.sleep(0.2)
    assert done.returncode == 0, done.stderr
    credentials = json.loads(done.stdout)["Credentials"]
    record_needle("cli session secret", credentials["SecretAccessKey"])
    env.update(AWS_ACCESS_KEY_ID=credentials["AccessKeyId"], AWS_SECRET_ACCESS_KEY=credentials["SecretAccessKey"],
               AWS_SESSION_TOKEN=credentials["SessionToken"])
    done = subprocess.run(["aws", "--endpoint-url", endpoint, "sts", "get-caller-identity"],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert ":assumed-role/" in json.loads(done.stdout)["Arn"]
