"""SSRF guard: which IP addresses the crawler may connect to, enforced at connect time.

A URL is only as safe as the address its host resolves to *when the socket is opened*.
Checking with one DNS lookup and then letting the HTTP client look the name up again
leaves a gap (DNS rebinding: public the first time, 169.254.169.254 the second). So the
check lives inside the connection itself (core/transport.py): `SafeTransport` is an `httpx.HTTPTransport`
whose httpcore network backend (`GuardedBackend.connect_tcp`) resolves the host ONCE with
the injected resolver, refuses if ANY resolved address is loopback, private, link-local,
multicast, reserved, unspecified, site-local (fec0::/10), a well-known cloud host service
(CLOUD_HOSTS: 168.63.129.16 is public, yet Azure's WireServer) or otherwise not globally
routable, and then opens the TCP connection to that checked IP literal. An IPv6 address
that carries an IPv4 one (mapped, compatible, SIIT, 6to4, Teredo with its XOR-ed client,
NAT64 64:ff9b::/96, ISATAP) is decoded and refused when the IPv4 would be (`describe_forbidden`). TLS SNI
and certificate checks still use the host name (httpcore passes the origin host to
start_tls, not the address), and the Host header comes from the URL, so pinning changes
nothing else. There is no second lookup, hence no check-to-connect gap. Environment
proxies are disabled (trust_env=False): a proxy would be the thing connected to.

Every connection is a `DeadlineStream`: inside `request_deadline(seconds)` each connect,
TLS handshake, read and write gets only what is left of ONE deadline for the request, so
a server dripping its status line or headers a byte at a time cannot hold a crawl forever
(per-operation timeouts alone never fire on such a server).

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
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence


#: host, port -> the IP addresses it resolves to (strings); raises OSError when it cannot
Resolver = Callable[[str, int], Sequence[str]]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """A host resolved to an address the crawler must not connect to. No connection was made."""


def system_resolver(host: str, port: int) -> list[str]:
    """socket.getaddrinfo, reduced to unique address strings in the order returned."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))


#: well-known cloud host services; some are public addresses (Azure's), all must never be crawled
CLOUD_HOSTS = {
    "169.254.169.254": "cloud metadata service of AWS, GCP, Azure and others",
    "169.254.170.2": "AWS ECS task metadata",
    "169.254.169.123": "AWS time sync",
    "169.254.169.253": "AWS DNS resolver",
    "169.254.0.23": "Tencent Cloud metadata",
    "168.63.129.16": "Azure WireServer",
    "100.100.100.200": "Alibaba Cloud metadata",
    "192.0.0.192": "Oracle Cloud metadata",
    "fd00:ec2::254": "AWS IPv6 metadata service",
    "fd00:ec2::23": "AWS IPv6 DNS resolver",
    "fd00:ec2::123": "AWS IPv6 time sync",
}
_CLOUD = {ipaddress.ip_address(a): what for a, what in CLOUD_HOSTS.items()}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix: the IPv4 decides
#: IPv6 ranges that are never public whatever the Python version says (RFC 3879, 8215, 4380)
_NOT_PUBLIC_V6 = (
    (ipaddress.ip_network("fec0::/10"), "site-local"),
    (ipaddress.ip_network("64:ff9b:1::/48"), "local-use NAT64"),
    (ipaddress.ip_network("2001::/32"), "Teredo"),
    (ipaddress.ip_network("3fff::/20"), "documentation"),  # RFC 9637
    (ipaddress.ip_network("5f00::/16"), "SRv6 SID"),  # RFC 9602
)


def _unwrap(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def embedded_ipv4(ip: IPAddress) -> tuple[str, ipaddress.IPv4Address] | None:
    """(scheme, IPv4) carried inside an IPv6 address by 6to4, Teredo, NAT64, SIIT, ISATAP or
    the deprecated IPv4-compatible form; None for other addresses. (IPv4-mapped is unwrapped.)"""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    if ip.teredo is not None:
        return "Teredo", ip.teredo[1]  # the client address, XOR-decoded by ipaddress
    if ip in _NAT64:
        return "NAT64", low32
    if ip in ipaddress.ip_network("::ffff:0:0:0/96"):
        return "IPv4-translated", low32
    if ip in ipaddress.ip_network("::/96") and int(ip) > 1:
        return "IPv4-compatible", low32
    if (int(ip) >> 32) & 0xFDFFFFFF == 0x5EFE:  # ISATAP interface id ::0:5efe:a.b.c.d / ::200:5efe:...
        return "ISATAP", low32
    return None


def _std_kind(ip: IPAddress) -> str | None:
    for kind in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return None


def describe_forbidden(ip: IPAddress) -> str | None:
    """Why `ip` is off-limits, as "<kind> address <ip>[ ...]", or None for a public address."""
    ip = _unwrap(ip)
    if ip in _CLOUD:
        return f"{_std_kind(ip) or 'cloud host'} address {ip} ({_CLOUD[ip]})"
    inner = embedded_ipv4(ip)
    if inner is not None:
        scheme, v4 = inner
        why = describe_forbidden(v4)
        if why is not None:
            return f"{scheme} address {ip}, which embeds the {why}"
        if scheme == "NAT64":  # DNS64 on IPv6-only networks: a public IPv4 behind the gateway
            return None
    kind = next((k for net, k in _NOT_PUBLIC_V6 if ip in net), None) or _std_kind(ip)
    if kind is None and not ip.is_global:
        kind = "non-public"
    return None if kind is None else f"{kind} address {ip}"


def forbidden_kind(ip: IPAddress) -> str | None:
    """What makes `ip` off-limits ("loopback", "private", "6to4", ...), or None for a public address."""
    why = describe_forbidden(ip)
    return None if why is None else why.split(" address ", 1)[0]


#: what RAG_ALLOW_LOCAL_MODEL_SERVERS opens to a base URL typed in the browser: loopback and
#: private networks (a model server on this machine or the LAN), never link-local (169.254/16,
#: the cloud metadata service) or anything else the address guard refuses
LOCAL_MODEL_NETWORKS = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


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
        why = describe_forbidden(ip)
        if why is None:
            return None
        return f"private address: resolves to {why}"  # each edge says how to allow it (kind private_address)

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
