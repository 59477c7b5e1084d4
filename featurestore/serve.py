"""A small HTTP endpoint over OnlineStore (stdlib only): GET /features/<subject_id>[?as_of=ISO][&all=1]."""

import json
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from featurestore.online import OnlineStore


def respond(store: OnlineStore, url: str) -> tuple[int, dict]:
    """(HTTP status, JSON body) for one request path; no I/O, so it is testable without a socket."""
    parsed = urlparse(url)
    parts = [p for p in parsed.path.split("/") if p]
    if len(parts) != 2 or parts[0] != "features" or not parts[1].lstrip("-").isdigit():
        return 404, {"error": "use GET /features/<subject_id>?as_of=<ISO time>"}
    query = parse_qs(parsed.query)
    try:
        as_of = datetime.fromisoformat(query["as_of"][0]) if "as_of" in query else None
    except ValueError:
        return 400, {"error": "as_of must be an ISO time, e.g. 2019-05-01T00:00:00"}
    subject = int(parts[1])
    if query.get("all", ["0"])[0] in ("1", "true"):
        vector = store.vector(subject, as_of)
        features = {
            n: None if v != v else float(v) for n, v in zip(store.feature_names, vector.tolist(), strict=True)
        }
    else:
        features = store.lookup(subject, as_of)
    return 200, {"subject_id": subject, "as_of": as_of.isoformat() if as_of else "now", "features": features}


def serve(store: OnlineStore, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve until interrupted; one warm store shared by every request."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = respond(store, self.path)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args) -> None:  # subject ids in paths stay out of the logs
            return

    ThreadingHTTPServer((host, port), Handler).serve_forever()
