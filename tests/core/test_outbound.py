"""core.outbound: tenant-chosen URLs reach only public addresses over https, checked when connecting."""
from __future__ import annotations

import ipaddress
from unittest import mock

import httpcore
import httpx
import pytest
import requests

from core import outbound
from tests.outbound_helpers import Listener, http_reply, resolving


@pytest.fixture
def listener():
    """A real server on 127.0.0.1 answering HTTP 200, recording every connection."""
    server = Listener(http_reply())
    yield server
    server.close()


@pytest.fixture(autouse=True)
def production(settings):
    """DEBUG off, nothing allowed: what production runs with."""
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    settings.OUTBOUND_ALLOWED_HOSTS = []


REFUSED = ["127.0.0.1", "127.8.9.10", "::1", "0.0.0.0", "::", "10.0.0.1", "172.16.5.4", "192.168.1.1",
           "169.254.169.254", "169.254.170.2", "fd00:ec2::254", "fe80::1", "fc00::1", "100.64.0.1",
           "100.100.100.200", "168.63.129.16", "224.0.0.1", "ff02::1", "240.0.0.1", "255.255.255.255",
           "192.0.2.1", "198.18.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
           "2002:7f00:1::1", "64:ff9b::a00:1", "2001:0:4136:e378:8000:63bf:f5ff:fffe"]
PUBLIC = ["8.8.8.8", "54.172.60.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", REFUSED)
def test_internal_addresses_are_refused(address):
    assert not outbound.is_public(ipaddress.ip_address(address))
    with pytest.raises(outbound.OutboundRefused):
        outbound.check_address("tenant.example", ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    assert outbound.is_public(ipaddress.ip_address(address))
    outbound.check_address("tenant.example", ipaddress.ip_address(address))


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/", "https://[::1]:8443/", "https://0.0.0.0/", "https://169.254.169.254/latest/meta-data/",
    "https://10.1.2.3/", "https://[::ffff:127.0.0.1]/", "https://[::ffff:a9fe:a9fe]/", "https://localhost:8000/",
    "http://api.example.com/", "http://8.8.8.8/", "ftp://api.example.com/", "https:///nohost", "https://x:0/",
])
def test_urls_refused_without_dns(url):
    with pytest.raises(outbound.OutboundRefused):
        outbound.check_url(url)


def test_twilio_and_other_public_https_urls_pass():
    outbound.check_url("https://api.twilio.com/2010-04-01/Accounts.json")
    outbound.check_url("https://api.signalwire.example:8443/base")


def test_loopback_over_http_only_in_development(settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    for url in ("http://127.0.0.1:8000/sandbox", "http://localhost:8000/", "https://[::1]/"):
        outbound.check_url(url)
    for url in ("http://api.example.com/", "https://10.0.0.1/", "https://169.254.169.254/"):
        with pytest.raises(outbound.OutboundRefused):
            outbound.check_url(url)


def test_an_allowed_host_may_be_private_and_plain_http(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["twilio-compat.internal"]
    outbound.check_url("http://twilio-compat.internal:8080/")
    with resolving({"twilio-compat.internal": ["10.0.0.7"]}):
        assert outbound.checked_addresses("twilio-compat.internal", 8080) == ["10.0.0.7"]
    with pytest.raises(outbound.OutboundRefused):
        outbound.check_url("http://other.internal/")


# --- at connect time, with a real listener on 127.0.0.1 ---

def clients():
    """Both guarded transports, each as (name, send(url) -> status)."""
    def with_requests(url: str, **kwargs) -> int:
        with outbound.session() as session:
            return session.get(url, timeout=5, **kwargs).status_code

    def with_httpx(url: str, **kwargs) -> int:
        with outbound.httpx_client(timeout=5) as client:
            return client.get(url, **kwargs).status_code
    return [pytest.param(with_requests, id="requests"), pytest.param(with_httpx, id="httpx")]


@pytest.mark.parametrize("send", clients())
def test_loopback_is_refused_and_nothing_reaches_it(send, listener):
    for url in (f"http://127.0.0.1:{listener.port}/", f"https://127.0.0.1:{listener.port}/",
                f"https://localhost:{listener.port}/"):
        with pytest.raises(outbound.OutboundRefused):
            send(url)
    assert listener.received == []


@pytest.mark.parametrize("send", clients())
def test_a_name_resolving_to_a_private_address_is_refused_when_connecting(send, listener):
    with resolving({"tenant.example": ["127.0.0.1"]}), pytest.raises(outbound.OutboundRefused):
        send(f"https://tenant.example:{listener.port}/")
    with resolving({"tenant.example": ["8.8.8.8", "127.0.0.1"]}), pytest.raises(outbound.OutboundRefused):
        send(f"https://tenant.example:{listener.port}/")  # one inward address refuses the name
    assert listener.received == []


@pytest.mark.parametrize("send", clients())
def test_it_connects_to_the_address_it_checked(send, listener):
    """DNS rebinding: the name is looked up once, and the socket goes to that checked address
    (here public, so the connection is stubbed), never to a second answer (127.0.0.1)."""
    answers = iter([["8.8.8.8"], ["127.0.0.1"]])
    lookup = mock.Mock(side_effect=lambda host, port: [(2, 1, 6, "", (a, port)) for a in next(answers)])
    connected = []

    def fake_connect(address, *args, **kwargs):
        connected.append(address[0] if isinstance(address, tuple) else address)
        raise ConnectionRefusedError("stub")

    def httpcore_connect(backend, host, *args, **kwargs):
        try:
            fake_connect(host)
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc

    with mock.patch("core.outbound.lookup", lookup), \
            mock.patch("urllib3.util.connection.create_connection", side_effect=fake_connect), \
            mock.patch("httpcore.SyncBackend.connect_tcp", autospec=True, side_effect=httpcore_connect):
        with pytest.raises((requests.ConnectionError, httpx.ConnectError)):
            send(f"https://rebind.example:{listener.port}/")
    assert lookup.call_count == 1 and connected == ["8.8.8.8"]
    assert listener.received == []


@pytest.mark.parametrize("send", clients())
def test_an_allowed_host_is_reached_with_its_own_name_in_the_host_header(send, listener, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["twilio-compat.internal"]
    with resolving({"twilio-compat.internal": ["127.0.0.1"]}):
        assert send(f"http://twilio-compat.internal:{listener.port}/2010-04-01/Accounts.json") == 200
    [request] = listener.received
    assert request.startswith(b"GET /2010-04-01/Accounts.json")
    assert f"\r\nhost: twilio-compat.internal:{listener.port}\r\n".encode() in request.lower()


@pytest.mark.parametrize("send", clients())
def test_tls_is_started_with_the_hostname_not_the_address(send, settings):
    """The ClientHello's SNI names the host, so the certificate is checked against it too."""
    settings.OUTBOUND_ALLOWED_HOSTS = ["twilio-compat.internal"]
    server = Listener()  # reads the ClientHello, then hangs up
    try:
        with resolving({"twilio-compat.internal": ["127.0.0.1"]}), \
                pytest.raises((requests.ConnectionError, httpx.ConnectError, httpx.RemoteProtocolError)):
            send(f"https://twilio-compat.internal:{server.port}/")
    finally:
        server.close()
    assert server.received and b"twilio-compat.internal" in server.received[0]
    assert server.received[0][:1] == b"\x16"  # a TLS handshake record


@pytest.mark.parametrize("send", clients())
def test_loopback_works_in_development(send, listener, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    assert send(f"http://127.0.0.1:{listener.port}/sandbox/x") == 200
    assert len(listener.received) == 1


def test_redirects_are_not_followed_by_default(settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    server = Listener(http_reply(302).replace(b"Content-Type", b"Location: http://169.254.169.254/\r\nX"))
    try:
        response = outbound.post(f"http://127.0.0.1:{server.port}/hook", data=b"{}", timeout=5)
    finally:
        server.close()
    assert response.status_code == 302 and len(server.received) == 1


def test_environment_proxies_are_not_used(monkeypatch, listener):
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{listener.port}")
    with resolving({"public.example": ["8.8.8.8"]}), \
            mock.patch("urllib3.util.connection.create_connection", side_effect=ConnectionRefusedError("stub")):
        with pytest.raises(requests.ConnectionError):
            outbound.session().get("https://public.example/", timeout=5)
    assert listener.received == []
