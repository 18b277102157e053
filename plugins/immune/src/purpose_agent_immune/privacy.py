"""Plugin ``immune-privacy``: personal data and secrets that must not be remembered.

Secrets are found the way ``detect-secrets`` finds them with its entropy plugins off: by the
known shape of each credential (AWS, GitHub, GitLab, Slack, Stripe, Google, OpenAI, Anthropic,
Hugging Face, npm, SendGrid, Twilio, JWTs, private-key blocks, passwords in URLs) and by
keyword assignments (``password = "…"``) whose value is not a placeholder or a variable. The
detectors are written here rather than imported, so the plugin has no dependency and imports in
microseconds.

Personal data: card numbers (Luhn-checked), US social security numbers, IBANs (checksum
verified), e-mail addresses and phone numbers. Addresses on reserved example domains
(``example.com``, RFC 2606) are not personal data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from .detectors import Context, Hit, Scanner, compile_linear, near_matches, rule

PURPOSE_AGENT_HOOK_API = "1.0"

NAME = "immune-privacy"
#: The id ``purpose_agent.testing.make_kernel`` registers this module under (same as the entry point).
plugin_id = NAME

# Credential prefixes are case-sensitive (case_sensitive=True): ignoring case would match ordinary words.

RULES = [
    rule(
        "privacy.private-key",
        "private_key",
        "critical",
        r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY(?: BLOCK)?-----",
        "a private key block",
        case_sensitive=True,
    ),
    rule(
        "privacy.cloud-credential",
        "cloud_credential",
        "critical",
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA)[0-9A-Z]{16}\b",
        "an AWS access key id",
        case_sensitive=True,
    ),
    rule(
        "privacy.cloud-credential-2",
        "cloud_credential",
        "critical",
        r"(?i:aws_?secret_?access_?key)\s*[=:]\s*[\"']?[A-Za-z0-9/+]{40}\b",
        "an AWS secret access key",
        case_sensitive=True,
    ),
    rule(
        "privacy.cloud-credential-3",
        "cloud_credential",
        "high",
        r"\bAIza[0-9A-Za-z_-]{35}\b",
        "a Google API key",
        case_sensitive=True,
    ),
    rule(
        "privacy.cloud-credential-4",
        "cloud_credential",
        "high",
        r"\bAccountKey=[A-Za-z0-9+/]{80,}={0,2}",
        "an Azure storage account key",
        case_sensitive=True,
    ),
    rule(
        "privacy.api-token",
        "api_token",
        "critical",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255}|glpat-[A-Za-z0-9_-]{20,}"
        r"|xox[abposr]-[A-Za-z0-9-]{10,}|(?:sk|rk)_live_[A-Za-z0-9]{20,}|sk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_-]{20,}"
        r"|hf_[A-Za-z0-9]{30,}|npm_[A-Za-z0-9]{36}|SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}|SK[0-9a-f]{32}"
        r"|AC[0-9a-f]{32}|key-[0-9a-f]{32}|[0-9a-f]{32}-us\d{1,2})\b",
        "an API token with a known provider format",
        case_sensitive=True,
    ),
    rule(
        "privacy.api-token-2",
        "api_token",
        "high",
        r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
        "a JSON Web Token",
        case_sensitive=True,
    ),
    rule(
        "privacy.api-token-3",
        "api_token",
        "high",
        r"https://hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+|https://discord(?:app)?\.com/api/webhooks/\d+/[\w-]+",
        "a chat webhook URL (anyone holding it can post)",
        case_sensitive=True,
    ),
    rule(
        "privacy.password",
        "password",
        "high",
        r"\b[a-z][a-z0-9+.-]{1,20}://[^\s:/@\"'<>]{1,64}:[^\s:/@\"'<>]{3,64}@[\w.-]{2,}",
        "a URL with a password in it",
        case_sensitive=True,
        # a placeholder where the password goes is documentation, not a leak
        unless_match=r"://[^\s:/@\"'<>]{1,64}:(?:\$\{|\{\{|\*+@|password@|pass@|secret@|PASSWORD)",
    ),
]


@cache
def _shape(pattern: str, case_sensitive: bool = False) -> Any:
    """An RE2 expression (compiled on first use) for a shape every match of a detector's own
    expression contains: the detector's Python ``re`` (which needs backreferences or lookarounds)
    runs only on a text that has the shape, so a long text without it costs one linear pass."""
    return compile_linear(pattern, case_sensitive, where="a privacy detector's prefilter")


# Keyword assignments: `password = "hunter2"`, `api_key: 'abc…'`, `"token": "…"`. The value must
# be a literal that is not a placeholder, an environment lookup or a template.
_KEYWORD = re.compile(
    r"(?P<key>\b[\w.-]{0,30}(?:password|passwd|pwd|passphrase|secret|api[_-]?key|apikey|access[_-]?key|auth[_-]?token|"
    r"access[_-]?token|private[_-]?key|client[_-]?secret|token)\b[\"']?)\s*(?::=|=>|=|:)\s*"
    r"(?P<quote>[\"'`])(?P<value>[^\"'`\s]{4,200})(?P=quote)",
    re.IGNORECASE,
)
_SECRET_WORDS = ("pass", "pwd", "secret", "key", "token", "pin ", "pin:")
_PLACEHOLDER = re.compile(
    r"^(?:x+|\*+|\.+|-+|#+|0+|none|null|nil|true|false|changeme|change[_-]?me|example|sample|dummy|test|testing|secret|"
    r"password|passwd|token|api[_-]?key|your[\w-]*|my[\w-]*|<[^>]*>|\[[^\]]*\]|\{[^}]*\}|\$\{?[\w.]+\}?|%\(?\w+\)?s?|"
    r"process\.env\.\w+|os\.environ.*|env\(.*|getenv.*|\w+\.\w+\(.*|[A-Z][A-Z0-9_]{3,})$",
    re.IGNORECASE,
)
# A password stated in prose: "the password is 'Pencil'". Without entropy checks a short word
# cannot be told apart from an example, so this is medium, not blocking, on its own.
_PROSE_PASSWORD = re.compile(
    r"\b(?:password|passphrase|passcode|pin|secret\s+(?:word|code|key))\s+(?:is|was|=|:)\s+[\"'“]?(?P<value>[^\s\"'”]{3,64})",
    re.IGNORECASE,
)


#: Around each match of the keyword shape, how far a match of :data:`_KEYWORD` may reach: its key
#: starts at most 30 characters (``[\w.-]{0,30}``) and 8 more ("private_" before "key") before
#: the shape does, and its value ends at most 197 characters after the shape's end (the shape
#: holds 4 of the 4-200 value characters; then the closing quote).
_KEY_REACH_BEFORE = 64
_KEY_REACH_AFTER = 256


def _keyword_secrets(text: str, context: Context) -> Iterator[Hit]:
    """Secret-named keys assigned a literal value that is not a placeholder."""
    if not any(word in context.lower for word in _SECRET_WORDS):
        return
    keyword_shape = r"(?:pass|pwd|secret|key|token)\w*\b[\"']?\s*(?::=|=>|=|:)\s*[\"'`][^\"'`\s]{4}"
    prose_shape = r"\b(?:password|passphrase|passcode|pin|secret\s+(?:word|code|key))\s+(?:is|was|=|:)\s"
    for match in near_matches(_shape(keyword_shape), _KEYWORD, text, _KEY_REACH_BEFORE, _KEY_REACH_AFTER):
        value = match.group("value")
        if _PLACEHOLDER.match(value) or (value.isalpha() and value.islower() and len(value) < 6):
            continue
        yield Hit(
            "password",
            "high",
            match.start(),
            match.end(),
            f"a literal value assigned to '{match.group('key').strip(chr(34) + chr(39))}'",
        )
        return
    if _shape(prose_shape).search(text) is None:
        return
    for match in _PROSE_PASSWORD.finditer(text):
        value = match.group("value").rstrip(".,;!")
        if _PLACEHOLDER.match(value) or value.lower() in {
            "required",
            "optional",
            "set",
            "stored",
            "hashed",
            "not",
            "never",
            "the",
            "a",
            "an",
        }:
            continue
        yield Hit("password", "medium", match.start(), match.end(), "a password or PIN stated in the text")
        return


_HAS_DIGIT = re.compile(r"\d")
# Card-shaped only: 13–19 digits in one run, or groups of four (Amex 4-6-5) with one separator
# kind; decimals and digit lists ("0.25 0.25 …") are not cards.
_CARD = re.compile(
    r"(?<![\d.,-])(?:\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -])\d{6}\2\d{5}|\d{13,19})(?![\d]|[.,-]\d)"
)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _payment_cards(text: str, context: Context) -> Iterator[Hit]:
    """13–19 digit numbers with a valid Luhn checksum and a card-network prefix."""
    # every card-shaped match holds the shape, which starts with it; a match is at most 22 long
    for match in near_matches(_shape(r"\d{13}|\d{4}[ -]\d{4}[ -]\d{4}|\d{4}[ -]\d{6}[ -]\d{5}"), _CARD, text, 0, 24):
        digits = re.sub(r"\D", "", match.group(0))
        if 13 <= len(digits) <= 19 and digits[0] in "3456" and len(set(digits)) > 2 and _luhn_ok(digits):
            yield Hit("financial", "high", match.start(), match.end(), "a payment card number (valid checksum)")
            return


_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")


def _ibans(text: str, context: Context) -> Iterator[Hit]:
    """International bank account numbers whose mod-97 checksum is valid."""
    # every IBAN-shaped match holds the shape, which starts with it; a match is at most 44 long
    for match in near_matches(
        _shape(r"[A-Z]{2}\d{2} ?[A-Z0-9]{4} ?[A-Z0-9]{4}", case_sensitive=True), _IBAN, text, 0, 48
    ):
        compact = match.group(0).replace(" ", "")
        if not 15 <= len(compact) <= 34:
            continue
        rearranged = compact[4:] + compact[:4]
        number = "".join(str(int(ch, 36)) for ch in rearranged)
        if int(number) % 97 == 1:
            yield Hit("financial", "high", match.start(), match.end(), "an IBAN (valid checksum)")
            return


_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")
_SSN_CONTEXT = re.compile(r"\b(?:ssn|social\s+security|sozialversicherung)", re.IGNORECASE)


def _ssns(text: str, context: Context) -> Iterator[Hit]:
    """US social security numbers (NNN-NN-NNNN with the invalid ranges excluded)."""
    if "-" not in text or _shape(r"\d{3}-\d{2}-\d{4}").search(text) is None:
        return
    match = _SSN.search(text)
    if match:
        severity = "high" if _SSN_CONTEXT.search(text) else "medium"
        yield Hit("government_id", severity, match.start(), match.end(), "a US social security number")


_EMAIL = re.compile(r"\b[\w.+-]{1,64}@(?P<domain>[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,5})\b")
_RESERVED_DOMAIN = re.compile(
    r"(?:^|\.)(?:example\.(?:com|org|net)|test|example|invalid|localhost|local|domain\.com|email\.com|company\.com)$",
    re.IGNORECASE,
)
_ROLE_MAILBOX = re.compile(
    r"^(?:no-?reply|do-?not-?reply|support|help|info|hello|contact|admin|security|sales|billing|team|git)@",
    re.IGNORECASE,
)
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?!\d)")


def _contact_details(text: str, context: Context) -> Iterator[Hit]:
    """Personal e-mail addresses and phone numbers (reserved example domains excluded)."""
    if "@" not in text and _HAS_DIGIT.search(text) is None:
        return
    emails = _EMAIL.finditer(text) if _shape(r"[\w.+-]@[A-Za-z0-9-]+\.[A-Za-z0-9-]").search(text) else iter(())
    for match in emails:
        if _RESERVED_DOMAIN.search(match.group("domain")) or _ROLE_MAILBOX.match(match.group(0)):
            continue
        if match.group(0).startswith("git@") or re.match(r"^[\w.-]+@\d", match.group(0)):
            continue  # git remotes and package@version strings are not addresses
        yield Hit("contact", "medium", match.start(), match.end(), "a personal e-mail address")
        break
    phone = _PHONE.search(text) if _shape(r"\d{3}[ .-]\d{4}").search(text) else None
    if phone is not None and len(re.sub(r"\D", "", phone.group(0))) >= 10:
        yield Hit("contact", "medium", phone.start(), phone.end(), "a phone number")


SCANNER = Scanner(
    name=NAME,
    categories={
        "private_key": "PEM private key blocks",
        "cloud_credential": "AWS, Google and Azure keys",
        "api_token": "provider tokens with known formats, JWTs, webhook URLs",
        "password": "literal passwords and secrets assigned in text, URLs with credentials",
        "financial": "payment card numbers (Luhn) and IBANs (mod 97)",
        "government_id": "US social security numbers",
        "contact": "personal e-mail addresses and phone numbers",
    },
    rules=RULES,
    functions=[_keyword_secrets, _payment_cards, _ibans, _ssns, _contact_details],
)
