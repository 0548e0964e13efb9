"""Fixtures for the boto3 end-to-end tests.

tests/e2e/run.sh starts one shared `ferrokms serve` and passes it in the environment:
FERROKMS_ENDPOINT, FERROKMS_DATA_DIR, AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE (its admin),
FERROKMS_BIN (the binary, for tests that start their own servers), E2E_WORK (a scratch folder whose
data-* directories the secrets check scans), E2E_NEEDLES (where every plaintext and secret used is
recorded for that check), E2E_MARKER (a unique plaintext) and E2E_PIDS (pids of servers started
here, which run.sh kills if a test dies before its own cleanup).
"""

import base64
import configparser
import os
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path

import boto3
import botocore.config
import pytest

REGION = "us-east-1"
ACCOUNT = "111122223333"
# One attempt per call: a test that counts acknowledged writes must see every failure as it is.
NO_RETRIES = botocore.config.Config(
    retries={"total_max_attempts": 1, "mode": "standard"},
    connect_timeout=5,
    read_timeout=30,
)


def record_needle(label, data):
    """Records a plaintext or secret (bytes or str) that must never appear in a data dir."""
    if isinstance(data, str):
        data = data.encode()
    with open(os.environ["E2E_NEEDLES"], "a", encoding="ascii") as f:
        f.write(f"{label}\t{base64.b64encode(data).decode()}\n")


def admin_keys(data_dir):
    """(access key id, secret) of the admin in DATA_DIR/credentials."""
    parser = configparser.ConfigParser()
    parser.read(Path(data_dir) / "credentials")
    profile = parser["default"]
    return profile["aws_access_key_id"], profile["aws_secret_access_key"]


def client(endpoint, keys=None, config=None):
    """A boto3 KMS client; with `keys` = (id, secret) it uses them instead of the env's file."""
    kwargs = {"endpoint_url": endpoint, "region_name": REGION}
    if keys is not None:
        kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"] = keys
    if config is not None:
        kwargs["config"] = config
    return boto3.session.Session().client("kms", **kwargs)


class Server:
    """A real `ferrokms serve` on a free loopback port over one data dir, restartable."""

    def __init__(self, binary, data_dir, log_dir, args=(), env=None):
        self.binary = binary
        self.args = list(args)
        self.env = env
        self.data_dir = Path(data_dir)
        self.log_dir = Path(log_dir)
        self.process = None
        self.endpoint = None
        self.starts = 0

    def start(self):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        log_path = self.log_dir / f"{self.data_dir.name}-{self.starts}.log"
        log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--data-dir", str(self.data_dir), "--listen", "127.0.0.1:0",
             # Quotas off, as in lib.sh: the write-load tests call faster than AWS allows.
             "--quota", "off", *self.args],
            env=None if self.env is None else {**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        with open(os.environ["E2E_PIDS"], "a", encoding="ascii") as f:
            f.write(f"{self.process.pid}\n")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = re.search(r"listening on (http://\S+)", log_path.read_text(errors="replace"))
            if found:
                self.endpoint = found.group(1)
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.kill9()
        raise AssertionError(f"server did not start: {log_path.read_text(errors='replace')}")

    def stop(self, timeout=30):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            return None
        finally:
            self.process = None

    def kill9(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def admin(self, config=None):
        return client(self.endpoint, admin_keys(self.data_dir), config)


@pytest.fixture(scope="session")
def endpoint():
    return os.environ["FERROKMS_ENDPOINT"]


@pytest.fixture(scope="session")
def data_dir():
    return Path(os.environ["FERROKMS_DATA_DIR"])


@pytest.fixture(scope="session")
def binary():
    return os.environ["FERROKMS_BIN"]


@pytest.fixture(scope="session")
def marker():
    return os.environ["E2E_MARKER"].encode()


@pytest.fixture
def kms(endpoint):
    # Exactly what a user writes; the credentials come from AWS_SHARED_CREDENTIALS_FILE.
    return boto3.client("kms", endpoint_url=endpoint, region_name=REGION)


@pytest.fixture
def new_server(binary):
    """Starts servers on fresh data dirs under E2E_WORK; all are stopped at teardown."""
    started = []

    def make(name, args=(), env=None):
        work = Path(os.environ["E2E_WORK"])
        data = work / f"data-{name}-{uuid.uuid4().hex[:8]}"
        server = Server(binary, data, work / "logs", args, env)
        started.append(server)
        return server.start()

    yield make
    for server in started:
        server.kill9()
