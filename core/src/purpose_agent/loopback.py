"""Whether a host stays on this machine: the one answer every plugin that serves or sends uses.

A server bound to a loopback host is reachable from this machine only, so the protocol plugins
(``a2a``, ``mcp``, ``agui``) serve there without a token and refuse any other host without one;
an embedder whose server is on loopback sends no text off the machine. Public contract: plugins
import it (docs/architecture.md, "What a plugin may import").
"""

from __future__ import annotations


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an IPv4/IPv6 address, without brackets or port) reaches this
    machine only: ``localhost`` or a loopback address (``127.0.0.0/8``, ``::1``). Any other name
    is not, whatever it resolves to now: resolution can change, the answer must not."""
    if host.lower() == "localhost":
        return True
    import ipaddress  # only a host check needs it; the CLI's start-up time matters

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
