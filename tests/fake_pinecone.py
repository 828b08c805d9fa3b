"""A local fake of Pinecone's control plane (describe_index) and data plane (upsert, query with
filter and namespace, fetch, delete, describe_index_stats, list), speaking the JSON the official
SDK sends and reads (API version 2026-07). One server plays both planes; every request is logged
(method, path, the Api-Key and X-Pinecone-Api-Version headers) so tests can check the wire.

Failures on demand: `fail_next` (a list of HTTP statuses answered before the real answer),
`stall` (seconds to sleep before answering), a wrong key gets 401, a missing index 404.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest


def _matches(meta: dict, flt: dict | None) -> bool:
    """The subset of Pinecone's filter language the store sends: {field: {$in|$eq: ...}}, $and."""
    if not flt:
        return True
    for key, cond in flt.items():
        if key == "$and":
            if not all(_matches(meta, c) for c in cond):
                return False
            continue
        cond = cond if isinstance(cond, dict) else {"$eq": cond}
        for op, value in cond.items():
            if op == "$eq" and meta.get(key) != value:
                return False
            if op == "$in" and meta.get(key) not in value:
                return False
    return True


class FakePinecone:
    def __init__(self, api_key: str = "pc-test-key-0123456789abcdef", index: str = "playground", dim: int | None = 32,
                 metric: str = "cosine") -> None:
        self.api_key, self.index, self.dim, self.metric = api_key, index, dim, metric
        self.namespaces: dict[str, dict[str, tuple[np.ndarray, dict]]] = {}
        self.log: list[dict] = []
        self.fail_next: list[int] = []
        self.stall = 0.0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakePinecone":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ---- the API --------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict, body: dict | None) -> tuple[int, dict]:
        if path.startswith("/indexes/"):
            name = path.rsplit("/", 1)[1]
            if name != self.index:
                return 404, {"error": {"code": "NOT_FOUND", "message": f"Resource {name} not found"}, "status": 404}
            return 200, {"name": name, "host": self.url, "deletion_protection": "disabled",
                         "status": {"ready": True, "state": "Ready"},
                         "schema": {"fields": {"embedding": {"type": "dense_vector", "dimension": self.dim,
                                                             "metric": self.metric}}},
                         "deployment": {"deployment_type": "managed", "cloud": "aws", "region": "us-east-1"}}
        ns_name = (body or {}).get("namespace", query.get("namespace", [""])[0])
        ns = self.namespaces.setdefault(ns_name, {})
        if path == "/vectors/upsert":
            for v in body["vectors"]:
                if self.dim is not None and len(v["values"]) != self.dim:
                    return 400, {"code": 3, "message": f"Vector dimension {len(v['values'])} does not match "
                                                       f"the dimension of the index {self.dim}", "details": []}
            for v in body["vectors"]:
                ns[v["id"]] = (np.asarray(v["values"], dtype=np.float32), v.get("metadata") or {})
            return 200, {"upsertedCount": len(body["vectors"])}
        if path == "/query":
            q = np.asarray(body["vector"], dtype=np.float32)
            if self.dim is not None and q.shape[0] != self.dim:
                return 400, {"code": 3, "message": f"Vector dimension {q.shape[0]} does not match the dimension "
                                                   f"of the index {self.dim}", "details": []}
            rows = [(float(v @ q), i, v, m) for i, (v, m) in ns.items() if _matches(m, body.get("filter"))]
            rows.sort(key=lambda r: (-r[0], r[1]))
            out = [{"id": i, "score": s, "values": v.tolist() if body.get("includeValues") else [],
                    **({"metadata": m} if body.get("includeMetadata") else {})}
                   for s, i, v, m in rows[:body["topK"]]]
            return 200, {"matches": out, "namespace": ns_name, "usage": {"readUnits": 1 + len(ns) // 1000}}
        if path == "/vectors/fetch":
            ids = query.get("ids", [])
            found = {i: {"id": i, "values": ns[i][0].tolist(), "metadata": ns[i][1]} for i in ids if i in ns}
            return 200, {"vectors": found, "namespace": ns_name, "usage": {"readUnits": 1}}
        if path == "/vectors/delete":
            for i in body.get("ids") or []:
                ns.pop(i, None)
            if body.get("deleteAll"):
                ns.clear()
            return 200, {}
        if path == "/vectors/list":
            prefix = query.get("prefix", [""])[0]
            limit = int(query.get("limit", ["100"])[0])
            start = query.get("paginationToken", [""])[0]
            ids = sorted(i for i in ns if i.startswith(prefix) and i > start)
            page = ids[:limit]
            more = {"pagination": {"next": page[-1]}} if len(ids) > limit else {}
            return 200, {"vectors": [{"id": i} for i in page], "namespace": ns_name, **more,
                         "usage": {"readUnits": 1}}
        if path == "/describe_index_stats":
            return 200, {"namespaces": {n: {"vectorCount": len(v)} for n, v in self.namespaces.items() if v},
                         "dimension": self.dim, "indexFullness": 0.0,
                         "totalVectorCount": sum(len(v) for v in self.namespaces.values()), "metric": self.metric,
                         "vectorType": "dense"}
        return 404, {"message": f"no route {path}"}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                query = parse_qs(parts.query)
                entry = {"method": method, "path": parts.path, "api_key": self.headers.get("Api-Key"),
                         "api_version": self.headers.get("X-Pinecone-Api-Version"), "bytes": length,
                         "records": len(body.get("vectors", [])) if isinstance(body, dict) else None,
                         "namespace": (body or {}).get("namespace", query.get("namespace", [None])[0])}
                with fake.lock:
                    fake.log.append(entry)
                    failure = fake.fail_next.pop(0) if fake.fail_next else None
                if fake.stall:
                    time.sleep(fake.stall)
                if self.headers.get("Api-Key") != fake.api_key:
                    status, payload = 401, {"error": {"code": "UNAUTHENTICATED", "message": "Invalid API Key"},
                                            "status": 401}
                elif failure:
                    status, payload = failure, {"error": {"code": "RESOURCE_EXHAUSTED" if failure == 429 else
                                                          "UNAVAILABLE", "message": "try again"}, "status": failure}
                else:
                    with fake.lock:
                        status, payload = fake.handle(method, parts.path, query, body)
                entry["status"] = status
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

        return Handler


@pytest.fixture
def pinecone_fake():
    """A running fake (index `playground`, any dimension) for one test."""
    with FakePinecone(dim=None) as fake:
        yield fake


@pytest.fixture
def pinecone_env(pinecone_fake):
    """`create_store("pinecone", dim)` reaches the fake, as the entry point would configure it."""
    from rag_core.stores import pinecone_store

    pinecone_store.configure(pinecone_store.PineconeSettings(
        api_key=pinecone_fake.api_key, index=pinecone_fake.index, host=pinecone_fake.url, timeout_s=5))
    yield pinecone_fake
    pinecone_store.configure(None)
