"""Whether a host stays on this machine: the one answer every plugin that serves or sends uses.

A server bound to a loopback host is reachable from this machine only, so the protocol plugins
(``a2a``, ``mcp``, ``agui``) serve there without a token and refuse any other host without one;
an embedder whose server is on loopback sends no text off the machine. Beside it, the token check
those servers make (:func:`bearer_token_matches`). Public contract: plugins import them from
``purpose_agent.interfaces`` (docs/architecture.md, "What a plugin may import").
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


def bearer_token_matches(authorization: str | bytes, token: str) -> bool:
    """Whether an HTTP ``Authorization`` header value carries ``token`` as a bearer credential: the
    scheme ``Bearer`` in any case, the credential compared in constant time (so timing does not
    leak how much of a guess was right). The check every plugin that serves with a token makes;
    how a refusal is answered is the plugin's protocol's business."""
    import hmac

    text = authorization.decode("latin-1") if isinstance(authorization, bytes) else authorization
    scheme, _, credential = text.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(credential.strip().encode(), token.encode())
