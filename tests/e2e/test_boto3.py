"""boto3 against the shared `ferrokms serve`: the calls an application makes, and the errors
botocore must see with AWS's codes."""

import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, admin_keys, client, record_needle

APP_ALIAS = "alias/my-app-key"


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def key_arn(key_id):
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}"


@pytest.fixture(scope="module")
def app_key(endpoint):
    """A key behind alias/my-app-key, as in the issue's Python flow."""
    kms = client(endpoint)
    key_id = kms.create_key(Description="boto3 application key")["KeyMetadata"]["KeyId"]
    try:
        kms.create_alias(AliasName=APP_ALIAS, TargetKeyId=key_id)
    except kms.exceptions.AlreadyExistsException:
        # Only when re-run against a server that kept an earlier run's data.
        kms.update_alias(AliasName=APP_ALIAS, TargetKeyId=key_id)
    return key_id


@pytest.fixture
def new_key(kms):
    def make(description="boto3 test key"):
        return kms.create_key(Description=description)["KeyMetadata"]["KeyId"]

    return make


def test_encrypt_decrypt_through_alias(kms, app_key, marker):
    record_needle("E2E_MARKER (boto3)", marker)
    encrypted = kms.encrypt(KeyId=APP_ALIAS, Plaintext=marker)
    assert encrypted["KeyId"] == key_arn(app_key)
    assert encrypted["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = encrypted["CiphertextBlob"]
    assert marker not in blob
    decrypted = kms.decrypt(CiphertextBlob=blob)
    assert decrypted["Plaintext"] == marker
    assert decrypted["KeyId"] == key_arn(app_key)
    alias_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:{APP_ALIAS}"
    for key_id in (app_key, key_arn(app_key), APP_ALIAS, alias_arn):
        assert kms.decrypt(CiphertextBlob=blob, KeyId=key_id)["Plaintext"] == marker


def test_every_key_identifier_describes_the_same_key(kms, app_key):
    alias_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:{APP_ALIAS}"
    for key_id in (app_key, key_arn(app_key), APP_ALIAS, alias_arn):
        assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyId"] == app_key
    aliases = kms.list_aliases(KeyId=app_key)["Aliases"]
    assert [a["AliasName"] for a in aliases] == [APP_ALIAS]
    assert aliases[0]["AliasArn"] == alias_arn


@pytest.mark.parametrize(
    "context_at_decrypt",
    [None, {"purpose": "test"}, {"purpose": "test", "user": "bob"}, {"purpose": "TEST", "user": "alice"}],
)
def test_encryption_context_mismatch_is_invalid_ciphertext(kms, app_key, context_at_decrypt):
    context = {"purpose": "test", "user": "alice"}
    blob = kms.encrypt(KeyId=app_key, Plaintext=b"bound", EncryptionContext=context)["CiphertextBlob"]
    reordered = {"user": "alice", "purpose": "test"}
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=reordered)["Plaintext"] == b"bound"
    kwargs = {} if context_at_decrypt is None else {"EncryptionContext": context_at_decrypt}
    with pytest.raises(ClientError) as excinfo:
        kms.decrypt(CiphertextBlob=blob, **kwargs)
    assert error_code(excinfo) == "InvalidCiphertextException"


def test_context_encoding_is_unambiguous(kms, app_key):
    # {"a": "bc"} and {"ab": "c"} concatenate to the same text; the AAD must still differ.
    blob = kms.encrypt(KeyId=app_key, Plaintext=b"x", EncryptionContext={"a": "bc"})["CiphertextBlob"]
    with pytest.raises(ClientError) as excinfo:
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"ab": "c"})
    assert error_code(excinfo) == "InvalidCiphertextException"


def tamper_results(kms, blob, positions):
    """The error code of Decrypt for `blob` with one bit flipped at each position."""
    codes = {}
    for position in positions:
        tampered = bytearray(blob)
        tampered[position] ^= 0x01
        with pytest.raises(ClientError) as excinfo:
            kms.decrypt(CiphertextBlob=bytes(tampered))
        codes[position] = error_code(excinfo)
    return codes


def test_tampered_ciphertext_is_invalid_ciphertext(kms, app_key):
    # Every byte, the key id and its length included: a blob naming another (or no) key is
    # InvalidCiphertextException too, never NotFoundException.
    blob = kms.encrypt(KeyId=app_key, Plaintext=b"tamper me")["CiphertextBlob"]
    codes = tamper_results(kms, blob, range(len(blob)))
    wrong = {p: c for p, c in codes.items() if c != "InvalidCiphertextException"}
    assert not wrong, f"positions answered with another error: {wrong}"
    for cut in (blob[:-1], blob[:20], b"FK"):
        with pytest.raises(ClientError) as excinfo:
            kms.decrypt(CiphertextBlob=cut)
        assert error_code(excinfo) == "InvalidCiphertextException"


@pytest.mark.parametrize(
    "call",
    [
        lambda kms: kms.describe_key(KeyId=str(uuid.uuid4())),
        lambda kms: kms.encrypt(KeyId=key_arn(uuid.uuid4()), Plaintext=b"x"),
        lambda kms: kms.encrypt(KeyId="alias/no-such-alias", Plaintext=b"x"),
        lambda kms: kms.disable_key(KeyId=str(uuid.uuid4())),
        lambda kms: kms.delete_alias(AliasName="alias/no-such-alias"),
    ],
    ids=["describe-key", "encrypt-key-arn", "encrypt-alias", "disable-key", "delete-alias"],
)
def test_unknown_keys_and_aliases_are_not_found(kms, call):
    with pytest.raises(ClientError) as excinfo:
        call(kms)
    assert error_code(excinfo) == "NotFoundException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert excinfo.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    "call",
    [
        lambda kms, key: kms.generate_random(NumberOfBytes=2000),
        lambda kms, key: kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=3),
        lambda kms, key: kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=31),
        lambda kms, key: kms.generate_data_key(KeyId=key),
        lambda kms, key: kms.generate_data_key(KeyId=key, KeySpec="AES_256", NumberOfBytes=32),
        lambda kms, key: kms.generate_data_key(KeyId=key, NumberOfBytes=2048),
        lambda kms, key: kms.encrypt(KeyId=key, Plaintext=b"x" * 4097),
        lambda kms, key: kms.list_keys(Limit=1001),
    ],
    ids=[
        "random-2000-bytes",
        "deletion-3-days",
        "deletion-31-days",
        "data-key-no-size",
        "data-key-two-sizes",
        "data-key-2048-bytes",
        "plaintext-4097-bytes",
        "list-keys-limit-1001",
    ],
)
def test_out_of_range_values_are_validation_errors(kms, new_key, call):
    key = new_key("validation")
    with pytest.raises(ClientError) as excinfo:
        call(kms, key)
    assert error_code(excinfo) == "ValidationException"
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"


def test_generate_data_key_plaintext_matches_its_ciphertext(kms, app_key):
    answer = kms.generate_data_key(KeyId=APP_ALIAS, KeySpec="AES_256", EncryptionContext={"f": "1"})
    record_needle("data key (boto3)", answer["Plaintext"])
    assert len(answer["Plaintext"]) == 32
    assert answer["KeyId"] == key_arn(app_key)
    again = kms.decrypt(CiphertextBlob=answer["CiphertextBlob"], EncryptionContext={"f": "1"})
    assert again["Plaintext"] == answer["Plaintext"]
    short = kms.generate_data_key(KeyId=app_key, KeySpec="AES_128")
    assert len(short["Plaintext"]) == 16


@pytest.mark.parametrize("kwargs,size", [({"KeySpec": "AES_256"}, 32), ({"NumberOfBytes": 64}, 64)])
def test_generate_data_key_without_plaintext(kms, app_key, kwargs, size):
    answer = kms.generate_data_key_without_plaintext(KeyId=app_key, **kwargs)
    assert "Plaintext" not in answer
    assert answer["KeyId"] == key_arn(app_key)
    plaintext = kms.decrypt(CiphertextBlob=answer["CiphertextBlob"])["Plaintext"]
    record_needle("data key without plaintext (boto3)", plaintext)
    assert len(plaintext) == size


def test_reencrypt_moves_a_ciphertext_to_another_key(kms, new_key):
    source, destination = new_key("re-encrypt source"), new_key("re-encrypt destination")
    blob = kms.encrypt(KeyId=source, Plaintext=b"moving", EncryptionContext={"k": "a"})["CiphertextBlob"]
    moved = kms.re_encrypt(
        CiphertextBlob=blob,
        SourceEncryptionContext={"k": "a"},
        DestinationKeyId=destination,
        DestinationEncryptionContext={"k": "b"},
    )
    assert moved["SourceKeyId"] == key_arn(source)
    assert moved["KeyId"] == key_arn(destination)
    assert moved["CiphertextBlob"] != blob
    out = kms.decrypt(CiphertextBlob=moved["CiphertextBlob"], EncryptionContext={"k": "b"})
    assert (out["Plaintext"], out["KeyId"]) == (b"moving", key_arn(destination))
    with pytest.raises(ClientError) as excinfo:
        kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=destination)
    assert error_code(excinfo) == "InvalidCiphertextException"


def test_decrypt_with_another_key_is_incorrect_key(kms, new_key):
    first, second = new_key(), new_key()
    blob = kms.encrypt(KeyId=first, Plaintext=b"mine")["CiphertextBlob"]
    with pytest.raises(ClientError) as excinfo:
        kms.decrypt(CiphertextBlob=blob, KeyId=second)
    assert error_code(excinfo) == "IncorrectKeyException"


def test_disabled_key_refuses_and_enabled_key_works(kms, new_key):
    key = new_key()
    kms.disable_key(KeyId=key)
    with pytest.raises(ClientError) as excinfo:
        kms.encrypt(KeyId=key, Plaintext=b"x")
    assert error_code(excinfo) == "DisabledException"
    kms.enable_key(KeyId=key)
    kms.encrypt(KeyId=key, Plaintext=b"x")


def test_list_keys_paginator_returns_every_key_once(kms, new_key):
    created = {new_key(f"paging {n}") for n in range(5)}
    pages = list(kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 2}))
    seen = [k["KeyId"] for page in pages for k in page["Keys"]]
    assert len(seen) == len(set(seen)), "a key was listed twice"
    assert created <= set(seen)
    assert len(pages) >= 3
    assert all(len(page["Keys"]) <= 2 for page in pages)
    first = kms.list_keys(Limit=2)
    assert first["Truncated"] is True and first["NextMarker"]
    for entry in first["Keys"]:
        assert entry["KeyArn"] == key_arn(entry["KeyId"])


def test_list_aliases_paginator(kms, new_key):
    key = new_key()
    run = uuid.uuid4().hex[:8]
    names = {f"alias/paging-{run}-{n}" for n in range(4)}
    for name in names:
        kms.create_alias(AliasName=name, TargetKeyId=key)
    pages = kms.get_paginator("list_aliases").paginate(PaginationConfig={"PageSize": 2})
    seen = [a["AliasName"] for page in pages for a in page["Aliases"]]
    assert len(seen) == len(set(seen))
    assert names <= set(seen)


def test_tags_round_trip(kms, new_key):
    key = new_key()
    kms.tag_resource(KeyId=key, Tags=[{"TagKey": "env", "TagValue": "test"}, {"TagKey": "team", "TagValue": "a"}])
    kms.tag_resource(KeyId=key, Tags=[{"TagKey": "team", "TagValue": "b"}])
    tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key)["Tags"]}
    assert tags == {"env": "test", "team": "b"}
    kms.untag_resource(KeyId=key, TagKeys=["env"])
    assert kms.list_resource_tags(KeyId=key)["Tags"] == [{"TagKey": "team", "TagValue": "b"}]


def test_update_alias_retargets(kms, new_key):
    first, second = new_key(), new_key()
    alias = f"alias/moving-{uuid.uuid4().hex[:8]}"
    kms.create_alias(AliasName=alias, TargetKeyId=first)
    kms.update_alias(AliasName=alias, TargetKeyId=second)
    assert kms.encrypt(KeyId=alias, Plaintext=b"x")["KeyId"] == key_arn(second)


def test_generate_random(kms):
    assert len(kms.generate_random(NumberOfBytes=1024)["Plaintext"]) == 1024
    assert kms.generate_random(NumberOfBytes=32)["Plaintext"] != kms.generate_random(NumberOfBytes=32)["Plaintext"]


def test_wrong_secret_is_invalid_signature(endpoint, data_dir):
    access_key, secret = admin_keys(data_dir)
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    with pytest.raises(ClientError) as excinfo:
        client(endpoint, (access_key, wrong)).list_keys()
    assert error_code(excinfo) == "InvalidSignatureException"


def test_unknown_access_key_is_unrecognized_client(endpoint):
    with pytest.raises(ClientError) as excinfo:
        client(endpoint, ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")).list_keys()
    assert error_code(excinfo) == "UnrecognizedClientException"
