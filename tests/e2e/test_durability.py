"""Durability of the real binary: a graceful restart keeps everything, and `kill -9` in the middle
of a stream of writes loses none that had been acknowledged."""

import threading
import time

from botocore.exceptions import BotoCoreError, ClientError

from conftest import NO_RETRIES, admin_keys, record_needle


def test_sigterm_restart_keeps_keys_aliases_tags_and_ciphertexts(new_server, marker):
    server = new_server("restart")
    record_needle("admin secret (restart)", admin_keys(server.data_dir)[1])
    kms = server.admin()
    saved = []
    for n in range(3):
        key = kms.create_key(
            Description=f"durable {n}", Tags=[{"TagKey": "n", "TagValue": str(n)}]
        )["KeyMetadata"]["KeyId"]
        alias = f"alias/durable-{n}"
        kms.create_alias(AliasName=alias, TargetKeyId=key)
        plaintext = marker + b" restart " + str(n).encode()
        record_needle(f"plaintext (restart {n})", plaintext)
        blob = kms.encrypt(KeyId=alias, Plaintext=plaintext, EncryptionContext={"n": str(n)})[
            "CiphertextBlob"
        ]
        saved.append((key, alias, plaintext, blob))
    disabled_key = saved[2][0]
    kms.disable_key(KeyId=disabled_key)
    pending = kms.create_key(Description="to be deleted")["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=pending, PendingWindowInDays=7)

    assert server.stop() == 0, "SIGTERM must end the server with exit status 0"
    server.start()
    kms = server.admin()

    listed = {k["KeyId"] for p in kms.get_paginator("list_keys").paginate() for k in p["Keys"]}
    assert {key for key, *_ in saved} | {pending} <= listed
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    for n, (key, alias, plaintext, blob) in enumerate(saved):
        assert aliases.get(alias) == key
        meta = kms.describe_key(KeyId=alias)["KeyMetadata"]
        assert meta["Description"] == f"durable {n}"
        assert kms.list_resource_tags(KeyId=key)["Tags"] == [{"TagKey": "n", "TagValue": str(n)}]
        if key == disabled_key:
            assert meta["KeyState"] == "Disabled"
            kms.enable_key(KeyId=key)
        out = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"n": str(n)})
        assert out["Plaintext"] == plaintext
    assert kms.describe_key(KeyId=pending)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    assert server.stop() == 0


class Writer(threading.Thread):
    """CreateKey, CreateAlias, Encrypt in a loop; remembers what the server acknowledged."""

    def __init__(self, server, n, marker):
        super().__init__(daemon=True)
        self.kms = server.admin(NO_RETRIES)
        self.n = n
        self.marker = marker
        self.stop = threading.Event()
        self.keys = []
        self.aliases = {}
        self.ciphertexts = []
        self.unexpected = []
        self.transport_errors = 0

    def run(self):
        i = 0
        while not self.stop.is_set():
            try:
                key = self.kms.create_key(Description=f"crash {self.n}-{i}")["KeyMetadata"]["KeyId"]
                self.keys.append(key)
                alias = f"alias/crash-{self.n}-{i}"
                self.kms.create_alias(AliasName=alias, TargetKeyId=key)
                self.aliases[alias] = key
                plaintext = self.marker + f" crash {self.n}-{i}".encode()
                blob = self.kms.encrypt(KeyId=key, Plaintext=plaintext)["CiphertextBlob"]
                self.ciphertexts.append((key, plaintext, blob))
            except ClientError as e:
                self.unexpected.append(e.response["Error"])
            except BotoCoreError:
                # The server was killed: no answer is no acknowledgement. Keep trying until told
                # to stop, so that the kill lands while calls are in flight.
                self.transport_errors += 1
                time.sleep(0.01)
            i += 1


def test_kill_9_loses_no_acknowledged_write(new_server, marker):
    server = new_server("crash")
    record_needle("admin secret (crash)", admin_keys(server.data_dir)[1])
    writers = [Writer(server, n, marker) for n in range(4)]
    for w in writers:
        w.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and sum(len(w.ciphertexts) for w in writers) < 150:
        time.sleep(0.05)
    server.kill9()
    time.sleep(0.3)
    for w in writers:
        w.stop.set()
    for w in writers:
        w.join(timeout=60)
    assert not any(w.is_alive() for w in writers)
    assert not [e for w in writers for e in w.unexpected], "the server refused a write"

    acked_keys = [k for w in writers for k in w.keys]
    acked_aliases = {a: k for w in writers for a, k in w.aliases.items()}
    acked_ciphertexts = [c for w in writers for c in w.ciphertexts]
    assert len(acked_ciphertexts) >= 150, "too few writes before the kill to mean anything"
    assert sum(w.transport_errors for w in writers) > 0, "the kill should have cut calls short"

    print(
        f"kill -9 after {len(acked_keys)} acknowledged CreateKey, {len(acked_aliases)} CreateAlias, "
        f"{len(acked_ciphertexts)} Encrypt; {sum(w.transport_errors for w in writers)} calls cut short"
    )
    server.start()
    kms = server.admin()
    listed = {k["KeyId"] for p in kms.get_paginator("list_keys").paginate() for k in p["Keys"]}
    lost_keys = [k for k in acked_keys if k not in listed]
    assert not lost_keys, f"{len(lost_keys)} of {len(acked_keys)} acknowledged keys lost"
    aliases = {
        a["AliasName"]: a.get("TargetKeyId")
        for p in kms.get_paginator("list_aliases").paginate()
        for a in p["Aliases"]
    }
    lost_aliases = {a: k for a, k in acked_aliases.items() if aliases.get(a) != k}
    assert not lost_aliases, f"acknowledged aliases lost or wrong: {lost_aliases}"
    for key, plaintext, blob in acked_ciphertexts:
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == plaintext
        assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"
    # The store still takes writes after the crash.
    kms.create_alias(AliasName="alias/after-crash", TargetKeyId=acked_keys[0])
    assert server.stop() == 0
