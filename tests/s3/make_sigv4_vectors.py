#!/usr/bin/python3
"""Signs a table of S3 requests with botocore's S3SigV4Auth at a fixed time.

forestbatch's SigV4 signer (src/storage/sigv4.cc) must produce the same
canonical request and Authorization header byte for byte; storage_test reads
the table this writes (sigv4_vectors.json).

  /usr/bin/python3 tests/s3/make_sigv4_vectors.py > tests/s3/sigv4_vectors.json
  /usr/bin/python3 tests/s3/make_sigv4_vectors.py --check tests/s3/sigv4_vectors.json

Needs Debian's python3-botocore. Keys are percent-encoded the way botocore's
serializer does it for S3 (everything but unreserved characters and '/').
"""
import datetime
import json
import sys
import types
from unittest import mock
from urllib.parse import quote

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

FIXED = datetime.datetime(2026, 11, 28, 20, 0, 0)
UNSIGNED = "UNSIGNED-PAYLOAD"
EMPTY_SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ=="

# name, method, host, bucket-in-path, key, query (raw pairs), extra headers, payload hash, token?
CASES = [
    ("get-simple", "GET", "examplebucket.s3.us-east-1.amazonaws.com", None, "test.txt", [], [("Range", "bytes=0-9")], UNSIGNED, False),
    ("get-space-plus-equals", "GET", "examplebucket.s3.us-east-1.amazonaws.com", None, "dir one/a+b=c.csv", [], [], UNSIGNED, False),
    ("get-percent-tilde", "GET", "examplebucket.s3.us-east-1.amazonaws.com", None, "100%/~user/x.csv", [], [], UNSIGNED, False),
    ("get-non-ascii", "GET", "examplebucket.s3.us-east-1.amazonaws.com", None, "données/élève ü 日本.csv", [], [], UNSIGNED, False),
    ("get-nested-slashes", "GET", "examplebucket.s3.us-east-1.amazonaws.com", None, "a//b/./c/../d.csv", [], [], UNSIGNED, False),
    ("get-path-style-port", "GET", "127.0.0.1:4568", "my-bucket", "in/part 1.csv", [], [("Range", "bytes=0-8388607")], UNSIGNED, False),
    ("get-if-match-token", "GET", "examplebucket.s3.eu-west-1.amazonaws.com", None, "k", [], [("Range", "bytes=8388608-16777215"), ("If-Match", '"9b2cf535f27731c974343645a3985328"')], UNSIGNED, True),
    ("head", "HEAD", "examplebucket.s3.us-east-1.amazonaws.com", None, "in/file.csv", [], [], UNSIGNED, False),
    ("head-token", "HEAD", "examplebucket.s3.us-east-1.amazonaws.com", None, "in/file.csv", [], [], UNSIGNED, True),
    ("delete", "DELETE", "examplebucket.s3.us-east-1.amazonaws.com", None, "out/x y.csv", [], [], UNSIGNED, False),
    ("delete-token-path-style", "DELETE", "localhost:9000", "bucket.with.dots", "out/x.csv", [], [], UNSIGNED, True),
    ("list", "GET", "examplebucket.s3.us-east-1.amazonaws.com", None, "", [("list-type", "2"), ("prefix", "in/")], [], UNSIGNED, False),
    ("list-prefix-special", "GET", "examplebucket.s3.us-east-1.amazonaws.com", None, "", [("list-type", "2"), ("prefix", "in put/a+b=c%~ü/")], [], UNSIGNED, False),
    ("list-continuation", "GET", "examplebucket.s3.us-east-1.amazonaws.com", None, "", [("list-type", "2"), ("prefix", "in/"), ("continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")], [], UNSIGNED, True),
    ("list-empty-prefix-path-style", "GET", "127.0.0.1:4568", "my-bucket", "", [("list-type", "2"), ("prefix", "")], [], UNSIGNED, False),
    ("put-small", "PUT", "examplebucket.s3.us-east-1.amazonaws.com", None, "out/a.csv", [], [], "hash:,0\n0,1\n", False),
    ("put-empty-token", "PUT", "examplebucket.s3.us-east-1.amazonaws.com", None, "out/empty.csv", [], [], EMPTY_SHA, True),
    ("multipart-initiate", "POST", "examplebucket.s3.us-east-1.amazonaws.com", None, "out/big file.csv", [("uploads", "")], [], EMPTY_SHA, False),
    ("multipart-initiate-token", "POST", "127.0.0.1:4568", "my-bucket", "out/big.csv", [("uploads", "")], [], EMPTY_SHA, True),
    ("multipart-upload-part", "PUT", "examplebucket.s3.us-east-1.amazonaws.com", None, "out/big file.csv", [("partNumber", "1"), ("uploadId", "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA--")], [], "hash:part one bytes", False),
    ("multipart-upload-part-10", "PUT", "examplebucket.s3.us-east-1.amazonaws.com", None, "out/big.csv", [("partNumber", "10"), ("uploadId", "a/b+c=d")], [], UNSIGNED, True),
    ("multipart-complete", "POST", "examplebucket.s3.us-east-1.amazonaws.com", None, "out/big.csv", [("uploadId", "abc123")], [("Content-Type", "application/xml")], "hash:<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag></Part></CompleteMultipartUpload>", False),
    ("multipart-abort", "DELETE", "examplebucket.s3.us-east-1.amazonaws.com", None, "out/big.csv", [("uploadId", "abc123")], [], UNSIGNED, True),
]


def encode_key(key):
    return quote(key.encode("utf-8"), safe="/~")


def sign(case):
    name, method, host, bucket, key, query, headers, payload, token = case
    region = "eu-west-1" if "eu-west-1" in host else "us-east-1"
    body = b""
    if payload.startswith("hash:"):
        body = payload[5:].encode("utf-8")
        import hashlib
        payload = hashlib.sha256(body).hexdigest()
    path = "/"
    if bucket:
        path += quote(bucket, safe="") + ("/" + encode_key(key) if key else "")
    else:
        path += encode_key(key)
    q = "&".join(quote(k, safe="-_.~") + ("=" + quote(v, safe="-_.~") if v else "") for k, v in query)
    scheme = "https://" if host.endswith("amazonaws.com") else "http://"
    url = scheme + host + path + ("?" + q if q else "")
    req = AWSRequest(method=method, url=url, data=body)
    for k, v in headers:
        req.headers[k] = v
    # forestbatch signs a body's SHA-256 or sends UNSIGNED-PAYLOAD: make
    # botocore take the same choice.
    req.context["client_config"] = types.SimpleNamespace(s3={"payload_signing_enabled": payload != UNSIGNED})
    creds = Credentials(KEY_ID, SECRET, TOKEN if token else None)
    auth = S3SigV4Auth(creds, "s3", region)
    captured = []
    original = auth.canonical_request

    def record(r):
        captured.append(original(r))
        return captured[-1]

    auth.canonical_request = record
    with mock.patch("botocore.auth.datetime") as dt:
        dt.datetime.utcnow.return_value = FIXED
        auth.add_auth(req)
    canonical = captured[-1]
    assert req.headers["X-Amz-Content-SHA256"] == payload, name
    return {
        "name": name,
        "method": method,
        "host": host,
        "path": path,
        "key": key,
        "bucket": bucket or "",
        "query": [[k, v] for k, v in query],
        "headers": [[k, v] for k, v in headers],
        "payload_hash": payload,
        "session_token": TOKEN if token else "",
        "region": region,
        "canonical_request": canonical,
        "authorization": req.headers["Authorization"],
    }


def main():
    table = {
        "generator": "tests/s3/make_sigv4_vectors.py (botocore S3SigV4Auth)",
        "unix_time": int(FIXED.replace(tzinfo=datetime.timezone.utc).timestamp()),
        "access_key_id": KEY_ID,
        "secret_access_key": SECRET,
        "cases": [sign(c) for c in CASES],
    }
    text = json.dumps(table, indent=1, ensure_ascii=False) + "\n"
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        with open(sys.argv[2], encoding="utf-8") as f:
            if f.read() != text:
                sys.exit("sigv4_vectors.json differs from what botocore signs now; regenerate it")
        print("sigv4 vectors match botocore")
        return
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
