"""Where webhooks may go: http(s) only, and (unless ``WEBHOOKS_ALLOW_PRIVATE=on``) never to
loopback, private, link-local or otherwise non-public addresses, checked when an endpoint is
registered and again when each delivery connects (a name may resolve elsewhere later)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

__all__ = ["GuardedResolver", "UrlRefused", "check_url", "public_address", "refused_literal"]

SCHEMES = ("http", "https")
MAX_URL = 2000


class UrlRefused(Exception):
    """Why a webhook URL may not be used."""


def public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


async def check_url(url: str, allow_private: bool) -> None:
    """Refuse (``UrlRefused``) a URL a webhook may not be sent to."""
    if len(url) > MAX_URL:
        raise UrlRefused(f"A webhook URL has at most {MAX_URL} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused("Enter a valid URL.") from exc
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise UrlRefused("Webhook URLs must be http:// or https:// URLs with a host.")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("Webhook URLs may not carry credentials; sign with the secret.")
    if allow_private:
        return
    host = parts.hostname
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port or 443, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise UrlRefused(f"The host {host!r} does not resolve.") from exc
        addresses = [str(info[4][0]) for info in found]
    if not addresses or not all(public_address(a) for a in addresses):
        raise UrlRefused("Webhook URLs may not point to loopback or private addresses.")


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, keeping public addresses only: a delivery never connects to a
    private one, whatever the name resolves to by then."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        kept = [entry for entry in found if public_address(entry["host"])]
        if not kept:
            raise OSError(f"{host} resolves to no public address")
        return kept

    async def close(self) -> None:
        await self._inner.close()


def refused_literal(url: str) -> bool:
    """An IP-literal URL to a non-public address (aiohttp connects to those unresolved)."""
    host = urlsplit(url).hostname or ""
    literal = _literal(host)
    return literal is not None and not public_address(literal)
