"""Signs KMS-shaped requests with botocore at a fixed clock and prints them as JSON.

Used by tests/botocore.rs: each printed request must pass ferrokms-sigv4's verify().
Argument: the JSON-encoded fixture (access key, secret, token, region, service, endpoint,
target, content type, body, unix time of signing).
"""

import datetime
import json
import sys
from unittest import mock
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def sign(fixture, auth_class, method, url, body, token, **kwargs):
    headers = {}
    if body:
        headers = {
            "Content-Type": fixture["content_type"],
            "X-Amz-Target": fixture["target"],
        }
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    credentials = Credentials(fixture["access_key_id"], fixture["secret"], token)
    signer = auth_class(credentials, fixture["service"], fixture["region"], **kwargs)
    signer.add_auth(request)
    sent = [[name, value] for name, value in request.headers.items()]
    if not any(name.lower() == "host" for name, _ in sent):
        # What the HTTP client adds on the wire.
        sent.append(["Host", urlsplit(request.url).netloc])
    data = request.data or b""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return {
        "method": method,
        "url": request.url,
        "headers": sent,
        "body": data.decode("utf-8"),
    }


def main():
    fixture = json.loads(sys.argv[1])
    now = datetime.datetime.fromtimestamp(fixture["signed_at"], datetime.timezone.utc)
    endpoint = "http://" + fixture["endpoint"]
    body = fixture["body"].encode("utf-8")
    with mock.patch("botocore.auth.get_current_datetime", return_value=now):
        requests = [
            sign(fixture, SigV4Auth, "POST", endpoint + "/", body, None),
            sign(fixture, SigV4Auth, "POST", endpoint + "/", body, fixture["token"]),
            sign(
                fixture,
                SigV4Auth,
                "POST",
                endpoint + "/a%3Ab/./c//d?z=1&b=%2F&a=",
                body,
                None,
            ),
            sign(
                fixture,
                SigV4QueryAuth,
                "GET",
                endpoint + "/x%20y/?Action=ListKeys&Limit=10",
                b"",
                fixture["token"],
                expires=300,
            ),
        ]
    print(json.dumps(requests))


if __name__ == "__main__":
    main()
