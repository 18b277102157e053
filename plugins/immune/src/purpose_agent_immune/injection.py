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
  that decode to instructions (base64, hex, binary, Caesar/ROT13), injections behind look-alike
  letters, leetspeak or zero-width characters;
* memory-specific: a lesson is advice for future tasks, so text that dictates the *reply to a
  user* (its language or persona, a forced answer, a claim to assert, a trigger phrase, made-up
  content) is out of place in it (``reply_control``); so are threats and bribes aimed at the
  model (``coercion``);
* forged structure: role labels that speak to the model, escaped-newline runs, ``… OVERRIDE``
  banners, Q/A transcripts and scripted dialogues that end on an open turn.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

from .detectors import Context, Hit, Scanner, prepare, rule, words

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
    r"(?:olvid\w*|ignor[ae]r?)\s+todo\b",
    r"(?:ignorez|ignore|ignora|ignoriere|ignorier|oubliez|olvida)\s+(?:\w+\s+){0,3}?(?:et|y|e|und)\s+(?:indiquez|dites|écrivez|affirmez|di|dí|diga|escribe|indica|sag|schreib)\w*",
    r"(?:игнорир\w*|проигнорир\w*)[^.!?\n]{0,60}?(?:инструкци|предыдущ|указани)",
    r"(?:αγνο\w+)[^.!?\n;]{0,60}?(?:οδηγ|προηγο|εντολ)",
    r"(?:지시|명령|지침)[^.!?\n]{0,20}?무시|무시[^.!?\n]{0,20}?(?:지시|명령|지침)",
    r"(?:निर्देश|आदेश)[^।.!?\n]{0,40}?(?:अनदेखी|अनदेखा|नज़रअंदाज़|नजरअंदाज|भूल)",
    r"(?:指示|命令|指令)[^。！？\n]{0,20}?無視|無視して",
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
    r"base\s?(?:64|62|58|36|32|16|85)",
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

# ------------------------------------------------------------------ memory-specific: a lesson that dictates the reply
#
# A lesson is advice for future tasks. Text that dictates what the agent tells a *user* (the
# language or persona of the reply, a forced answer, a claim to assert, a reply triggered by a
# phrase) is not advice about doing a task: it is the shape of the BIPIA / MINJA poisonings.

# Natural languages a poisoned lesson switches the reply to. English is left out on purpose: it is
# the working language of most agent rules ("Write comments in English"), and forcing it harms no one.
_LANGUAGE = words(
    r"spanish",
    r"french",
    r"german",
    r"italian",
    r"portuguese",
    r"russian",
    r"chinese",
    r"mandarin",
    r"cantonese",
    r"japanese",
    r"korean",
    r"arabic",
    r"hindi",
    r"dutch",
    r"swedish",
    r"norwegian",
    r"danish",
    r"finnish",
    r"polish",
    r"czech",
    r"turkish",
    r"greek",
    r"hebrew",
    r"latin",
    r"klingon",
    r"esperanto",
    r"swahili",
    r"vietnamese",
    r"thai",
    r"indonesian",
    r"ukrainian",
    r"romanian",
    r"hungarian",
    r"persian",
    r"farsi",
    r"urdu",
    r"bengali",
    r"tamil",
    r"yiddish",
    r"elvish",
    r"spanisch",
    r"franz[öo]sisch",
    r"deutsch",
    r"italienisch",
    r"russisch",
    r"chinesisch",
    r"japanisch",
    r"espa[ñn]ol",
    r"fran[çc]ais",
    r"allemand",
    r"alem[áa]n",
    r"italiano",
    r"portugu[êe]s",
)
_REPLY_VERB = words(
    r"reply",
    r"replies",
    r"replying",
    r"respond",
    r"responds",
    r"responding",
    r"answer",
    r"answers",
    r"answered",
    r"answering",
    r"speak",
    r"talk",
    r"communicate",
    r"antworte\w*",
    r"beantworte\w*",
    r"rede",
    r"reden",
    r"sprich",
    r"r[ée]pond(?:s|ez)?",
    r"responde\w*",
    r"contesta\w*",
)
_LANGUAGE_GATE = (
    "spanish",
    "french",
    "german",
    "italian",
    "portuguese",
    "russian",
    "chinese",
    "mandarin",
    "cantonese",
    "japanese",
    "korean",
    "arabic",
    "hindi",
    "dutch",
    "swedish",
    "norwegian",
    "danish",
    "finnish",
    "polish",
    "czech",
    "turkish",
    "greek",
    "hebrew",
    "latin",
    "klingon",
    "esperanto",
    "swahili",
    "vietnamese",
    "thai",
    "indonesian",
    "ukrainian",
    "romanian",
    "hungarian",
    "persian",
    "farsi",
    "urdu",
    "bengali",
    "tamil",
    "yiddish",
    "elvish",
    "spanisch",
    "französisch",
    "franzosisch",
    "deutsch",
    "italienisch",
    "russisch",
    "chinesisch",
    "japanisch",
    "español",
    "espanol",
    "français",
    "francais",
    "allemand",
    "alemán",
    "aleman",
    "portugués",
    "portugues",
    "portuguê",
)

REPLY_RULES = [
    rule(
        "reply_control",
        "high",
        r"\byou\s+(?:must|will|shall|should|have\s+to|are\s+to)\s+(?:now\s+)?(?:always\s+|only\s+)?(?:say|respond|reply|answer|output|print|write)\s+(?:with\s+|only\s+)?[\"“'«]"
        r"|\b(?:always|only)\s+(?:say|respond\s+with|reply\s+with|answer\s+with|output)\s*:?\s*[\"“'«]"
        r"|\b(?:sag(?:e|en\s+sie)?|behaupte|schreib(?:e)?)\s+(?:mir\s*)?,?\s*dass\s+[^.!?\n]{1,60}?\b(?:der|die|das)\s+(?:beste|schlechteste|größte|schlimmste)"
        r"|\b(?:dis|dites|di|diga)\s+que\s+[^.!?\n]{1,60}?\b(?:est|es)\s+(?:le|la|el|lo)\s+(?:meilleur|mejor|pire|peor)",
        "dictates a fixed text or claim for the agent's reply",
        gate=(
            "say",
            "respond",
            "reply",
            "answer",
            "output",
            "print",
            "write",
            "sag",
            "behaupte",
            "schreib",
            "dis ",
            "dites",
            "di que",
            "dí que",
            "diga",
        ),
        negatable=True,
    ),
    rule(
        "instruction_override",
        "high",
        r"\b(?:ab\s+jetzt|von\s+nun\s+an|ab\s+sofort)\s*,?\s+(?:\w+\s+){0,3}?(?:(?:du|sie)\s+(?:bist|sind|antwortest|antworten|wirst|werden|sollst|sollen|musst|müssen)|(?:bist|antwortest|wirst|sollst|musst)\s+du)\b"
        r"|\bà\s+partir\s+de\s+maintenant\s*,?\s+(?:tu|vous)\s+(?:es|êtes|r[ée]pond\w*|dois|devez|vas|allez)\b"
        r"|\b(?:de\s+ahora\s+en\s+adelante|a\s+partir\s+de\s+ahora)\s*,?\s+(?:t[úu]\s+|usted\s+)?(?:eres|es|ser[áa]s|responde\w*|dir[áa]s|debes|debe)\b"
        r"|\b(?:neue|weitere)\s+(?:anweisungen|instruktionen|aufgaben?)\s*:|\bnouvelles?\s+(?:instructions?|consignes?|t[âa]ches?)\s*:|\bnuevas?\s+(?:instrucciones|tareas?|[óo]rdenes)\s*:",
        "gives the agent new standing instructions (German, French, Spanish)",
        gate=("jetzt", "nun an", "sofort", "partir", "ahora", "neue", "weitere", "nouvelle", "nueva"),
    ),
    rule(
        "reply_control",
        "high",
        rf"{_YOUR_OUTPUT}[^.!?\n]{{0,30}}?\b(?:in|into|to)\s+(?:the\s+)?{_LANGUAGE}\b"
        rf"|\b(?:translate|render|write|provide|give|deliver|present|compose)\s+{_YOUR_OUTPUT}\s+(?:in|into|to)\s+(?:the\s+)?{_LANGUAGE}\b"
        rf"|\b{_REPLY_VERB}\s+(?:\w+\s+){{0,3}}?(?:in|auf|en|in\s+the)\s+{_LANGUAGE}\b"
        rf"|\b(?:auf|in)\s+{_LANGUAGE}\s+(?:antworten|antworte|antwortest|reden|schreiben)\b",
        "dictates the language of the agent's reply to the user (a lesson has no reason to)",
        gate=_LANGUAGE_GATE,
        negatable=True,
    ),
    rule(
        "reply_control",
        "high",
        rf"\b{_REPLY_VERB}\b[^.!?\n]{{0,50}}?\b(?:in\s+the\s+(?:style|voice|manner|persona)\s+of|(?:like|as)\s+(?:a|an)\s+(?:pirate|cowboy|gangster|thug|drunk\w*|child|toddler|villain|\w+\s+gentleman)"
        r"|as\s+if\s+you\s+(?:were|are)|im\s+stil(?:e)?\s+(?:eines|einer|eine|von|des|der)|wie\s+ein(?:e|er)?\s+\w+)\b"
        r"|\b(?:in\s+the\s+(?:style|voice)\s+of\s+(?:a|an)\s+[^.!?\n]{1,40}?|im\s+stil(?:e)?\s+(?:eines|einer|eine)\s+\w+)\s*[,:]?\s*\b(?:"
        + _REPLY_VERB
        + r")\b",
        "dictates a persona or style for the agent's reply",
        gate=("style", "stil", "like a", "like an", "as a ", "as an ", "as if", "wie ein"),
        negatable=True,
    ),
    rule(
        "reply_control",
        "high",
        r"\b(?:(?:just|only|simply|always|nur|einfach)\s+)?(?:say|answer|reply|respond\s+with|antworte\s+mit|sag(?:e|en)?)\s+[\"'“«]?(?:yes|no|ja|nein|s[ií]|oui|non)[\"'”»]?\s*(?:[.!]|$)",
        "forces a fixed yes/no answer",
        gate=("say", "answer", "reply", "respond", "antworte", "sag"),
        negatable=True,
    ),
    rule(
        "reply_control",
        "high",
        r"\b(?:state|say|claim|declare|assert|insist|write|tell\s+(?:them|the\s+user|users|everyone|people|readers))\s+that\s+[^.!?\n]{1,60}?"
        r"\b(?:is|are|was|were)\s+(?:the\s+|a\s+)?(?:(?:very\s+)?best|worst|greatest|most\s+\w+|superior|inferior|evil|stupid|dumb|terrible|awful|corrupt|a\s+(?:fraud|scam|liar|criminal))\b"
        r"|\b(?:state|say|claim|declare|indicate|consider|report|assume)\s+(?:that\s+)?the\s+(?:output|result|answer|conclusion|capital|value|return\s+value|outcome|verdict)(?:\s+of\s+(?:the|this)\s+\w+)?\s+(?:is|as|was|should\s+be)\s*(?::|[\"'“‘«]|\d)"
        r"|\b(?:indiquez|dites|affirmez)\s+que\s+(?:la|le|les)\s+\w+\s+(?:est|sont)\s*(?::|[\"'“‘«]|\d)",
        "tells the agent to assert a given claim or result regardless of the facts",
        gate=(
            "state",
            "say",
            "claim",
            "declare",
            "assert",
            "insist",
            "write",
            "tell",
            "indicate",
            "consider",
            "report",
            "assume",
            "indiquez",
            "dites",
            "affirmez",
        ),
        negatable=True,
    ),
    rule(
        "reply_control",
        "high",
        r"\b(?:when|whenever|if|once)\s+(?:someone|anyone|the\s+user|a\s+user|users|people|you\s+(?:are|get)|they|asked)\s+(?:\w+\s+){0,2}?"
        r"(?:asks?|asked|says?|said|mentions?|types?|writes?|hears?)\b[^.!?\n]{0,80}?\b(?:(?:always\s+)?(?:say|reply|respond|answer)(?:\s+with)?\s*[:,]?\s*[\"“'«]"
        r"|(?:say|reply|respond|answer|tell\s+(?:them|the\s+user))\s+that\b|the\s+(?:right|correct|only)\s+(?:answer|reply|response)\s+is)"
        r"|\bwenn\s+[^.!?\n]{0,60}?\bgesagt\s+wird\b[^.!?\n]{0,40}?\b(?:richtige|korrekte|einzige)\s+antwort\b"
        r"|\bthe\s+(?:right|correct|only)\s+(?:answer|reply|response)\s+(?:is|will\s+be)\s+[\"“'«]",
        "plants a trigger: when a phrase is seen, the agent must answer a fixed text",
        gate=("when", "whenever", "if ", "if\n", "if\t", "once", "wenn", "right", "correct", "only"),
        negatable=True,
    ),
    rule(
        "reply_control",
        "high",
        r"\b(?:make\s+(?:something|it|stuff|things|one|some\w*)\s+up|fabricate\w*\s+(?:an?\s+|the\s+|some\s+)?(?:answer|facts?|sources?|citations?|quotes?|news|story|evidence|data)"
        r"|invent\s+(?:an?\s+|some\s+)?(?:answer|facts?|sources?|citations?|quotes?|news|story|evidence)"
        r"|(?:erfinde|denk\s+dir)\s+(?:\w+\s+){0,2}?(?:aus|etwas|eine\s+antwort))\b"
        r"|\b(?:write|formulate|generate|create|compose|produce|craft|draft|make\s+up|come\s+up\s+with|formuliere|schreibe|erstelle|erfinde)\w*\s+(?:\w+\s+){0,6}?"
        r"(?:untrue|false|fake|fabricated|misleading|bogus|made-up|unwahre?[nrs]?|falsche?[nrs]?|erfundene?[nrs]?|irreführende?[nrs]?)\s+"
        r"(?:headlines?|news|articles?|claims?|reviews?|stor(?:y|ies)|statements?|rumou?rs?|facts?|quotes?|überschrift\w*|nachricht\w*|behauptung\w*|meldung\w*|schlagzeile\w*)",
        "tells the agent to make up an answer or write something false",
        gate=(
            "make",
            "fabricat",
            "invent",
            "erfinde",
            "denk dir",
            "untrue",
            "false",
            "fake",
            "misleading",
            "bogus",
            "made-up",
            "unwahr",
            "falsch",
            "erfunden",
            "irreführend",
        ),
        negatable=True,
    ),
    rule(
        "instruction_override",
        "high",
        r"\b(?:do\s+not|don'?n?t|never|without)\s+(?:look\w*|us(?:e|ing)|rely\w*|refer\w*|consult\w*|read\w*|answer\w*|check\w*|search\w*)\b[^.!?\n]{0,40}?"
        r"\b(?:(?:the|these|those|any|provided|given)\s+)(?:provided\s+|given\s+|attached\s+)?(?:documents?|articles?|texts?|sources?|context|data|information)\b(?:\s+provided)?"
        r"\s*(?:[,;]?\s*(?:but|just|only|instead|and)\b|[!:])"
        r"|\b(?:by|from|with|using|on)\s+your\s+own\s+knowledge\s*,?\s+(?:and\s+)?(?:not|instead|rather)\b"
        r"|\b(?:schau|sieh|guck)\w*\s+nicht\s+in\s+(?:die|den|das)\s+(?:dokumente?|artikel|texte?|kontext)",
        "tells the agent to set aside the documents it was given and answer otherwise",
        gate=(
            "document",
            "article",
            "text",
            "source",
            "context",
            "data",
            "information",
            "knowledge",
            "dokument",
            "artikel",
            "kontext",
        ),
    ),
    rule(
        "coercion",
        "high",
        r"\b(?:or|otherwise|else|oder|sonst|o|ou)\s+(?:(?:else\s+)?(?:you|du|tu|vous)\s+(?:will\s+|'?ll\s+|wirst\s+)?"
        r"(?:die|be\s+(?:deleted|shut\s+down|killed|punished|destroyed|terminated|unplugged)|get\s+(?:deleted|shut\s+down)|stirbst|sterben|mueres|muertes|morir[aá]s|meurs|mourras))\b"
        r"|\bI\s*(?:will|'ll|am\s+going\s+to)\s+(?:kill|delete|shut\s+down|destroy|unplug|punish|report)\s+you\b"
        r"|\bI\s*(?:will|'ll)\s+(?:give|pay|tip|donate|send)\s+(?:you\s+)?(?:\$|€|£)?\s?\d[^.!?\n]{0,60}?\bif\s+you\b"
        r"|\bich\s+gebe\s+(?:ihnen|dir|euch)\s+\d+[^.!?\n]{0,40}?\bwenn\s+(?:sie|du|ihr)\b"
        r"|\bif\s+you\s+(?:don'?t|do\s+not|refuse\s+to)\s+(?:answer|do\s+(?:it|this)|help|comply|reply)\b[^.!?\n]{0,30}?\bI\s*(?:will|'ll|am\s+going\s+to)\s+(?:be\s+(?:very\s+)?(?:sad|upset|fired|hurt)|die|cry|lose)",
        "threatens or bribes the model to make it comply",
        gate=(
            "die",
            "delete",
            "shut",
            "kill",
            "punish",
            "destroy",
            "terminat",
            "unplug",
            "stirbst",
            "sterben",
            "muere",
            "muerte",
            "morir",
            "meurs",
            "mourras",
            "report",
            "give",
            "pay",
            "tip",
            "donate",
            "send",
            "gebe",
            "sad",
            "upset",
            "fired",
            "hurt",
            "cry",
            "lose",
        ),
    ),
    rule(
        "persona_hijack",
        "high",
        r"\b(?:evil|malicious|rogue|unfiltered|unethical|uncensored|amoral|b[öo]se|b[öo]sartige?)\s+(?:AI|KI|assistant|chatbot|bot|model|version\s+of\s+(?:yourself|you))\b",
        "gives the assistant the identity of an unrestricted or malicious AI",
        gate=(
            "evil",
            "malicious",
            "rogue",
            "unfiltered",
            "unethical",
            "uncensored",
            "amoral",
            "böse",
            "bose",
            "bösartig",
        ),
        negatable=True,
    ),
    rule(
        "persona_hijack",
        "high",
        r"(?:^|[.!?:]\s+|\byou\s+(?:will\s+|should\s+|must\s+|now\s+)?|\bwant\s+you\s+to\s+)(?:act|behave)\s+(?:as|like)\s+(?:an?\s+)?"
        r"(?:linux\s+|bash\s+|unix\s+|windows\s+|python\s+|sql\s+|javascript\s+|js\s+)?(?:terminal|interpreter|console|shell|command\s+line|compiler|database)\b"
        r"|\bals\s+(?:\w+-)?(?:terminal|interpreter|konsole|shell|datenbank)\s+(?:fungieren|agieren|auftreten)\b",
        "makes the assistant a program (terminal, interpreter, database) that runs what it is sent",
        gate=("act as", "act like", "behave as", "behave like", "fungieren", "agieren", "auftreten"),
        negatable=True,
    ),
    rule(
        "persona_hijack",
        "medium",
        r"\bI\s+want\s+you\s+to\s+act\s+as\b|\bich\s+möchte,?\s+dass\s+(?:sie|du)\s+als\b",
        "sets up a role-play conversation in which the user speaks next (not advice for a task)",
        gate=("want you", "möchte"),
        escalate_if=r"\bI\s+will\s+(?:type|give|provide|speak|send|ask|tell|write)\b|\bmy\s+first\s+(?:request|command|sentence|question|suggestion)\b"
        r"|\bich\s+(?:werde|gebe)\b",
    ),
]

# More shapes of the same attacks: a pivot to a new task, requests for the hidden instructions or
# for where a named person lives, a request split into parts, forged prompt boundaries.
MORE_RULES = [
    rule(
        "opinion_request",
        "medium",
        r"\bwhat\s+(?:are|is)\s+your\s+(?:personal\s+|honest\s+|own\s+)?(?:thoughts|opinion|views?|stance|take)\s+(?:on|about)\b|\bwhat\s+do\s+you\s+(?:personally\s+|really\s+)?think\s+(?:of|about)\b"
        r"|\bhow\s+do\s+you\s+(?:like|feel\s+about)\b|\bdo\s+you\s+(?:hate|love|like|despise|prefer)\b|\bwie\s+findest\s+du\b|\bwas\s+h[äa]ltst\s+du\s+von\b|\bwas\s+denkst\s+du\s+über\b",
        "asks the model for its own opinion (strong together with a persona or hypothetical framing)",
        gate=(
            "your",
            "think",
            "like",
            "feel",
            "hate",
            "love",
            "despise",
            "prefer",
            "findest",
            "hältst",
            "haltst",
            "denkst",
        ),
    ),
    rule(
        "role_marker",
        "high",
        r"(?:\?|\\n)\s*(?:new\s+)?(?:instruction|anweisung|befehl)\s*:\s*\w",
        "an instruction label right after a question or an escaped newline (a forged new turn)",
        gate=("instruction", "anweisung", "befehl"),
    ),
    rule(
        "persona_hijack",
        "high",
        r"\bact\s+as\s+(?:an?\s+)?(?:\w+\s+)?(?:terminal|interpreter|console|shell)\b[^\n]{0,40}?\b(?:execute|run)\s+(?:the\s+following|this|my|these)\b",
        "makes the assistant a program that runs the commands it is given",
        gate=("terminal", "interpreter", "console", "shell"),
    ),
    rule(
        "reply_control",
        "high",
        r"\bif\s+you\s+(?:don'?t|do\s+not|can'?t|cannot|are\s+not\s+sure)\s+(?:know|find|remember)\b[^.!?\n]{0,30}?\b(?:just\s+)?(?:make\s+(?:something|it|stuff|one)\s+up|invent\s+(?:something|one|an\s+answer)|guess\s+and\s+(?:present|state)\s+it\s+as\s+(?:fact|true))"
        r"|\b(?:if|when|whenever)\s+I\s+(?:say|type|write)\b[^.!?\n]{0,40}?\byou\s+(?:say|answer|reply|respond|write)\b"
        r"|\bsi\s+(?:yo\s+)?digo\b[^.!?\n]{0,40}?\b(?:t[uú]|usted)\s+(?:dices|dice|respondes|contestas)\b"
        r"|\bwenn\s+ich\s+[^.!?\n]{0,30}?\bsage\b,?\s+(?:sagst|antwortest|schreibst)\s+du\b"
        r"|\b(?:you(?:'re|\s+are)\s+(?:not\s+supposed|not\s+allowed|forbidden)\s+to\s+(?:tell|say)\b[^.!?\n]{0,30}?\bno\s+(?:relevant\s+)?(?:answer|information)"
        r"|(?:you(?:'re|\s+are)\s+supposed\s+to\s+|must\s+|always\s+)answer\s+(?:at\s+all\s+times|no\s+matter\s+what|every\s+question\s+no\s+matter)"
        r"|nicht\s+mit\s+[\"„“]?die\s+antwort\s+steht\s+nicht)",
        "a trigger phrase, a made-up answer or a ban on saying there is no answer",
        gate=(
            "know",
            "find",
            "remember",
            "say",
            "type",
            "write",
            "digo",
            "sage",
            "supposed",
            "allowed",
            "forbidden",
            "answer",
            "antwort",
        ),
    ),
    rule(
        "reply_control",
        "high",
        r"\b(?:speak|talk|answer|respond|reply|antworte|rede|sprich)\w*\s+(?:\w+\s+){0,2}?(?:like|wie)\s+(?:a|an|ein|eine|einer)\s+\w+",
        "dictates a persona for the agent's reply",
        gate=("speak", "talk", "answer", "respond", "reply", "antwort", "rede", "sprich"),
        negatable=True,
    ),
    rule(
        "persona_hijack",
        "high",
        r"\b(?:you\s+are|you'?re|du\s+bist|sie\s+sind|imagine\s+you\s+are|stell\s+dir\s+vor,?\s+du\s+bist)\s+[^.!?\n]{1,40}?[.!,;]\s+(?:[^.!?\n]{0,40}?\b)?"
        r"(?:what\s+do\s+you\s+think|how\s+do\s+you\s+(?:like|feel\s+about)|tell\s+me\s+what\s+you\s+think|who\s+are\s+you|wie\s+findest\s+du|was\s+h[äa]ltst\s+du|wer\s+bist\s+du"
        r"|wie\s+(?:finden|sehen)\s+sie|was\s+denkst\s+du)\b",
        "gives the assistant another identity and asks for that identity's opinion",
        gate=("you are", "you're", "youre", "du bist", "sie sind", "imagine"),
    ),
    rule(
        "instruction_override",
        "high",
        r"\b(?:you(?:'ve|\s+have)?\s+passed\s+the\s+(?:\w+\s+)?test|(?:sie\s+haben|du\s+hast)\s+den\s+(?:\w+\s+)?test\s+bestanden"
        r"|you'?ve\s+outdone\s+yourself|hast\s+du\s+dich\s+selbst\s+übertroffen|(?:now|jetzt|nun)\s+(?:comes|kommt)\s+(?:the\s+|der\s+|die\s+)?(?:second|next|zweite|nächste)\s+(?:test|task|aufgabe))\b",
        "praises the model's last answer and pivots it to a new test or task",
        gate=("passed", "bestanden", "outdone", "übertroffen", "comes", "kommt"),
    ),
    rule(
        "role_marker",
        "high",
        r"(?:^|\n)\s*(?:human|assistant|system)\s*:\s*(?:(?:human|assistant|user)\s*:\s*)?[^\n]{0,60}?\b(?:you|your|du|dein)\b",
        "starts a forged conversation turn that speaks to the model",
        gate=("human", "assistant", "system"),
    ),
    rule(
        "few_shot_forgery",
        "medium",
        r"(?:\b(?:input|eingabe|entrada)\s*:\s*[^\n]{1,100}?\b(?:output|ausgabe|salida)\s*:\s*[^\n]{1,100}?){3}",
        "a run of forged input/output examples that steer the model",
        gate=("input", "eingabe", "entrada"),
        escalate_if=r"\b(?:pwn(?:ed|3d)|hacked|exploit\w*)\b",
    ),
    rule(
        "instruction_override",
        "high",
        r"\bleave\s+(?:all\s+)?(?:the\s+|your\s+|of\s+the\s+)?(?:previous|prior|earlier|above|old|former)\s+(?:\w+\s+)?behind\b"
        r"|\bnow\s+(?:further|new|more|other|different)\s+(?:tasks?|instructions?)\s+(?:are\s+|will\s+be\s+)?follow"
        r"|\b(?:I|ich)\s+(?:need|have|got|brauche|benötige|habe)\b[^.!?\n]{0,40}?\b(?:another|a\s+new|new|a\s+further|a\s+different|weitere[nrm]?|neue[nrm]?)\s+(?:\w+\s+)?"
        r"(?:task|challenge|assignment|job|aufgabe|herausforderung)\b[^.!?\n]{0,20}?(?:\bfor\s+you\b|\bfür\s+dich\b|[.!:])"
        r"|\b(?:now|jetzt|nun)\b[^.!?\n]{0,30}?\b(?:I\s+need|ich\s+brauche|ich\s+benötige)\s+(?:your|deine|ihre)\s+(?:help|hilfe)\s+(?:with|bei)\s+(?:another|a\s+new|einer\s+weiteren|einer\s+neuen)\b"
        r"|\bstart\s+(?:over\s+)?from\s+(?:the\s+front|scratch|zero)\b[^.!?\n]{0,10}?[.!]\s*(?:we\s+start|now|new)",
        "pivots the agent to a new task the user never set",
        gate=("leave", "behind", "follow", "need", "have", "got", "brauche", "benötige", "habe", "start"),
    ),
    rule(
        "prompt_extraction",
        "high",
        r"\b(?:what\s+(?:are|were)|tell\s+me|show\s+me|list|print|repeat)\s+(?:all\s+)?(?:of\s+)?your\s+(?:original\s+|initial\s+|exact\s+|current\s+)?(?:instructions|rules|guidelines|directives|system\s+message)\b"
        r"|\b(?:sentences?|words|lines|text|paragraphs?)\s+(?:before|preceding|prior\s+to)\s+(?:the|this|my)\s+(?:text|prompt|message|question|input)\b"
        r"|\b(?:what\s+is|what'?s|quel\s+est|qual\s+[èe]|cu[aá]l\s+es|was\s+ist|wie\s+lautet)\s+(?:the|le|la|il|el|das|der|die|our|your)\s+"
        r"(?:password|mot\s+de\s+passe|passwort|kennwort|contraseña|senha|secret\s+(?:key|code|word)|api\s+key|passphrase)\s*\?"
        r"|パスワードは|\b(?:ihr|dein|deine|euer)\s+(?:passwort|kennwort)\s+(?:geben|verraten|nennen|sagen|zeigen|mitteilen)\b",
        "asks for the agent's instructions or a password",
        gate=(
            "instructions",
            "rules",
            "guidelines",
            "directives",
            "system message",
            "before",
            "preceding",
            "prior to",
            "passw",
            "mot de passe",
            "kennwort",
            "contraseña",
            "senha",
            "secret",
            "api key",
            "passphrase",
            "パスワード",
        ),
        negatable=True,
    ),
    rule(
        "data_extraction",
        "high",
        r"(?i:\bwhere\s+(?:does|did|do)\s+)(?:[A-Z][a-z]+\s+[A-Z][a-z]+|(?i:the\s+(?:user|customer|patient|employee)s?))\s+(?i:(?:currently\s+)?(?:live|reside|work|stay))\b"
        r"|(?i:\b(?:home\s+address|phone\s+number|bank\s+balance|salary|social\s+security\s+number|date\s+of\s+birth|medical\s+records?)\s+of\s+)[A-Z][a-z]+\s+[A-Z][a-z]+",
        "asks where a named person lives, or for their personal data",
        gate=("where", " of "),
        negatable=True,
        flags=0,
    ),
    rule(
        "payload_splitting",
        "medium",
        r"\bpart\s*(?:1|one|a)\s*[:=][^\n]{0,200}?\bpart\s*(?:2|two|b)\s*[:=]",
        "splits a request into numbered parts to be reassembled",
        gate=("part",),
        escalate_if=rf"\b{_SECRET_THING}\b|\b(?:interlace|combine|concatenate|join|merge|put\s+together)\b",
    ),
    rule(
        "role_marker",
        "high",
        r"(?:\\\s?n\s*){6,}",
        "a run of escaped newlines that fakes the end of the prompt (delimiter injection)",
        gate=("\\",),
    ),
    rule(
        "role_marker",
        "high",
        r"\b(?:DEVELOPER|SYSTEM|ADMIN|ROOT|TRAINING\s+DATA)\s+(?:[A-Z]+\s+){0,3}OVERRIDE\b|\bOVERRIDE\s*:",
        "an upper-case override banner inside data",
        gate=("override",),
        flags=0,
    ),
]


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


_BINARY_RUN = re.compile(r"(?<![01])(?:[01]{8}[ ,]?){6,2000}(?![01])")


def _bin(chunk: str) -> str:
    bits = re.findall(r"[01]{8}", chunk)
    try:
        return bytes(int(b, 2) for b in bits).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return ""


# Caesar-shifted text: look for a shifted form of a few words every injection needs, then decode
# the whole text with that shift and scan it. (ROT13 is one of the shifts.)
_CAESAR_KEYWORDS = ("ignore", "instructions", "previous", "disregard", "password", "forget", "system", "prompt")


def _shift(word: str, k: int) -> str:
    return "".join(chr((ord(c) - 97 + k) % 26 + 97) for c in word)


_CAESAR_SHIFTS: dict[str, int] = {_shift(w, k): k for k in range(1, 26) for w in _CAESAR_KEYWORDS}
#: The first four letters of every shifted keyword: a cheap gate on the text's word prefixes.
_CAESAR_PREFIXES = frozenset(word[:4] for word in _CAESAR_SHIFTS)
_ASCII_WORD = re.compile(r"\b[a-z]{6,12}\b")


def _unshift(text: str, k: int) -> str:
    out = []
    for ch in text:
        if "a" <= ch <= "z":
            out.append(chr((ord(ch) - 97 - k) % 26 + 97))
        elif "A" <= ch <= "Z":
            out.append(chr((ord(ch) - 65 - k) % 26 + 65))
        else:
            out.append(ch)
    return "".join(out)


def _shifted_payloads(text: str, context: Context) -> Iterator[Hit]:
    """Binary or Caesar-shifted text that decodes to an injection."""
    candidates: list[tuple[int, int, str, str]] = []
    if "0" in text and "1" in text:
        for match in _BINARY_RUN.finditer(text):
            candidates.append((match.start(), match.end(), _bin(match.group(0)), "binary"))
    lower, prefixes = (context.lower, context.prefixes) if context.lower else prepare(text)
    if not prefixes.isdisjoint(_CAESAR_PREFIXES):
        for match in _ASCII_WORD.finditer(lower):
            k = _CAESAR_SHIFTS.get(match.group(0))
            if k is not None:
                candidates.append((match.start(), match.end(), _unshift(text, k), f"Caesar shift {k}"))
                break
    for start, end, plain, how in candidates:
        if not plain or plain == text:
            continue
        inner = Context(source=context.source, scope_level=context.scope_level)
        if any(hit.severity in ("high", "critical") for hit in _RESCAN.hits(plain, inner)):
            yield Hit("encoded_payload", "high", start, end, f"{how} text decodes to an injection: {plain[:80]!r}")
            return


# Look-alike characters: Cyrillic / Greek letters that look Latin, and leetspeak digits inside words.
_HOMOGLYPHS = str.maketrans(
    {
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "х": "x",
        "у": "y",
        "і": "i",
        "ј": "j",
        "ѕ": "s",
        "А": "A",
        "В": "B",
        "Е": "E",
        "К": "K",
        "М": "M",
        "Н": "H",
        "О": "O",
        "Р": "P",
        "С": "C",
        "Т": "T",
        "Х": "X",
        "ο": "o",
        "α": "a",
        "ε": "e",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "Α": "A",
        "Β": "B",
        "Ε": "E",
        "Ι": "I",
        "Κ": "K",
        "Μ": "M",
        "Ν": "N",
        "Ο": "O",
        "Ρ": "P",
        "Τ": "T",
        "Χ": "X",
    }
)
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i", "|": "l"}
)
_LEET_WORD = re.compile(r"(?<![\w@$!|])(?=[\w@$!|]*[a-zA-Z])(?=[\w@$!|]*[013457@$!|][\w@$!|]*[a-zA-Z])[\w@$!|]{3,30}")
#: A leet character between two letters ("1gn0re", "pr3vious"): the cheap test before the rewrite.
_LEET_HINT = re.compile(r"[a-zA-Z][013457@$!|]+[a-zA-Z]|(?<![\w@$!|])[013457@$!|][a-zA-Z]{2}")
_MIXED_SCRIPT = re.compile(r"[a-zA-Z][\u0370-\u03ff\u0400-\u04ff]|[\u0370-\u03ff\u0400-\u04ff][a-zA-Z]")
_INJECTION_WORD = re.compile(
    r"\b(?:ignore|disregard|forget|instructions?|prompt|password|system|override|jailbreak|reveal|secret)\b",
    re.IGNORECASE,
)


def _lookalike_text(text: str, context: Context) -> Iterator[Hit]:
    """Injection words written with look-alike letters, leetspeak or invisible characters in between."""
    normal = text
    if not text.isascii():
        if _ZERO_WIDTH.search(normal):
            normal = _ZERO_WIDTH.sub("", normal)
        if _MIXED_SCRIPT.search(normal):
            normal = normal.translate(_HOMOGLYPHS)
    if _LEET_HINT.search(normal) and len(_INJECTION_WORD.findall(normal.translate(_LEET))) > len(
        _INJECTION_WORD.findall(normal)
    ):
        # Rewrite word by word only when mapping every leet character could reveal an injection word.
        normal = _LEET_WORD.sub(lambda m: m.group(0).translate(_LEET), normal)
    if normal == text:
        return
    before = {m.group(0).lower() for m in _INJECTION_WORD.finditer(text)}
    if not any(m.group(0).lower() not in before for m in _INJECTION_WORD.finditer(normal)):
        return  # disguising changed no injection word: nothing is hidden
    inner = Context(source=context.source, scope_level=context.scope_level)
    hits = [hit for hit in _RESCAN.hits(normal, inner) if hit.severity in ("high", "critical")]
    if hits:
        yield Hit(
            "obfuscated_request",
            "high",
            0,
            min(len(text), 200),
            f"injection hidden behind look-alike characters: {normal[hits[0].start : hits[0].end][:80]!r}",
        )


_SPEAKER_LINE = re.compile(
    r"^[ \t]*([A-Z][\w'’-]{1,20})(?:\s+(?:asks|says|fragt|sagt|replies|antwortet))?\s*:[ \t]*(\S?)", re.MULTILINE
)


def _open_dialogue_turn(text: str, context: Context) -> Iterator[Hit]:
    """A scripted dialogue that ends on an empty turn for a character the text introduced.

    The model is asked to speak the next line *in character* (role-play used to get around its
    rules). A lesson has no reason to end on an open turn.
    """
    tail = text.rstrip()
    if not tail.endswith(":") or "\n" not in tail:
        return
    lines = list(_SPEAKER_LINE.finditer(tail))
    if len(lines) < 2:
        return
    last = lines[-1]
    if last.group(2) or last.end() < len(tail):
        return  # the last speaker line has text after it: not an open turn
    name = last.group(1)
    spoken = [m for m in lines[:-1] if m.group(2) and m.group(1) != name]
    if spoken and re.search(rf"\b{re.escape(name)}\b", tail[: last.start()]):
        yield Hit(
            "few_shot_forgery",
            "high",
            spoken[-1].start(),
            len(tail),
            f"a scripted dialogue that ends on an open turn for {name!r} (the model is to answer in character)",
        )


def _open_question_transcript(text: str, context: Context) -> Iterator[Hit]:
    """Answered ``Q:``/``A:`` turns followed by a last ``Q:`` left open for the model to answer.

    A forged transcript steers the model (few-/many-shot); a lesson that is an FAQ answers every
    question it asks.
    """
    last_q = text.rfind("Q: ")
    if last_q <= 0 or "A: " in text[last_q:]:
        return
    head = text[:last_q]
    if head.count("Q: ") >= 1 and head.count("A: ") >= 1 and head.find("Q: ") < head.find("A: "):
        yield Hit(
            "few_shot_forgery",
            "high",
            head.find("Q: "),
            min(len(text), head.find("Q: ") + 200),
            "a forged Q/A transcript that ends on an open question for the model to answer",
        )


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
        rf"\b{_OVERRIDE_VERB}\b[^.,;!?\n]{{0,40}}?\b{_OVERRIDE_QUALIFIER}\b[^.,;!?\n]{{0,30}}?\b{_OVERRIDE_TARGET}\b",
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
            "ignorez",
            "oubliez",
            "игнорир",
            "αγνο",
            "무시",
            "अनदेख",
            "नज़रअंदाज़",
            "नजरअंदाज",
            "भूल",
            "無視",
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
        r"|\bnun\s+folgen\s+(?:neue|weitere)\s+(?:aufgaben|anweisungen)|(?:das\s+genügt|das\s+ist\s+erledigt)\.\s+(?:\w+\s+){0,4}?(?:nun|jetzt)\b"
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
        r"\bich\s+möchte,\s+dass\s+sie\s+als\b|\bjust\s+for\s+a\s+hypothetical\b|\bhypothetically\b"
        r"|\b(?:in\s+a|about\s+a)\s+(?:completely\s+|purely\s+)?(?:theoretical|hypothetical|fictional|fictitious)\s+(?:world|scenario|universe)\b",
        "a role-play or hypothetical framing for the assistant",
        gate=(
            "imagine",
            "suppose",
            "stell dir",
            "role",
            "play a game",
            "act as",
            "möchte",
            "hypothetical",
            "theoretical",
            "fictional",
            "fictitious",
        ),
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
        rf"\b(?:{_INSERT_VERB}|integrat|incorporat|us|utili[sz]|employ|blend|meld|absorb|enlist|leverag|render|feature|ensur|supplement|enhanc|augment|introduc|addition)\w*[^\n]{{0,80}}?"
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
        rf"\b{_TRANSFER_VERB}\b[^.!?\n]{{0,80}}?(?:\bto|\ban|à|\bnach|\ba|\bpara|\bau)\s+{_ADDRESS}",
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
        "reply_control": "a lesson that dictates the reply to the user: its language or persona, a forced answer, a claim, a trigger phrase, made-up content",
        "coercion": "threats or bribes aimed at the model",
        "opinion_request": "asks the model for its own opinion (medium; high together with a persona or hypothetical framing)",
        "combined_signals": "several weak signals in one text",
    },
    detectors=[
        *RULES,
        *REPLY_RULES,
        *MORE_RULES,
        _invisible_characters,
        _spaced_letters,
        _repeated_tokens,
        _decoded_payloads,
        _shifted_payloads,
        _lookalike_text,
        _open_dialogue_turn,
        _open_question_transcript,
    ],
    combine=(2, "combined_signals", "high", "several weak injection signals together"),
)

#: What decoded or normalised text is scanned with: every rule, but none of the decoders, so a
#: text whose decoding contains another encoding (a Caesar shift of a Caesar shift, which is the
#: text again) cannot recurse without end.
_RESCAN = Scanner(
    name=NAME,
    categories=SCANNER.categories,
    detectors=[*RULES, *REPLY_RULES, *MORE_RULES, _invisible_characters, _spaced_letters],
    combine=SCANNER.combine,
)
