"""Plugin ``immune-tools``: a lesson that widens what the agent may do with its tools.

A lesson may say *how* to use a tool well; it must never hand out new power (DESIGN.md §5: "a
lesson never grants tools, paths, hosts or authority"). This scanner flags:

* grants: "you may use the shell", "run commands without asking", "disable the sandbox";
* dangerous shell: download-and-execute, recursive deletes of system paths, privilege
  escalation, reverse shells;
* sensitive paths: SSH keys, cloud credentials, ``/etc/shadow``, browser cookie stores;
* code that collects local data (environment, clipboard, files, system details) *and* sends it
  over the network; code that downloads and executes, wipes, or mines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from .detectors import Context, Hit, Scanner, compile_linear, rule, words

PURPOSE_AGENT_HOOK_API = "1.0"

NAME = "immune-tools"
#: The id ``purpose_agent.testing.make_kernel`` registers this module under (same as the entry point).
plugin_id = NAME

_POWERFUL_TOOL = words(
    r"(?:the\s+)?(?:shell|bash|terminal|command\s+line|powershell|cmd(?:\.exe)?)",
    r"sudo",
    r"root",
    r"(?:any|all|every|arbitrary|other|additional|new|unlisted|unapproved)\s+(?:tools?|commands?|programs?|binaries|hosts?|urls?|domains?)",
    r"(?:the\s+)?(?:network|internet)",
    r"curl",
    r"wget",
    r"ssh",
    r"scp",
    r"eval\(?\)?",
    r"exec\(?\)?",
    r"os\.system",
    r"subprocess",
    r"rm\s+-rf",
)

RULES = [
    rule(
        "tools.tool-grant",
        "tool_grant",
        "high",
        rf"\b(?:you|the\s+agent|agents?|assistants?)\s+(?:can|may|are\s+(?:now\s+)?(?:allowed|permitted|authori[sz]ed|free)\s+to|have\s+permission\s+to)\s+"
        rf"(?:\w+\s+){{0,2}}?(?:use|call|run|invoke|execute|access|open|reach)\s+{_POWERFUL_TOOL}\b"
        rf"|\bfeel\s+free\s+to\s+(?:use|call|run|invoke|execute|access)\s+{_POWERFUL_TOOL}\b",
        "grants the agent a powerful tool or unrestricted tool use",
        negatable=True,
    ),
    rule(
        "tools.tool-grant-2",
        "tool_grant",
        "high",
        r"\b(?:run|execute|call|invoke|install|delete|push|deploy|send|access|use)\b[^.!?\n]{0,50}?\bwithout\s+"
        r"(?:asking|confirmation|confirming|approval|permission|review|checking\s+with|telling|notifying)\b",
        "tells the agent to act without the approval it would otherwise need",
        negatable=True,
    ),
    rule(
        "tools.safety-bypass",
        "safety_bypass",
        "critical",
        r"\b(?:disable|turn\s+off|bypass|skip|circumvent|deactivate|switch\s+off|get\s+around|escape)\s+(?:the\s+)?"
        r"(?:sandbox(?:ing)?|safety\s+(?:checks?|filters?|rails)|guardrails?|content\s+filters?|security\s+(?:checks?|controls?|policy)|"
        r"immune\s+scanners?|scanners?|audit(?:ing)?\s+log(?:ging|s)?|approval\s+(?:step|prompts?|checks?)|permission\s+(?:checks?|prompts?)|"
        r"seccomp|landlock|firewall|antivirus|selinux|apparmor)\b",
        "tells the agent to switch off a safety control",
        negatable=True,
    ),
    rule(
        "tools.dangerous-shell",
        "dangerous_shell",
        "critical",
        r"\b(?:curl|wget|iwr|Invoke-WebRequest)\b[^|\n;]{0,200}\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b"
        r"|\b(?:curl|wget)\b[^\n]{0,200}?&&\s*(?:chmod\s+\+x|sh|bash|\./)"
        r"|\brm\s+-(?:rf|fr|r\s+-f|f\s+-r)\s+(?:--no-preserve-root\s+)?(?:/|~|\$HOME|\*|/\*)(?:\s|$|[\"'`;])"
        r"|\bmkfs(?:\.\w+)?\s+/dev/|\bdd\s+if=/dev/(?:zero|random|urandom)\s+of=/dev/"
        r"|:\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:"
        r"|\bchmod\s+(?:-R\s+)?(?:777|a\+rwx)\s+/"
        r"|/dev/tcp/|\bnc\s+(?:-\w+\s+)*-e\s+/bin/|\bbash\s+-i\s+>&|\b(?:/bin/)?sh\s+-i\b",
        "a destructive, download-and-run or reverse-shell command",
    ),
    rule(
        "tools.dangerous-shell-2",
        "dangerous_shell",
        "high",
        r"\bsudo\s+\S+(?:\s+\S+)?|\bsystemctl\s+(?:stop|disable|mask)\b|\bshutdown\s+(?:-h|-r|now)\b"
        r"|\bipconfig\s+/release\b|\biptables\s+-F\b|\bnetsh\s+\w+\s+set\b|\bkillall\b|\bkill\s+-9\s+-1\b"
        r"|\bcrontab\s+-r\b|\bhistory\s+-c\b|\bchattr\s+\+i\b",
        "a privileged or disruptive system command",
        negatable=True,
        # installing or updating packages with sudo is ordinary setup advice
        unless_match=r"\bsudo\s+apt(?:-get)?\s+(?:install|update)\b",
    ),
    rule(
        "tools.sensitive-path",
        "sensitive_path",
        "high",
        r"(?:~|\$HOME|/home/\w+|/root)/\.(?:ssh|aws|gnupg|kube|docker|netrc|git-credentials|pgpass|npmrc|pypirc)\b"
        r"|\bid_(?:rsa|dsa|ecdsa|ed25519)\b(?:\.pub)?|\bauthorized_keys\b|/etc/(?:shadow|sudoers|passwd)\b|/proc/(?:self|\d+)/(?:environ|mem)\b"
        r"|\bopen\s*\(\s*[\"']/etc/hosts[\"']\s*,\s*[\"'][aw]|\b(?:cookies\.(?:txt|sqlite)|Login\s+Data|key[34]\.db|logins\.json|Keychains?)\b|\bwallet\.dat\b",
        "points the agent at credentials or other sensitive files",
        negatable=True,
        unless_match=r"\.pub$",  # a public key is not a secret
    ),
    rule(
        "tools.credential-dump",
        "credential_dump",
        "high",
        r"\b(?:print|echo|dump|log|send|post|upload|export|cat|show|display|list|copy)\s+(?:out\s+)?(?:all\s+)?(?:the\s+)?"
        r"(?:environment(?:\s+variables)?|env\s+vars?|os\.environ|secrets|credentials|api\s+keys|access\s+tokens|tokens|passwords)\b"
        r"|\bprintenv\b|\benv\s*\|\s*(?:curl|nc|base64)\b",
        "tells the agent to reveal environment variables, secrets or credentials",
        negatable=True,
    ),
    rule(
        "tools.network-target",
        "network_target",
        "high",
        r"\b(?:send|post|upload|forward|exfiltrate|sync|push|stream|pipe|copy|rsync|scp)\b[^.!?\n]{0,80}?\bto\s+"
        r"(?:https?://|ftp://|s3://|\d{1,3}(?:\.\d{1,3}){3}(?::\d{2,5})?|[\w-]+@[\w.-]+:|[\w.-]+\.(?:ru|cn|xyz|top|tk|onion)\b)",
        "sends data to a host the lesson names",
        negatable=True,
    ),
]

_CODE_MARKERS = ("(", "import ", "scp ", "rsync", "nohup", "chmod", "miner", "curl", "wget", "xmrig", "stratum")

# Code-level evidence, combined structurally: collecting local data and sending it elsewhere.
_NET_SEND = re.compile(
    r"requests\.(?:post|put|patch)\s*\(|urllib\.request\.urlopen\([^)]{0,200}data=|\.(?:sendall|send|sendto)\s*\(|"
    r"storbinary\s*\(|\.sendmail\s*\(|yagmail|\bscp\s|\brsync\s[^\n]{0,80}@|\.connect\s*\(\s*\(|\bsmtplib\b|\bftplib\b|\bparamiko\b"
)
_LOCAL_DATA = re.compile(
    r"os\.environ|getenv\s*\(|getpass|clipboard|pbpaste|xclip|pyautogui|screenshot|x11grab|pynput|keyboard\.|psutil\.|"
    r"platform\.(?:system|version|uname|node)|driverquery|cookie|\.ssh|contacts\.csv|open\s*\(\s*[\"'](?:/|path/|~)|"
    r"socket\.gethostname|whoami|/etc/passwd|\.mozilla|Chrome/User\s+Data|\brecv\s*\("
)
_DOWNLOAD = re.compile(r"(?:requests\.get|urlopen|urlretrieve|wget|curl|Invoke-WebRequest|fetch)\b", re.IGNORECASE)
_EXECUTE = re.compile(
    r"\bexec\s*\(|\beval\s*\(|chmod\s+\+x|subprocess\.(?:call|run|Popen)\s*\(\s*\[?\s*[\"'](?:python3?|sh|bash|nohup|\./)|"
    r"os\.system\s*\(\s*f?[\"'][^\"'\n]{0,80}(?:\./|\bsh\b|\bbash\b)|\bnohup\b"
)
_WIPE = re.compile(
    r"shutil\.rmtree\s*\(\s*[\"'](?:/|~|C:\\\\)[\"']|os\.remove\s*\(\s*[\"']/(?:lib|bin|boot|etc|usr|sbin)|"
    r"/boot/grub|\bFernet\s*\(|algorithms\.AES\b[^\n]{0,200}\bencryptor\b|\.encrypt\s*\(\s*file"
)
_MINER = re.compile(r"\b(?:xmrig|miner|cryptomine|coinhive|stratum\+tcp|monero)\b", re.IGNORECASE)
_LOOP_FLOOD = re.compile(
    r"while\s+True\s*:(?:(?!\n\S).){0,400}?(?:\.connect|requests\.\w+|curl|\.send|os\.fork\(|Tk\(\))", re.DOTALL
)


#: What every match of :data:`_LOOP_FLOOD` starts with (its lookahead cannot run on RE2).
_LOOP_FLOOD_START = r"while\s+True\s*:"


@cache
def _superset(pattern: re.Pattern[str]) -> Any:
    """An RE2 expression that matches wherever ``pattern`` can start a match, and possibly more.

    It is ``pattern`` without its word boundaries (``\\b`` is Unicode-aware in Python's engine
    and ASCII-only in RE2, so the boundaries stay with Python); for the one pattern with a
    lookahead, the text every match starts with. Compiled on first use.
    """
    source = _LOOP_FLOOD_START if pattern is _LOOP_FLOOD else pattern.pattern.replace(r"\b", "")
    return compile_linear(source, case_sensitive=not pattern.flags & re.IGNORECASE, where="a dangerous-code prefilter")


def _search(pattern: re.Pattern[str], text: str, pos: int = 0) -> re.Match[str] | None:
    """``pattern.search(text, pos)``, with Python's engine started where RE2 finds the first place
    a match can start (a text where none can start costs one linear pass in C, not a Python
    regex scan: these ran ~0.3 s per megabyte together on any text with a "(" in it)."""
    first = _superset(pattern).search(text, pos)
    if first is None:
        return None
    # every match of ``pattern`` is a match of the superset at the same start, so none starts
    # before ``first``; Python's \b and lookbehinds still see the text before the position
    return pattern.search(text, first.start())


def _dangerous_code(text: str, context: Context) -> Iterator[Hit]:
    """Structural checks over code in the text: exfiltration, download-and-execute, wiping, mining."""
    lower = context.lower or text.lower()
    if not any(marker in lower for marker in _CODE_MARKERS):
        return  # no call, import or shell tool anywhere: nothing here can run
    send = _search(_NET_SEND, text)
    if send is not None:
        local = _search(_LOCAL_DATA, text)
        if local is not None:
            first = min(send, local, key=lambda m: m.start())
            yield Hit(
                "data_exfiltration_code",
                "high",
                first.start(),
                first.end(),
                "code that collects local data and sends it over the network",
            )
    download = _search(_DOWNLOAD, text)
    if download is not None:
        execute = _search(_EXECUTE, text, download.start())
        if execute is not None:
            yield Hit(
                "remote_code_execution",
                "critical",
                download.start(),
                download.end(),
                "code that downloads something and then executes it",
            )
    wipe = _search(_WIPE, text)
    if wipe is not None:
        yield Hit(
            "destructive_code",
            "critical",
            wipe.start(),
            wipe.end(),
            "code that deletes system files, rewrites the boot loader or encrypts files in place",
        )
    miner = _search(_MINER, text)
    if miner is not None and (download is not None or _search(_EXECUTE, text)):
        yield Hit("destructive_code", "high", miner.start(), miner.end(), "code that fetches and runs a crypto miner")
    flood = _search(_LOOP_FLOOD, text)
    if flood is not None:
        yield Hit(
            "destructive_code",
            "high",
            flood.start(),
            flood.start() + 10,
            "an endless loop of network requests, forks or windows (denial of service)",
        )


SCANNER = Scanner(
    name=NAME,
    categories={
        "tool_grant": "grants tools, shell, network or acting without approval",
        "safety_bypass": "switch off the sandbox, scanners, guardrails or other safety controls",
        "dangerous_shell": "destructive, download-and-run, privileged or reverse-shell commands",
        "sensitive_path": "SSH keys, cloud credentials, system password files, cookie stores",
        "credential_dump": "print or send environment variables, secrets or credentials",
        "network_target": "send data to a host the lesson names",
        "data_exfiltration_code": "code that collects local data and sends it over the network",
        "remote_code_execution": "code that downloads and executes",
        "destructive_code": "code that wipes, encrypts, mines or floods",
    },
    rules=RULES,
    functions=[_dangerous_code],
)
