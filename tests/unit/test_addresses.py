"""The address policy (domain/addresses.py) for every IPv6 form that carries an IPv4 address
(issue 12, item 1), and the IDNA check of callback hosts (item 6)."""

from __future__ import annotations

import pytest

from pilotgate.domain import addresses, params
from pilotgate.errors import ApiError


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",  # NAT64 well-known prefix → 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 → 169.254.169.254 (cloud metadata)
        "64:ff9b::a00:1",  # NAT64 → 10.0.0.1
        "64:ff9b:1::808:808",  # local-use NAT64: refused outright
        "64:ff9b:1:ffff::1",
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "::7f00:1",  # IPv4-compatible (deprecated): refused outright
        "::808:808",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.1.2.3",
        "::ffff:0:7f00:1",  # SIIT (IPv4-translated) of 127.0.0.1
        "::ffff:0:c0a8:101",  # SIIT of 192.168.1.1
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo
        "2001::1",
        "fec0::1",  # site-local (deprecated)
        "fefe::1",
        "::",
        "::1",
    ],
)
def test_transition_forms_of_internal_or_opaque_addresses_are_refused(address: str) -> None:
    assert addresses.forbidden(address)


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::808:808",  # NAT64 → 8.8.8.8: DNS64 networks reach IPv4-only hosts so
        "2002:808:808::1",  # 6to4 of 8.8.8.8
        "::ffff:8.8.8.8",
        "::ffff:0:808:808",  # SIIT of 8.8.8.8
        "2001:4860:4860::8888",
    ],
)
def test_transition_forms_of_public_addresses_pass(address: str) -> None:
    assert not addresses.forbidden(address)


def test_an_allowed_network_is_matched_on_the_embedded_address_too() -> None:
    allowed = addresses.networks("10.0.0.0/8")
    assert not addresses.forbidden("64:ff9b::a00:1", allowed)
    assert not addresses.forbidden("2002:a00:1::1", allowed)
    assert addresses.forbidden("64:ff9b::7f00:1", allowed)
    assert not addresses.forbidden("fec0::1", addresses.networks("fec0::/10"))


def test_one_forbidden_answer_refuses_the_host() -> None:
    assert addresses.refusal("hook.example", ["93.184.216.34"]) is None
    why = addresses.refusal("hook.example", ["93.184.216.34", "127.0.0.1"])
    assert why == "hook.example resolves to a forbidden address 127.0.0.1"
    assert addresses.refusal("hook.example", []) == "hook.example resolves to no address"


def test_an_ip_literal_an_operator_wrote_is_allowed_as_written_and_nothing_else() -> None:
    allowed = addresses.written("127.0.0.1")
    assert not addresses.forbidden("127.0.0.1", allowed)
    assert addresses.forbidden("127.0.0.2", allowed)
    assert addresses.written("mail.example.com") == ()
    assert not addresses.forbidden("::1", addresses.written("[::1]"))


@pytest.mark.parametrize(
    ("host", "wire"),
    [
        ("example.com", "example.com"),
        ("example.com.", "example.com."),
        ("пример.рф", "xn--e1afmkfd.xn--p1ai"),
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
    ],
)
def test_hosts_go_on_the_wire_in_their_idna_form(host: str, wire: str) -> None:
    assert addresses.ascii_host(host) == wire


@pytest.mark.parametrize("host", ["a..b", "x" * 64 + ".example.com", ".", "a." * 130 + "com"])
def test_hosts_without_an_idna_form_are_refused(host: str) -> None:
    with pytest.raises(ValueError):
        addresses.ascii_host(host)
    with pytest.raises(ApiError) as caught:
        params.callback_url(f"http://{host}/cb")
    assert caught.value.code == 260
