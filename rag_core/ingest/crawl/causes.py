"""Network failures in words a user can act on: "the host name could not be resolved",
"the network is unreachable", "connection refused", "timed out".

httpx wraps the socket error twice (httpx.ConnectError <- httpcore.ConnectError <- OSError),
so `network_cause` walks the exception chain to the OSError underneath and names its errno.
An offline machine usually fails at DNS (EAI_AGAIN "Temporary failure in name resolution");
the report must say so instead of blaming robots.txt.
"""

from __future__ import annotations

import errno
import socket
import ssl

import httpx

from rag_core.ingest.loaders.base import one_line

_OFFLINE_HINT = "check the URL, and that this machine is online"


def _chain(exc: BaseException):
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _by_errno(os_error: OSError, host: str, port: int) -> str | None:
    code = os_error.errno
    detail = os_error.strerror or one_line(os_error, 80)
    if code == errno.ENETUNREACH:
        return f"the network is unreachable: cannot connect to {host} ({detail}); check that this machine is online"
    if code == errno.EHOSTUNREACH:
        return f"no route to host {host} ({detail}); check the network connection"
    if code == errno.ECONNREFUSED:
        return f"connection refused by {host}:{port}: no server is listening there; check the URL and its port"
    if code in (errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED):
        return f"the connection to {host} was reset by the server or the network ({detail})"
    return None


def dns_cause(exc: BaseException, host: str) -> str:
    """A failed lookup of `host` (socket.gaierror or any OSError from the resolver)."""
    detail = getattr(exc, "strerror", None) or one_line(exc, 80)
    return f"the host name {host} could not be resolved (DNS lookup failed: {detail}); {_OFFLINE_HINT}"


def network_cause(exc: BaseException, host: str, port: int, timeout_s: float) -> tuple[str, str]:
    """(kind, reason) for a failed request: kind is "timeout" or "network_error"."""
    for link in _chain(exc):
        if isinstance(link, (httpx.TimeoutException, socket.timeout, TimeoutError)):
            return "timeout", (f"timed out: no complete response from {host} within {timeout_s:g} s "
                               "(connect to last byte)")
        if isinstance(link, socket.gaierror):
            return "network_error", dns_cause(link, host)
        if isinstance(link, ssl.SSLCertVerificationError):
            return "network_error", f"the TLS certificate of {host} could not be verified ({link.verify_message})"
        if isinstance(link, ssl.SSLError):
            return "network_error", f"TLS handshake with {host} failed ({one_line(link, 100)})"
        if isinstance(link, OSError) and link.errno is not None:
            reason = _by_errno(link, host, port)
            if reason is not None:
                return "network_error", reason
    return "network_error", f"network error talking to {host}: {type(exc).__name__}: {one_line(exc, 120)}"
