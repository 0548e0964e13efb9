"""Asymmetric and HMAC keys through boto3, checked against Python `cryptography` outside
ferrokms: signatures verify with the exported public key, RSA ciphertexts made from that key
decrypt in ferrokms, ECDH secrets equal the one computed locally, and data key pairs' halves match.
"""

import hashlib

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from conftest import ACCOUNT, REGION, record_needle

MESSAGE = b"signed by ferrokms, verified by cryptography"

HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


def key_arn(key_id):
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}"


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def create(kms, spec, usage):
    meta = kms.create_key(KeySpec=spec, KeyUsage=usage, Description=f"e2e {spec}")["KeyMetadata"]
    assert meta["KeySpec"] == spec and meta["KeyUsage"] == usage
    return meta["KeyId"]


def public_key(kms, key_id):
    answer = kms.get_public_key(KeyId=key_id)
    assert answer["KeyId"] == key_arn(key_id)
    return serialization.load_der_public_key(answer["PublicKey"]), answer


def verify_locally(public, algorithm, message, signature, prehashed=False):
    """Verifies a KMS signature the way a relying party would, raising on failure."""
    if algorithm.startswith("ED25519"):
        public.verify(signature, message)
        return
    digest = HASHES[algorithm[-3:]]()
    chosen = utils.Prehashed(digest) if prehashed else digest
    if algorithm.startswith("ECDSA"):
        public.verify(signature, message, ec.ECDSA(chosen))
    elif algorithm.startswith("RSASSA_PSS"):
        # KMS uses MGF1 with the message hash and a salt as long as the hash.
        pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
        public.verify(signature, message, pss, chosen)
    else:
        public.verify(signature, message, padding.PKCS1v15(), chosen)


@pytest.mark.parametrize(
    "spec,algorithm",
    [
        ("RSA_2048", "RSASSA_PSS_SHA_256"),
        ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256"),
        ("RSA_3072", "RSASSA_PSS_SHA_384"),
        ("RSA_3072", "RSASSA_PKCS1_V1_5_SHA_512"),
        ("ECC_NIST_P256", "ECDSA_SHA_256"),
        ("ECC_NIST_P384", "ECDSA_SHA_384"),
        ("ECC_NIST_P521", "ECDSA_SHA_512"),
        ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
        ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512"),
    ],
)
def test_signatures_verify_with_the_exported_public_key(kms, spec, algorithm):
    key_id = create(kms, spec, "SIGN_VERIFY")
    public, answer = public_key(kms, key_id)
    assert algorithm in answer["SigningAlgorithms"]
    assert answer["KeyUsage"] == "SIGN_VERIFY"
    signed = kms.sign(KeyId=key_id, Message=MESSAGE, SigningAlgorithm=algorithm)
    assert signed["SigningAlgorithm"] == algorithm
    verify_locally(public, algorithm, MESSAGE, signed["Signature"])
    verified = kms.verify(
        KeyId=key_id, Message=MESSAGE, Signature=signed["Signature"], SigningAlgorithm=algorithm
    )
    assert verified["SignatureValid"] is True
    if algorithm.startswith("ED25519"):
        return
    # DIGEST: the caller hashes, KMS signs the hash as is; the local check takes the same hash.
    digest = hashlib.new("sha" + algorithm[-3:], MESSAGE).digest()
    signed = kms.sign(KeyId=key_id, Message=digest, MessageType="DIGEST", SigningAlgorithm=algorithm)
    verify_locally(public, algorithm, digest, signed["Signature"], prehashed=True)
    verify_locally(public, algorithm, MESSAGE, signed["Signature"])


def test_a_bad_signature_is_an_error(kms):
    key_id = create(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    signature = kms.sign(KeyId=key_id, Message=MESSAGE, SigningAlgorithm="ECDSA_SHA_256")[
        "Signature"
    ]
    with pytest.raises(ClientError) as excinfo:
        kms.verify(
            KeyId=key_id,
            Message=MESSAGE + b"!",
            Signature=signature,
            SigningAlgorithm="ECDSA_SHA_256",
        )
    assert error_code(excinfo) == "KMSInvalidSignatureException"
    with pytest.raises(ClientError) as excinfo:
        kms.sign(KeyId=key_id, Message=b"\0" * 31, MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")
    assert error_code(excinfo) == "ValidationException"


@pytest.mark.parametrize("algorithm", ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"])
def test_rsa_ciphertexts_made_outside_decrypt_in_ferrokms(kms, algorithm):
    key_id = create(kms, "RSA_2048", "ENCRYPT_DECRYPT")
    public, answer = public_key(kms, key_id)
    assert answer["EncryptionAlgorithms"] == ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048
    digest = hashes.SHA1() if algorithm.endswith("_1") else hashes.SHA256()
    plaintext = b"encrypted by cryptography with the public key " + algorithm.encode()
    record_needle(f"RSA plaintext ({algorithm})", plaintext)
    oaep = padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None)
    ciphertext = public.encrypt(plaintext, oaep)
    decrypted = kms.decrypt(KeyId=key_id, CiphertextBlob=ciphertext, EncryptionAlgorithm=algorithm)
    assert decrypted["Plaintext"] == plaintext
    assert decrypted["EncryptionAlgorithm"] == algorithm
    # And KMS's own ciphertext is the same raw RSAES-OAEP format, as long as the modulus.
    encrypted = kms.encrypt(KeyId=key_id, Plaintext=plaintext, EncryptionAlgorithm=algorithm)
    assert len(encrypted["CiphertextBlob"]) == 256
    # AWS's plaintext limit: 190 bytes for RSA_2048 with OAEP SHA-256, 214 with SHA-1.
    limit = 214 if algorithm.endswith("_1") else 190
    kms.encrypt(KeyId=key_id, Plaintext=b"x" * limit, EncryptionAlgorithm=algorithm)
    with pytest.raises(ClientError) as excinfo:
        kms.encrypt(KeyId=key_id, Plaintext=b"x" * (limit + 1), EncryptionAlgorithm=algorithm)
    assert error_code(excinfo) == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        kms.encrypt(KeyId=key_id, Plaintext=b"x")
    assert error_code(excinfo) == "InvalidKeyUsageException"


@pytest.mark.parametrize(
    "spec,curve",
    [("ECC_NIST_P256", ec.SECP256R1), ("ECC_NIST_P384", ec.SECP384R1), ("ECC_NIST_P521", ec.SECP521R1)],
)
def test_ecdh_secret_equals_the_local_one(kms, spec, curve):
    key_id = create(kms, spec, "KEY_AGREEMENT")
    kms_public, answer = public_key(kms, key_id)
    assert answer["KeyAgreementAlgorithms"] == ["ECDH"]
    local = ec.generate_private_key(curve())
    local_public = local.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    derived = kms.derive_shared_secret(
        KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=local_public
    )
    assert derived["KeyId"] == key_arn(key_id)
    assert derived["KeyOrigin"] == "AWS_KMS"
    expected = local.exchange(ec.ECDH(), kms_public)
    record_needle(f"ECDH secret ({spec})", expected)
    assert derived["SharedSecret"] == expected
    with pytest.raises(ClientError) as excinfo:
        kms.derive_shared_secret(KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=b"\x30\x00")
    assert error_code(excinfo) == "ValidationException"


@pytest.mark.parametrize(
    "spec", ["RSA_2048", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519"]
)
def test_data_key_pairs_halves_match(kms, new_symmetric_key, spec):
    context = {"purpose": "e2e data key pair"}
    pair = kms.generate_data_key_pair(
        KeyId=new_symmetric_key, KeyPairSpec=spec, EncryptionContext=context
    )
    assert pair["KeyPairSpec"] == spec
    assert pair["KeyId"] == key_arn(new_symmetric_key)
    record_needle(f"data key pair private key ({spec})", pair["PrivateKeyPlaintext"])
    private = serialization.load_der_private_key(pair["PrivateKeyPlaintext"], password=None)
    public_der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert public_der == pair["PublicKey"]
    # The sealed copy decrypts to the same PKCS#8, with the same encryption context.
    opened = kms.decrypt(CiphertextBlob=pair["PrivateKeyCiphertextBlob"], EncryptionContext=context)
    assert opened["Plaintext"] == pair["PrivateKeyPlaintext"]
    # The halves work together outside KMS.
    public = serialization.load_der_public_key(pair["PublicKey"])
    if isinstance(private, ed25519.Ed25519PrivateKey):
        public.verify(private.sign(MESSAGE), MESSAGE)
    elif isinstance(private, ec.EllipticCurvePrivateKey):
        public.verify(private.sign(MESSAGE, ec.ECDSA(hashes.SHA256())), MESSAGE, ec.ECDSA(hashes.SHA256()))
    else:
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
        assert private.decrypt(public.encrypt(MESSAGE, oaep), oaep) == MESSAGE
    without = kms.generate_data_key_pair_without_plaintext(
        KeyId=new_symmetric_key, KeyPairSpec=spec
    )
    assert "PrivateKeyPlaintext" not in without
    private = kms.decrypt(CiphertextBlob=without["PrivateKeyCiphertextBlob"])["Plaintext"]
    loaded = serialization.load_der_private_key(private, password=None)
    assert (
        loaded.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        == without["PublicKey"]
    )


def test_hmac_and_ml_kem_through_boto3(kms):
    mac_key = create(kms, "HMAC_384", "GENERATE_VERIFY_MAC")
    assert kms.describe_key(KeyId=mac_key)["KeyMetadata"]["MacAlgorithms"] == ["HMAC_SHA_384"]
    mac = kms.generate_mac(KeyId=mac_key, Message=MESSAGE, MacAlgorithm="HMAC_SHA_384")["Mac"]
    assert len(mac) == 48
    verified = kms.verify_mac(KeyId=mac_key, Message=MESSAGE, MacAlgorithm="HMAC_SHA_384", Mac=mac)
    assert verified["MacValid"] is True
    with pytest.raises(ClientError) as excinfo:
        kms.verify_mac(KeyId=mac_key, Message=MESSAGE + b"!", MacAlgorithm="HMAC_SHA_384", Mac=mac)
    assert error_code(excinfo) == "KMSInvalidMacException"
    with pytest.raises(ClientError) as excinfo:
        kms.generate_mac(KeyId=mac_key, Message=MESSAGE, MacAlgorithm="HMAC_SHA_256")
    assert error_code(excinfo) == "InvalidKeyUsageException"

    kem_key = create(kms, "ML_KEM_768", "ENCAPSULATE_DECAPSULATE")
    described = kms.describe_key(KeyId=kem_key)["KeyMetadata"]
    assert described["EncapsulationAlgorithms"] == ["ML_KEM"]
    encapsulated = kms.encapsulate(KeyId=kem_key, EncapsulationAlgorithm="ML_KEM")
    record_needle("ML-KEM shared secret", encapsulated["SharedSecret"])
    decapsulated = kms.decapsulate(
        KeyId=kem_key,
        SharedSecretCiphertextBlob=encapsulated["SharedSecretCiphertextBlob"],
        EncapsulationAlgorithm="ML_KEM",
    )
    assert decapsulated["SharedSecret"] == encapsulated["SharedSecret"]
    assert len(decapsulated["SharedSecret"]) == 32


@pytest.fixture
def new_symmetric_key(kms):
    return kms.create_key(Description="e2e data key pairs")["KeyMetadata"]["KeyId"]
