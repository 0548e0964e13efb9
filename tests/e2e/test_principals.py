"""`ferrokms principal ...` while the server runs: a new user has no permissions until an identity
policy is attached; the policy takes effect at once (conditions included); other accounts stay
out whatever their own policies say."""

import json
import subprocess
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, client, record_needle


def create_principal(binary, data_dir, name, account=None):
    command = [binary, "principal", "create", "--data-dir", str(data_dir), "--name", name]
    if account:
        command += ["--account-id", account]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    record_needle(f"secret of {name}", created["SecretAccessKey"])
    return created


ALL_KMS = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}'


def put_policy(binary, data_dir, name, policy_name, document, account=None):
    command = [binary, "principal", "put-policy", "--data-dir", str(data_dir), "--name", name,
               "--policy-name", policy_name, "--policy-document", document]
    if account:
        command += ["--account-id", account]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


def eventually_allowed(call, seconds=3.0):
    """Identity changes reach the running server within a second."""
    deadline = time.time() + seconds
    while True:
        try:
            return call()
        except ClientError as e:
            if e.response["Error"]["Code"] != "AccessDeniedException" or time.time() > deadline:
                raise
            time.sleep(0.1)


def test_principal_created_while_serving_works_once_a_policy_allows(binary, data_dir, endpoint, kms):
    name = f"app-{uuid.uuid4().hex[:8]}"
    created = create_principal(binary, data_dir, name)
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{name}"
    assert created["AccessKeyId"] and created["SecretAccessKey"]
    app = client(endpoint, (created["AccessKeyId"], created["SecretAccessKey"]))
    # Authenticated at once, but allowed nothing until a policy says so.
    with pytest.raises(ClientError) as denied:
        app.list_keys()
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"User: {created['Arn']} is not authorized to perform: kms:ListKeys" in str(denied.value)
    put_policy(binary, data_dir, name, "all-kms", ALL_KMS)
    eventually_allowed(app.list_keys)
    # Same account: it may use the administrator's keys, and they use its keys.
    admin_key = kms.create_key(Description="admin's")["KeyMetadata"]["KeyId"]
    blob = app.encrypt(KeyId=admin_key, Plaintext=b"from the new principal")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"from the new principal"
    own = app.create_key(Description="made by the new principal")["KeyMetadata"]
    assert own["AWSAccountId"] == ACCOUNT


def test_encryption_context_condition_is_enforced(binary, data_dir, endpoint, kms):
    name = f"it-{uuid.uuid4().hex[:8]}"
    created = create_principal(binary, data_dir, name)
    key = kms.create_key(Description="IT data")["KeyMetadata"]["Arn"]
    only_it = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "kms:Encrypt", "Resource": key,
        "Condition": {"StringEquals": {"kms:EncryptionContext:Department": "IT"}}}]})
    put_policy(binary, data_dir, name, "it-only", only_it)
    app = client(endpoint, (created["AccessKeyId"], created["SecretAccessKey"]))
    eventually_allowed(lambda: app.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"Department": "IT"}))
    for context in ({}, {"Department": "HR"}, {"department": "IT"}):
        with pytest.raises(ClientError) as denied:
            app.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext=context)
        assert denied.value.response["Error"]["Code"] == "AccessDeniedException", context
    with pytest.raises(ClientError) as denied:  # Decrypt is not in the policy at all.
        app.decrypt(CiphertextBlob=kms.encrypt(KeyId=key, Plaintext=b"y")["CiphertextBlob"])
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"


def test_principal_of_another_account_cannot_use_the_keys(binary, data_dir, endpoint, kms):
    other = create_principal(binary, data_dir, f"outsider-{uuid.uuid4().hex[:8]}", "444455556666")
    assert other["Arn"].startswith("arn:aws:iam::444455556666:user/")
    # Its own account lets it do anything; the key policy of the other account still keeps it out.
    put_policy(binary, data_dir, other["Arn"].rsplit("/", 1)[1], "all-kms", ALL_KMS, "444455556666")
    outsider = client(endpoint, (other["AccessKeyId"], other["SecretAccessKey"]))
    eventually_allowed(outsider.list_keys)
    key = kms.create_key(Description="not for outsiders")["KeyMetadata"]
    assert key["KeyId"] not in {k["KeyId"] for k in outsider.list_keys()["Keys"]}
    with pytest.raises(ClientError):
        outsider.encrypt(KeyId=key["Arn"], Plaintext=b"x")
    with pytest.raises(ClientError):
        outsider.describe_key(KeyId=key["Arn"])
