"""A stand-in for Prometheus' HTTP API, for the evidence collector's tests: GET /api/v1/query?query=Q&time=T.

Usage: fake_prometheus.py DATA.json  (prints "port N" once listening on 127.0.0.1; stops after 120 s by itself)

DATA.json: {"series": [{"metric": {"__name__": ..., labels...}, "samples": [[t, value], ...]}]}. A sample's time may be
"MID" or "MID-<seconds>": the Unix time written in the file named by $FAKE_PROM_MID_FILE (the stub `vllm` writes it
halfway through a benchmark point), minus that many seconds, so a test can place samples before and inside a window
whose times it does not know.

Answers in the shape of Prometheus' API (https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries):
  NAME                       each series' last sample at or before `time` (within 5 minutes: Prometheus' lookback)
  avg_over_time(NAME[Ns])    each series' mean over (time - N, time]
  count_over_time(NAME[Ns])  each series' number of samples in (time - N, time]
  vector(1)                  one sample, no labels
Anything else is a 400 bad_data error, as Prometheus answers a query it cannot parse.
"""

import json
import os
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOOKBACK_S = 300
OVER_TIME = re.compile(r"^(avg|count)_over_time\(([A-Za-z_:][A-Za-z0-9_:]*)\[(\d+)s\]\)$")
NAME = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:]*$")


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["series"]


def sample_time(t):
    if isinstance(t, str) and t.startswith("MID"):
        with open(os.environ["FAKE_PROM_MID_FILE"], encoding="utf-8") as f:
            return float(f.read().strip()) + float(t[3:] or 0)
    return float(t)


def evaluate(series, promql, at):
    if promql == "vector(1)":
        return [{"metric": {}, "value": [at, "1"]}]
    m = OVER_TIME.match(promql)
    name, window = (m.group(2), float(m.group(3))) if m else (promql, None)
    if not m and not NAME.match(promql):
        raise ValueError(f'1:1: parse error: unexpected character in "{promql[:40]}"')
    out = []
    for s in series:
        if s["metric"].get("__name__") != name:
            continue
        samples = sorted((sample_time(t), v) for t, v in s["samples"])
        if window is None:
            seen = [v for t, v in samples if at - LOOKBACK_S < t <= at]
            if seen:
                out.append({"metric": s["metric"], "value": [at, str(seen[-1])]})
        else:
            seen = [v for t, v in samples if at - window < t <= at]
            if seen:
                metric = {k: v for k, v in s["metric"].items() if k != "__name__"}
                value = sum(seen) / len(seen) if m.group(1) == "avg" else len(seen)
                out.append({"metric": metric, "value": [at, str(value)]})
    return out


def main(path):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            params = urllib.parse.parse_qs(url.query)
            if url.path != "/api/v1/query":
                self.send_error(404)
                return
            try:
                result = evaluate(load(path), params["query"][0], float(params["time"][0]))
                code, body = 200, {"status": "success", "data": {"resultType": "vector", "result": result}}
            except ValueError as exc:
                code, body = 400, {"status": "error", "errorType": "bad_data", "error": str(exc)}
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Timer(120, server.shutdown).start()
    print(f"port {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
