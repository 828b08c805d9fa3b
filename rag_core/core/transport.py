"""The guarded HTTP transport (see core/safety.py for the why): every connection resolves once
through the address policy, connects to the checked IP, and is held to one deadline per request.
Apart from safety.py so that importing the address policy (the pgvector DSN check, the CLI's
start) does not import httpx and httpcore."""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from typing import Iterator

import httpcore
import httpx

from rag_core.core.safety import AddressPolicy, AddressRefused, Resolver, resolve_checked


_DEADLINE = threading.local()


@contextlib.contextmanager
def request_deadline(seconds: float) -> Iterator[float]:
    """Every socket operation of this thread's requests inside the block (connect, TLS, each
    read and write) must end by one deadline: a server that drips its status line or headers
    a byte at a time would otherwise pass every per-operation timeout and hang the crawl."""
    previous = getattr(_DEADLINE, "at", None)
    _DEADLINE.at = time.monotonic() + seconds
    try:
        yield _DEADLINE.at
    finally:
        _DEADLINE.at = previous


def _budget(timeout: float | None, error: type[Exception]) -> float | None:
    """The per-operation timeout shortened to what is left of this thread's request deadline."""
    at = getattr(_DEADLINE, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("the request deadline passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every operation is cut to the request deadline (see above)."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, _budget(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, _budget(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        budget = _budget(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self.inner.start_tls(ssl_context, server_hostname, budget))

    def get_extra_info(self, info: str):
        return self.inner.get_extra_info(info)


class GuardedBackend(httpcore.SyncBackend):
    """httpcore backend that resolves once, checks every address, connects to the checked IP,
    and holds every connection to the request deadline (DeadlineStream)."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver | None = None) -> None:
        self.policy, self.resolver = policy, resolver

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = resolve_checked(host, port, self.policy, self.resolver)
        last: Exception | None = None
        for address in addresses:
            try:
                budget = _budget(timeout, httpcore.ConnectTimeout)
                stream = super().connect_tcp(address, port, budget, local_address, socket_options)
                return DeadlineStream(stream)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(self, *args, **kwargs):  # pragma: no cover - never used by the crawler
        raise AddressRefused("unix sockets are not allowed")


class SafeTransport(httpx.HTTPTransport):
    """An HTTPTransport whose every new connection goes through GuardedBackend (see module doc)."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver | None = None, *,
                 verify: bool | ssl.SSLContext = True, max_connections: int = 4) -> None:
        super().__init__(trust_env=False)
        if isinstance(verify, ssl.SSLContext):
            context = verify
        elif verify:
            import certifi

            context = ssl.create_default_context(cafile=certifi.where())
        else:
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        # httpx has no public hook for a network backend; the pool is rebuilt with ours
        self._pool = httpcore.ConnectionPool(
            ssl_context=context, max_connections=max_connections, max_keepalive_connections=max_connections,
            network_backend=GuardedBackend(policy, resolver), retries=0,
        )


def peer_address(response: httpx.Response) -> str | None:
    """The IP the response actually came from, when the transport exposes it."""
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    try:
        addr = stream.get_extra_info("server_addr")
    except Exception:  # noqa: BLE001 - transports without socket info
        return None
    return str(addr[0]).split("%")[0] if addr else None
