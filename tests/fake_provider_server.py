"""A local HTTP server that speaks the wire formats of the OpenAI API and Cohere's v2 API,
so the real `openai` and `cohere` SDKs can be driven against it with `base_url`.

OpenAI side (base URL `server.openai_url`, i.e. .../v1): POST /v1/embeddings (float or
base64), POST /v1/chat/completions (SSE stream with a final usage chunk when asked, or a
plain JSON completion), GET /v1/models; error bodies {"error": {...}} for 401/404/429/500.
Cohere side (base URL `server.cohere_url`): POST /v2/embed, POST /v2/rerank, GET /v1/models
(with the Cohere key); error bodies {"message": ...}.

Scripted failures: `server.fail(path, status, times=1, headers=..., body=..., delay=...)` queues
responses served before normal handling. Every request is recorded in `server.requests`
(headers included, so tests can see what was sent — never print them; `server.authorizations()`
lists every Authorization header received).

Misbehaving servers, in the real wire format: `embedding_fault` ("nan", "inf", "wrong_dim",
"missing", "ragged", "zero", "repeated_index") spoils the vectors of /v1/embeddings and
/v2/embed; `chat_mode` ("json": a plain chat.completion even when a stream was asked for,
"garbage": text that is neither, "garbage_sse": an event stream of non-JSON, "empty_sse": an
event stream with no chunks, "error_json": a 200 with an error object); `rerank_fault`
("not_a_list", "missing_score", "string_index", "out_of_range", "nan_score", "repeated");
`chunk_chars` streams the answer in pieces of that many characters (a key split across chunks).
Scripted answers: `server.reply(text, ...)` queues chat answers, one per chat request, served
before `server.answer` (e.g. a query rewrite, then the answer).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

OPENAI_EMBED_DIMS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072,
                     "text-embedding-ada-002": 1536, "nomic-embed-text": 768}
COHERE_EMBED_DIMS = {"embed-english-v3.0": 1024, "embed-multilingual-v3.0": 1024, "embed-v4.0": 1536}
CHAT_MODELS = ("gpt-4o-mini", "gpt-4o", "llama3.2")
RERANK_MODELS = ("rerank-v3.5",)
ANSWER = "Paris is the capital of France [1]."


def server_tokens(text: str) -> int:
    """The fake server's own tokenizer (words), deliberately unlike tiktoken."""
    return max(1, len(text.split()))


def fake_vector(text: str, dim: int) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    vec = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return (vec * 3.0).tolist()  # deliberately not unit length: the client normalises


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: object

    def header(self, name: str) -> str | None:
        """A request header, whatever its case on the wire."""
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass
class Scripted:
    status: int
    headers: dict = field(default_factory=dict)
    body: object = None
    delay: float = 0.0


class FakeProviderServer:
    def __init__(self, openai_key: str = "sk-test-OPENAI-0123456789abcdef", cohere_key: str = "co-test-COHERE-0123456789",
                 compatible_key: str | None = None) -> None:
        self.openai_key = openai_key
        self.cohere_key = cohere_key
        self.openai_keys = {openai_key, compatible_key or "no-key-needed"}
        self.requests: list[Recorded] = []
        self.scripts: dict[str, deque[Scripted]] = defaultdict(deque)
        self.report_usage = True  # False: behave like a compatible server that sends no usage
        self.usage_override: dict | None = None  # a server whose usage figures are junk (10**400, -5, "12")
        self.billed_override: dict | None = None  # Cohere's billed_units, junk likewise
        self.embed_usage_override: dict | None = None  # /v1/embeddings usage, junk likewise
        self.max_openai_inputs = 2048
        self.max_cohere_inputs = 96
        self.echo_key_in_errors = False  # a misbehaving proxy that echoes the key it got
        self.answer = ANSWER
        self.embedding_fault: str | None = None
        self.chat_mode = "stream"
        self.rerank_fault: str | None = None
        self.chunk_chars: int | None = None
        self.replies: deque[str] = deque()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    # ---- lifecycle ------------------------------------------------------------------

    def __enter__(self) -> "FakeProviderServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def openai_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def cohere_url(self) -> str:
        return self.url

    def fail(self, path: str, status: int, times: int = 1, headers: dict | None = None, body: object = None,
             delay: float = 0.0) -> None:
        for _ in range(times):
            self.scripts[path].append(Scripted(status, headers or {}, body, delay))

    def reply(self, *texts: str) -> None:
        """Queue chat answers: the next chat requests get these, in order, then `self.answer`."""
        with self._lock:
            self.replies.extend(texts)

    def _next_answer(self) -> str:
        with self._lock:
            return self.replies.popleft() if self.replies else self.answer

    def calls(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def authorizations(self) -> list[str]:
        with self._lock:
            return [r.header("Authorization") or "" for r in self.requests]

    # ---- handling -------------------------------------------------------------------

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _send(self, status: int, body: object, headers: dict | None = None,
                      content_type: str = "application/json") -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()  # NaN/Infinity allowed
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, str(v))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                path = self.path.split("?")[0]
                with server._lock:
                    server.requests.append(Recorded(method, path, dict(self.headers), body))
                    scripted = server.scripts[path].popleft() if server.scripts[path] else None
                if scripted is not None:
                    if scripted.delay:
                        time.sleep(scripted.delay)
                    cohere = path.startswith("/v2/")
                    default = ({"message": f"scripted {scripted.status}"} if cohere else
                               {"error": {"message": f"scripted {scripted.status}", "type": "server_error",
                                          "param": None, "code": None}})
                    self._send(scripted.status, scripted.body if scripted.body is not None else default,
                               scripted.headers)
                    return
                server._route(self, method, path, body)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        return Handler

    def _bearer(self, handler) -> str:
        auth = handler.headers.get("Authorization") or ""
        return auth[7:] if auth.lower().startswith("bearer ") else auth

    def _openai_error(self, handler, status: int, message: str, code: str, headers: dict | None = None) -> None:
        handler._send(status, {"error": {"message": message, "type": "invalid_request_error", "param": None,
                                         "code": code}}, headers)

    def _bad_key(self, handler, key: str, cohere: bool) -> None:
        shown = key if self.echo_key_in_errors else (key[:5] + "****" + key[-4:] if len(key) > 9 else "****")
        if cohere:
            handler._send(401, {"message": f"invalid api token {shown}" if self.echo_key_in_errors else "invalid api token"})
        else:
            self._openai_error(handler, 401, f"Incorrect API key provided: {shown}. You can find your API key "
                                             "at https://platform.openai.com/account/api-keys.", "invalid_api_key")

    def _route(self, handler, method: str, path: str, body) -> None:
        key = self._bearer(handler)
        if path == "/v1/models" and method == "GET":
            if key == self.cohere_key:
                models = [{"name": m, "endpoints": ["embed"]} for m in COHERE_EMBED_DIMS]
                models += [{"name": m, "endpoints": ["rerank"]} for m in RERANK_MODELS]
                return handler._send(200, {"models": models})
            if key not in self.openai_keys:
                return self._bad_key(handler, key, cohere=False)
            ids = [*OPENAI_EMBED_DIMS, *CHAT_MODELS]
            return handler._send(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"} for m in ids]})
        if path.startswith("/v2/"):
            if key != self.cohere_key:
                return self._bad_key(handler, key, cohere=True)
            if path == "/v2/embed":
                return self._cohere_embed(handler, body)
            if path == "/v2/rerank":
                return self._cohere_rerank(handler, body)
        elif path.startswith("/v1/"):
            if key not in self.openai_keys:
                return self._bad_key(handler, key, cohere=False)
            if path == "/v1/embeddings":
                return self._openai_embed(handler, body)
            if path == "/v1/chat/completions":
                return self._openai_chat(handler, body)
        handler._send(404, {"error": {"message": f"no route {method} {path}", "type": "invalid_request_error",
                                      "param": None, "code": None}})

    # ---- OpenAI ---------------------------------------------------------------------

    def _openai_embed(self, handler, body: dict) -> None:
        model = body["model"]
        if model not in OPENAI_EMBED_DIMS:
            return self._openai_error(handler, 404, f"The model `{model}` does not exist or you do not have access "
                                                    "to it.", "model_not_found")
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        if len(inputs) > self.max_openai_inputs:
            return self._openai_error(handler, 400, f"'$.input' is invalid: at most {self.max_openai_inputs} inputs",
                                      "invalid_request")
        if any(not isinstance(t, str) or not t for t in inputs):
            return self._openai_error(handler, 400, "'$.input' is invalid: empty string", "invalid_request")
        dim = body.get("dimensions") or OPENAI_EMBED_DIMS[model]
        data = [{"object": "embedding", "index": i, "embedding": fake_vector(text, dim)}
                for i, text in enumerate(inputs)]
        spoil(data, self.embedding_fault, lambda row: row["embedding"], lambda row, v: row.__setitem__("embedding", v))
        if body.get("encoding_format") == "base64":
            for row in data:
                row["embedding"] = base64.b64encode(np.asarray(row["embedding"], dtype=np.float32).tobytes()).decode()
        if self.embedding_fault == "repeated_index" and len(data) > 1:
            data[1]["index"] = data[0]["index"]
        data.reverse()  # the API does not promise order; the client must sort by index
        tokens = sum(server_tokens(t) for t in inputs)
        out: dict = {"object": "list", "data": data, "model": model}
        if self.report_usage:
            out["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
        if self.embed_usage_override is not None:
            out["usage"] = self.embed_usage_override
        handler._send(200, out)

    def _openai_chat(self, handler, body: dict) -> None:
        model = body["model"]
        if model not in CHAT_MODELS:
            return self._openai_error(handler, 404, f"The model `{model}` does not exist or you do not have access "
                                                    "to it.", "model_not_found")
        prompt = " ".join(m["content"] for m in body["messages"])
        answer = self._next_answer()
        pieces = [w + " " for w in answer.split(" ")]
        pieces[-1] = pieces[-1].rstrip()
        usage = {"prompt_tokens": server_tokens(prompt), "completion_tokens": len(pieces),
                 "total_tokens": server_tokens(prompt) + len(pieces)}
        usage = self.usage_override if self.usage_override is not None else usage
        base = {"id": "chatcmpl-fake", "created": 1700000000, "model": model, "system_fingerprint": "fp_fake"}
        if self.chunk_chars:
            pieces = [answer[i:i + self.chunk_chars] for i in range(0, len(answer), self.chunk_chars)]
        if self.chat_mode in ("endless", "drip", "longline"):
            return self._endless(handler, base, drip=self.chat_mode == "drip", line=self.chat_mode == "longline")
        if self.chat_mode == "garbage":
            return handler._send(200, b"<html>Welcome to nginx!</html>", content_type="text/html")
        if self.chat_mode == "error_json":
            return handler._send(200, {"error": {"message": "model is loading", "type": "server_error"}})
        if self.chat_mode in ("garbage_sse", "empty_sse"):
            lines = [b"data: {not json at all\n\n"] if self.chat_mode == "garbage_sse" else []
            return self._sse(handler, lines + [b"data: [DONE]\n\n"])
        if not body.get("stream") or self.chat_mode == "json":
            out = {**base, "object": "chat.completion", "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "".join(pieces)}, "finish_reason": "stop",
                 "logprobs": None}]}
            if self.report_usage:
                out["usage"] = usage
            return handler._send(200, out)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage")) and self.report_usage
        chunk = {**base, "object": "chat.completion.chunk"}
        events = [{**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                         "finish_reason": None, "logprobs": None}]}]
        events += [{**chunk, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None,
                                          "logprobs": None}]} for p in pieces]
        events.append({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "logprobs": None}]})
        if include_usage:
            for e in events:
                e["usage"] = None
            events.append({**chunk, "choices": [], "usage": usage})
        self._sse(handler, [f"data: {json.dumps(e)}\n\n".encode() for e in events] + [b"data: [DONE]\n\n"])

    def _endless(self, handler, base: dict, drip: bool, line: bool = False) -> None:
        """A stream that never ends: valid chunks forever, or one byte at a time of an event that
        never completes (a 'drip'). Stops when the client hangs up (or after 60 s)."""
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        event = json.dumps({**base, "object": "chat.completion.chunk", "choices": [
            {"index": 0, "delta": {"content": "more words "}, "finish_reason": None}]})
        stop = time.monotonic() + 60
        try:
            if line:  # one event whose data never ends
                handler.wfile.write(b'data: {"choices": [{"delta": {"content": "')
                while time.monotonic() < stop:
                    handler.wfile.write(b"x" * 65536)
            if drip:
                handler.wfile.write(b"data: " + event.encode() + b"\n\n")
                handler.wfile.flush()
                while time.monotonic() < stop:
                    handler.wfile.write(b"d")
                    handler.wfile.flush()
                    time.sleep(0.2)
            while time.monotonic() < stop:
                handler.wfile.write(f"data: {event}\n\n".encode() * 50)
                handler.wfile.flush()
        except OSError:
            return

    def _sse(self, handler, lines: list[bytes]) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Connection", "close")
        handler.end_headers()
        for line in lines:
            handler.wfile.write(line)
            handler.wfile.flush()
        handler.close_connection = True

    # ---- Cohere ---------------------------------------------------------------------

    def _cohere_embed(self, handler, body: dict) -> None:
        model = body["model"]
        if model not in COHERE_EMBED_DIMS:
            return handler._send(404, {"message": f"model '{model}' not found, make sure the correct model ID was used"})
        if body.get("input_type") not in ("search_document", "search_query", "classification", "clustering"):
            return handler._send(400, {"message": "invalid request: input_type is required"})
        texts = body.get("texts") or []
        if len(texts) > self.max_cohere_inputs:
            return handler._send(400, {"message": f"invalid request: total number of texts must be at most "
                                                  f"{self.max_cohere_inputs} - received {len(texts)}"})
        dim = body.get("output_dimension") or COHERE_EMBED_DIMS[model]
        # the input type changes the vector, as on the real service
        floats = [fake_vector(body["input_type"] + "|" + t, dim) for t in texts]
        rows = [{"v": f} for f in floats]
        spoil(rows, self.embedding_fault, lambda row: row["v"], lambda row, v: row.__setitem__("v", v))
        floats = [r["v"] for r in rows]
        tokens = sum(server_tokens(t) for t in texts)
        handler._send(200, {"id": "emb-fake", "response_type": "embeddings_by_type", "embeddings": {"float": floats},
                            "texts": texts, "meta": {"api_version": {"version": "2"},
                                                     "billed_units": self.billed_override or {"input_tokens": tokens}}})

    def _cohere_rerank(self, handler, body: dict) -> None:
        model = body["model"]
        if model not in RERANK_MODELS:
            return handler._send(404, {"message": f"model '{model}' not found, make sure the correct model ID was used"})
        words_of = lambda text: set(re.findall(r"\w+", text.lower()))  # noqa: E731
        query = words_of(body["query"])
        docs = body["documents"]
        scored = []
        for i, doc in enumerate(docs):
            words = words_of(doc)
            scored.append((len(query & words) / (len(query) or 1), i))
        scored.sort(key=lambda s: (-s[0], s[1]))
        top = scored[: body.get("top_n") or len(docs)]
        units = max(1, -(-len(docs) // 100))
        results: object = [{"index": i, "relevance_score": round(0.05 + 0.9 * s, 6)} for s, i in top]
        fault = self.rerank_fault
        if fault == "not_a_list":
            results = {"index": 0, "relevance_score": 0.9}
        elif fault == "missing_score":
            results = [{"index": r["index"]} for r in results]
        elif fault == "string_index":
            results = [{**r, "index": f"doc-{r['index']}"} for r in results]
        elif fault == "out_of_range":
            results = [{**r, "index": len(docs) + 5} for r in results]
        elif fault == "nan_score":
            results = [{**r, "relevance_score": float("nan")} for r in results]
        elif fault == "repeated":
            results = [results[0], results[0]] if results else results
        handler._send(200, {"id": "rr-fake", "results": results,
                            "meta": {"api_version": {"version": "2"},
                                     "billed_units": self.billed_override or {"search_units": units}}})


def spoil(rows: list, fault: str | None, get, put) -> None:
    """Damage the vectors of `rows` the way a broken embedding server does (see the module doc)."""
    if not fault or not rows:
        return
    if fault == "missing":
        rows.pop()
        return
    vec = list(get(rows[0]))
    if fault == "nan":
        vec[len(vec) // 2] = float("nan")
    elif fault == "inf":
        vec[0] = float("inf")
    elif fault == "wrong_dim":
        vec = vec[:-1]
        for row in rows[1:]:
            put(row, list(get(row))[:-1])
    elif fault == "ragged":
        vec = vec[:-3]
    elif fault == "zero":
        vec = [0.0] * len(vec)
    put(rows[0], vec)


# ---- pytest fixtures (import them into a test module to use them) -----------------------

import pytest  # noqa: E402


class SleepRecorder:
    """An injectable sleep: records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def server():
    with FakeProviderServer() as srv:
        yield srv


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def policy(sleeps):
    import random

    from rag_core.providers.retry import RetryPolicy

    return RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=4.0, max_retry_after=30.0, timeout=5.0,
                       sleep=sleeps, rng=random.Random(7))


@pytest.fixture
def creds(server):
    from rag_core.providers import Credentials

    return Credentials(openai_api_key=server.openai_key, openai_base_url=server.openai_url,
                       cohere_api_key=server.cohere_key, cohere_base_url=server.cohere_url,
                       compatible_base_url=server.openai_url)
