"""Imported key material (BYOK) through boto3, wrapped with Python `cryptography` exactly as AWS's
developer guide shows: RSAES_OAEP_SHA_256 directly under the wrapping public key, and
RSA_AES_KEY_WRAP_SHA_256 (an ephemeral AES-256 key wrapped with RSA-OAEP SHA-256, followed by the
material under AES Key Wrap with Padding, RFC 5649).

Symmetric material: a ciphertext stops decrypting when the material is deleted and decrypts again
once the same material is imported; other material is IncorrectKeyMaterialException. Key pairs: an
imported EC or RSA private key signs and the signature verifies with the locally held public key.
"""

import os
import time

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

from conftest import ACCOUNT, REGION, record_needle

MESSAGE = b"signed with imported key material"


def key_arn(key_id):
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}"


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def external_key(kms, spec="SYMMETRIC_DEFAULT", usage=None):
    args = {"Origin": "EXTERNAL", "KeySpec": spec, "Description": f"e2e imported {spec}"}
    if usage:
        args["KeyUsage"] = usage
    meta = kms.create_key(**args)["KeyMetadata"]
    assert meta["Origin"] == "EXTERNAL"
    assert meta["KeyState"] == "PendingImport"
    return meta["KeyId"]


def wrap(kms, key_id, material, algorithm, wrapping_spec="RSA_4096"):
    """GetParametersForImport, then the material wrapped as AWS's guide shows."""
    params = kms.get_parameters_for_import(
        KeyId=key_id, WrappingAlgorithm=algorithm, WrappingKeySpec=wrapping_spec
    )
    assert params["KeyId"] == key_arn(key_id)
    left = params["ParametersValidTo"].timestamp() - time.time()
    assert 23 * 3600 < left <= 24 * 3600 + 60
    public = serialization.load_der_public_key(params["PublicKey"])
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    if algorithm == "RSAES_OAEP_SHA_256":
        encrypted = public.encrypt(material, oaep)
    elif algorithm == "RSA_AES_KEY_WRAP_SHA_256":
        aes_key = os.urandom(32)
        encrypted = public.encrypt(aes_key, oaep) + aes_key_wrap_with_padding(aes_key, material)
    else:
        raise ValueError(algorithm)
    return params["ImportToken"], encrypted


def import_material(kms, key_id, material, algorithm="RSAES_OAEP_SHA_256", **extra):
    token, encrypted = wrap(kms, key_id, material, algorithm)
    args = {"ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}
    args.update(extra)
    return kms.import_key_material(
        KeyId=key_id, ImportToken=token, EncryptedKeyMaterial=encrypted, **args
    )


@pytest.mark.parametrize("algorithm", ["RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_256"])
def test_symmetric_material_deleted_and_reimported(kms, algorithm):
    key_id = external_key(kms)
    material = os.urandom(32)
    record_needle("imported symmetric material", material)
    answer = import_material(kms, key_id, material, algorithm)
    assert answer["KeyId"] == key_arn(key_id)
    material_id = answer["KeyMaterialId"]
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert meta["KeyState"] == "Enabled"
    assert meta["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE"
    assert meta["CurrentKeyMaterialId"] == material_id

    plaintext = b"protected by imported material"
    record_needle("imported-key plaintext", plaintext)
    blob = kms.encrypt(KeyId=key_id, Plaintext=plaintext)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == plaintext

    deleted = kms.delete_imported_key_material(KeyId=key_id)
    assert deleted["KeyMaterialId"] == material_id
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingImport"
    with pytest.raises(ClientError) as refused:
        kms.decrypt(CiphertextBlob=blob)
    assert error_code(refused) == "KMSInvalidStateException"

    with pytest.raises(ClientError) as other:
        import_material(kms, key_id, os.urandom(32), algorithm)
    assert error_code(other) == "IncorrectKeyMaterialException"

    again = import_material(kms, key_id, material, algorithm)
    assert again["KeyMaterialId"] == material_id
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == plaintext


def test_material_with_an_expiry_shows_it(kms):
    key_id = external_key(kms)
    material = os.urandom(32)
    record_needle("imported symmetric material", material)
    valid_to = int(time.time()) + 30 * 86400
    import_material(
        kms, key_id, material, ExpirationModel="KEY_MATERIAL_EXPIRES", ValidTo=valid_to
    )
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert meta["ExpirationModel"] == "KEY_MATERIAL_EXPIRES"
    assert int(meta["ValidTo"].timestamp()) == valid_to
    with pytest.raises(ClientError) as too_far:
        import_material(
            kms,
            key_id,
            material,
            ExpirationModel="KEY_MATERIAL_EXPIRES",
            ValidTo=int(time.time()) + 400 * 86400,
        )
    assert error_code(too_far) == "ValidationException"


@pytest.mark.parametrize(
    "spec,make,algorithm",
    [
        ("ECC_NIST_P256", lambda: ec.generate_private_key(ec.SECP256R1()), "ECDSA_SHA_256"),
        ("ECC_NIST_P384", lambda: ec.generate_private_key(ec.SECP384R1()), "ECDSA_SHA_384"),
        (
            "RSA_2048",
            lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "RSASSA_PSS_SHA_256",
        ),
    ],
)
def test_imported_key_pair_signs_for_the_local_public_key(kms, spec, make, algorithm):
    private = make()
    der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    record_needle(f"imported {spec} private key", der)
    key_id = external_key(kms, spec, "SIGN_VERIFY")
    # An RSA private key is too long for RSAES_OAEP: AWS's guide says RSA_AES_KEY_WRAP.
    import_material(kms, key_id, der, "RSA_AES_KEY_WRAP_SHA_256")

    exported = kms.get_public_key(KeyId=key_id)["PublicKey"]
    local_public = private.public_key()
    assert exported == local_public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signature = kms.sign(KeyId=key_id, Message=MESSAGE, SigningAlgorithm=algorithm)["Signature"]
    digest = {"256": hashes.SHA256, "384": hashes.SHA384}[algorithm[-3:]]()
    if spec.startswith("ECC"):
        local_public.verify(signature, MESSAGE, ec.ECDSA(digest))
    else:
        pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
        local_public.verify(signature, MESSAGE, pss, digest)


def test_rsa_private_key_cannot_be_wrapped_with_oaep_alone(kms):
    key_id = external_key(kms, "RSA_3072", "SIGN_VERIFY")
    with pytest.raises(ClientError) as refused:
        kms.get_parameters_for_import(
            KeyId=key_id, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_4096"
        )
    assert error_code(refused) == "ValidationException"


def test_tampered_token_is_invalid(kms):
    key_id = external_key(kms)
    token, encrypted = wrap(kms, key_id, os.urandom(32), "RSAES_OAEP_SHA_256", "RSA_2048")
    tampered = bytearray(token)
    tampered[40] ^= 1
    with pytest.raises(ClientError) as refused:
        kms.import_key_material(
            KeyId=key_id,
            ImportToken=bytes(tampered),
            EncryptedKeyMaterial=encrypted,
            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
        )
    assert error_code(refused) == "InvalidImportTokenException"
