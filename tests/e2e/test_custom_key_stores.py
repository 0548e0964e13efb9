"""HSM key stores (CustomKeyStoreType AWS_CLOUDHSM) over a real PKCS#11 token (SoftHSM2),
through boto3 against a server started with `--hsm-cluster`.

Each test gets its own SoftHSM2 token directory (FERROKMS_TEST_SOFTHSM_MODULE names the module;
scripts/test.sh installs SoftHSM2 and sets it) and its own server.
"""

import os
import subprocess
import threading
import time
import uuid
from pathlib import Path

import botocore.config
import botocore.exceptions
import pytest

from conftest import record_needle

PIN = "kmsuser-" + uuid.uuid4().hex[:12]
SO_PIN = "so-" + uuid.uuid4().hex[:12]
CLUSTER = "cluster-234567abcdefg"
OTHER_CLUSTER = "cluster-765432gfedcba"
# Declared for another account only: to this one it does not exist.
BOUND_CLUSTER = "cluster-boundtoother"
ROOT = Path(__file__).resolve().parents[2]


def module():
    path = os.environ.get("FERROKMS_TEST_SOFTHSM_MODULE")
    if not path:
        if os.environ.get("CI"):
            raise AssertionError("FERROKMS_TEST_SOFTHSM_MODULE is required under CI")
        pytest.skip("FERROKMS_TEST_SOFTHSM_MODULE unset (scripts/test.sh sets it)")
    return path


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def certificate(directory, name):
    """A self-signed certificate: the trust anchor a cluster presents."""
    pem = directory / f"{name}.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(directory / f"{name}.key"), "-out", str(pem), "-days", "1",
         "-subj", f"/CN={name}"],
        check=True, capture_output=True)
    return pem


@pytest.fixture
def hsm(new_server):
    """A server with two declared clusters: CLUSTER on a real token, OTHER_CLUSTER naming a
    token label that does not exist. Returns (admin client, trust anchor text, server)."""
    work = Path(os.environ["E2E_WORK"]) / f"softhsm-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True)
    label = "ferrokms-" + uuid.uuid4().hex[:8]
    conf = subprocess.run(
        ["bash", str(ROOT / "scripts" / "softhsm.sh"), "init", str(work), label, PIN, SO_PIN],
        check=True, capture_output=True, text=True).stdout.strip()
    record_needle("HSM user PIN", PIN)
    anchor = certificate(work, "anchor")
    other_anchor = certificate(work, "other")
    lib = module()
    server = new_server("hsm", args=[
        "--hsm-cluster", f"id={CLUSTER},module={lib},token={label},trust-anchor={anchor}",
        "--hsm-cluster",
        f"id={OTHER_CLUSTER},module={lib},token=missing-{label},trust-anchor={other_anchor}",
        "--hsm-cluster",
        f"id={BOUND_CLUSTER},module={lib},token={label},trust-anchor={anchor},accounts=999988887777",
    ], env={"SOFTHSM2_CONF": conf})
    return server.admin(), anchor.read_text(), server


def describe(kms, store_id):
    stores = kms.describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"]
    assert len(stores) == 1
    return stores[0]


def create(kms, anchor, name="hsm-store", password=PIN, cluster=CLUSTER):
    return kms.create_custom_key_store(
        CustomKeyStoreName=name, CloudHsmClusterId=cluster, TrustAnchorCertificate=anchor,
        KeyStorePassword=password)["CustomKeyStoreId"]


def test_an_hsm_key_store_lives_connects_and_goes(hsm):
    kms, anchor, _ = hsm
    store_id = create(kms, anchor)
    assert store_id.startswith("cks-") and len(store_id) == 21
    store = describe(kms, store_id)
    assert store["CustomKeyStoreName"] == "hsm-store"
    assert store["CustomKeyStoreType"] == "AWS_CLOUDHSM"
    assert store["CloudHsmClusterId"] == CLUSTER
    assert store["TrustAnchorCertificate"] == anchor
    assert store["ConnectionState"] == "DISCONNECTED"
    assert "ConnectionErrorCode" not in store
    assert "KeyStorePassword" not in store
    by_name = kms.describe_custom_key_stores(CustomKeyStoreName="hsm-store")["CustomKeyStores"]
    assert [s["CustomKeyStoreId"] for s in by_name] == [store_id]

    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    assert describe(kms, store_id)["ConnectionState"] == "CONNECTED"
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)  # valid while connected
    # A connected store may be renamed, nothing else; it cannot be deleted.
    kms.update_custom_key_store(CustomKeyStoreId=store_id, NewCustomKeyStoreName="renamed")
    assert describe(kms, store_id)["CustomKeyStoreName"] == "renamed"
    for call in (
        lambda: kms.update_custom_key_store(CustomKeyStoreId=store_id, KeyStorePassword=PIN),
        lambda: kms.delete_custom_key_store(CustomKeyStoreId=store_id),
    ):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert error_code(e) == "CustomKeyStoreInvalidStateException"

    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    assert describe(kms, store_id)["ConnectionState"] == "DISCONNECTED"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    assert error_code(e) == "CustomKeyStoreInvalidStateException"
    kms.delete_custom_key_store(CustomKeyStoreId=store_id)
    for call in (
        lambda: kms.describe_custom_key_stores(CustomKeyStoreId=store_id),
        lambda: kms.describe_custom_key_stores(CustomKeyStoreName="renamed"),
        lambda: kms.connect_custom_key_store(CustomKeyStoreId=store_id),
        lambda: kms.delete_custom_key_store(CustomKeyStoreId=store_id),
    ):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert error_code(e) == "CustomKeyStoreNotFoundException"
    assert kms.describe_custom_key_stores()["CustomKeyStores"] == []


def test_a_wrong_pin_fails_the_connection_until_it_is_corrected(hsm):
    kms, anchor, _ = hsm
    store_id = create(kms, anchor, password="not-the-pin")
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    store = describe(kms, store_id)
    assert (store["ConnectionState"], store["ConnectionErrorCode"]) == (
        "FAILED", "INVALID_CREDENTIALS")
    # A failed store is disconnected before it connects again.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    assert error_code(e) == "CustomKeyStoreInvalidStateException"
    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    kms.update_custom_key_store(CustomKeyStoreId=store_id, KeyStorePassword=PIN)
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    store = describe(kms, store_id)
    assert store["ConnectionState"] == "CONNECTED"
    assert "ConnectionErrorCode" not in store


def test_creation_checks_the_cluster_as_aws_does(hsm):
    kms, anchor, _ = hsm
    attempts = [
        (dict(cluster="cluster-222222aaaaaaa"), "CloudHsmClusterNotFoundException"),
        (dict(cluster=OTHER_CLUSTER), "IncorrectTrustAnchorException"),
        (dict(cluster=BOUND_CLUSTER), "CloudHsmClusterNotFoundException"),
    ]
    for changes, expected in attempts:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            create(kms, anchor, **changes)
        assert error_code(e) == expected, changes
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.create_custom_key_store(
            CustomKeyStoreName="xks", CustomKeyStoreType="EXTERNAL_KEY_STORE",
            XksProxyUriEndpoint="https://xks.example.com", XksProxyUriPath="/kms/xks/v1",
            XksProxyConnectivity="PUBLIC_ENDPOINT",
            XksProxyAuthenticationCredential={
                "AccessKeyId": "ABCDEFGHIJKLMNOPQRST", "RawSecretAccessKey": "A" * 43})
    assert error_code(e) == "UnsupportedOperationException"

    first = create(kms, anchor)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        create(kms, anchor)
    assert error_code(e) == "CustomKeyStoreNameInUseException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        create(kms, anchor, name="second")
    assert error_code(e) == "CloudHsmClusterInUseException"
    listed = kms.describe_custom_key_stores()["CustomKeyStores"]
    assert [s["CustomKeyStoreId"] for s in listed] == [first]


def test_a_cluster_without_its_token_is_not_active(hsm):
    kms, _, server = hsm
    other_anchor = Path(server.args[3].split("trust-anchor=")[1]).read_text()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        create(kms, other_anchor, cluster=OTHER_CLUSTER)
    assert error_code(e) == "CloudHsmClusterNotActiveException"


def test_every_custom_key_store_call_is_audited_without_the_pin(hsm):
    kms, anchor, server = hsm
    store_id = create(kms, anchor)
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    kms.delete_custom_key_store(CustomKeyStoreId=store_id)
    server.stop()
    trail = b"".join(p.read_bytes() for p in (server.data_dir / "audit").rglob("*") if p.is_file())
    for name in (b"CreateCustomKeyStore", b"ConnectCustomKeyStore",
                 b"DisconnectCustomKeyStore", b"DeleteCustomKeyStore"):
        assert name in trail, name
    assert store_id.encode() in trail
    assert PIN.encode() not in trail


def test_generate_random_draws_from_a_connected_token(hsm):
    kms, anchor, _ = hsm
    store_id = create(kms, anchor)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.generate_random(NumberOfBytes=16, CustomKeyStoreId=store_id)
    assert error_code(e) == "CustomKeyStoreInvalidStateException"
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    drawn = [kms.generate_random(NumberOfBytes=1024, CustomKeyStoreId=store_id)["Plaintext"]
             for _ in range(2)]
    assert [len(d) for d in drawn] == [1024, 1024] and drawn[0] != drawn[1]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.generate_random(NumberOfBytes=16, CustomKeyStoreId="cks-00000000000000000")
    assert error_code(e) == "CustomKeyStoreNotFoundException"



def test_a_key_in_the_store_encrypts_in_the_token_across_restarts(hsm):
    kms, anchor, server = hsm
    store_id = create(kms, anchor)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.create_key(CustomKeyStoreId=store_id, Origin="AWS_CLOUDHSM")
    assert error_code(e) == "CustomKeyStoreInvalidStateException"
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    meta = kms.create_key(CustomKeyStoreId=store_id, Origin="AWS_CLOUDHSM",
                          Description="in the HSM")["KeyMetadata"]
    assert (meta["CustomKeyStoreId"], meta["CloudHsmClusterId"]) == (store_id, CLUSTER)
    assert (meta["Origin"], meta["KeyState"], meta["KeySpec"]) == (
        "AWS_CLOUDHSM", "Enabled", "SYMMETRIC_DEFAULT")
    key_id = meta["KeyId"]
    context = {"tenant": "t-1"}
    blobs = [kms.encrypt(KeyId=key_id, Plaintext=b"secret %d" % i,
                         EncryptionContext=context)["CiphertextBlob"] for i in range(3)]
    assert len(set(blobs)) == 3, "each message has its own salt and nonce"
    data_key = kms.generate_data_key(KeyId=key_id, NumberOfBytes=32)
    listed = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert listed["CustomKeyStoreId"] == store_id

    # A restart: the store stays asked-for CONNECTED, and the node logs in again on first use.
    server.stop()
    server.start()
    kms = server.admin()
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
    for i, blob in enumerate(blobs):
        opened = kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)
        assert opened["Plaintext"] == b"secret %d" % i
        assert opened["KeyId"] == meta["Arn"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.decrypt(CiphertextBlob=blobs[0], EncryptionContext={"tenant": "t-2"})
    assert error_code(e) == "InvalidCiphertextException"
    assert kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"] == \
        data_key["Plaintext"]

    # Disconnected: Unavailable, and the store keeps its key.
    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Unavailable"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.decrypt(CiphertextBlob=blobs[0], EncryptionContext=context)
    assert error_code(e) == "KMSInvalidStateException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.delete_custom_key_store(CustomKeyStoreId=store_id)
    assert error_code(e) == "CustomKeyStoreHasCMKsException"
    # A key pending deletion is still a key of the store, and stays PendingDeletion.
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.delete_custom_key_store(CustomKeyStoreId=store_id)
    assert error_code(e) == "CustomKeyStoreHasCMKsException"


def test_keys_outside_the_rules_of_custom_key_stores_are_refused(hsm):
    kms, anchor, _ = hsm
    store_id = create(kms, anchor)
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    cases = [
        ({"CustomKeyStoreId": store_id}, "ValidationException"),
        ({"Origin": "AWS_CLOUDHSM"}, "ValidationException"),
        ({"CustomKeyStoreId": store_id, "Origin": "AWS_CLOUDHSM", "KeySpec": "HMAC_256",
          "KeyUsage": "GENERATE_VERIFY_MAC"}, "UnsupportedOperationException"),
        ({"CustomKeyStoreId": store_id, "Origin": "AWS_CLOUDHSM", "MultiRegion": True},
         "UnsupportedOperationException"),
        ({"CustomKeyStoreId": "cks-00000000000000000", "Origin": "AWS_CLOUDHSM"},
         "CustomKeyStoreNotFoundException"),
    ]
    for arguments, expected in cases:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            kms.create_key(**arguments)
        assert error_code(e) == expected, arguments
    key_id = kms.create_key(CustomKeyStoreId=store_id, Origin="AWS_CLOUDHSM")["KeyMetadata"]["KeyId"]
    for call in (lambda: kms.enable_key_rotation(KeyId=key_id),
                 lambda: kms.rotate_key_on_demand(KeyId=key_id)):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert error_code(e) == "UnsupportedOperationException"
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert status["KeyRotationEnabled"] is False


def test_kill_9_while_keys_are_created_in_the_store_leaves_no_half_made_key(hsm):
    """The token key is made before the key's row: a crash in between leaves at most an unused
    token object, never a key without material. Every key the restarted server lists in the
    store must encrypt and decrypt, and every acknowledged one must be there."""
    kms, anchor, server = hsm
    store_id = create(kms, anchor)
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    acked, stop, unexpected, cut = [], threading.Event(), [], []
    config = botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=2,
                                    read_timeout=5)

    def creator():
        client = server.admin(config)
        while not stop.is_set():
            try:
                meta = client.create_key(CustomKeyStoreId=store_id,
                                         Origin="AWS_CLOUDHSM")["KeyMetadata"]
                acked.append(meta["KeyId"])
            except botocore.exceptions.ClientError as e:
                unexpected.append(e.response["Error"])
            except botocore.exceptions.BotoCoreError:
                cut.append(1)  # the kill cut the call short

    threads = [threading.Thread(target=creator) for _ in range(3)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(acked) < 40:
        time.sleep(0.02)
    server.kill9()
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert not unexpected, unexpected
    assert len(acked) >= 40, "too few keys before the kill to mean anything"

    server.start()
    kms = server.admin()
    listed = [k["KeyId"] for p in kms.get_paginator("list_keys").paginate() for k in p["Keys"]]
    in_store = [k for k in listed
                if kms.describe_key(KeyId=k)["KeyMetadata"].get("CustomKeyStoreId") == store_id]
    assert set(acked) <= set(in_store), "an acknowledged key was lost"
    for key_id in in_store:
        blob = kms.encrypt(KeyId=key_id, Plaintext=b"after the crash")["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"after the crash"
    print(f"kill -9 after {len(acked)} acknowledged keys, {len(cut)} calls cut short; "
          f"{len(in_store)} keys in the store after the restart, every one usable")
