"""URL normalisation and crawl scope: the one place that decides when two URLs are the same.

`normalize_url` makes the dedup key: lower-case scheme and host, IDN hosts in punycode,
default ports dropped, fragment dropped, tracking parameters (utm_*, gclid, fbclid, mc_*, ...)
dropped, the remaining query parameters sorted, "." and ".." path segments resolved.
`url_key` also collapses a trailing slash: it is the identity used for dedup ("/docs/" and
"/docs" are one page), while the slash is kept in the URL that is fetched.
`Scope` answers "may the crawler follow this URL?" with a reason when it may not.
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

ALLOWED_SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_", "_hs")
_TRACKING_NAMES = frozenset({
    "gclid", "dclid", "gbraid", "wbraid", "fbclid", "msclkid", "yclid", "twclid", "igshid",
    "mkt_tok", "_ga", "_gl", "ref_src", "vero_id", "oly_anon_id", "oly_enc_id", "wickedid",
})


class BadUrl(ValueError):
    """Not an absolute http(s) URL with a host."""


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_NAMES or lowered.startswith(_TRACKING_PREFIXES)


def _clean_path(path: str) -> str:
    if not path:
        return "/"
    # re-quote consistently: "%7e" and "~" are the same resource
    path = quote(unquote(path), safe="/:@!$&'()*+,;=-._~")
    resolved = "/" + posixpath.normpath(path).lstrip("/")
    if resolved in ("/.", "/"):
        return "/"
    return resolved + "/" if path.endswith("/") else resolved


def normalize_url(url: str, base: str | None = None) -> str:
    """The canonical form of `url` (resolved against `base` first); raises BadUrl."""
    url = url.strip()
    if base is not None:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadUrl(f"malformed URL {url!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise BadUrl(f"only http and https URLs can be crawled, not {scheme or 'a relative URL'!r}: {url}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise BadUrl(f"URL has no host: {url}")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host.lower()
    except UnicodeError as exc:
        raise BadUrl(f"invalid host name in {url!r}") from exc
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k)]
    return urlunsplit((scheme, netloc, _clean_path(parts.path), urlencode(sorted(query)), ""))


def url_key(url: str) -> str:
    """The dedup key of a normalised URL: the trailing slash collapsed ("/docs/" == "/docs").

    The slash is kept in the URL that is fetched (relative links resolve against it, and
    servers redirect "/docs" to "/docs/"); only the identity ignores it."""
    parts = urlsplit(url)
    if parts.path != "/" and parts.path.endswith("/"):
        return urlunsplit(parts._replace(path=parts.path.rstrip("/") or "/"))
    return url


def origin(url: str) -> str:
    """scheme://host[:port] of a normalised URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return (parts.hostname or ""), parts.port or _DEFAULT_PORTS[parts.scheme]


@dataclass(frozen=True)
class Scope:
    """Which URLs a crawl may follow.

    With `include` prefixes, a URL is in scope when it starts with one of them (normalised);
    without, when its host and port are those of a seed (http and https both count).
    `exclude` patterns knock URLs out again: a pattern with `*`, `?` or `[` is a glob over
    the whole URL, any other pattern a substring.
    """

    sites: frozenset[tuple[str, int]]
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def for_seeds(cls, seeds: tuple[str, ...], include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> "Scope":
        sites = set()
        for seed in seeds:
            host, port = host_port(seed)
            sites.add((host, port))
            if port in _DEFAULT_PORTS.values():  # http <-> https upgrades stay on the site
                sites.update({(host, 80), (host, 443)})
        prefixes = tuple(normalize_url(p) for p in include)
        return cls(frozenset(sites), prefixes, tuple(exclude))

    def why_not(self, url: str) -> str | None:
        """None when `url` (normalised) is in scope, else the reason it is not."""
        if self.include:
            if not any(url_key(url) == url_key(p) or url.startswith((p.rstrip("/") + "/", p + "?"))
                       for p in self.include):
                return f"out of scope: not under {' or '.join(self.include)}"
        elif host_port(url) not in self.sites:
            return f"out of scope: another site ({urlsplit(url).netloc})"
        for pattern in self.exclude:
            glob = any(ch in pattern for ch in "*?[")
            if (fnmatch.fnmatchcase(url, pattern) if glob else pattern in url):
                return f"excluded by pattern {pattern!r}"
        return None
