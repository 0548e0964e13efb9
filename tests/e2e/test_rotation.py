"""Key rotation through boto3 against the shared server: automatic rotation's status and period,
on-demand rotation with its ciphertext consequences (old ciphertexts still decrypt, new ones and
ReEncrypt use the new material), ListKeyRotations paging, and AWS's refusals."""

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, record_needle

DAY = 24 * 60 * 60


def key_arn(key_id):
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}"


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def blob_version(blob):
    """The key version a ciphertext names in its header (docs/ciphertext-format.md)."""
    at = 4 + blob[3]
    return int.from_bytes(blob[at : at + 4], "big")


def test_automatic_rotation_status_follows_enable_and_disable(kms, endpoint):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is False

    kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=180)
    status = kms.get_key_rotation_status(KeyId=key)
    assert status["KeyRotationEnabled"] is True
    assert status["KeyId"] == key_arn(key)
    assert status["RotationPeriodInDays"] == 180
    created = kms.describe_key(KeyId=key)["KeyMetadata"]["CreationDate"]
    delta = (status["NextRotationDate"] - created).total_seconds()
    assert 180 * DAY - 60 < delta < 180 * DAY + 60, delta

    # boto3 checks the bounds itself; without that, the server's ValidationException shows.
    unchecked = boto3.client(
        "kms",
        endpoint_url=endpoint,
        region_name=REGION,
        config=botocore.config.Config(parameter_validation=False),
    )
    with pytest.raises(ClientError) as excinfo:
        unchecked.enable_key_rotation(KeyId=key, RotationPeriodInDays=30)
    assert error_code(excinfo) == "ValidationException"

    kms.disable_key_rotation(KeyId=key)
    status = kms.get_key_rotation_status(KeyId=key)
    assert status["KeyRotationEnabled"] is False
    assert "NextRotationDate" not in status


def test_on_demand_rotation_keeps_old_ciphertexts_and_moves_new_ones(kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    plaintext = b"rotated under boto3"
    record_needle("rotation plaintext", plaintext)
    old = kms.encrypt(KeyId=key, Plaintext=plaintext)["CiphertextBlob"]
    assert blob_version(old) == 1

    assert kms.rotate_key_on_demand(KeyId=key)["KeyId"] == key
    new = kms.encrypt(KeyId=key, Plaintext=plaintext)["CiphertextBlob"]
    assert blob_version(new) == 2
    assert kms.decrypt(CiphertextBlob=old)["Plaintext"] == plaintext
    assert kms.decrypt(CiphertextBlob=new)["Plaintext"] == plaintext

    moved = kms.re_encrypt(CiphertextBlob=old, DestinationKeyId=key)["CiphertextBlob"]
    assert blob_version(moved) == 2
    assert kms.decrypt(CiphertextBlob=moved)["Plaintext"] == plaintext


def test_list_key_rotations_pages_with_the_paginator(kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    for _ in range(5):
        kms.rotate_key_on_demand(KeyId=key)
    pages = list(
        kms.get_paginator("list_key_rotations").paginate(
            KeyId=key, PaginationConfig={"PageSize": 2}
        )
    )
    assert len(pages) == 3
    rotations = [r for page in pages for r in page["Rotations"]]
    assert len(rotations) == 5
    assert all(r["RotationType"] == "ON_DEMAND" and r["KeyId"] == key for r in rotations)
    assert [r["KeyMaterialState"] for r in rotations] == ["NON_CURRENT"] * 4 + ["CURRENT"]
    assert len({r["KeyMaterialId"] for r in rotations}) == 5

    everything = kms.list_key_rotations(KeyId=key, IncludeKeyMaterial="ALL_KEY_MATERIAL")
    assert len(everything["Rotations"]) == 6
    assert "RotationDate" not in everything["Rotations"][0]


@pytest.mark.parametrize(
    "spec,usage",
    [("RSA_2048", "ENCRYPT_DECRYPT"), ("ECC_NIST_P256", "SIGN_VERIFY"), ("HMAC_256", "GENERATE_VERIFY_MAC")],
)
def test_asymmetric_and_hmac_keys_do_not_rotate(kms, spec, usage):
    key = kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]["KeyId"]
    for call in (kms.enable_key_rotation, kms.rotate_key_on_demand, kms.list_key_rotations):
        with pytest.raises(ClientError) as excinfo:
            call(KeyId=key)
        assert error_code(excinfo) == "UnsupportedOperationException"
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is False
