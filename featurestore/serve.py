"""A small HTTP endpoint over an online store (stdlib only): GET /features/<subject_id>[?as_of=ISO][&all=1].

The store is the in-memory OnlineStore (every shard loaded at start) or an OnlineReader, which reads each
request's subject from a key-value store: then the server holds no data and restarts at once."""

import json
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from featurestore.online import OnlineStore
from featurestore.online_backend import StoreError
from featurestore.online_reader import OnlineReader


def respond(store: OnlineStore | OnlineReader, url: str) -> tuple[int, dict]:
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
    if not -(2**63) <= subject < 2**63:
        return 404, {"error": "subject ids are 64-bit integers"}
    if isinstance(store, OnlineReader):  # one read: names and values from the same published version
        try:
            store = store.for_subjects([subject])
        except StoreError as err:  # names the store, never data
            return 503, {"error": str(err)}
    if query.get("all", ["0"])[0] in ("1", "true"):
        vector = store.vector(subject, as_of)
        features = {
            n: None if v != v else float(v) for n, v in zip(store.feature_names, vector.tolist(), strict=True)
        }
    else:
        features = store.lookup(subject, as_of)
    return 200, {"subject_id": subject, "as_of": as_of.isoformat() if as_of else "now", "features": features}


def serve(store: OnlineStore | OnlineReader, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve until interrupted; one store (warm, or a reader of a key-value store) shared by every request."""
    make_server(store, host, port).serve_forever()


def make_server(
    store: OnlineStore | OnlineReader, host: str = "127.0.0.1", port: int = 8765
) -> ThreadingHTTPServer:
    """The server, bound (port 0: a free port, in server_address) but not yet serving."""

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

    return ThreadingHTTPServer((host, port), Handler)
