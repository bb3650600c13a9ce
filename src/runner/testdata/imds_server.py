#!/usr/bin/python3
"""A local stand-in for the EC2 instance metadata service (IMDSv2), for tests.

Usage: imds_server.py NOTICE_FILE
Prints the port it listens on (127.0.0.1), then serves:
  PUT /latest/api/token (needs X-aws-ec2-metadata-token-ttl-seconds) -> a token
  GET /latest/meta-data/spot/instance-action (needs a valid token, else 401)
      -> 404 while NOTICE_FILE does not exist, else 200 with its contents.
Writing "expire" into NOTICE_FILE.tokens invalidates issued tokens once.
"""
import http.server
import os
import secrets
import sys

notice_file = sys.argv[1]
tokens = set()
log = []


class Handler(http.server.BaseHTTPRequestHandler):
    def _send(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        if self.path != "/latest/api/token":
            return self._send(404)
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        if ttl is None or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self._send(400)
        t = secrets.token_hex(16)
        tokens.add(t)
        self._send(200, t.encode())

    def do_GET(self):
        expire = notice_file + ".tokens"
        if os.path.exists(expire):
            os.remove(expire)
            tokens.clear()
        if self.headers.get("X-aws-ec2-metadata-token") not in tokens:
            return self._send(401)
        if self.path != "/latest/meta-data/spot/instance-action":
            return self._send(404)
        if not os.path.exists(notice_file):
            return self._send(404)
        with open(notice_file, "rb") as f:
            self._send(200, f.read())

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
