"""Requests to URLs a tenant chose (a provider base URL, the org's webhooks): public HTTPS only.

A tenant can type any URL, and what we send there may carry a connection's stored secrets or an
org's messages. So every such request goes through the transports here, which

1. refuse the URL unless it is `https://` (plain `http://` only to a host on the operator's
   allow-list, or to loopback when loopback is allowed), and
2. at connect time resolve the host, check **every** address it resolves to, and connect to the
   checked address itself: no second lookup, so a name that resolves to a public address for a
   check and to 127.0.0.1 for the connection (DNS rebinding) cannot slip through. TLS keeps the
   original hostname (SNI and certificate check), and so does the Host header.

Refused: loopback, private (RFC 1918, ULA), link-local (169.254.169.254 and the other cloud
metadata endpoints), CGNAT, multicast, reserved, unspecified (0.0.0.0, ::), documentation and
other non-global ranges, and IPv4 addresses wrapped in IPv6 (::ffff:a.b.c.d, 6to4, Teredo, NAT64)
when the wrapped address is refused.

Settings (see .env.example):
- OUTBOUND_ALLOWED_HOSTS: host names (exact, case-insensitive) the operator trusts wherever they
  resolve, over http or https (a self-hosted Twilio-compatible API on a private network).
- OUTBOUND_ALLOW_LOOPBACK: loopback addresses allowed, over http or https; defaults to DEBUG, so
  local development can talk to the sandbox over HTTP.

A refusal raises `OutboundRefused` before anything is sent; it is deliberately not an OSError, so
the HTTP libraries pass it through unwrapped and callers can tell it from a network failure.
"""
from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as urllib3_connection

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Metadata services on addresses the range checks below would not catch on their own
# (Azure's WireServer and Alibaba's are reached on otherwise ordinary-looking addresses).
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "fd00:ec2::254", "168.63.129.16", "100.100.100.200"))
NAT64 = ipaddress.ip_network("64:ff9b::/96")
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


class OutboundRefused(Exception):
    """Not a destination we send to. Nothing was sent."""

    def __init__(self, message: str, *, host: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.host = host


def allowed_hosts() -> frozenset[str]:
    return frozenset(h.strip().lower().rstrip(".") for h in getattr(settings, "OUTBOUND_ALLOWED_HOSTS", ()) if h)


def loopback_allowed() -> bool:
    return bool(getattr(settings, "OUTBOUND_ALLOW_LOOPBACK", False))


def _normal_host(host: str) -> str:
    return host.strip().lower().rstrip(".").strip("[]")


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _wrapped_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    """Whether `ip` is an ordinary address on the public internet."""
    wrapped = _wrapped_ipv4(ip)
    if wrapped is not None:
        return is_public(wrapped)
    if ip in METADATA_ADDRESSES:
        return False
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified)


def _is_loopback(ip: IPAddress) -> bool:
    wrapped = _wrapped_ipv4(ip)
    return (wrapped or ip).is_loopback


def check_address(host: str, ip: IPAddress) -> None:
    """Raise OutboundRefused unless `host` may be reached at `ip`."""
    if _normal_host(host) in allowed_hosts():
        return
    if is_public(ip):
        return
    if loopback_allowed() and _is_loopback(ip):
        return
    raise OutboundRefused(f"{host} is not a public internet address", host=host)


def check_url(url: str) -> None:
    """The checks that need no DNS: an http(s) URL with a host; https unless the host is
    allow-listed (or loopback, when loopback is allowed); a literal IP must pass check_address."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a malformed port
    except ValueError as exc:
        raise OutboundRefused(f"not a valid URL: {exc}") from None
    host = _normal_host(parts.hostname or "")
    if parts.scheme not in ("http", "https") or not host:
        raise OutboundRefused("only http(s) URLs with a host are allowed")
    if port == 0:
        raise OutboundRefused("port 0 is not a port", host=host)
    trusted = host in allowed_hosts()
    ip = _literal(host)
    if ip is not None:
        check_address(host, ip)
    elif host in LOOPBACK_NAMES and not (trusted or loopback_allowed()):
        raise OutboundRefused(f"{host} is not a public internet address", host=host)
    if parts.scheme == "http" and not trusted:
        local = loopback_allowed() and (host in LOOPBACK_NAMES or (ip is not None and _is_loopback(ip)))
        if not local:
            raise OutboundRefused("only https URLs are allowed", host=host)


def lookup(host: str, port: int) -> list[tuple[Any, ...]]:
    """The resolver (tests replace it)."""
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def resolve(host: str, port: int) -> list[tuple[Any, ...]]:
    """`host`'s addresses, every one checked: one refused address refuses the host (a name that
    also points inward is not one we connect to). Raises socket.gaierror as usual."""
    infos = lookup(_normal_host(host), port)
    for *_, sockaddr in infos:
        check_address(host, ipaddress.ip_address(sockaddr[0].split("%", 1)[0]))
    return infos


def checked_addresses(host: str, port: int) -> list[str]:
    """The addresses to connect to for `host`, each checked, in resolver order, without repeats."""
    seen: list[str] = []
    for *_, sockaddr in resolve(host, port):
        if sockaddr[0] not in seen:
            seen.append(sockaddr[0])
    return seen


def _connect_first(addresses: list[str], connect, failures: tuple[type[Exception], ...] = (OSError,)) -> Any:
    """connect(address) for each address until one works; the last failure when none does."""
    error: Exception | None = None
    for address in addresses:
        try:
            return connect(address)
        except failures as exc:
            error = exc
    raise error or OSError("no address to connect to")


# --- requests / urllib3 (the twilio SDK's client, the org's webhooks) ---

class _GuardedConnectionMixin:
    """urllib3 connections that connect only to checked addresses; TLS still verifies `self.host`."""

    def _new_conn(self) -> socket.socket:
        host, port = self._dns_host, self.port
        try:
            addresses = checked_addresses(host, port)
            sock = _connect_first(addresses, lambda address: urllib3_connection.create_connection(
                (address, port), self.timeout, source_address=self.source_address,
                socket_options=self.socket_options))
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        except TimeoutError as exc:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out. "
                                            f"(connect timeout={self.timeout})") from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc
        return sock


class GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A requests transport adapter that sends only where check_url and check_address allow.
    No proxies: the check must see the real destination."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": GuardedHTTPConnectionPool,
                                                   "https": GuardedHTTPSConnectionPool}

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        check_url(request.url or "")
        if kwargs.get("proxies"):
            raise OutboundRefused("requests to tenant-chosen URLs do not go through a proxy")
        return super().send(request, *args, **kwargs)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        raise OutboundRefused("requests to tenant-chosen URLs do not go through a proxy")


def guard_session(session: requests.Session, **adapter_kwargs: Any) -> requests.Session:
    """Mount the guard on `session` for http and https, and stop it reading proxies from the environment."""
    session.trust_env = False
    session.mount("https://", GuardedAdapter(**adapter_kwargs))
    session.mount("http://", GuardedAdapter(**adapter_kwargs))
    return session


def session() -> requests.Session:
    return guard_session(requests.Session())


def post(url: str, **kwargs: Any) -> requests.Response:
    """requests.post through the guard (redirects are not followed unless asked for)."""
    kwargs.setdefault("allow_redirects", False)
    with session() as guarded:
        return guarded.post(url, **kwargs)


# --- httpx / httpcore (the Plivo and Telnyx clients) ---

class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting only to checked addresses (TLS is started later by
    httpcore with the URL's hostname)."""

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        try:
            addresses = checked_addresses(host, port)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        return _connect_first(addresses, lambda address: super(GuardedBackend, self).connect_tcp(
            address, port, timeout=timeout, local_address=local_address, socket_options=socket_options),
            failures=(httpcore.ConnectError,))


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport, checking each request's URL and connecting through GuardedBackend."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pool._network_backend = GuardedBackend()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        check_url(str(request.url))
        return super().handle_request(request)


def httpx_client(**kwargs: Any) -> httpx.Client:
    """An httpx.Client through GuardedTransport (unless a transport is given, as tests do);
    proxies from the environment are not used."""
    if kwargs.get("transport") is None:
        kwargs["transport"] = GuardedTransport()
    return httpx.Client(trust_env=False, **kwargs)
