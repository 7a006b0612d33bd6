"""Which proxy hosts an account may use (``PROXY_NETWORKS``, template parameter ``ProxyNetworks``).

A proxy is where the service sends an account's Avito token and traffic, from inside AWS: a proxy host on a
loopback, link-local or private address would point that traffic (and the connection checks' answers) at the
service's own network. So, by the host as given:

| ``PROXY_NETWORKS``   | private ranges (1)  | loopback, link-local, reserved (2) | metadata addresses |
|----------------------|---------------------|------------------------------------|--------------------|
| ``public`` (default) | 422                 | 422                                | 422                |
| ``private``          | allowed             | 422                                | 422                |
| ``local``            | allowed             | allowed (local runtime, tests)     | 422                |

(1) 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7. (2) 127/8, ::1, 169.254/16, fe80::/10, unspecified,
multicast. Public addresses and names are always allowed.

Names are checked as written (``localhost`` and ``*.localhost`` are loopback; cloud metadata names are refused);
a name is not resolved here: DNS answers can change after the check, and a proxy reached by a public name that
resolves privately is a deployment's own choice, not a caller's input mistake.
"""

from __future__ import annotations

import ipaddress

PUBLIC, PRIVATE, LOCAL = "public", "private", "local"
MODES = (PUBLIC, PRIVATE, LOCAL)

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # EC2/Lambda instance metadata, also GCP and Azure
        "169.254.170.2",  # ECS task metadata and credentials
        "169.254.169.253",  # the VPC's DNS resolver
        "169.254.169.123",  # Amazon Time Sync
        "fd00:ec2::254",  # EC2 metadata over IPv6
        "fd00:ec2::253",
        "100.100.100.200",  # Alibaba Cloud metadata
    )
)
METADATA_NAMES = frozenset({"metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"})
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not global, not "private" to Python


def refusal(host: str, mode: str) -> str | None:
    """Why ``host`` may not be a proxy under ``mode``, or None when it may."""
    name = host.strip().strip("[]").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        address = None
    if address is not None and getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    if name in METADATA_NAMES or address in METADATA_ADDRESSES:
        return "A cloud metadata address can never be a proxy."
    if address is None:
        local_name = name == "localhost" or name.endswith(".localhost")
        if local_name and mode != LOCAL:
            return "A loopback host cannot be a proxy here."
        return None
    if address.is_loopback or address.is_link_local or address.is_unspecified or address.is_multicast:
        return None if mode == LOCAL else "A loopback, link-local or multicast address cannot be a proxy here."
    if address.is_private or (address.version == 4 and address in _SHARED):
        return None if mode in (PRIVATE, LOCAL) else "A private network address cannot be a proxy here."
    if not address.is_global:
        return None if mode == LOCAL else "A reserved address cannot be a proxy."
    return None
