"""SSRF guard: which IP addresses the crawler may connect to, enforced at connect time.

A URL is only as safe as the address its host resolves to *when the socket is opened*.
Checking with one DNS lookup and then letting the HTTP client look the name up again
leaves a gap (DNS rebinding: public the first time, 169.254.169.254 the second). So the
check lives inside the connection itself: `SafeTransport` is an `httpx.HTTPTransport`
whose httpcore network backend (`GuardedBackend.connect_tcp`) resolves the host ONCE with
the injected resolver, refuses if ANY resolved address is loopback, private, link-local,
multicast, reserved, unspecified or otherwise not globally routable (IPv4-mapped IPv6
unwrapped first), and then opens the TCP connection to that checked IP literal. TLS SNI
and certificate checks still use the host name (httpcore passes the origin host to
start_tls, not the address), and the Host header comes from the URL, so pinning changes
nothing else. There is no second lookup, hence no check-to-connect gap. Environment
proxies are disabled (trust_env=False): a proxy would be the thing connected to.

As a second, independent line, the crawler also checks the peer address of every response
(`server_addr` of the network stream) before reading its body; that covers an injected
client that does not use SafeTransport. And it pre-checks each URL (seeds, links, every
redirect hop) before fetching so the report gives a clear reason without any connection.

`allow_private=True` turns the guard off (crawling an intranet or a local test server);
`allow_networks` lets named networks through while still refusing the rest (tests use
127.0.0.1/32 so that a redirect to 10.0.0.5 or 169.254.169.254 is still refused).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import httpcore
import httpx

#: host, port -> the IP addresses it resolves to (strings); raises OSError when it cannot
Resolver = Callable[[str, int], Sequence[str]]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """A host resolved to an address the crawler must not connect to. No connection was made."""


def system_resolver(host: str, port: int) -> list[str]:
    """socket.getaddrinfo, reduced to unique address strings in the order returned."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))


def _unwrap(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def forbidden_kind(ip: IPAddress) -> str | None:
    """What makes `ip` off-limits ("loopback", "private", ...), or None for a public address."""
    ip = _unwrap(ip)
    for kind in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    if not ip.is_global:
        return "non-public"
    return None


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False
    allow_networks: tuple[str, ...] = ()

    def why_refused(self, address: str) -> str | None:
        """None when connecting to `address` is allowed, else a one-line reason."""
        try:
            ip = _unwrap(ipaddress.ip_address(address))
        except ValueError:
            return f"not an IP address: {address!r}"
        if self.allow_private:
            return None
        if any(ip in ipaddress.ip_network(net, strict=False) for net in self.allow_networks):
            return None
        kind = forbidden_kind(ip)
        if kind is None:
            return None
        return f"private address: resolves to {kind} address {ip}; pass --allow-private to crawl it"

    def check_all(self, host: str, addresses: Iterable[str]) -> list[str]:
        """Raise AddressRefused if any address is refused (one bad record spoils the name)."""
        addresses = list(addresses)
        if not addresses:
            raise AddressRefused(f"{host} resolved to no address")
        for address in addresses:
            reason = self.why_refused(address)
            if reason is not None:
                raise AddressRefused(reason)
        return addresses


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def resolve_checked(host: str, port: int, policy: AddressPolicy, resolver: Resolver | None = None) -> list[str]:
    """The host's addresses, all allowed by `policy`; raises AddressRefused or OSError."""
    literal = _literal(host)
    if literal is not None:
        return policy.check_all(host, [literal])
    return policy.check_all(host, (resolver or system_resolver)(host, port))


class GuardedBackend(httpcore.SyncBackend):
    """httpcore backend that resolves once, checks every address, and connects to the checked IP."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver | None = None) -> None:
        self.policy, self.resolver = policy, resolver

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = resolve_checked(host, port, self.policy, self.resolver)
        last: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
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
