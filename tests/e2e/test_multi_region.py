"""Multi-Region keys through boto3 with clients for two Regions of one server: a primary made in
one Region, its replica in another, each opening the other's ciphertexts (with an encryption
context), the configuration DescribeKey shows, and the primary moved with UpdatePrimaryRegion.
"""

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, record_needle

WEST = "eu-west-1"


def arn_in(region, key_id):
    return f"arn:aws:kms:{region}:{ACCOUNT}:key/{key_id}"


@pytest.fixture
def west(endpoint):
    return boto3.client("kms", endpoint_url=endpoint, region_name=WEST)


def configuration(meta):
    c = meta["MultiRegionConfiguration"]
    return (
        c["MultiRegionKeyType"],
        c["PrimaryKey"]["Region"],
        [r["Region"] for r in c["ReplicaKeys"]],
    )


def test_replica_decrypts_what_the_primary_encrypted_and_back(kms, west):
    meta = kms.create_key(MultiRegion=True, Description="e2e multi-Region")["KeyMetadata"]
    key_id = meta["KeyId"]
    assert key_id.startswith("mrk-") and meta["MultiRegion"] is True
    assert configuration(meta) == ("PRIMARY", REGION, [])

    replica = kms.replicate_key(KeyId=key_id, ReplicaRegion=WEST)["ReplicaKeyMetadata"]
    assert replica["KeyId"] == key_id and replica["Arn"] == arn_in(WEST, key_id)
    assert configuration(replica) == ("REPLICA", REGION, [WEST])

    secret = b"e2e multi-Region plaintext"
    record_needle("multi-Region plaintext", secret)
    context = {"purpose": "e2e"}
    blob = kms.encrypt(KeyId=key_id, Plaintext=secret, EncryptionContext=context)["CiphertextBlob"]
    out = west.decrypt(CiphertextBlob=blob, EncryptionContext=context)
    assert out["Plaintext"] == secret and out["KeyId"] == arn_in(WEST, key_id)
    with pytest.raises(ClientError) as excinfo:
        west.decrypt(CiphertextBlob=blob, EncryptionContext={"purpose": "other"})
    assert excinfo.value.response["Error"]["Code"] == "InvalidCiphertextException"
    back = west.encrypt(KeyId=key_id, Plaintext=secret)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=back)["Plaintext"] == secret

    kms.update_primary_region(KeyId=key_id, PrimaryRegion=WEST)
    assert configuration(west.describe_key(KeyId=key_id)["KeyMetadata"]) == ("PRIMARY", WEST, [REGION])
    assert configuration(kms.describe_key(KeyId=key_id)["KeyMetadata"]) == ("REPLICA", WEST, [REGION])
