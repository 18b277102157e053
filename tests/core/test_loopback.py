"""``purpose_agent.loopback.is_loopback``: the one check the serving plugins (a2a, mcp, agui) and the
HTTP embedders use to decide whether a host stays on this machine."""

from __future__ import annotations

import subprocess
import sys

import pytest

from purpose_agent.loopback import is_loopback


@pytest.mark.parametrize("host", ["localhost", "LocalHost", "127.0.0.1", "127.8.9.10", "::1"])
def test_loopback_names_and_addresses(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "10.0.0.1", "example.com", "localhost.example.com",
                                  "[::1]", "127.0.0.1:8000", ""])
def test_everything_else_leaves_the_machine_or_is_not_a_bare_host(host: str) -> None:
    # 0.0.0.0 and :: listen on every interface; a name other than localhost may resolve anywhere;
    # a host with brackets or a port is not a bare host, so it is not trusted to be loopback
    assert not is_loopback(host)


def test_the_serving_plugins_and_the_embedders_use_this_one_check() -> None:
    from purpose_agent_a2a import server as a2a_server
    from purpose_agent_agui import command as agui_command
    from purpose_agent_http.embeddings import sends_off_machine
    from purpose_agent_mcp import server as mcp_server

    assert a2a_server.is_loopback is agui_command.is_loopback is mcp_server.is_loopback is is_loopback
    assert not sends_off_machine("http://127.0.0.1:8080/v1") and sends_off_machine("https://api.example.com/v1")


def test_importing_it_costs_no_ipaddress_module() -> None:
    probe = "import sys, purpose_agent.loopback; print('ipaddress' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip() == "False"
