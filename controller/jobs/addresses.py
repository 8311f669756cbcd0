"""Which IP addresses a job callback may reach (pure): public unicast ones, and no IPv6 form of an internal IPv4.

An IPv6 address can carry an IPv4 address that a gateway, the kernel or a tunnel turns back into IPv4:
`::ffff:127.0.0.1` (mapped) reaches loopback on a dual-stack socket, `64:ff9b::7f00:1` (NAT64) through a
translator, `2002:7f00:1::` (6to4) and Teredo addresses through relays. Python's `is_global` judges only the
IPv6 address, so each embedded IPv4 address is judged too.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address

#: the last 32 bits of an address in these carry an IPv4 address
_LAST_32_BITS = (
    IPv6Network("::/96"),  # IPv4-compatible (deprecated, RFC 4291)
    IPv6Network("::ffff:0:0/96"),  # IPv4-mapped (RFC 4291)
    IPv6Network("::ffff:0:0:0/96"),  # IPv4-translated (SIIT, RFC 2765)
    IPv6Network("64:ff9b::/96"),  # NAT64 well-known prefix (RFC 6052)
)
#: NAT64 local-use prefix (RFC 8215): translated by the operator's own gateway, so never a public destination
_NAT64_LOCAL = IPv6Network("64:ff9b:1::/48")


def embedded_ipv4(address: IPv6Address) -> list[IPv4Address]:
    """Every IPv4 address `address` carries: IPv4-compatible, mapped or translated, NAT64, 6to4, Teredo server
    and (de-obfuscated) client."""
    found: list[IPv4Address] = []
    if any(address in network for network in _LAST_32_BITS):
        found.append(IPv4Address(address.packed[12:]))
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    return found


def is_public(address: IPv4Address | IPv6Address) -> bool:
    """Whether `address` is a globally reachable unicast address that embeds no internal IPv4 address."""
    if not address.is_global or address.is_multicast:
        return False
    if isinstance(address, IPv6Address):
        return address not in _NAT64_LOCAL and all(is_public(inner) for inner in embedded_ipv4(address))
    return True


def internal_address(text: str) -> str | None:
    """`text` (an IP address, a `%zone` allowed) if it is not public, else None."""
    address = ip_address(text.split("%")[0])
    return None if is_public(address) else str(address)
