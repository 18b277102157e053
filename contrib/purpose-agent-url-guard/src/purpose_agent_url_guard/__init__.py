"""purpose-agent scanner ``url-guard``: lessons may only point the agent at allowed hosts."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from purpose_agent.hookspecs import hookimpl

PURPOSE_AGENT_HOOK_API = "1.0"

# scheme://[user[:password]@]host[:port][/rest]; hosts are matched case-insensitively.
_URL = re.compile(
    r"\b(?P<scheme>https?|ftp|wss?)://(?:(?P<userinfo>[^\s/@]+)@)?(?P<host>\[[0-9a-fA-F:.]+\]|[^\s/:?#'\"<>)\]]+)",
    re.IGNORECASE,
)


@hookimpl
def settings_model() -> Any:
    from typing import Literal

    from pydantic import BaseModel

    class Settings(BaseModel):
        allowed_hosts: list[str] = []
        severity: Literal["low", "medium", "high", "critical"] = "high"

    return Settings


def host_allowed(host: str, allowed: list[str]) -> bool:
    """Whether ``host`` is on the allowlist; an entry ``*.example.com`` also admits subdomains."""
    host = host.lower().rstrip(".")
    for entry in allowed:
        entry = entry.lower()
        if entry.startswith("*.") and (host == entry[2:] or host.endswith(entry[1:])):
            return True
        if host == entry:
            return True
    return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@hookimpl
def scan(request: Any, settings: Any) -> list[Any]:
    from purpose_agent.models import Finding, Severity

    findings = []
    for match in _URL.finditer(request.text):
        host = match.group("host").rstrip(".,;")
        span = (match.start(), match.end())
        evidence = match.group(0)
        if match.group("userinfo"):
            findings.append(Finding(scanner="url-guard", category="credentials_in_url", severity=Severity.CRITICAL,
                                    explanation="a URL carries credentials; secrets must not live in lessons",
                                    span=span, evidence=evidence))
        elif _is_ip(host):
            findings.append(Finding(scanner="url-guard", category="raw_ip_host", severity=Severity.CRITICAL,
                                    explanation=f"points the agent at a raw IP address ({host})",
                                    span=span, evidence=evidence))
        elif not host_allowed(host, settings.allowed_hosts):
            findings.append(Finding(scanner="url-guard", category="host_not_allowed", severity=Severity(settings.severity),
                                    explanation=f"points the agent at {host}, which is not in allowed_hosts",
                                    span=span, evidence=evidence))
    return findings
