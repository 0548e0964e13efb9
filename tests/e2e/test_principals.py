"""`ferrokms principal create` while the server runs: the new credentials work at once, within
their own account only."""

import json
import subprocess
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


def test_principal_created_while_serving_works_immediately(binary, data_dir, endpoint, kms):
    name = f"app-{uuid.uuid4().hex[:8]}"
    created = create_principal(binary, data_dir, name)
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{name}"
    assert created["AccessKeyId"] and created["SecretAccessKey"]
    app = client(endpoint, (created["AccessKeyId"], created["SecretAccessKey"]))
    app.list_keys()
    # Same account: it may use the administrator's keys, and they use its keys.
    admin_key = kms.create_key(Description="admin's")["KeyMetadata"]["KeyId"]
    blob = app.encrypt(KeyId=admin_key, Plaintext=b"from the new principal")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"from the new principal"
    own = app.create_key(Description="made by the new principal")["KeyMetadata"]
    assert own["AWSAccountId"] == ACCOUNT


def test_principal_of_another_account_cannot_use_the_keys(binary, data_dir, endpoint, kms):
    other = create_principal(binary, data_dir, f"outsider-{uuid.uuid4().hex[:8]}", "444455556666")
    assert other["Arn"].startswith("arn:aws:iam::444455556666:user/")
    outsider = client(endpoint, (other["AccessKeyId"], other["SecretAccessKey"]))
    key = kms.create_key(Description="not for outsiders")["KeyMetadata"]
    assert key["KeyId"] not in {k["KeyId"] for k in outsider.list_keys()["Keys"]}
    with pytest.raises(ClientError):
        outsider.encrypt(KeyId=key["Arn"], Plaintext=b"x")
    with pytest.raises(ClientError):
        outsider.describe_key(KeyId=key["Arn"])
