"""Proxy URLs for ``requests`` from an account's proxy settings.

``socks5h``/``socks4a`` make the proxy resolve Avito's host name (remote DNS); credentials are
percent-encoded so any character survives. The URL contains the password: never log it.
"""

from __future__ import annotations

from urllib.parse import quote

from avito_service.accounts.models import ProxySettings, ProxyType

_SCHEMES = {
    ProxyType.HTTP: "http",
    ProxyType.HTTPS: "https",
    ProxyType.SOCKS4: "socks4a",
    ProxyType.SOCKS5: "socks5h",
}


def proxy_url(proxy: ProxySettings) -> str:
    credentials = ""
    if proxy.login:
        credentials = quote(proxy.login, safe="")
        if proxy.type == ProxyType.SOCKS4:
            credentials += ":"  # urllib3 reads a login only as "user:password"; SOCKS4 sends just the user id
        elif proxy.password is not None:
            credentials += ":" + quote(proxy.password.get_secret_value(), safe="")
        credentials += "@"
    host = f"[{proxy.host}]" if ":" in proxy.host and not proxy.host.startswith("[") else proxy.host
    return f"{_SCHEMES[proxy.type]}://{credentials}{host}:{proxy.port}"


def describe(proxy: ProxySettings | None) -> str:
    """A log-safe description of the proxy (no credentials)."""
    if proxy is None:
        return "direct"
    return f"{proxy.type.value}://{proxy.host}:{proxy.port}" + (" (with login)" if proxy.login else "")
