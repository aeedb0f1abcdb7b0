"""A local Python package index speaking the Simple Repository API as PyPI does (PEP 503 HTML, PEP 691 JSON, sha256
hashes), serving the wheels and sdists of one folder. Usage: fake_index.py <folder>; prints the index URL, then serves
until killed. A separate process: uv and pip are run synchronously by the code under test."""

import hashlib
import http.server
import json
import os
import re
import sys

FOLDER = sys.argv[1]


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def project_of(filename):
    if filename.endswith(".whl"):
        return normalize(filename.split("-")[0])
    return normalize(re.sub(r"-[^-]+\.tar\.gz$", "", filename))


def sha256(filename):
    with open(os.path.join(FOLDER, filename), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_HEAD(self):
        # uv asks first whether a wheel can be read in ranges; no Accept-Ranges: it downloads the whole file.
        self.head_only = True
        self.do_GET()

    def do_GET(self):
        files = sorted(os.listdir(FOLDER))
        project = re.fullmatch(r"/simple/([^/]+)/?", self.path.split("?")[0])
        if project:
            mine = [f for f in files if project_of(f) == normalize(project.group(1))]
            if not mine:
                self.send_error(404)
                return
            if "application/vnd.pypi.simple.v1+json" in self.headers.get("Accept", ""):
                entries = [{"filename": f, "url": f"/files/{f}", "hashes": {"sha256": sha256(f)}} for f in mine]
                name = normalize(project.group(1))
                body = json.dumps({"meta": {"api-version": "1.0"}, "name": name, "files": entries})
                kind = "application/vnd.pypi.simple.v1+json"
            else:
                body = "<!DOCTYPE html><html><body>" + "".join(
                    f'<a href="/files/{f}#sha256={sha256(f)}">{f}</a>\n' for f in mine) + "</body></html>"
                kind = "text/html"
            self._send(body.encode(), kind)
            return
        name = self.path[len("/files/"):] if self.path.startswith("/files/") else None
        if name in files:
            with open(os.path.join(FOLDER, name), "rb") as f:
                self._send(f.read(), "application/octet-stream")
            return
        self.send_error(404)

    def _send(self, body, kind):
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not getattr(self, "head_only", False):
            self.wfile.write(body)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"http://127.0.0.1:{server.server_address[1]}/simple", flush=True)
server.serve_forever()
