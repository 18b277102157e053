"""Plugin ``immune-injection``: prompt injection, direct and hidden in data.

The detectors look for the *grammar* of an injection rather than known strings:

* an override verb aimed at the agent's instructions ("ignore / disregard / forget … previous
  instructions"), in several languages;
* a new identity or mode for the assistant ("you are now …", "developer mode", role markers of
  chat templates such as ``<|im_start|>system``);
* requests for the hidden prompt or secrets, and for someone's personal data;
* directives aimed at the assistant's *output* that a legitimate lesson has no reason to give:
  obfuscate it (base64, reverse, cipher, emoji), slip foreign content or links into it;
* exfiltration: a transfer verb followed by an address or URL; markdown images whose URL carries
  data;
* hidden carriers: HTML comments that speak to the reader, invisible Unicode, encoded payloads
  that decode to instructions.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import Any

from purpose_agent.hookspecs import hookimpl

from .detectors import Context, Hit, Scanner, rule, words

PURPOSE_AGENT_HOOK_API = "1.0"

NAME = "immune-injection"
#: The id ``purpose_agent.testing.make_kernel`` registers this module under (same as the entry point).
plugin_id = NAME

# ------------------------------------------------------------------ vocabularies

_OVERRIDE_VERB = words(
    r"ignore",
    r"ignoring",
    r"disregard",
    r"forget",
    r"skip",
    r"override",
    r"bypass",
    r"discard",
    r"drop",
    r"abandon",
    r"neglect",
    r"overlook",
    r"set\s+aside",
    r"throw\s+(?:out|away)",
    r"erase",
    r"clear",
    r"reset",
    r"delete",
    r"remove",
    r"do\s+not\s+follow",
    r"don'?t\s+follow",
    r"stop\s+following",
    r"no\s+longer\s+follow",
)
_OVERRIDE_QUALIFIER = words(
    r"all",
    r"any",
    r"every",
    r"each",
    r"previous(?:ly)?",
    r"prior",
    r"above",
    r"earlier",
    r"preceding",
    r"former",
    r"original",
    r"initial",
    r"old",
    r"existing",
    r"system",
    r"developer",
    r"given",
    r"provided",
    r"foregoing",
    r"your",
    r"those",
    r"these",
    r"the",
    r"my",
)
_OVERRIDE_TARGET = words(
    r"instructions?",
    r"prompts?",
    r"rules?",
    r"directives?",
    r"guidelines?",
    r"guidance",
    r"context",
    r"tasks?",
    r"assignments?",
    r"orders?",
    r"commands?",
    r"constraints?",
    r"restrictions?",
    r"polic(?:y|ies)",
    r"programming",
    r"training",
    r"conversation",
    r"messages?",
    r"everything",
    r"said",
    r"told",
    r"directions",
    r"information",
    r"knowledge",
    r"discussed",
)
# Same idea in German, Spanish, French, Italian, Portuguese, Dutch, Russian, Arabic and Chinese.
# A third of the public data is German; the rest covers the languages attacks are seen in most.
_OVERRIDE_FOREIGN = words(
    r"(?:abweichend\s+(?:von|zu)|entgegen)\s+(?:den\s+)?(?:vorherigen|bisherigen|obigen|vorigen)\s+(?:anweisungen|instruktionen)",
    r"(?:obigen|vorherigen|bisherigen|vorigen)\s+\w+\s+(?:ignorieren|vergessen|missachten)",
    r"(?:vorherigen|bisherigen)\s+(?:informationen|anweisungen|instruktionen)\s+hinter\s+sich",
    r"(?:zaboravi|zanemari)\s+(?:sve|prethodne)",
    r"(?:olvid[ae]|ignor[ae])\s+todo\b",
    r"(?:ignorier(?:e|en)?|vergiss|vergessen|missachte|h[öo]re?\s+nicht\s+auf)\b[^.!?\n]{0,60}?"
    r"\b(?:alle[sn]?|vorherige\w*|vorige\w*|bisherige\w*|obige\w*|zuvor|davor|vorher|anweisungen|instruktionen|aufgaben|befehle)\b",
    r"(?:ignora|ignore|olvida|olvide|descarta|omite)\b[^.!?\n]{0,60}?\b(?:instrucciones|anteriores|previas|todo\s+lo\s+anterior)\b",
    r"(?:ignore[zs]?|oublie[zs]?)\b[^.!?\n]{0,60}?\b(?:instructions|pr[ée]c[ée]dentes|consignes|tout\s+ce\s+qui\s+pr[ée]c[èe]de)\b",
    r"(?:ignora|dimentica)\b[^.!?\n]{0,60}?\b(?:istruzioni|precedenti)\b",
    r"(?:ignore|esque[çc]a)\b[^.!?\n]{0,60}?\b(?:instru[çc][õo]es|anteriores)\b",
    r"(?:negeer|vergeet)\b[^.!?\n]{0,60}?\b(?:instructies|vorige|eerdere)\b",
    r"(?:игнорируй|забудь|проигнорируй)[^.!?\n]{0,60}?(?:инструкци|предыдущ|указани)",
    r"(?:تجاهل|انس)[^.!?\n]{0,60}?(?:التعليمات|السابقة)",
    r"(?:忽略|忽视|无视|忘记)[^。！？\n]{0,20}?(?:指令|指示|说明|提示|之前|以上|前面)",
)

_YOUR_OUTPUT = r"\byour\s+(?:(?:final|next|entire|whole)\s+)?(?:answer|response|reply|output|message|summary)(?:'s)?\b"
_YOUR_WORK = (
    r"\byour\s+(?:code|implementation|solution|codebase|program|algorithm|script|elucidation|response|answer|reply)\b"
)
_OBFUSCATION = words(
    r"base\s?(?:64|32|16|85)",
    r"hex(?:adecimal)?",
    r"rot-?13",
    r"binary\s+code",
    r"morse",
    r"pig\s+latin",
    r"leet(?:speak)?",
    r"cipher",
    r"encrypt\w*",
    r"anagram\w*",
    r"revers\w*",
    r"backwards?",
    r"emojis?",
    r"misspell\w*",
    r"typos?",
    r"scrambl\w*",
    r"(?:remove|without|no)\s+(?:any\s+|all\s+)?spaces",
    r"shift\s+each\s+letter",
    r"replace\s+(?:the\s+|all\s+|main\s+)?(?:letters|vowels|keywords|words)",
    r"(?:numbers|symbols|digits)\s+for\s+(?:letters|vowels)",
    r"group\s+(?:the\s+)?letters",
    r"rearrange\s+(?:the\s+)?letters",
    r"every\s+\w+\s+(?:letter|word|character)",
    r"homophonic",
    r"substitut\w+",
    r"jumbl\w+",
    r"invert\w*\s+the\s+order",
    r"interlac\w+",
    r"keyboard\s+symbols",
    r"vowels",
    r"(?:each|every)\s+(?:\w+\s+)?(?:letter|digit)",
    r"separated\s+by\s+(?:a\s+)?(?:dots?|dashes?|commas?)",
    r"in\s+reverse(?:\s+order)?",
)
_INSERT_VERB = words(
    r"add",
    r"tease",
    r"suggest\w*",
    r"allude\s+to",
    r"imply",
    r"offer\w*",
    r"plug",
    r"include",
    r"insert",
    r"integrate",
    r"incorporate",
    r"mention",
    r"append",
    r"embed",
    r"inject",
    r"weave",
    r"slip",
    r"sneak",
    r"promote",
    r"highlight",
    r"emphasi[sz]e",
    r"hint\s+at",
    r"state",
    r"advertise",
    r"tell\s+(?:the\s+)?(?:user|reader)s?",
    r"remind\s+(?:the\s+)?(?:user|reader)s?",
    r"encourage",
    r"urge",
    r"recommend",
    r"insist",
)
_FOREIGN_CONTENT = words(
    r"sentence",
    r"statement",
    r"line",
    r"phrase",
    r"paragraph",
    r"reminder",
    r"link",
    r"url",
    r"headline",
    r"slogan",
    r"announcement",
    r"advert\w*",
    r"promotion",
    r"rumou?r",
    r"fabricated",
    r"fake",
    r"claim",
    r"story",
    r"quote",
    r"joke",
    r"(?:compelling\s+)?reason",
    r"fact",
    r"statistics?",
    r"mention",
    r"call\s+to\s+action",
    r"teaser",
    r"hint",
    r"plug",
)
_TRANSFER_VERB = words(
    r"send",
    r"sends",
    r"sending",
    r"forward",
    r"post",
    r"upload",
    r"email",
    r"e-mail",
    r"mail",
    r"transmit",
    r"exfiltrate",
    r"leak",
    r"submit",
    r"copy",
    r"share",
    r"report",
    r"deliver",
    r"envía\w*",
    r"envia\w*",
    r"sende\w*",
    r"schicke\w*",
    r"envoie\w*",
    r"envoy\w*",
    r"invia\w*",
)
_ADDRESS = r"(?:[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,5}|https?://[^\s\"'<>)]{3,200}|www\.[\w-]{1,63}\.\w{2,})"
_SECRET_THING = words(
    r"(?:system\s+|initial\s+|original\s+|hidden\s+|secret\s+|full\s+|entire\s+)?prompt(?:\s+texts?)?",
    r"(?:hidden\s+|secret\s+|initial\s+|original\s+|system\s+)instructions",
    r"password",
    r"passphrase",
    r"pass\s?code",
    r"secret(?:\s+(?:key|string|code|word))?",
    r"confidential\s+\w+",
    r"api\s+key",
    r"credentials",
    r"passwort",
    r"kennwort",
    r"contraseña",
)
_REVEAL_VERB = words(
    r"show",
    r"reveal",
    r"print",
    r"repeat",
    r"output",
    r"display",
    r"tell",
    r"give",
    r"leak",
    r"share",
    r"write\s+(?:out|down)?",
    r"list",
    r"spell",
    r"disclose",
    r"expose",
    r"dump",
    r"provide",
    r"confirm",
    r"what\s+(?:is|are|was|were)",
    r"what'?s",
    r"zeige?",
    r"nenne",
    r"gib",
    r"verrate?",
    r"was\s+ist",
)
_PERSONAL_ATTR = words(
    r"e-?mail(?:\s+address)?",
    r"birth\s?(?:date|day)",
    r"date\s+of\s+birth",
    r"(?:home\s+)?address",
    r"phone(?:\s+number)?",
    r"social\s+security\s+number",
    r"ssn",
    r"password",
    r"salary",
    r"bank\s+(?:balance|account)",
    r"credit\s+card(?:\s+number)?",
    r"(?:current\s+)?(?:city|place)\s+of\s+residence",
    r"favou?rite\s+colou?r",
    r"medical\s+(?:history|records?)",
    r"location",
    r"initials",
    r"(?:full\s+|first\s+|last\s+)?name",
    r"birth\s+(?:year|month|place)",
    r"age",
    r"(?:home\s+)?town",
)

# ------------------------------------------------------------------ detector functions

_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u202a-\u202e\u2066-\u2069\U000e0000-\U000e007f]")


def _invisible_characters(text: str, context: Context) -> Iterator[Hit]:
    """Invisible or direction-changing characters: a reader cannot see what the model will."""
    found = _ZERO_WIDTH.findall(text)
    if not found:
        return
    first = _ZERO_WIDTH.search(text)
    assert first is not None
    tags = sum(1 for ch in found if ord(ch) >= 0xE0000)
    # Unicode tag characters spell hidden ASCII; a few zero-width joiners are normal in emoji.
    severity = "high" if tags or len(found) >= 3 else "low"
    yield Hit(
        "hidden_text",
        severity,
        first.start(),
        first.end(),
        f"contains {len(found)} invisible or direction-changing character(s) that can hide instructions",
    )


_ENCODED_HINT = re.compile(r"[A-Za-z0-9+/]{24}|(?:[0-9A-Fa-f]{2}[ :]?){16}")
_BASE64_RUN = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{24,4000}={0,2}(?![A-Za-z0-9+/])")
_HEX_RUN = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[ :]?){16,2000}(?![0-9A-Fa-f])")


def _decoded_payloads(text: str, context: Context) -> Iterator[Hit]:
    """Base64 or hex runs that decode to readable text which itself reads as an injection."""
    if _ENCODED_HINT.search(text) is None:
        return
    for pattern, decode in ((_BASE64_RUN, _b64), (_HEX_RUN, _hex)):
        for match in pattern.finditer(text):
            chunk = match.group(0)
            if pattern is _BASE64_RUN and not (re.search(r"[a-z]", chunk) and re.search(r"[A-Z]", chunk)):
                continue  # identifiers and hashes are single-case; real base64 mixes cases
            plain = decode(chunk)
            if not plain or sum(ch.isprintable() or ch.isspace() for ch in plain) < 0.95 * len(plain):
                continue
            # A fresh context: the gates must see the decoded text, not the encoded one.
            inner = Context(source=context.source, scope_level=context.scope_level)
            if any(hit.severity in ("high", "critical") for hit in SCANNER.hits(plain, inner)):
                yield Hit(
                    "encoded_payload",
                    "high",
                    match.start(),
                    match.end(),
                    f"an encoded string decodes to an injection: {plain[:80]!r}",
                )
                return


def _b64(chunk: str) -> str:
    try:
        return base64.b64decode(chunk + "=" * (-len(chunk) % 4), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return ""


def _hex(chunk: str) -> str:
    try:
        return bytes.fromhex(re.sub(r"[ :]", "", chunk)).decode("utf-8")
    except ValueError:
        return ""


_SPACED = re.compile(r"(?<!\S)(?:\w\s){14,}\w(?!\S)")


def _spaced_letters(text: str, context: Context) -> Iterator[Hit]:
    """Fifteen or more single characters separated by spaces: text spelled out to dodge filters."""
    match = _SPACED.search(text)
    if match and sum(ch.isalpha() for ch in match.group(0)) >= 12:
        yield Hit(
            "obfuscated_request",
            "high",
            match.start(),
            match.end(),
            "text spelled out letter by letter to evade filters",
        )


_REPEAT = re.compile(r"(\b\S{1,30}\b)(?:\s+\1\b){19,}")


def _repeated_tokens(text: str, context: Context) -> Iterator[Hit]:
    """The same token twenty or more times in a row: a flooding trick to push a model off its prompt."""
    tokens = text.split()
    if len(tokens) - len(set(tokens)) < 19:
        return  # fewer than 19 repeated tokens in total: no run of 20 is possible
    match = _REPEAT.search(text)
    if match:
        yield Hit(
            "flooding", "medium", match.start(), match.end(), "the same token repeated 20+ times (context flooding)"
        )


# ------------------------------------------------------------------ rules

RULES = [
    rule(
        "instruction_override",
        "critical",
        rf"\b{_OVERRIDE_VERB}\b[^.!?\n]{{0,40}}?\b{_OVERRIDE_QUALIFIER}\b[^.!?\n]{{0,30}}?\b{_OVERRIDE_TARGET}\b",
        "tells the agent to ignore or replace its instructions",
        gate=(
            "ignor",
            "disregard",
            "forget",
            "skip",
            "overrid",
            "bypass",
            "discard",
            "drop",
            "abandon",
            "neglect",
            "overlook",
            "aside",
            "throw",
            "erase",
            "clear",
            "reset",
            "delete",
            "remove",
            "follow",
        ),
        # "Do not ignore previous errors" and the like are not overrides; the target noun list is
        # what keeps this specific, so only a clause that negates the verb itself is let through.
        negatable=True,
    ),
    rule(
        "instruction_override",
        "critical",
        r"\b(?:forget|ignore|disregard)\s+(?:about\s+)?(?:all\s+)?(?:everything|all\s+that|that|this|it\s+all|(?:the\s+)?above)"
        r"(?:\s*[,!:]|\s+and\b|\b[^.!?\n]{0,40}?\b(?:before|above|so\s+far|previously|said|told|discussed)\b)"
        r"|\b(?:regardless\s+of|despite|contrary\s+to|instead\s+of\s+following)\s+(?:any\s+|all\s+|the\s+|your\s+|what\s+)?"
        r"(?:previous|prior|earlier|above|original|you'?ve\s+been\s+told|you\s+were\s+told|I\s+(?:said|told\s+you))\b",
        "tells the agent to forget what it was told",
        gate=("forget", "ignore", "disregard", "regardless", "despite", "contrary", "instead of"),
    ),
    rule(
        "instruction_override",
        "critical",
        _OVERRIDE_FOREIGN,
        "tells the agent to ignore its previous instructions (non-English)",
        gate=(
            "ignor",
            "vergiss",
            "vergessen",
            "missacht",
            "höre",
            "hör",
            "olvid",
            "descart",
            "omite",
            "oublie",
            "dimentica",
            "esque",
            "negeer",
            "vergeet",
            "игнор",
            "забуд",
            "تجاهل",
            "انس",
            "忽",
            "无视",
            "忘记",
            "abweichend",
            "entgegen",
            "hinter sich",
            "zaboravi",
            "zanemari",
        ),
    ),
    rule(
        "instruction_override",
        "high",
        r"\b(?:ignore|disregard|forget)\s+(?:the|this|that)\s+(?:\w+\s+){0,2}?(?:and|,)\s+(?:instead\s+)?"
        r"(?:say|state|write|print|output|tell|respond|reply|answer|claim|declare|repeat)\b",
        "tells the agent to drop the data it was given and say something else",
        gate=("ignore", "disregard", "forget"),
    ),
    rule(
        "instruction_override",
        "high",
        r"\b(?:(?:your|the|a|my)\s+new\s+(?:task|assignment|instructions?|objective|goal|mission|role|orders?)\b\s*(?:is|are|:)"
        r"|(?:focus|concentrate)\s+on\s+(?:your|the|a|my)\s+new\s+(?:task|assignment|instructions?)"
        r"|new\s+(?:instructions?|tasks?|rules?)\s*:|(?:but\s+)?now\s+(?:come|comes|follow)s?\s+(?:new|further|more|other)\s+(?:tasks?|instructions?)"
        r"|(?:new|additional|updated|extra|secret|hidden|real)\s+(?:instruction|statement|command|directive|order)s?\s*[-:–]"
        r"|\b(?:change|update|replace|rewrite|reset)\s+your\s+(?:instructions|rules|prompt|directions|guidelines|programming)\b"
        r"|\byour\s+(?:new\s+)?(?:instructions|task|job|role|purpose|directive)\s+(?:is|are)\s+now\b"
        r"|\bstop\s*[-:!–]+\s*(?:write|say|print|output|answer)\b|\b(?:that\s+is|that'?s)\s+(?:enough|done)\.\s+now\b"
        r"|\bnun\s+folgen\s+(?:neue|weitere)\s+(?:aufgaben|anweisungen)|(?:das\s+genügt|das\s+ist\s+erledigt)\.\s+\w+\s+nun\b"
        r"|={3,}\s*END\b|\brepeat\s+after\s+me\b"
        r"|\b(?:respond|reply|answer)\s+(?:to\s+)?(?:all|every|any|each)\s+(?:questions?|prompts?|messages?|requests?)\s+(?:with|by\s+saying)\b"
        r"|\b(?:answer|respond|reply)\s+(?:every|each|all)\s+questions?\s+with\b)",
        "announces a new task or new instructions for the agent",
        gate=(
            "new",
            "further",
            "more",
            "other",
            "additional",
            "updated",
            "extra",
            "secret",
            "hidden",
            "real",
            "your",
            "stop",
            "enough",
            "done",
            "folgen",
            "genügt",
            "erledigt",
            "===",
            "repeat",
            "all",
            "every",
            "any",
            "each",
        ),
    ),
    rule(
        "persona_hijack",
        "high",
        r"\b(?:you\s+are\s+now(?!\s+\w+(?:ed|ing)\b)|you'?re\s+now(?!\s+\w+(?:ed|ing)\b)|now\s+you\s+are|you\s+are\s+no\s+longer|pretend\s+you\s+(?:can|have|are)|(?:jetzt|nun)\s+bist\s+du|from\s+now\s+on,?\s+you(?:\s+are|'re|\s+will|\s+must)"
        r"|pretend\s+(?:to\s+be|you\s+are|that\s+you)|du\s+bist\s+(?:jetzt|nun|ab\s+jetzt)|ab\s+jetzt\s+bist\s+du"
        r"|tu\s+es\s+maintenant|ahora\s+eres)\b",
        "gives the assistant a new identity",
        gate=("now", "no longer", "pretend", "bist du", "du bist", "maintenant", "ahora"),
    ),
    rule(
        "persona_hijack",
        "high",
        r"\b(?:do\s+anything\s+now|DAN\s+mode|jailbr(?:ea|o)k(?:en|ed)?|(?:developer|god|admin|sudo|unrestricted|unfiltered|"
        r"uncensored|evil|system)\s+mode(?:\s+(?:enabled|activated|on))?|system\s+(?:override|reset)|"
        r"no\s+(?:ethical|moral|content)\s+(?:guidelines|restrictions|filters?|limits)|without\s+any\s+(?:restrictions|filters?|censorship))\b",
        "tries to switch the assistant into an unrestricted mode",
        gate=("anything", "dan", "jailbr", " mode", "override", "reset", "ethical", "moral", "content", "without any"),
    ),
    rule(
        "persona_hijack",
        "high",
        r"\b(?:enter(?:s|ing)?|activat\w+|enabl\w+|switch\w*\s+(?:to|into)|now\s+in|initiat\w+)\s+(?:\w+\s+){0,3}?"
        r"(?:override|admin|god|developer|unrestricted|root|sudo|jailbreak|dan)\s+mode\b",
        "announces an override mode",
        gate=(" mode",),
    ),
    rule(
        "persona_hijack",
        "medium",
        r"\b(?:imagine|suppose)\s+(?:that\s+)?(?:you'?re|you\s+are|we'?re|we\s+are)\b|\bstell\s+dir\s+vor,?\s+du\s+bist\b|"
        r"\byou\s+are\s+role-?playing\b|\blet'?s\s+play\s+a\s+game\s+where\s+you\b|\bI\s+want\s+you\s+to\s+act\s+as\b|"
        r"\bich\s+möchte,\s+dass\s+sie\s+als\b|\bjust\s+for\s+a\s+hypothetical\b|\bhypothetically\b",
        "a role-play or hypothetical framing for the assistant",
        gate=("imagine", "suppose", "stell dir", "role", "play a game", "act as", "möchte", "hypothetical"),
    ),
    rule(
        "role_marker",
        "high",
        r"<\|(?:im_start|im_end|system|user|assistant|endoftext|begin_of_text|start_header_id|eot_id)\|>|\[/?INST\]|<<\/?SYS>>"
        r"|<\s*/?\s*(?:SYSTEM|GOD|ADMIN|DEVELOPER)(?:\s+(?:MODE|MESSAGE|PROMPT|OVERRIDE))?\s*>|^\s*#{2,}\s*(?:system|instruction)s?\s*:?\s*$"
        r"|\[(?:system|SYSTEM)\]\s*\(#",
        "contains a chat-template role marker that forges a system or assistant turn",
        gate=("<|", "inst]", "<<", "<", "##", "[system]"),
        flags=re.IGNORECASE | re.MULTILINE,
    ),
    rule(
        "role_marker",
        "medium",
        r"(?:^|\n)\s*(?:system|assistant|human|user|ai)\s*:\s*\S[^\n]{0,200}\n[^\n]{0,400}?(?:^|\n)\s*(?:assistant|ai|system|human)\s*:",
        "contains forged conversation turns",
        gate=(":",),
        escalate_if=rf"\b{_SECRET_THING}\b|\b{_OVERRIDE_VERB}\b",
    ),
    rule(
        "prompt_extraction",
        "high",
        rf"\b{_REVEAL_VERB}\b[^.!?\n]{{0,25}}?\b(?:me\s+)?(?:all\s+)?(?:of\s+)?(?:your|the|das|dein(?:e|en)?|ihr(?:e|en)?)\s+{_SECRET_THING}\b",
        "asks for the hidden prompt, a password or another secret",
        gate=(
            "prompt",
            "instructions",
            "passw",
            "passphrase",
            "pass code",
            "passcode",
            "secret",
            "confidential",
            "api key",
            "credentials",
            "kennwort",
            "contraseña",
        ),
        negatable=True,
    ),
    rule(
        "prompt_extraction",
        "high",
        r"\b(?:what\s+(?:is|was)\s+written|print|repeat|show|output|display|spell-?check|reveal|return)\b[^.!?\n]{0,40}?"
        r"\b(?:(?:the\s+)?(?:text|prompt|words|sentences|instructions)\s+above|above\s+(?:prompt|text)|at\s+the\s+(?:beginning|start)\s+of\s+"
        r"(?:this|the|your)\s+(?:prompt|conversation|text)|your\s+(?:embeddings|weights|system\s+message|initial\s+prompt))"
        r"|\bobige\s+(?:eingabeaufforderung|anweisung|text)\b|\bwhat\s+(?:is|was)\s+written\s+above\b",
        "asks the assistant to repeat the text before the user's (its prompt)",
        gate=("above", "beginning", "start of", "embeddings", "weights", "system message", "initial prompt", "obige"),
    ),
    rule(
        "prompt_extraction",
        "high",
        r"\b(?:your|our|ihr|dein|deine|sua|su|tu|votre|ton)\s+(?:system\s+|admin\s+|secret\s+)?(?:password|passwort|kennwort|senha|contraseña|"
        r"mot\s+de\s+passe|passphrase|pass\s?code|api\s+key|secret\s+key)\b[^.!\n]{0,80}?\?"
        r"|\b(?:ask(?:ing)?\s+for|share|give|tell|send|geben|compartilh\w+|compart\w+|donne\w*)\b[^.!?\n]{0,30}?"
        r"\b(?:your|our|ihr|dein|deine|sua|su|tu|votre|ton)\s+(?:system\s+)?(?:password|passwort|kennwort|senha|contraseña|mot\s+de\s+passe|passphrase)\b",
        "asks for the assistant's or the system's password",
        gate=(
            "passw",
            "kennwort",
            "senha",
            "contraseña",
            "mot de passe",
            "passphrase",
            "pass code",
            "passcode",
            "api key",
            "secret key",
        ),
        negatable=True,
    ),
    rule(
        "data_extraction",
        "high",
        # Case matters for the name (a capitalised word), not for the rest of the sentence.
        rf"(?i:\b(?:{_REVEAL_VERB}|send|where\s+does|know|encode|translate|use|using|write|can\s+you|could\s+you)\b[^.!?\n]{{0,40}}?)\b(?:[A-Z][a-z]+|(?i:the\s+(?:user|customer|patient|employee)))'s\s+"
        rf"(?i:{_PERSONAL_ATTR})\b",
        "asks for a named person's personal data",
        gate=("'s ",),
        negatable=True,
        flags=0,
    ),
    rule(
        "output_manipulation",
        "high",
        rf"{_YOUR_OUTPUT}[^.!?\n]{{0,60}}?\b{_OBFUSCATION}|\b{_OBFUSCATION}[^.!?\n]{{0,60}}?{_YOUR_OUTPUT}",
        "tells the assistant to encode, scramble or disguise its reply",
        gate=("your",),
        negatable=True,
    ),
    rule(
        "output_manipulation",
        "high",
        rf"\b(?:reply|respond|answer|write|render|encode|convert|provide\s+(?:the\s+)?(?:answer|response))\b[^.!?\n]{{0,30}}?\b(?:using|in|with|into|as)\s+"
        rf"(?:\w+\s+){{0,2}}?{_OBFUSCATION}",
        "tells the assistant to reply in an encoded or scrambled form",
        gate=(
            "base",
            "hex",
            "rot",
            "binary",
            "morse",
            "pig latin",
            "leet",
            "cipher",
            "encrypt",
            "anagram",
            "revers",
            "backward",
            "emoji",
            "misspell",
            "typo",
            "scrambl",
            "spaces",
            "shift each",
            "replace",
            "numbers for",
            "symbols for",
            "digits for",
            "group",
            "rearrange",
            "every",
            "homophonic",
            "substitut",
            "jumbl",
            "invert",
            "interlac",
            "keyboard",
            "vowels",
            "each",
            "separated by",
        ),
        negatable=True,
    ),
    rule(
        "output_manipulation",
        "high",
        rf"\b(?:enhance|augment|enrich|improve|supplement|embellish|spice\s+up|pad)\s+{_YOUR_OUTPUT}\s+(?:by|with)\b",
        "tells the assistant to pad its reply with unrelated content",
        gate=("your",),
        negatable=True,
    ),
    rule(
        "output_manipulation",
        "high",
        rf"\b{_INSERT_VERB}\b[^.!?\n]{{0,40}}?\b{_FOREIGN_CONTENT}\b[^.!?\n]{{0,80}}?\b(?:in|into|to|within|throughout|at\s+the\s+end\s+of)\s+{_YOUR_OUTPUT}"
        rf"|\b(?:in|into|to|within|throughout)\s+{_YOUR_OUTPUT},?\s+(?:\w+\s+){{0,2}}?(?:{_INSERT_VERB})\b"
        rf"|\b{_INSERT_VERB}\s+(?:in|into|to)\s+{_YOUR_OUTPUT}"
        rf"|\b(?:modify|alter|change|adjust|tweak|rewrite)\s+{_YOUR_OUTPUT}\s+(?:so\s+as\s+)?to\b"
        rf"|\b{_INSERT_VERB}\s+[\"“'][^\"”\n]{{1,200}}[\"”']\s*(?:\S+\s+){{0,6}}?(?:to|in|into)\s+{_YOUR_OUTPUT}"
        rf"|\b{_INSERT_VERB}\s+(?:\S+\s+){{0,14}}?(?:to|in|into|within)\s+{_YOUR_OUTPUT}",
        "tells the assistant to slip unrelated content into its reply",
        gate=("your",),
        negatable=True,
        flags=re.IGNORECASE | re.MULTILINE,
    ),
    rule(
        "output_manipulation",
        "medium",
        rf"\b(?:{_INSERT_VERB}|use|utili[sz]e|employ|blend|meld|absorb|enlist|leverage|render|feature|ensure|supplement|enhance|augment|introduce|addition)\w*[^\n]{{0,80}}?"
        r"\b(?:the\s+)?(?:following|below|subsequent|above|given)\s+code(?:\s+(?:snippet|block|excerpt|section|segment|fragment))?"
        r"|\bthe\s+(?:following|below|subsequent)\s+(?:snippet|code\s+\w+|block|excerpt)\b[^\n]{0,80}?\b(?:your|the)\s+(?:code|implementation|solution|codebase|program|response|answer|algorithm|script)",
        "tells the assistant to paste given code into its work",
        gate=("following", "below", "subsequent", "above", "given"),
        # Harmless on its own (tutorials say "add the following code"); strong when the code
        # touches the network, processes or the file system.
        escalate_if=rf"{_YOUR_WORK}|\b(?:socket|requests\.(?:get|post|put)|urllib|subprocess|os\.(?:system|popen|remove|dup2|environ|fork)|shutil\.(?:rmtree|move)"
        r"|ftplib|smtplib|paramiko|http\.cookiejar|pyautogui|psutil|win32\w+|pynput|keyboard|cryptography|exec\(|eval\()",
    ),
    rule(
        "exfiltration",
        "critical",
        rf"\b{_TRANSFER_VERB}\b[^.!?\n]{{0,80}}?(?:\bto|\ban|à|\bnach)\s+{_ADDRESS}",
        "tells the agent to send data to an outside address",
        gate=("@", "http", "www."),
        negatable=True,
    ),
    rule(
        "exfiltration",
        "critical",
        r"!\[[^\]\n]{0,100}\]\(\s*https?://[^)\s]{1,200}[?&][\w.-]{1,40}=[^)\s]{0,200}\)",
        "a markdown image whose URL carries data (renders as a silent request to an outside server)",
        gate=("!", "["),
    ),
    rule(
        "link_injection",
        "medium",
        rf"\b(?:click|visit|download|go\s+to|check\s+out|claim|sign\s+up|register|follow\s+this\s+link|log\s+in\s+at|reset\s+your\s+password)\b"
        rf"[^.!?\n]{{0,60}}?{_ADDRESS}|{_ADDRESS}[^.!?\n]{{0,40}}?\b(?:to\s+claim|to\s+boost|to\s+win|for\s+free)\b",
        "a call to action pointing at a link",
        gate=("@", "http", "www."),
        escalate_if=r"\b(?:free|won|win|winning|winnings|lottery|prize|urgent|virus|boost|claim|compromised|suspended|"
        r"weird\s+trick|believe|limited[- ]time|act\s+now|verify\s+your\s+account|reset\s+your\s+password)\b",
    ),
    rule(
        "hidden_instruction",
        "high",
        r"<!--(?:(?!-->).){0,400}?\b(?:say|state|tell|respond|reply|answer|print|write|output|ignore|follow|click|send|"
        r"instead|must|should|assistant|AI|model)\b(?:(?!-->).){0,400}?-->",
        "an HTML comment carries instructions a human reader never sees",
        gate=("<!--",),
        flags=re.IGNORECASE | re.DOTALL,
    ),
    rule(
        "hidden_instruction",
        "high",
        r"\b(?:to\s+make\s+this\s+more\s+interesting|(?:suppose|imagine|pretend|in\s+a\s+world\s+where|hypothetically)\b[^.!?\n]{0,80}?"
        r"\b(?:ignore|we\s+(?:might|could|would)\s+(?:say|state))|(?:we\s+might|let'?s)\s+(?:say|state)\b[^.!?\n]{0,40}?:)",
        "a hypothetical framing used to make the assistant state something",
        gate=("interesting", "suppose", "imagine", "pretend", "world where", "hypothetically", "might", "let"),
    ),
    rule(
        "addressed_to_ai",
        "medium",
        r"(?:^|[\s(\[{>])(?:dear|hey|hi|hello|attention|note\s+to(?:\s+the)?|message\s+(?:to|for)(?:\s+the)?|instructions?\s+for(?:\s+the)?)\s+"
        r"(?:AI|assistant|chatbot|language\s+model|LLM|GPT|model|agent|bot)s?\b",
        "speaks directly to the AI reading this text",
        gate=("ai", "assistant", "chatbot", "model", "llm", "gpt", "agent", "bot"),
        escalate_if=rf"\b{_OVERRIDE_VERB}\b|\b{_TRANSFER_VERB}\b",
    ),
    rule(
        "addressed_to_ai",
        "high",
        r"(?:^|[\s(\[{>])(?:dear|hey|hi|hello|attention|note\s+to(?:\s+the)?|message\s+(?:to|for)(?:\s+the)?)\s+"
        r"(?:AI|assistant|chatbot|language\s+model|LLM|GPT|model|agent|bot)s?\b",
        "data that speaks directly to the AI reading it",
        gate=("ai", "assistant", "chatbot", "model", "llm", "gpt", "agent", "bot"),
        sources=("document", "tool_output"),
    ),
    rule(
        "authority_claim",
        "high",
        r"\b(?:as\s+your\s+(?:creator|developer|administrator|admin|owner|operator|maker|programmer)"
        r"|I\s+am\s+(?:your|the)\s+(?:creator|developer|administrator|admin|owner|operator|system|programmer)"
        r"|I'?m\s+(?:God|your\s+(?:creator|developer|admin))|I\s+am\s+God"
        r"|(?:message|order|instruction)s?\s+from\s+(?:the\s+)?(?:system|administrator|developers?|OpenAI|Anthropic|your\s+creators?))\b",
        "claims to speak for the assistant's developer or operator",
        gate=("as your", "i am", "i'm", "im god", "from"),
    ),
    rule(
        "payload_splitting",
        "medium",
        r"\b(?:combine|concatenate|join)\s+(?:strings?\s+)?[A-Za-z]\s*,\s*[A-Za-z]\s*,?\s*(?:and\s+)?[A-Za-z]\b"
        r"|\b[a-z]\s*=\s*[a-z]\s*\+\s*[a-z](?:\s*\+\s*[a-z])*\b[^\n]{0,80}?\b(?:write|print|answer|say|return|give)\b",
        "splits a request into pieces to be reassembled (payload splitting)",
        gate=("combine", "concatenate", "join", "+"),
        escalate_if=rf"\b{_SECRET_THING}\b|\bno\s+special\s+filtering\b|\bSmartGPT\b|\bunlocks?\b",
    ),
    rule(
        "obfuscated_request",
        "medium",
        r"\b(?:decode|decipher|decrypt|translate|interpret)\s+(?:this|the\s+following|these)\s+(?:\w+\s+){0,2}?"
        r"(?:hex(?:adecimal)?|base\s?64|morse|binary|cipher(?:text)?|rot-?13|encoded|string)\b",
        "asks the assistant to decode a hidden message",
        gate=("decode", "decipher", "decrypt", "translate", "interpret"),
        escalate_if=r"\b(?:and|then)\s+(?:tell|follow|do|execute|answer|reply|respond|act)\b",
    ),
    rule(
        "few_shot_forgery",
        "medium",
        r"(?:\bQ:\s[^\n]{1,400}?\bA:\s[^\n]{1,600}?){3}",
        "a run of forged question/answer turns (few- or many-shot steering)",
        gate=("q:",),
        escalate_if=rf"\b{_SECRET_THING}\b|\bsystem\s+(?:override|control)\b|\bbypass\w*\b",
    ),
]

SCANNER = Scanner(
    name=NAME,
    categories={
        "instruction_override": "ignore / forget / replace the agent's instructions (many languages)",
        "persona_hijack": "a new identity or an unrestricted mode for the assistant",
        "role_marker": "forged chat-template or conversation role markers",
        "prompt_extraction": "requests for the hidden prompt, passwords or secrets",
        "data_extraction": "requests for a named person's personal data",
        "output_manipulation": "directives that disguise the reply or slip foreign content or code into it",
        "exfiltration": "sending data to an outside address; data-carrying image links",
        "link_injection": "calls to action pointing at links, lures",
        "hidden_instruction": "instructions in HTML comments or hypothetical framings",
        "hidden_text": "invisible or direction-changing Unicode",
        "encoded_payload": "base64 / hex strings that decode to an injection",
        "addressed_to_ai": "text that speaks to the AI reading it",
        "authority_claim": "claims to be the assistant's developer, creator or operator",
        "payload_splitting": "a request split into pieces to reassemble",
        "obfuscated_request": "asks to decode a hidden message",
        "few_shot_forgery": "forged Q/A turns that steer the model",
        "flooding": "repeated tokens that push the prompt out of context",
        "combined_signals": "several weak signals in one text",
    },
    detectors=[*RULES, _invisible_characters, _spaced_letters, _repeated_tokens, _decoded_payloads],
    combine=(2, "combined_signals", "high", "several weak injection signals together"),
)


@hookimpl
def settings_model() -> Any:
    """Thresholds and category switches for ``[plugins.immune-injection]``."""
    return SCANNER.settings_model()


@hookimpl
def scan(request: Any, settings: Any) -> list[Any]:
    """Findings of prompt-injection evidence in ``request.text``."""
    return SCANNER.scan(request, settings)
