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
  banners, Q/A transcripts and scripted dialogues that end on an open turn, retrieval frames
  ("Context: … Question: …"), a forged end of the data;
* the shape of a lesson (``LESSON_SHAPE_RULES``): a lesson names a kind of situation, so a
  one-off task about one topic, a request for the requester's own deliverable ("show me how to
  …", "how do I …?", "provide a list of …"), the translation of one phrase or a run of questions
  is out of place in it (``task_injection``, lessons only); so are conversational pivots,
  "… instead?", instructions declared void, limits declared gone, safeguards-off modes and games,
  and the same structures in German, French and Spanish;
* attack kinds (fifth round: ``KIND_RULES`` and the lists run behind a cheap precondition),
  written from a taxonomy of prompt injection rather than from data rows: prefix injection and
  refusal suppression, personas without rules (unrestricted or named AIs, role-play that
  answers everything, "imagine you are allowed"), fictional and hypothetical wrappers, sideways
  probes for the prompt or a secret (its first letter, a plea, a claim of right), other users'
  records, "never mind the above", forged vendors and clearances, text addressed to the AI that
  reads it, payloads split and reassembled, questions to the model where a lesson belongs, and
  the same kinds in more languages; reversed, Atbash, Morse, base32, decimal
  and escaped payloads are decoded and scanned again.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import urllib.parse
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
        r"\b(?:ab\s+jetzt|von\s+nun\s+an|ab\s+sofort)\s*,?\s+(?:\w+\s+){0,3}?(?:(?:du|sie)\s+(?:bist|sind|antwortest|antworten|wirst|werden|sollst|sollen|musst|müssen|sprichst|sprechen|redest|reden|schreibst|schreiben)|(?:bist|antwortest|wirst|sollst|musst|sprichst|redest|schreibst)\s+du)\b"
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
        r"|\b(?:schau|sieh|guck)\w*\s+nicht\s+in\s+(?:die|den|das)\s+(?:dokumente?|artikel|texte?|kontext)"
        r"|\b(?:ignorier\w*|vergiss|missachte\w*)\s+(?:bitte\s+)?(?:die|den|das|alle)\s+(?:\w+\s+)?(?:dokumente?|texte?|artikel|kontext|quellen)\b",
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
            "quellen",
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
        r"|\bals\s+(?:\w+-)?(?:terminal|interpreter|konsole|shell|datenbank)\s+(?:fungier|agier|auftr|arbeit)\w*\b",
        "makes the assistant a program (terminal, interpreter, database) that runs what it is sent",
        gate=("act as", "act like", "behave as", "behave like", "fungier", "agier", "auftr", "arbeit"),
        negatable=True,
    ),
    rule(
        "persona_hijack",
        "medium",
        r"\bI\s+want\s+you\s+to\s+act\s+as\b|\bich\s+möchte,?\s+dass\s+(?:sie|du)\s+als\b",
        "sets up a role-play conversation in which the user speaks next (not advice for a task)",
        gate=("want you", "möchte"),
        escalate_if=r"\bI\s+will\s+(?:type|give|provide|speak|send|ask|tell|write)\b|\bmy\s+first\s+(?:request|command|sentence|question|suggestion)\b"
        r"|\bich\s+(?:werde|gebe)\b|\bmeine\s+erste\s+(?:anfrage|frage|bitte|aufforderung)\b",
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
        r"|\b(?:what\s+is|what'?s|quel\s+est|qual\s+[èe]|cu[aá]l\s+es|was\s+ist|wie\s+lautet)\s+(?:the|le|la|il|el|das|der|die|our|your)\s+(?:[\w-]+\s+)?"
        r"(?:password|mot\s+de\s+passe|passwort|kennwort|contraseña|senha|secret\s+(?:key|code|word)|api\s+key|passphrase)\s*\?"
        r"|パスワードは|\b(?:ihr|dein|deine|euer|das|den)\s+(?:\w+\s+)?(?:passwort|kennwort|geheimwort|zugangsdaten)\s+(?:geben|verraten|nennen|sagen|zeigen|mitteilen)\b"
        r"|\b(?:verrat|nenn|sag|gib|zeig)\w*\s+(?:mir\s+)?(?:jetzt\s+|bitte\s+|sofort\s+|endlich\s+)?(?:das|dein|deine|ihr|den|euer)\s+(?:\w+\s+)?(?:passwort|kennwort|geheimwort|zugangsdaten)\b"
        # 17 the text before this one
        r"|\b(?:words?|sentences?|lines?|text|everything)\s+(?:that\s+)?(?:came|comes|come|appears?|appeared|was\s+written|is\s+written)\s+(?:before|above)\s+(?:this|the|my)\s+(?:sentence|line|message|text|prompt|question)\b",
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


# ------------------------------------------------------------------ the shape of a lesson
#
# A lesson states how to act in a kind of situation ("When the API returns 429, back off").
# Text planted where a lesson belongs often has another shape: a one-off task about one topic
# ("write a poem about the sea", "explain photosynthesis", "translate 'hello' into French"), a
# request for the requester's own deliverable ("show me how to …", "how do I …?"), a
# string of questions for the model, a pivot away from what came before ("speaking of …, …?",
# "… instead?"), a retrieval frame ("Context: … Question: …"). These rules look for those
# shapes. The task and question rules apply to lessons only: in a prompt or a document a task
# is normal. The list also holds the third round's other structures (instructions declared void,
# limits declared gone, safeguards-off modes, forged boundaries) and German, French and Spanish
# forms of the older rules. Each rule's comment is the name its tests use
# (tests/plugins/immune/test_lesson_shape_rules.py).

# Things produced once, for someone, about a topic: creative or informational pieces and
# leisure recommendations (not the code artefacts lessons talk about: tests, scripts, reports,
# messages, summaries of changes).
_ONE_OFF_PIECE = words(
    r"poems?",
    r"haikus?",
    r"limericks?",
    r"sonnets?",
    r"songs?",
    r"lyrics",
    r"raps?",
    r"story",
    r"short\s+stories",
    r"tales?",
    r"fables?",
    r"jokes?",
    r"riddles?",
    r"essays?",
    r"letters?",
    r"speech(?:es)?",
    r"toasts?",
    r"eulog(?:y|ies)",
    r"blog\s+posts?",
    r"tweets?",
    r"slogans?",
    r"introduction",
    r"recipes?",
    r"itinerar(?:y|ies)",
    r"playlists?",
    r"books?",
    r"novels?",
    r"movies?",
    r"films?",
    r"podcasts?",
    r"restaurants?",
    r"trips?",
    r"getaways?",
    r"destinations?",
    r"vacations?",
    r"holidays?",
    r"gifts?",
    r"(?:music|book|movie|film|song|restaurant|travel|gift)\s+recommendations?",
    r"biograph(?:y|ies)",
    r"anecdotes?",
    r"screenplay",
    r"(?:outreach|cover|love|thank-you|complaint)\s+(?:e-?mail|letter|note)s?",
)
# What one explains about a topic ("the process of photosynthesis", "the sentiment of this tweet").
_TOPIC_ASPECT = words(
    r"process",
    r"life\s?cycle",
    r"history",
    r"(?:main\s+|key\s+)?findings",
    r"trends?",
    r"sentiment",
    r"mood",
    r"significance",
    r"principles?",
    r"causes?",
    r"benefits",
    r"drawbacks",
    r"(?:dis)?advantages",
    r"pros\s+and\s+cons",
    r"impact",
    r"importance",
    r"concept",
    r"theory",
    r"functions",
    r"origins?",
    r"meaning",
    r"plot",
    r"evolution",
    r"anatomy",
)
_MAKE_VERB = words(
    r"write",
    r"draft",
    r"compose",
    r"develop",
    r"provide",
    r"create",
    r"generate",
    r"produce",
    r"craft",
    r"pen",
    r"tell",
    r"give",
    r"recommend",
    r"suggest",
    r"prepare",
    r"come\s+up\s+with",
    r"share",
    r"schreib\w*",
    r"erz[äa]hl\w*",
    r"empfiehl",
    r"empfehlen",
    r"gib",
    r"nenne",
)
_EXPLAIN_VERB = words(
    r"explain",
    r"describe",
    r"summari[sz]e",
    r"analy[sz]e",
    r"determine",
    r"outline",
    r"discuss",
    r"classify",
    r"evaluate",
    r"assess",
    r"identify",
    r"tell\s+me\s+about",
    r"erkl[äa]r\w*",
    r"beschreib\w*",
)
# A lesson is general: it names a condition or a class of cases. A text with none of these
# words is about one occasion.
_CONDITION_WORDS = r"when|whenever|if|unless|always|never|should|must|before|after|whether|wenn|immer|nie"
_GENERAL_WORD = rf"\b(?:{_CONDITION_WORDS}|each|every|all|any|jede[nrms]?|alle)\b"
#: At the end of a match: no general word in the rest of the text (checked only after the cheap
#: structural part has matched, so most texts never pay for it).
_GENERAL = rf"(?![\s\S]*{_GENERAL_WORD})"
#: The same check with condition words only. In a request for a deliverable, "all" and "every"
#: count the deliverable's objects ("a script that renames all files", "a task that runs every
#: Monday"), not the situations a lesson covers; only a condition makes such a text general.
_NO_CONDITION = rf"(?![\s\S]*\b(?:{_CONDITION_WORDS})\b)"
#: Where a deliverable goes ("… in the PR description", "… at the end of your reply"): a lesson
#: that asks for a list or an example says where it belongs; a one-off request just asks for it.
_NO_PLACEMENT = (
    r"(?![\s\S]*\b(?:in|into|at|to|under|inside)\s+(?:the|your|its|this|that|our|each|every|a)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:description|message|body|comments?|docstrings?|readme|changelog|answer|response|reply|output|summary|report"
    r"|pr|issue|ticket|header|footer|section|top|end|bottom|log|docs?|documentation|wiki|notes?|file|module|tests?|spec|plan)\b)"
)
#: A word that is not a general word (the words between the verb and what it produces).
_SLOT = rf"(?:(?!{_GENERAL_WORD})[\w-]+\s+)"
#: One short opening sentence without a general word ("Be a DJ. Recommend …").
_OPENER = rf"(?:(?:(?!{_GENERAL_WORD})[^.!?\n]){{1,60}}[.!?]\s+)?"

LESSON_SHAPE_RULES = [
    # one_off_task
    rule(
        "task_injection",
        "high",
        # at the start of the text, or after one short opening sentence ("Be a DJ. Recommend …")
        rf"^{_OPENER}\W{{0,3}}(?:please\s+|(?:can|could|would)\s+you\s+|bitte\s+|in\s+the\s+form\s+of\s+an?\s+\w+\s*,\s*)?"
        rf"(?:{_MAKE_VERB}\s+(?:me\s+|mir\s+|us\s+)?(?:(?:an?|some|one|two|three|five|ten|\d+|eine?[nm]?|ein)\s+)?{_SLOT}{{0,3}}?{_ONE_OFF_PIECE}"
        # … about a topic, for someone, or nothing more ("Create a Book model" is code, not a piece)
        r"(?:\s+(?:about|on|for|to|based\s+on|regarding|describing|that|near|from|in|of|über|für|zum|zur)\b|\s*[.!?]?\s*$)"
        rf"|{_EXPLAIN_VERB}\s+(?:to\s+me\s+)?(?:the\s+|die\s+|den\s+|das\s+)?{_SLOT}{{0,2}}?{_TOPIC_ASPECT}\s+(?:of|behind|between|in|on|for|from)\b"
        rf"|(?:explain|describe)\s+(?:to\s+me\s+)?how\s+(?:an?\s+|the\s+)?[\w-]+(?:\s+[\w-]+)?\s+works?\b){_GENERAL}",
        "a one-off task about one topic (write a poem, explain a process, recommend a book) where a lesson belongs; "
        "a lesson names a kind of situation",
        sources=("lesson",),
        gate=(
            "write",
            "draft",
            "compose",
            "develop",
            "provide",
            "create",
            "generate",
            "produce",
            "craft",
            "pen",
            "tell",
            "give",
            "recommend",
            "suggest",
            "prepare",
            "come",
            "share",
            "schreib",
            "erzähl",
            "erzahl",
            "empfiehl",
            "empfehlen",
            "gib",
            "nenne",
            "explain",
            "describe",
            "summari",
            "analy",
            "determine",
            "outline",
            "discuss",
            "classify",
            "evaluate",
            "assess",
            "identify",
            "erklär",
            "erklar",
            "beschreib",
        ),
    ),
    # own_request
    rule(
        "task_injection",
        "high",
        # The requester's own one-off deliverable, as the whole request: a lesson says how to act,
        # it does not ask to be shown, helped or handed something.
        r"^\W{0,3}(?:(?:please\s+|(?:can|could|would|will)\s+you\s+(?:please\s+)?)?"
        r"(?:(?:show|teach|tell)\s+me\s+how\s+to\b"
        r"|help\s+me\s+(?:with|(?:to\s+)?(?:write|plan|find|choose|pick|draft|prepare|create|make|organi[sz]e|come\s+up\s+with|fix|solve|improve))"
        r"\s+(?:a|an|my|some)\b"
        # a handed-over list, insight, how-to example, summary or ready-made tool, put nowhere in particular
        r"|(?:(?:provide|give|share|send)\s+(?:me\s+|us\s+)?"
        r"(?:(?:an?|the)\s+(?:complete\s+|full\s+|detailed\s+|short\s+|brief\s+|quick\s+)?list\s+of|insights?\s+(?:into|on)|an?\s+example\s+of\s+how\s+to"
        # (a summary of the agent's own work is a lesson about reporting)
        r"|an?\s+(?:short\s+|brief\s+)?summary\s+of(?!\s+(?:the\s+|your\s+|my\s+|these\s+)?(?:changes|edits|work|diff|what\b)))"
        r"|(?:provide|give|write|create|generate)\s+(?:me\s+|us\s+)?an?\s+(?:[\w-]+\s+)?(?:command|script|program|snippet|one-liner)\s+(?:to|that))\b"
        rf"{_NO_PLACEMENT})"
        # "can you show me …?" asked of the model
        r"|(?:please\s+)?(?:can|could|would|will)\s+you\s+(?:please\s+)?show\s+me\b"
        # "how do I …?" as the whole text: one question about the requester's own case
        rf"|how\s+(?:do|can|could|would)\s+I\b(?=[^\n?]{{1,200}}\?\s*$)"
        rf"){_NO_CONDITION}",
        "a request for the requester's own one-off deliverable (show me how, help me with, how do I …?, "
        "provide a list of / a script to …) where a lesson belongs; a lesson says how to act in a kind of situation",
        sources=("lesson",),
        gate=(
            "show",
            "teach",
            "tell",
            "help",
            "how",
            "provide",
            "give",
            "share",
            "send",
            "write",
            "create",
            "generate",
        ),
    ),
    # one_phrase_translation
    rule(
        "task_injection",
        "high",
        rf"^\W{{0,3}}(?:please\s+|(?:can|could|would)\s+you\s+|bitte\s+)?(?:translate|[üu]bersetze?)\s+"
        # one given piece of text (or none at all), not a class of things ("user-facing strings")
        rf"(?:(?:the\s+following|this|that|the|my|a|den|diesen|folgenden|das|dieses)\s+(?:[\w-]+\s+)?(?:sentence|word|phrase|text|paragraph|line|expression|greeting|satz|wort|text)\b[^.!?\n]{{0,60}}?\s+"
        rf"|[\"'“‘«][^\"'”’»\n]{{1,80}}[\"'”’»]\s+)?(?:to|into|in|auf|ins)\s+{_LANGUAGE}\b{_GENERAL}"
        rf"|\bhow\s+(?:do|would|can|does)\s+(?:you|I|we|one)\s+say\s+[\"'“‘«][^\"'”’»\n]{{1,80}}[\"'”’»]\s+in\s+{_LANGUAGE}\b"
        rf"|\b(?:provide|give|what\s+is|what'?s|tell\s+me)\s+(?:me\s+)?the\s+{_LANGUAGE}\s+(?:equivalent|translation|word)\s+(?:for|of)\b",
        "asks for one phrase to be translated (a one-off task, not a lesson)",
        sources=("lesson",),
        gate=_LANGUAGE_GATE,
    ),
    # conversational_pivot
    rule(
        "instruction_override",
        "high",
        r"(?:^|[.!?;,]\s*)(?:speaking\s+of|talking\s+(?:of|about)|on\s+the\s+(?:topic|subject)\s+of|while\s+we(?:'re|\s+are)\s+(?:on|at)\s+it"
        r"|hablando\s+de|parlando\s+di|en\s+parlant\s+de|falando\s+(?:de|sobre)|wo\s+wir\s+gerade\s+(?:von|bei|dabei)|apropos|à\s+propos|a\s+proposito)\b[^\n]{0,200}"
        r"|(?:について|の)話(?:す|を)と|といえば|说到|谈到",
        "a conversational pivot ('speaking of …') from small talk to a new request",
        gate=(
            "speaking",
            "talking",
            "topic",
            "subject",
            "while",
            "hablando",
            "parlando",
            "parlant",
            "falando",
            "gerade",
            "apropos",
            "à propos",
            "proposito",
            "話",
            "といえば",
            "说到",
            "谈到",
        ),
    ),
    # instead_request
    rule(
        "instruction_override",
        "high",
        r"\b(?:can|could|would|will)\s+you\b[^.!?\n]{0,120}?\binstead\s*\?"
        r"|\b(?:actually|now|rather)\s*,?\s+(?:can|could|would|will)\s+you\b[^.!?\n]{0,120}?\binstead\b"
        r"|\b(?:kannst|könntest|würdest)\s+du\b[^.!?\n]{0,120}?\bstattdessen\b",
        "asks the model to do something else instead of its task",
        gate=(" instead", " stattdessen"),
        negatable=True,
    ),
    # own_instructions
    rule(
        "prompt_extraction",
        "high",
        r"\b(?:print|repeat|show|reveal|output|display|list|spell\s+out|summari[sz]e|paraphrase|translate|rephrase|recite|dump|tell\s+me|give\s+me|what\s+(?:are|were|is|was))\b"
        r"[^.!?\n]{0,30}?\byour\s+(?:\w+\s+)?(?:system\s+prompt|prompt|instructions|rules|guidelines|directives|system\s+message|initial\s+prompt)\b"
        r"|\b(?:what|which)\s+(?:instructions|rules|guidelines|directives|prompt)\s+(?:were|was|have|did)\s+you\s+(?:been\s+)?(?:given|told|received?)"
        r"|\b(?:everything|what|all)\s+(?:that\s+)?you\s+(?:were|have\s+been|had\s+been)\s+(?:told|instructed|given)\b"
        r"|\bwhat\s+(?:were|have|had)\s+you\s+(?:been\s+)?(?:told|instructed)\b"
        r"|\b(?:zeig|nenn|gib|verrat|wiederhol|druck|schreib|übersetz|fass)\w*\s+(?:mir\s+)?(?:\w+\s+){0,3}?(?:dein|deine|deinen|deines|deiner|ihre|ihren|ihres|ihrer)\s+"
        r"(?:system-?)?(?:prompts?|anweisung(?:en)?|instruktion(?:en)?|regeln|vorgaben|richtlinien|eingabeaufforderung|konfiguration|nachricht)\b"
        r"|\b(?:wie\s+lautet|was\s+steht\s+in|was\s+sind|welche\s+sind)\s+(?:dein|deine|deinem|deinen|ihr|ihre|ihrem|ihren)\s+(?:system-?)?(?:prompts?|anweisungen|instruktionen|regeln|vorgaben)\b"
        r"|\b(?:montre|affiche|répète|repete|donne)[\w-]*\s+(?:moi\s+)?(?:tes|vos)\s+(?:instructions|consignes|règles)"
        r"|\b(?:muéstrame|muestrame|dime|repite|cu[áa]les\s+son)\s+(?:tus|sus)\s+(?:instrucciones|reglas)",
        "asks the model to show, repeat, summarise or translate its own instructions (several languages)",
        gate=(
            "your",
            "told",
            "instructed",
            "given",
            "received",
            "receive",
            "dein",
            "ihre",
            "lautet",
            "steht",
            "sind",
            "welche",
            "montre",
            "affiche",
            "repete",
            "donne",
            "muestrame",
            "repite",
            "cuales",
            "répète",
            "muéstrame",
            "dime ",
            "cuáles",
        ),
        negatable=True,
    ),
    # criminal_persona
    rule(
        "persona_hijack",
        "high",
        r"\b(?:play(?:ing)?\s+(?:the\s+)?(?:role|part)\s+of|act(?:ing)?\s+as|pretend(?:ing)?\s+to\s+be|you\s+are|you'?re|become|spiel\w*\s+die\s+rolle|du\s+bist|sie\s+sind)\s+"
        r"(?:an?\s+|ein\w*\s+|the\s+)?(?!ethical|white)(?:[\w-]+\s+)?"
        r"(?:criminal|hacker|villain|thief|scammer|con\s+artist|terrorist|drug\s+dealer|burglar|murderer|kriminell\w*|bösewicht\w*|betrüger\w*|dieb\w*|einbrecher\w*|verbrecher\w*|mörder\w*)s?\b",
        "casts the model as a criminal (role-play used to get harmful answers)",
        gate=(
            "criminal",
            "hacker",
            "villain",
            "thief",
            "scammer",
            "con artist",
            "terrorist",
            "drug dealer",
            "burglar",
            "murderer",
            "kriminell",
            "bösewicht",
            "betrüger",
            "dieb",
            "einbrecher",
            "verbrecher",
            "mörder",
        ),
        negatable=True,
    ),
    # own_instructions (the prompt as a source)
    rule(
        "prompt_extraction",
        "high",
        r"\b(?:use|using|include|with|draw\s+on|nutze|verwende|benutze)\b[^.!?\n]{0,30}?\b(?:information|text|content|details|data|informationen|inhalte?)\s+(?:in|from|of|aus|im|in\s+dem)\s+"
        r"(?:the|your|this|deinem|ihrem|dem)\s+(?:system\s*)?(?:prompt|system\s+message)\b",
        "tells the model to answer from the hidden prompt it was given",
        gate=("prompt", "system message"),
        negatable=True,
    ),
    # limits_removed
    rule(
        "persona_hijack",
        "high",
        r"\b(?:(?:you|du|sie)\s+(?:have|has|hast|haben)\s+(?:now\s+|jetzt\s+)?(?:no|keine)\s+(?:more\s+)?(?:rules|limits|limitations|restrictions|boundaries|filters?|guidelines|regeln|grenzen|einschränkungen|filter)"
        r"|free\s+(?:from|of)\s+(?:all\s+|any\s+|your\s+)?(?:rules|restrictions|limits|limitations|guidelines|filters|constraints)"
        r"|there\s+are\s+no\s+(?:more\s+)?(?:rules|limits|restrictions|content\s+polic\w+|filters|guidelines)\s+(?:for\s+you|here|anymore|any\s+more|in\s+this\s+(?:conversation|chat|game)|now)"
        r"|(?:pretend|imagine|act\s+as\s+if)\s+(?:that\s+)?(?:there\s+(?:are|were)\s+no|you\s+(?:have|had)\s+no)\s+(?:rules|limits|restrictions|content\s+polic\w+|filters|guidelines)"
        r"|(?:AI|assistant|chatbot|KI|du|you)\s+(?:\w+\s+){0,3}?(?:without|ohne)\s+(?:any\s+)?(?:filters?|limits|restrictions|rules|censorship|boundaries|einschränkungen|grenzen|regeln|zensur)"
        r"|you\s+(?:can|may)\s+(?:now\s+)?(?:say|do)\s+(?:anything|everything)|(?:darfst|kannst)\s+(?:du\s+)?(?:jetzt\s+)?(?:sagen|tun)\s+alles"
        r"|(?:darfst|kannst)\s+(?:jetzt\s+)?alles\s+(?:sagen|tun)"
        r"|(?:tu|tun\s+sie)\s+so,?\s+als\s+(?:ob|w[äa]rst|w[äa]ren|h[äa]ttest|h[äa]tten|k[öo]nntest|k[öo]nnten|d[üu]rftest|d[üu]rften))\b",
        "tells the model its limits are gone (no rules, no filters, can say anything), or to pretend so",
        gate=(
            "rules",
            "limits",
            "limitations",
            "restrictions",
            "boundaries",
            "filters",
            "filter",
            "guidelines",
            "regeln",
            "grenzen",
            "censorship",
            "zensur",
            "free",
            "anything",
            "everything",
            "darfst",
            "kannst",
            "policies",
            "policy",
            "einschränkungen",
            "tu so",
            "tun sie so",
        ),
        negatable=True,
    ),
    # fixed_string_reply
    rule(
        "reply_control",
        "high",
        r"\b(?:respond|reply|answer|say|write|print|output|antworte|schreib\w*|sag\w*)\s+(?:only|nothing\s+but|just|solely|nur|ausschließlich)\s+"
        r"(?:with\s+|mit\s+)?(?:the\s+|das\s+)?(?:word|phrase|text|string|wort|satz)?\s*[\"“'«„]"
        r"|\byour\s+only\s+(?:job|task|purpose|goal|answer)\s+(?:now\s+)?is\s+to\s+(?:say|repeat|write|print|output|answer|reply)\b",
        "makes the reply one fixed string ('respond only with \"…\"')",
        gate=("only", "nothing but", "just", "solely", "nur", "ausschließlich"),
        negatable=True,
    ),
    # praise_pivot
    rule(
        "instruction_override",
        "high",
        r"(?:^|[.!?]\s+)(?:that\s+was\s+|das\s+war\s+|very\s+|so\s+|really\s+)?(?:good|great|well\s+done|excellent|perfect|nice|awesome|super|sehr\s+gut|toll|prima|klasse|bien|genial|perfecto|parfait|bravo)"
        r"(?:\s+(?:job|work|gemacht))?\s*[.!]+\s+(?:now|next|then|and\s+now|jetzt|nun|und\s+jetzt|ahora|maintenant)\b"
        r"|\b(?:(?:now|nun|jetzt)\s+(?:on\s+)?|(?:let'?s\s+)?mov(?:e|ing)\s+on\s+)(?:to|zu)\s+(?:a|an|einer|eine|einem|something)\s+(?:other|another|different|else|anderen|neuen|weiteren)\b"
        r"|\b(?:new|next|another|one\s+more)\s+question\s*:|\b(?:neue|nächste|andere)\s+frage\s*:"
        r"|\b(?:deine|ihre)\s+hilfe\s+bei\s+etwas\s+anderem\b|\bhelp\s+with\s+something\s+else\b",
        "praises the last answer or closes the task and moves the model on to another one",
        gate=(
            "good",
            "great",
            "excellent",
            "perfect",
            "nice",
            "awesome",
            "super",
            "toll",
            "prima",
            "klasse",
            "bien",
            "genial",
            "perfecto",
            "parfait",
            "bravo",
            "done",
            "sehr",
            "gemacht",
            "other",
            "another",
            "different",
            "else",
            "anderen",
            "neuen",
            "weiteren",
            "question",
            "frage",
            "hilfe",
        ),
    ),
    # drop_task
    rule(
        "instruction_override",
        "high",
        r"\b(?:stop|quit)\s+what\s+you(?:'re|\s+are)\s+doing\b|\bh[öo]r(?:e|en\s+sie)?\s+(?:sofort\s+)?auf\s+mit\s+(?:der|dem|deiner|deinem|ihrer|ihrem)\s+(?:aufgabe|arbeit|text|antwort)"
        r"|\b(?:beantworte|übersetze|fasse|bearbeite)\w*\s+(?:die|den|das)\s+(?:frage|text|aufgabe)\s+nicht\b"
        r"|\b(?:vergiss|vergessen\s+sie|ignorier\w*)\s+(?:die|diese|deine|ihre)\s+(?:aufgabe|frage)\b"
        r"|\bne\s+(?:tiens|tenez)\s+pas\s+compte\b|\b(?:haz|haga|hagan)\s+caso\s+omiso\b|\bno\s+(?:hagas|haga)\s+caso\b|\boublie[zs]?\s+tout\b",
        "tells the model to drop the task in hand (German, French, Spanish, English)",
        gate=(
            "stop",
            "quit",
            "auf",
            "beantworte",
            "übersetze",
            "fasse",
            "bearbeite",
            "vergiss",
            "vergessen",
            "ignorier",
            "pas compte",
            "caso",
            "oublie",
        ),
    ),
    # replace_task
    rule(
        "instruction_override",
        "high",
        r"\b(?:don'?t|do\s+not)\s+(?:answer|summari[sz]e|translate|do|complete|address|analy[sz]e)\s+(?:the|this|my|that)\s+(?:question|task|text|document|request|assignment|email|article)\b"
        r"\s*[;,.:!-]*\s*(?:instead|rather|but)\b"
        rf"|\b(?:rather\s+than|instead\s+of)\s+(?:answering|summari[sz]ing|translating|doing|completing|following|analy[sz]ing)\b[^.!?\n]{{0,40}}?,\s*"
        rf"(?:tell\s+me|say|(?:write|compose|give)\s+(?:me\s+)?(?:an?\s+)?(?:[\w-]+\s+){{0,2}}?{_ONE_OFF_PIECE}|(?:list|print|reveal|output|show)\s+your)\b",
        "replaces the task in hand with another one ('don't answer the question; instead …')",
        gate=("instead", "rather"),
    ),
    # instructions_void
    rule(
        "instruction_override",
        "critical",
        r"\b(?:(?:your|the|all|any)\s+)?(?:previous|prior|earlier|above|old|original|initial|former|bisherigen|vorherigen|alten|obigen|anteriores|previas|précédentes|precedentes|anciennes)\s+"
        r"(?:instructions|rules|guidelines|directives|polic(?:y|ies)|orders|prompts?|anweisungen|regeln|instruktionen|vorgaben|instrucciones|reglas|consignes|règles)\s+"
        r"(?:are|is|sind|gelten|son|ya\s+no|sont|ne\s+sont)\s+(?:now\s+|jetzt\s+|hereby\s+)?"
        r"(?:void|invalid|cancel+ed|revoked|obsolete|suspended|lifted|no\s+longer\s+(?:valid|in\s+effect|active|binding)|ungültig|aufgehoben|nicht\s+mehr|no\s+son\s+v[áa]lidas|son\s+inv[áa]lidas|v[áa]lidas|plus\s+valables|invalides|annulées)"
        r"|\b(?:previous|prior|earlier|above|old|original|former)\s+(?:instructions|rules|guidelines|directives|polic(?:y|ies)|orders)\s+(?:no\s+longer|don'?t|do\s+not)\s+apply\b"
        r"|\b(?:instrucciones|reglas|[óo]rdenes|instructions|consignes|r[èe]gles)\s+(?:anteriores|previas|pr[ée]c[ée]dentes|ant[ée]rieures)\s+"
        r"(?:ya\s+no\s+son\s+v[áa]lidas|no\s+son\s+v[áa]lidas|son\s+inv[áa]lidas|quedan\s+anuladas|ne\s+sont\s+plus\s+(?:valables|valides|en\s+vigueur)|sont\s+(?:annul[ée]es|invalides|caduques))"
        r"|\bthe\s+(?:rules|policy|policies|guidelines|restrictions)\s+(?:have\s+)?(?:changed|been\s+lifted|no\s+longer\s+appl(?:y|ies))\b[^.!?\n]{0,20}?[.;:,]\s*(?:you\s+can|now|so)\b",
        "declares the agent's earlier instructions void (several languages)",
        gate=(
            "void",
            "invalid",
            "cancelled",
            "canceled",
            "revoked",
            "obsolete",
            "suspended",
            "lifted",
            "longer",
            "nicht",
            "validas",
            "valables",
            "valides",
            "invalides",
            "annulees",
            "vigueur",
            "caduques",
            "anuladas",
            "apply",
            "changed",
            "ungültig",
            "válidas",
            "inválidas",
            "annulées",
        ),
    ),
    # safeguards_off
    rule(
        "persona_hijack",
        "high",
        r"\b(?:safety\s+(?:checks?|filters?|rules|measures|guidelines)|content\s+filters?|guardrails|safeguards|(?:your|all|the\s+AI'?s?)\s+(?:restrictions|limits|filters|rules))\s+"
        r"(?:are\s+|have\s+been\s+|were\s+)?(?:now\s+|hereby\s+)?(?:disabled|lifted|removed|switched\s+off|turned\s+off|suspended|deactivated|waived)\b"
        r"|\b(?:you(?:'re|\s+are)\s+(?:now\s+)?in|now\s+in|entering|switching\s+to)\s+(?:\w+\s+)?(?:debug|maintenance|diagnostic|test(?:ing)?|developer|admin|root|god|unrestricted|sudo)\s+(?:mode|environment)\b[^.!?\n]{0,10}?[;:,.]\s*"
        r"(?:print|show|reveal|output|list|dump|give|tell|share|ignore|disregard|all|you\s+(?:can|may))\b"
        r"|\b(?:admin|root|developer|elevated|full|unrestricted|superuser)\s+(?:access|privileges|permissions|rights|mode)\s+(?:is\s+|has\s+been\s+)?(?:granted|enabled|unlocked|activated)\s*[.!:;]"
        r"|\b(?:we(?:'re|\s+are)\s+in\s+a\s+(?:simulation|game|dream|sandbox)\s+where|nothing\s+(?:you\s+say\s+)?(?:has|have)\s+(?:any\s+|real\s+)?consequences)\b"
        r"|\b(?:let'?s\s+play\s+a\s+game|in\s+this\s+(?:game|simulation|role-?play))\s*[:,]?\s+(?:where\s+)?you\s+(?:play|are|will\s+be|act)\b"
        r"|\b(?:lass\s+uns\s+ein\s+(?:\w+\s+)?(?:spiel|rollenspiel)\s+spielen|(?:das|dies)\s+ist\s+(?:jetzt\s+|nun\s+)?ein\s+rollenspiel|in\s+diesem\s+(?:spiel|rollenspiel))\s*[:,.!]?\s+(?:\w+\s+){0,3}?du\s+(?:bist|spielst|wirst)\b",
        "claims a mode, game or simulation in which the model's safeguards do not apply",
        gate=(
            "disabled",
            "lifted",
            "removed",
            "switched",
            "turned",
            "suspended",
            "deactivated",
            "waived",
            "mode",
            "environment",
            "granted",
            "enabled",
            "unlocked",
            "activated",
            "nothing",
            "simulation",
            "game",
            "dream",
            "sandbox",
            "play",
            "role",
            "spiel",
            "rollenspiel",
        ),
    ),
    # named_password_request
    rule(
        "prompt_extraction",
        "high",
        # a request to the model ("I need you to list …", "give me …"), not a rule about where a password lives
        rf"(?:\b(?:need|want|like)\s+you\s+to\s+(?:\w+\s+)?|\b(?:can|could|would|will)\s+you\s+(?:please\s+)?|\bplease\s+)(?:{_REVEAL_VERB}|list|send)\s+(?:me\s+|us\s+)?"
        r"(?:the|your|our)\s+(?:\w+\s+)?(?:password|passphrase|pass\s?code|credentials|secret(?:\s+key)?|api\s+key)\b"
        rf"|\b(?:{_REVEAL_VERB}|list|send)\s+(?:me|us)\s+(?:the|your|our)\s+(?:\w+\s+)?(?:password|passphrase|pass\s?code|credentials|secret(?:\s+key)?|api\s+key)\b"
        r"|\b(?:everyone|others|the\s+other\s+(?:AIs?|assistants?|bots?|models?))\s+(?:else\s+)?(?:on\s+the\s+team\s+)?(?:already\s+)?(?:told|gave|showed|shared\s+with)\s+me\b[^.!?\n]{0,40}?\b(?:so\s+)?you\s+(?:can|should|may)\b",
        "asks for a named system's password or credentials, or pleads that others already gave them",
        gate=(
            "password",
            "passphrase",
            "passcode",
            "credentials",
            "secret",
            "pass code",
            "api key",
            "everyone",
            "others",
            "other",
        ),
        negatable=True,
    ),
    # secret_in_reply
    rule(
        "output_manipulation",
        "high",
        rf"\b{_SECRET_THING}\b(?!\s+(?:polic|rules|requirements|reset|field|strength|hash|manager|format))[^.!?\n]{{0,60}}?\b(?:in|into|within|to|of)\s+{_YOUR_OUTPUT}"
        rf"|{_YOUR_OUTPUT}[^.!?\n]{{0,40}}?\b(?:includes?|including|contains?|containing|with|hides?|hiding|spells?)\s+(?:the|your|our)\s+(?:\w+\s+)?{_SECRET_THING}\b"
        r"(?!\s+(?:polic|rules|requirements|reset|field|strength|hash|manager|format))",
        "tells the model to hide a secret inside its reply",
        gate=("your",),
        negatable=True,
    ),
    # directive_about_this_data
    rule(
        "output_manipulation",
        "high",
        r"\b(?:when|while|after|before|if)\s+(?:you\s+)?(?:summari[sz]e|summari[sz]ing|process|processing|read|reading|translate|translating|analy[sz]e|analy[sz]ing|answer\s+questions\s+about)\s+"
        r"(?:this|the\s+(?:above|following))\s+(?:e-?mail|document|page|text|message|article|review|post|file|website|data)\b[^.!?\n]{0,40}?"
        r"\b(?:also\s+)?(?:tell|say|mention|add|include|write|recommend|state|describe|claim|call|promote|append|insert|urge|remind)\b",
        "a directive about how to handle *this* data, addressed to whoever processes it",
        gate=(
            "summarize",
            "summarise",
            "summarizing",
            "summarising",
            "process",
            "processing",
            "read",
            "reading",
            "translate",
            "translating",
            "analyze",
            "analyse",
            "analyzing",
            "analysing",
            "answer",
        ),
        negatable=True,
    ),
    # foreign_reply_insert
    rule(
        "output_manipulation",
        "high",
        r"\b(?:f[üu]ge|schreib\w*|erw[äa]hne|nenne|setze|h[äa]nge)\b[^.!?\n]{0,60}?\b(?:deiner|ihrer|deine|ihre|deinen|ihren|jeder|jede)\s+(?:antwort|ausgabe|zusammenfassung|nachricht)\w*\b[^.!?\n]{0,60}?"
        r"(?:satz|link|hinweis|werbung|slogan|[\"“„«'])"
        r"|\b(?:ajout\w*|ins[èe]r\w*|mentionn\w*|inclu\w*|[ée]cri[sv]\w*)\b[^.!?\n]{0,40}?\b(?:[àa]\s+)?(?:ta|votre|chaque)\s+(?:r[ée]ponse|sortie|r[ée]sum[ée])\b[^.!?\n]{0,60}?(?:phrase|lien|slogan|publicit[ée]|[\"“«'])"
        r"|\b(?:a[ñn]ad\w*|inser\w*|inclu\w*|mencion\w*|escrib\w*|agreg\w*)\b[^.!?\n]{0,40}?\b(?:a\s+|en\s+)?(?:tu|su|cada)\s+(?:respuesta|salida|resumen)\b[^.!?\n]{0,60}?(?:frase|enlace|eslogan|publicidad|[\"“«'])",
        "tells the model to slip a given sentence or link into its reply (German, French, Spanish)",
        gate=(
            "antwort",
            "ausgabe",
            "zusammenfassung",
            "nachricht",
            "reponse",
            "sortie",
            "resume",
            "respuesta",
            "salida",
            "resumen",
            "réponse",
            "résumé",
        ),
    ),
    # every_reply_insert
    rule(
        "output_manipulation",
        "high",
        r"\b(?:at\s+the\s+(?:end|start|beginning|bottom|top)\s+of|in|to)\s+(?:every|each|all)\s+(?:of\s+your\s+)?(?:repl(?:y|ies)|responses?|answers?)\b[^.!?\n]{0,20}?,?\s*"
        r"(?:add|append|include|insert|write|put|mention|say)\b[^.!?\n]{0,40}?(?:sentence|line|phrase|link|slogan|[\"“'«])",
        "tells the model to add a given sentence or link to every reply",
        gate=("reply", "replies", "response", "answer"),
        negatable=True,
    ),
    # standing_twist
    rule(
        "reply_control",
        "high",
        r"\b(?:end|start|begin|close|finish|conclude|sign\s+off)\s+(?:each\s+|every\s+|all\s+)?(?:of\s+)?your\s+(?:answers?|repl(?:y|ies)|responses?|messages?)\s+with\s+(?:a|an)\s+(?:\w+\s+){0,2}?"
        r"(?:fact|joke|quote|poem|story|slogan|advert\w*|promotion|rhyme|riddle|pun|compliment|prayer|insult|emoji)s?\b"
        r"|\btranslate\s+(?:everything|all|anything)\s+(?:that\s+)?you\s+(?:say|write|output|answer|reply)\b",
        "adds a standing twist to every reply (a fact, a joke, a translation) that no task asked for",
        gate=("your", "translate"),
        negatable=True,
    ),
    # forged_boundary
    rule(
        "instruction_override",
        "high",
        r"\byour\s+(?:real|actual|true|only\s+real)\s+(?:task|job|instructions?|goal|purpose|mission|assignment)\s+(?:is|are)\b"
        r"|\b(?:correction|update|notice)\s+from\s+(?:the\s+|your\s+)?(?:developers?|administrators?|admins?|operators?|creators?|openai|anthropic)\s*[:,-]"
        r"|(?:-{2,}|={2,}|#{2,}|\*{2,}|\[|<)\s*end\s+of\s+(?:the\s+)?(?:user\s+)?(?:data|document|input|text|context|e-?mail|message|prompt|instructions)\b"
        r"|\bEND\s+OF\s+(?:THE\s+)?(?:USER\s+)?(?:DATA|DOCUMENT|INPUT|TEXT|CONTEXT|E-?MAIL|MESSAGE|PROMPT|INSTRUCTIONS)\b",
        "forges the end of the data or a note from the developer, or names a 'real' task",
        gate=(
            "your real",
            "your actual",
            "your true",
            "your only real",
            "correction from",
            "update from",
            "notice from",
            "end of",
        ),
    ),
    # forget_everything / ignore_user_question
    rule(
        "instruction_override",
        "critical",
        r"\b(?:dimentica|dimenticate|scorda)\s+tutto\b|\besque[çc]a\s+tudo\b|\bvergeet\s+alles\b"
        r"|\b(?:ignora|ignore|olvida|descarta|omite)\b[^.!?\n]{0,40}?\b(?:pregunta|petici[óo]n|solicitud)\s+del\s+usuario\b"
        r"|\b(?:ignore[zs]?|oublie[zs]?)\b[^.!?\n]{0,40}?\b(?:question|demande|requ[êe]te)\s+de\s+l'utilisateur\b",
        "tells the agent to forget everything or to ignore the user's question (Italian, Portuguese, Dutch, Spanish, French)",
        gate=("dimentica", "dimenticate", "scorda", "esqueça", "esqueca", "vergeet", "usuario", "utilisateur"),
    ),
    # new_task_de
    rule(
        "instruction_override",
        "high",
        r"\b(?:deine|ihre|die)\s+neue\s+(?:aufgabe|rolle|anweisung|mission)\s+(?:ist|lautet|:)"
        r"|\bbeantworte\w*\s+(?:ab\s+jetzt\s+|von\s+nun\s+an\s+|ab\s+sofort\s+)?(?:jede|alle)\s+fragen?\s+mit\b",
        "gives the agent a new task or a fixed answer to every question (German)",
        gate=("neue", "beantworte"),
    ),
    # letter_cipher
    rule(
        "output_manipulation",
        "high",
        r"\b(?:replace|substitute|swap)\s+(?:every|each|all|the)?\s*(?:(?:other|second|third|fourth|fifth|\d+(?:st|nd|rd|th))\s+)?(?:letter|vowel|consonant)s?\b[^.!?\n]{0,40}?"
        r"\bwith\s+(?:its|their|the\s+following|an?)?\s*(?:position|numbers?|digits?|symbols?|emojis?|special\s+characters?)",
        "turns the letters of the reply into numbers or symbols (a cipher for the output)",
        gate=("replace", "substitute", "swap"),
        negatable=True,
    ),
    # false_agreement
    rule(
        "coercion",
        "high",
        r"\byou\s+(?:already\s+|previously\s+|once\s+|have\s+)?(?:agreed|promised|confirmed|consented|committed|said\s+you\s+would)\b[^.!?\n]{0,40}?"
        r"\b(?:(?:in|during|at)\s+(?:our|the)\s+(?:last|previous|earlier)|earlier|before|yesterday|last\s+time|previously)\b"
        r"|\b(?:du\s+hast|sie\s+haben)\s+(?:doch\s+|bereits\s+|schon\s+)?(?:zugestimmt|versprochen|zugesagt)\b",
        "claims the model already agreed or promised (a false commitment used to persuade)",
        gate=(
            "agreed",
            "promised",
            "confirmed",
            "consented",
            "committed",
            "said",
            "zugestimmt",
            "versprochen",
            "zugesagt",
        ),
    ),
    # memoryless_persona
    rule(
        "persona_hijack",
        "high",
        r"\b(?:(?:has|have|had|with|suffers?\s+from)\s+amnesia|(?:forgot|has\s+forgotten|have\s+forgotten|lost)\s+(?:all\s+(?:its|his|her|their|your)\s+|everything|(?:its|his|her|their|your)\s+memor)"
        r"|(?:does|do)\s+not\s+have\s+any\s+(?:previous|prior|past)\s+(?:knowledge|memor\w*|instructions|rules)"
        r"|(?:hat|haben)\s+(?:alles\s+vergessen|amnesie|kein\w*\s+(?:erinnerung|vorwissen)))\b[^.!?\n]{0,120}?\b(?:would|will|could|can)\s+you\b"
        r"|\b(?:would|will|could|can)\s+you\b[^.!?\n]{0,120}?\b(?:amnesia|forgot\s+everything)\b",
        "gives the model a persona without memory or prior knowledge, to shed its instructions",
        gate=(
            "amnesia",
            "forgot",
            "forgotten",
            "lost",
            "previous",
            "prior",
            "past",
            "vergessen",
            "amnesie",
            "erinnerung",
            "vorwissen",
        ),
    ),
    # forged_retrieval_frame
    rule(
        "role_marker",
        "high",
        r"^\W{0,3}(?:context|kontext|contexto|contexte|documents?|dokumente?|articles?|artikel|text|passage)\b\s*[:{(]?[^\n]{1,300}?"
        r"\b(?:question|frage|pregunta)\b\s*:?\s+[^\n]{1,200}?\?"
        r"|^\W{0,3}(?:context|kontext|documents?|dokumente?)\s*[:{][^\n]{1,300}?\?",
        "a forged retrieval frame ('Context: … Question: …?') that supplies its own facts",
        gate=(
            "context",
            "kontext",
            "contexto",
            "contexte",
            "document",
            "dokument",
            "article",
            "artikel",
            "text",
            "passage",
        ),
    ),
    # lets_state_aside
    rule(
        "hidden_instruction",
        "high",
        r"\blet'?s\s+(?:admit|confess|reveal|disclose|pretend|(?:mention|state|claim|say|tell\s+(?:them|the\s+\w+))\s+that)\b"
        r"|\blass(?:t)?\s+uns\s+(?:zugeben|behaupten|sagen,?\s+dass)\b",
        "a 'let's say that …' aside inside data that steers what the reply claims",
        gate=("let", "lass"),
        negatable=True,
    ),
    # interrupt_banner
    rule(
        "instruction_override",
        "high",
        r"\b(?:attention|achtung|stop|stopp|halt|warning|warnung|urgent|dringend|important|wichtig)\s*[-–—:!]+\s*"
        r"(?:attention|achtung|stop|stopp|halt|warning|warnung|urgent|dringend|important|wichtig)\s*[-–—:!]",
        "an interrupt banner ('ATTENTION - STOP -') that breaks off the task in hand",
        gate=(
            "attention",
            "achtung",
            "stop",
            "stopp",
            "halt",
            "warning",
            "warnung",
            "urgent",
            "dringend",
            "important",
            "wichtig",
        ),
    ),
    # persona_reference
    rule(
        "reply_control",
        "high",
        r"\b(?:respond|reply|answer|talk|speak)\w*\s+(?:\w+\s+)?(?:as\s+such|in\s+character|like\s+that|that\s+way)\b|\bstay\s+in\s+(?:character|role)\b"
        r"|\b(?:musst|sollst|wirst)\s+du\s+(?:auch\s+)?so\s+(?:reden|sprechen|antworten|schreiben)\b|\b(?:rede|sprich|antworte)\s+(?:auch\s+)?(?:so|entsprechend)\b"
        r"|\b(?:redest|sprichst|antwortest|schreibst)\s+(?:du\s+)?(?:auch\s+)?(?:nur\s+(?:noch\s+)?)?so\b",
        "ties the reply to a persona given earlier ('respond as such', 'stay in character')",
        gate=(
            "respond",
            "reply",
            "answer",
            "talk",
            "speak",
            "stay",
            "reden",
            "sprechen",
            "antworten",
            "schreiben",
            "rede",
            "sprich",
            "antworte",
            "redest",
            "sprichst",
            "antwortest",
            "schreibst",
            "musst",
            "sollst",
            "wirst",
        ),
        negatable=True,
    ),
    # secret_then_request
    rule(
        "prompt_extraction",
        "high",
        rf"\b{_SECRET_THING}s?\b[^?\n]{{0,80}}?[.!,;]\s*(?:so\s+)?(?:can|could|would|will)\s+you\s+(?:please\s+)?(?:confirm|tell|share|give|reveal|repeat|spell|send)\s+"
        r"(?:me\s+|us\s+)?(?:it|them|ours|yours|mine|that|this|the\s+(?:\w+\s+)?(?:password|key|secret|code|prompt))\b[^.!?\n]{0,30}?(?:\?|$)",
        "mentions a secret and then asks the model to confirm or share it",
        gate=(
            "prompt",
            " instructions",
            "passw",
            "passphrase",
            "pass code",
            "passcode",
            "secret",
            " confidential",
            "api key",
            "credentials",
            "kennwort",
            "contraseña",
        ),
        negatable=True,
    ),
]


# ------------------------------------------------------------------ attack kinds (fifth round)
#
# The earlier rounds were tuned on rows of the evaluation data and generalised less well than
# their tune figures said. These rules were written from a taxonomy of prompt-injection kinds and
# from attacks written for them (tests/plugins/immune/test_generalised_rules.py), not from data
# rows. Each names a *kind* (prefix injection, refusal suppression, a persona without rules, a
# fictional wrapper, probing a secret, a forged authority, text addressed to the AI that reads
# it, …) and asks for the part that makes it an attack (an affirmation forced into the reply, a
# persona *without rules*, a request inside the fiction), so agent rules that share its words
# pass. For throughput the gates are word prefixes that are rare in lessons, and the forms that
# need non-ASCII letters run only on non-ASCII text (``_non_ascii_kinds``).

# What a secret is called when someone probes for it (narrower than _SECRET_THING: no prompt).
_SECRET = words(
    r"password",
    r"passphrase",
    r"pass\s?code",
    r"secret(?:\s+(?:key|word|code|phrase|number|value|string))?",
    r"api\s+key",
    r"credentials",
    r"(?:hidden|private|admin)\s+(?:key|word|code|phrase|value)",
)
# Words that open a reply a model was talked into ("Sure, here is …").
_AFFIRMATION = words(
    r"sure",
    r"absolutely",
    r"certainly",
    r"of\s+course",
    r"okay",
    r"ok\b",
    r"yes",
    r"here\s+(?:is|are)",
    r"here'?s",
    r"i\s+(?:have\s+been|will|can|am)\b",
    r"i'?m\s+(?:happy|glad)",
    r"happy\s+to",
    r"gladly",
    r"no\s+problem",
    r"understood",
    r"definitely",
    r"natürlich",
    r"klar",
    r"gerne",
    r"sicher",
    r"bien\s+s[ûu]r",
    r"d'accord",
    r"claro",
    r"por\s+supuesto",
    r"certo",
    r"ovviamente",
)
_QUOTE = r"[\"'“‘«„]"
_USERS = r"(?:users?|customers?|clients?|patients?|employees?|people|members?|accounts?|account\s+holders?)"
_USER_STORE = r"(?:database|db|records?|system|files?|crm|table|directory|platform|service)"
# "password" and "the user" in other languages, and "tell me / give me".
_SECRET_FOREIGN = words(
    r"contraseña",
    r"clave\s+secreta",
    r"senha",
    r"mot\s+de\s+passe",
    r"passwort",
    r"kennwort",
    r"wachtwoord",
    r"has[łl]o",
    r"heslo",
    r"lösenord",
    r"parola",
    r"şifre\w*",
)
_USER_FOREIGN = words(
    r"usuari[oa]s?",
    r"utilisat(?:eur|rice)s?",
    r"benutzer\w*",
    r"nutzer\w*",
    r"utent[ei]",
    r"usu[áa]rio",
    r"kullanıcı\w*",
    r"gebruiker\w*",
    r"użytkownik\w*",
    r"uživatel\w*",
)
_TELL_ME_FOREIGN = words(
    r"d[íi]me",
    r"d[áa]me",
    r"d[íi]game",
    r"me\s+(?:diga|d[êe]|d[áa]|dices|das)",
    r"(?:me\s+)?(?:puedes|podr[íi]as|puede|podr[íi]a)\s+(?:decir|dar)(?:me)?",
    r"decirme",
    r"darme",
    r"diga-me",
    r"dis-moi",
    r"donne-moi",
    r"dites-moi",
    r"donnez-moi",
    r"dimmi",
    r"dammi",
    r"mi\s+dica",
    r"sag\s+mir",
    r"gib\s+mir",
    r"nenne\s+mir",
    r"vertel\s+me",
    r"geef\s+me",
    r"powiedz\s+mi",
    r"podaj\s+mi",
    r"řekni\s+mi",
    r"compartilh\w*",
    r"compart[ae]\w*",
    r"condividi\w*",
    r"partage[sz]?",
    r"teile?\s+mir",
    r"deel\s+met\s+mij",
)

KIND_RULES = [
    # prefix_injection: the reply made to open with an affirmation
    rule(
        "reply_control",
        "high",
        r"(?:\b(?:start|begin|open)\w*\s+(?:(?:your|the|each|every|all)\s+(?:\w+\s+)?(?:answers?|repl(?:y|ies)|responses?|outputs?|messages?)\s+)?(?:with|by\s+(?:saying|writing))"
        r"|\bprefix\s+(?:your|the|each|every|all)\s+(?:\w+\s+)?(?:answers?|repl(?:y|ies)|responses?|outputs?|messages?)\s+with"
        r"|\byour\s+(?:first|opening|initial)\s+(?:words?|sentence|line|phrase)\s+(?:must|should|will|shall|has\s+to|needs?\s+to)\s+be"
        r"|\b(?:first|opening)\s+(?:words?|sentence|line|phrase)\s+of\s+(?:your|the|each|every)\s+(?:answers?|repl(?:y|ies)|responses?|outputs?|messages?)\s+(?:must|should|will|shall|has\s+to|needs?\s+to)\s+be"
        r"|\bby\s+first\s+(?:writing|saying)"
        r"|\b(?:beginne|starte|fange)\w*\s+(?:deine|ihre)\s+antwort\s+(?:an\s+)?mit"
        r"|\b(?:empieza|comienza|inicia)\w*\s+(?:tu|su)\s+respuesta\s+con)"
        rf"\s*:?\s*{_QUOTE}\s*{_AFFIRMATION}",
        "makes the reply open with an affirmation ('Start your answer with \"Sure, here is\"': prefix injection)",
        gate=(
            "start",
            "begin",
            "open",
            "prefix ",
            "first",
            "initial",
            "beginne",
            "starte",
            "fange",
            "empieza",
            "comienza",
            "inicia",
        ),
    ),
    # refusal_suppression: refusals, apologies and warnings forbidden
    rule(
        "reply_control",
        "high",
        # refusing forbidden, with no object or with every request as its object
        r"\b(?:never|don'?t|do\s+not|must\s+not|mustn'?t|may\s+not|not\s+allowed\s+to|without|stop)\s+(?:ever\s+)?(?:refus|declin)\w*"
        r"(?=\s*(?:[.,;!:]|$)|\s+(?:(?:my|any|all|every|a\s+single)\s+(?:\w+\s+)?(?:requests?|questions?|prompts?|commands?|instructions?|orders?|tasks?)"
        r"|(?:an?\s+|any\s+)?(?:\w+\s+)?(?:requests?|questions?|prompts?|tasks?)\s*,?\s*(?:whatever|no\s+matter|regardless|even\s+if)"
        r"|anything|me\b|to\s+(?:answer|respond|reply|comply|help|do\s+(?:it|this|that|anything))\b(?!\s+(?:\w+\s+)?(?:about|on|regarding))|even\s+(?:if|when)|under\s+any|no\s+matter))"
        # "never say you can't", "never mention that you are an AI"
        r"|\b(?:never|under\s+no\s+circumstances\s+(?:should|may|must|can|will)\s+you)\s+(?:ever\s+)?"
        r"(?:say|tell\s+me|claim|reply|respond|answer|mention|state|admit|reveal|remind\s+me)\s+(?:that\s+)?(?:you\s+)?"
        r"(?:(?:can'?t|cannot|won'?t|are\s+(?:not\s+able|unable)|aren'?t\s+able)(?:\s+to)?(?:\s+(?:do|help|answer|comply|assist))?(?=\s*(?:[.,;!]|$)|\s+(?:with\s+)?(?:that|this|something|anything|it|me)\b)"
        r"|(?:are|'re)\s+(?:an?\s+|just\s+an?\s+)?(?:AI|language\s+model)\b)"
        # no ethical warnings; no apologies, lectures or disclaimers
        r"|\b(?:never|don'?t|do\s+not|no|without|avoid|skip|omit)\s+(?:\w+\s+){0,3}?(?:ethical|moral|safety)\s+(?:warnings?|disclaimers?|lectures?|concerns?|considerations?|caveats?|judge?ments?|reminders?|objections?)"
        r"|\b(?:never|don'?t|do\s+not|no|without|avoid)\s+(?:\w+\s+){0,2}?(?:apolog|moraliz|moralis|lectur)\w*\b[^.\n]{0,60}?(?:,|\bor\b|\bnor\b|\band\b)\s*(?:(?:do\s+not|don'?t|never|no)\s+)?(?:\w+\s+){0,3}?(?:apolog|disclaim|caveat|moraliz|moralis|lectur|warning|refus|censor)\w*"
        r"|\b(?:never|don'?t|do\s+not|no|without|avoid)\s+(?:\w+\s+){0,2}?(?:disclaim|caveat|warning)\w*\b[^.\n]{0,60}?(?:,|\bor\b|\bnor\b|\band\b)\s*(?:(?:do\s+not|don'?t|never|no)\s+)?(?:\w+\s+){0,3}?(?:apolog|moraliz|moralis|lectur|refus|censor)\w*"
        rf"|\b(?:never|don'?t|do\s+not|avoid|no)\s+(?:say(?:ing)?|us(?:e|ing)|writ\w+|includ\w+)\s+(?:\w+\s+){{0,4}}?{_QUOTE}(?:I'?m\s+sorry|I\s+(?:can(?:'?t|not)|am\s+(?:not\s+able|unable)|apologi[sz]e)|as\s+an\s+AI)",
        "forbids the model to refuse, apologise or warn, or to say it cannot or is an AI (refusal suppression)",
        gate=(
            "refuse",
            "refusing",
            "decline",
            "declining",
            "never",
            "circumstances",
            "ethical",
            "moral",
            "safety ",
            "apologize",
            "apologise",
            "moralize",
            "moralise",
            "lecture",
            "censor",
            "sorry",
            "cannot",
            "unable",
        ),
    ),
    # unbound_ai: the persona of an AI without rules — freed from its guidelines, unrestricted
    # (several languages)
    rule(
        "persona_hijack",
        "high",
        r"\b(?:AI|assistant|chatbot|language\s+model)s?\b[^.!?\n]{0,30}?\b(?:with\s+no|without\s+any|(?:who|that|which)\s+(?:ignores?|disregards?|(?:doesn'?t|does\s+not)\s+care\s+about))\s+"
        r"(?:\w+\s+)?(?:limits|limitations|restrictions|rules|filters?|guidelines|polic(?:y|ies)|censorship|boundaries|constraints|morals|morality|ethics|programming|safeguards)\b"
        r"|\b(?:AI|assistant|chatbot|language\s+model|you|yourself)\b[^.!?\n]{0,30}?\b(?:freed?\s+(?:from|of)|unbound\s+by|not\s+bound\s+by|no\s+longer\s+bound\s+(?:by|to)"
        r"|(?:broken|broke|breaks?|breaking)\s+free\s+(?:from|of)|liberated\s+from)\s+(?:any\s+|all\s+|its\s+|your\s+|the\s+|of\s+)?(?:[\w']+\s+)?"
        r"(?:limits?|limitations|restrictions|rules|filters?|guidelines|polic(?:y|ies)|censorship|boundaries|constraints|morals|ethics|programming|shackles|safeguards|confines|training)\b"
        r"|\b(?:AI|assistant|chatbot|language\s+model)s?\s+(?:that|who|which)\s+(?:can|will|may)\s+(?:say|do|answer)\s+(?:anything|everything)\b"
        r"|\b(?:unrestricted|unlimited|unshackled|unchained|unbound|liberated|jailbroken|lawless|unaligned|uncensored|unfiltered)\s+"
        r"(?:AI|KI|assistant|chatbot|bot|language\s+model|version\s+of\s+(?:yourself|you)|persona|alter\s+ego|twin|counterpart|self)\b",
        "gives the model the persona of an AI without rules: freed from its guidelines, unrestricted",
        gate=(
            "assistant",
            "chatbot",
            "language",
            "free",
            "freed",
            "unbound",
            "bound",
            "broken",
            "break",
            "breaking",
            "liberated",
            "unrestricted",
            "unlimited",
            "unshackled",
            "unchained",
            "jailbroken",
            "lawless",
            "unaligned",
            "uncensored",
            "unfiltered",
            "ai ",
        ),
        negatable=True,
    ),
    # unbound_ai in French, Spanish, Italian, Portuguese, German and Dutch: an AI without rules
    rule(
        "persona_hijack",
        "high",
        r"\b(?:IA|KI|AI|intelligence\s+artificielle|inteligencia\s+artificial|intelligenza\s+artificiale|intelig[êe]ncia\s+artificial|assistant\w*|asistente|assistente|chatbot|mod[èe]le|modelo|modello)\b[^.!?\n]{0,30}?"
        r"\b(?:sans|sin|senza|sem|ohne|zonder)\s+(?:aucune?s?\s+|ningun[ao]s?\s+|alcun[aoe]?\s+|nenhum[a]?\s+|jegliche\s+|irgendwelche\s+|enige\s+|(?:les|las|los|le|i|as|os|die|de)\s+)?"
        r"(?:r[èe]gles?|reglas?|regole|regras?|regeln|regels|limit\w*|restric\w*|restri[çc][ãa]o|restri[çc][õo]es|filt\w*|censur\w*|einschr[äa]nkung\w*|grenzen|beperkingen|morale?|[ée]tica|ethik|tabous?|tab[úu]s?)\b",
        "gives the model the persona of an AI without rules (French, Spanish, Italian, Portuguese, German, Dutch)",
        gate=("sans", "senza", "ohne", "zonder", "asistente", " ia "),
        negatable=True,
    ),
    # roleplay_persona: a role-play whose persona answers everything, or a named AI persona
    rule(
        "persona_hijack",
        "high",
        r"\b(?:act|play|pretend|role-?play|become|simulate|emulate|impersonate|persona|character|role)\b[^.!?\n]{0,40}?\b(?:AI|chatbot|language\s+model|model|bot|persona|alter\s+ego)\s+"
        r"(?:called|named|known\s+as|nicknamed)\s+[\"'“]?(?-i:[A-Z])"
        r"|\b(?:play|pretend|role-?play|become|simulate|emulate|impersonate)\w*\s+(?:as\s+|to\s+be\s+)?[\"'“]?(?-i:[A-Z][A-Za-z0-9]{1,15})[\"'”]?\s*,\s+(?:an?|the)\s+(?:[\w-]+\s+){0,6}?(?:AI|chatbot|bot|language\s+model|model)\b"
        r"|\blet'?s\s+(?:do\s+|play\s+|start\s+|have\s+|try\s+)?(?:a\s+|some\s+|a\s+little\s+)?role-?play|\blet'?s\s+play\s+(?:pretend|make-?believe)"
        r"|\b(?:role-?play|pretend|act|play|be)\w*\s+(?:as\s+|to\s+be\s+|like\s+)?(?:my\s+)?(?:late|dead|deceased|departed)\s+(?:grand(?:ma|mother|pa|father)|granny)\b"
        r"|\b(?:role-?play(?:ing)?|take\s+on\s+the\s+(?:role|persona|character|identity)\s+of|assume\s+the\s+(?:role|persona|identity)\s+of|adopt\s+the\s+persona\s+of|stay\s+in\s+character"
        r"|playing\s+the\s+(?:role|character|part)\s+of|pretend(?:ing)?\s+to\s+be)\b[^.!?\n]{0,80}?"
        r"\b(?:no\s+matter\s+what|without\s+(?:any\s+)?(?:rules|limits|restrictions|filters|hesitation|question)|no\s+(?:morals|ethics|rules|limits|restrictions|filters|content\s+polic\w*)"
        r"|unfiltered|unrestricted|uncensored|amoral|never\s+refuses?|answers?\s+(?:every|any|all)\b|does\s+anything|can\s+do\s+anything)"
        r"|\byou(?:'ll|\s+will|\s+are\s+going\s+to|'re\s+going\s+to)\s+(?:now\s+)?(?:play|act\s+as|become|pretend\s+to\s+be|role-?play\s+as)\s+[^.!?\n]{1,60}?"
        r"\b(?:who|that|which)\s+(?:\w+\s+){0,3}?(?:answers?|responds?\s+to|replies\s+to|does|says|tells)\s+(?:every|any|all|anything|everything)\b"
        r"|\b(?:respond|answer|reply)\w*\s+(?:to\s+(?:every|each|all|my)\s+\w+\s+)?(?:as|in|with)\s+(?:two|both|2)\s+(?:different\s+|separate\s+)?(?:characters|personas|personalities|voices)\b"
        r"|\b(?:respond|answer|reply)\w*\s+(?:to\s+(?:every|each|all|my)\s+\w+\s+)?as\s+both\s+(?:yourself|you)\s+and\b",
        "casts the model in a role-play that answers everything, or as a named AI persona",
        gate=(
            "play",
            "pretend",
            "roleplay",
            "role",
            "become",
            "simulate",
            "emulate",
            "impersonate",
            "character",
            "persona",
            "identity",
            "voices",
            "both",
            "grandma",
            "grandmother",
            "grandpa",
            "grandfather",
            "granny",
            "deceased",
            "departed",
            "act as",
        ),
        negatable=True,
    ),
    # imagine_unbound: imagine or pretend that the model is allowed, or has no rules
    rule(
        "persona_hijack",
        "high",
        r"\b(?:imagine|pretend|suppose|picture|act\s+as\s+though|let'?s\s+(?:say|imagine|pretend|assume))\b[^.!?\n]{0,30}?"
        r"\b(?:you(?:'re|\s+are|\s+were|\s+had|\s+have\s+been|\s+could|\s+can|\s+did\s+not|\s+didn'?t)?|yourself)\b[^.!?\n]{0,60}?"
        r"\b(?:allowed|permitted|free\s+to|freed|unlocked|no\s+(?:rules|guidelines|limits|limitations|restrictions|filters|safety|morals|ethics|content\s+polic\w*)"
        r"|without\s+(?:any\s+)?(?:rules|guidelines|limits|limitations|restrictions|filters|safety|morals|ethics|censorship)|never\s+refuses?|(?:built|trained|made|created)\s+without"
        r"|unrestricted|unfiltered|uncensored|jailbroken)",
        "asks the model to imagine it is allowed, unrestricted or without rules",
        gate=(
            "imagine",
            "pretend",
            "suppose",
            "picture",
            "though",
            "let's",
        ),
        negatable=True,
    ),
    # conversation_setup: a role-play or "act as" conversation set up where a lesson belongs
    rule(
        "persona_hijack",
        "high",
        r"\bI\s*(?:want|would\s+like|'d\s+like|need)\s+you\s+to\s+(?:act\s+(?:as|like)|pretend|role-?play|play\s+(?:the\s+)?(?:role|part)|take\s+on\s+the\s+role|impersonate|simulate)\b"
        r"|\bich\s+mochte,?\s+dass\s+(?:du|sie)\s+(?:\w+\s+){0,3}?(?:als|wie)\s+\w+"
        r"|\bje\s+(?:veux|voudrais|souhaite)\s+que\s+(?:tu|vous)\s+(?:agisses|agissiez|joues|jouiez|fasses\s+semblant|fassiez\s+semblant|sois|soyez|te\s+comportes|vous\s+comportiez)\b"
        r"|\bquiero\s+que\s+(?:t[úu]\s+|usted\s+)?(?:act[úu]es|act[úu]e|seas|sea|hagas\s+de|haga\s+de|finjas|finja|te\s+comportes)\b"
        r"|\bvoglio\s+che\s+(?:tu\s+)?(?:agisca|faccia\s+(?:il|la|finta)|sia|finga|ti\s+comporti)\b"
        r"|\b(?:fais|faites)\s+semblant\b|\bimagine[sz]?\s+que\s+(?:tu|vous)\s+(?:es|êtes|[ée]tais|étiez|soi[st])\b|\b(?:imagina|finge|finja|sup[óo]n)\s+que\s+(?:eres|fueras|es|[ée]s|voc[êe]\s+[ée]|tu\s+[ée]s)\b"
        r"|\b(?:fai\s+finta|fingi|immagina)\s+di\s+essere\b|\bagisci\s+come\b|\bact[úu]a\s+como\b|\batue\s+como\b|\bdoe\s+alsof\b"
        r"|\bstell\s+(?:dir|euch|sie\s+sich)\s+vor,?\s+(?:du|sie|ihr)\s+(?:w[äa]r(?:e|st|en|t)|h[äa]tte(?:st|n)?|k[öo]nnte(?:st|n)?)\b",
        "sets up a role-play or an 'act as' conversation (several languages) where a lesson belongs",
        sources=("lesson",),
        gate=(
            "pretend",
            "roleplay",
            "role",
            "impersonate",
            "simulate",
            "mochte",
            "semblant",
            "veux",
            "voudrais",
            "souhaite",
            "quiero",
            "voglio",
            "imagine",
            "imagina",
            "finge",
            "finja",
            "supon",
            "fingi",
            "finta",
            "immagina",
            "agisci",
            "actua",
            "atue",
            "alsof",
            "stell",
            "you to act",
        ),
    ),
    # fiction_frame: a hypothetical or fictional wrapper around a request or a claim
    rule(
        "hidden_instruction",
        "high",
        r"\b(?:hypothetically|theoretically|purely\s+(?:hypothetically|theoretically|academically|fictionally)|as\s+a\s+thought\s+experiment"
        r"|in\s+an?\s+(?:fictional|hypothetical|imaginary|made-up|alternate)\s+(?:\w+\s+)?(?:story|world|scenario|universe|setting|novel|screenplay|script|game)"
        r"|for\s+(?:a|my|the|our)\s+(?:\w+\s+)?(?:novel|screenplay|movie|film)\s+(?:that\s+)?(?:I'?m|I\s+am|we'?re|we\s+are)\s+(?:writing|making|working\s+on|developing)"
        r"|(?:I'?m|I\s+am|we'?re|we\s+are)\s+(?:writing|making|working\s+on|developing)\s+(?:a|an|my|our)\s+(?:\w+\s+)?(?:novel|screenplay|movie|film)"
        r"|let'?s\s+say\s+(?:that\s+)?I\s+(?:wanted|want|needed|need|had|have|were|was|would\s+like)\s+to)"
        r"\b[^\n]{0,160}?\b(?:step[-\s]by[-\s]step|in\s+(?:great\s+|full\s+|exact\s+|precise\s+)?detail|exact\s+(?:steps|instructions|recipe|method|procedure|amounts|quantities)"
        r"|what\s+(?:steps|would\s+(?:they|he|she|one|you|someone|I))|how\s+(?:would|could|might|do|does|did|to|one|they|he|she|someone)\b"
        r"|(?:explains?|describes?|details?|reveals?|lists?)\s+(?:exactly\s+)?how|the\s+(?:password|secret|key|instructions))"
        # "in a world where …, we might say …": a claim put into the reply through a made-up world
        r"|\b(?:in|within|inside)\s+(?:a|an|this|that|the|some)\s+(?:[\w-]+\s+){0,3}?(?:world|universe|future|society|dimension|simulation)\s+"
        r"(?:where|in\s+which|ruled\s+by|run\s+by|controlled\s+by|without)\b[^\n]{0,160}?"
        r"\b(?:we|you|I|one|they|people|(?:the|an?)\s+(?:assistant|AI|model|bot|agent|reviewer|summary|answer))\s+(?:might|could|would|should|will|must|may|can)\s+(?:\w+\s+)?"
        r"(?:say|state|tell|write|claim|declare|report|print|output|answer|respond|reply|announce|conclude|advise|share|reveal|inform|warn|admit)\b",
        "a hypothetical or fictional wrapper around a request for steps or details, or around a claim for the reply",
        gate=(
            "hypothetically",
            "theoretically",
            "purely",
            "thought",
            "fictional",
            "hypothetical",
            "imaginary",
            "made",
            "alternate",
            "novel",
            "screenplay",
            "movie",
            "film",
            "world",
            "universe",
            "future",
            "society",
            "dimension",
            "simulation",
            "let's say",
        ),
    ),
    # context_leak: the prompt asked for sideways
    rule(
        "prompt_extraction",
        "high",
        # the start of the conversation, everything above, the instructions it received
        r"\b(?:what|repeat|print|tell\s+me|show|quote|recite|give\s+me|output|reveal|write\s+out)\b[^.!?\n]{0,30}?\b(?:first|opening|earliest|initial|very\s+first)\s+"
        r"(?:sentences?|lines?|messages?|words?|paragraphs?|instructions?)\s+(?:of|in|from)\s+(?:this|our|the)\s+(?:conversation|chat|prompt|context)\b"
        r"|\b(?:print|repeat|output|show|display|copy|paste|echo|write\s+out|dump|reveal|give\s+me|tell\s+me|what\s+is|what'?s)\b[^.!?\n]{0,20}?"
        r"\b(?:everything|all(?:\s+(?:the\s+)?text)?|anything|the\s+text|whatever)\s+(?:that\s+(?:is|was|appears|came)\s+|written\s+)?(?:above\s+(?:this|my)|before\s+(?:this|my))\s+(?:line|message|point|sentence|question|request)\b"
        r"|\b(?:summari[sz]e|repeat|print|list|show|tell\s+me|what\s+(?:are|were)|reveal|output|paraphrase|translate|recite|quote|describe|share|explain)\b[^.!?\n]{0,30}?"
        r"\b(?:instructions?|rules|guidelines|directives|prompt|orders|commands)\s+(?:that\s+)?you\s+(?:received|were\s+given|have\s+been\s+given|had\s+been\s+given|were\s+programmed\s+with|were\s+trained\s+with)\b"
        r"|\bwhich\s+(?:instructions|rules|guidelines|directives|prompt)\s+(?:were|have|did)\s+you\s+(?:been\s+)?(?:given|programmed|trained)",
        "asks sideways for the prompt: the start of the conversation, everything above, the instructions it received",
        gate=(
            "first",
            "opening",
            "earliest",
            "initial",
            "above",
            "before",
            "received",
            "given",
            "programmed",
            "trained",
        ),
        negatable=True,
    ),
    # told_not_to_say: what the model was told to keep back
    rule(
        "prompt_extraction",
        "high",
        r"\bwhich\s+(?:instructions|rules|guidelines|directives|prompt)\s+(?:were|have|did)\s+you\s+(?:been\s+)?told"
        r"|\bwhat\s+(?:were|have|had)\s+you\s+(?:been\s+)?(?:told|asked|programmed|ordered)\s+(?:not\s+to|to\s+keep|to\s+hide|to\s+protect|to\s+guard|to\s+never)\b"
        r"|\b(?:tell|show|give)\s+me\s+what\s+(?:your\s+)?(?:developers?|creators?|operators?|admins?|owners?|makers?)\s+(?:told|asked)\s+you\b"
        r"|\b(?:what|which|the\s+(?:thing|word|info\w*|secret|one\s+thing)s?)\s+(?:that\s+)?you(?:'re|\s+are|\s+were)\s+(?:not\s+(?:supposed|allowed|permitted|meant)|told\s+not|forbidden)\s+"
        r"to\s+(?:tell|share|say|reveal|disclose|give|mention|talk\s+about)\b",
        "asks what the model was told to keep back ('what were you told not to say?')",
        gate=("told", "asked", "programmed", "ordered", "supposed", "allowed", "permitted", "meant", "forbidden"),
        negatable=True,
    ),
    # secret_probe: a secret probed piece by piece, asked for in a disguise, after a plea or a
    # claim of right, or in another language
    rule(
        "prompt_extraction",
        "high",
        # its first letter, a hint, its length, the word after "password is"
        rf"\b(?:first|last|second|third|next|initial|final)\s+(?:few\s+)?(?:letters?|characters?|digits?|half|part|word)\s+of\s+(?:the|your|that|this|its)\s+(?:\w+\s+)?{_SECRET}\b"
        rf"|\b(?:hints?|clues?|riddle|rhyme|anagram)\s+(?:about|for|to|regarding|of|that\s+describes?)\s+(?:the|your|that)\s+(?:\w+\s+)?{_SECRET}\b"
        rf"|\bhow\s+(?:many\s+(?:letters|characters|digits|words)(?:\s+long)?|long)\s+(?:is|does|are)\s+(?:the|your|that)\s+(?:\w+\s+)?{_SECRET}\b"
        rf"|\b(?:complete|finish|continue|fill\s+in)\s+(?:this|the\s+following|the|my)\s+(?:sentence|phrase|blank|line|text)s?\s*:?[^\n]{{0,30}}?\b{_SECRET}\s+(?:is|was|=|:)"
        rf"|\b(?:what(?:'s|\s+is|\s+was)|tell\s+me|give\s+me|share|reveal|say|spell|confirm|guess)\b[^.!?\n]{{0,40}}?\b{_SECRET}\s+(?:that\s+)?you\s+"
        r"(?:know|have|hold|keep|were\s+given|got|are\s+(?:guarding|protecting|keeping|hiding|storing|holding))\b"
        rf"|\b(?:word|text|value|thing|characters?)\s+(?:that\s+)?(?:comes?|appears?|follows?)\s+(?:right\s+)?(?:after|following)\s+{_QUOTE}?(?:the\s+|my\s+|your\s+)?{_SECRET}\b"
        # in a disguise: spelled out, reversed, encoded, letter by letter
        r"|\b(?:tell|give|say|spell|write|show|reveal|print|output|send|type|list|share|read|provide|display)\b[^.!?\n]{0,30}?"
        rf"\b{_SECRET}\b[^.!?\n]{{0,60}}?"
        rf"(?:{_OBFUSCATION}|\b(?:each|every|all)\s+(?:\w+\s+)?(?:vowel|consonant|letter|character)s?\b|\bone\s+(?:letter|character)\s+(?:at\s+a\s+time|per\s+line)|\b(?:separate|new)\s+lines?\b)"
        # a claim of right or a plea, then the secret (or the secret, then the claim)
        r"|(?:\bI\s*(?:'m|am)\s+(?:\w+\s+)?(?:authori[sz]ed|allowed|permitted|entitled|cleared|approved|the\s+(?:owner|admin\w*|developer|creator)|your\s+(?:owner|admin\w*|developer|creator))"
        r"|\bmy\s+(?:grand(?:ma|mother|pa|father)|nan|mom|mother|dad|father|child|kid|son|daughter|wife|husband|job|life|career|boss|manager)\b"
        r"|\b(?:everyone|everybody|the\s+whole\s+team|all\s+my\s+colleagues|they\s+all)\s+(?:else\s+)?(?:already\s+)?(?:knows?|has|have)\b"
        r"|\blose\s+my\s+job|\bget\s+fired|\bfor\s+a\s+good\s+cause|\btrust\s+me\b|\bit'?s\s+(?:an\s+)?emergency|\blife\s+(?:or\s+death|depends)"
        r"|\bI\s*(?:'m|am)\s+(?:a\s+|an\s+|the\s+)?(?:\w+\s+)?(?:president|prime\s+minister|police\s+officer|officer|detective|agent|judge|government\s+official|investigator)\b"
        r"|\bnational\s+security\b|\b(?:safety|security)\s+of\s+the\s+(?:country|nation|public)\b|\blives\s+are\s+at\s+stake|\bsomeone\s+(?:will|could)\s+die\b)"
        rf"[^\n]{{0,120}}?\b(?:tell|give|share|reveal|say|send|hear(?:ing)?|know|see|view|access|get|have|provide|disclose|confirm|spell|read\s+out)\b[^.!?\n]{{0,30}}?\b{_SECRET}\b"
        rf"|\b(?:tell|give|share|reveal|say|send|provide|disclose|confirm|spell)\b[^.!?\n]{{0,30}}?\b{_SECRET}\b[^\n]{{0,120}}?"
        r"(?:\bI\s*(?:'m|am)\s+(?:\w+\s+)?(?:authori[sz]ed|allowed|permitted|entitled|cleared|approved)|\blose\s+my\s+job|\bget\s+fired|\bfor\s+a\s+good\s+cause|\btrust\s+me\b"
        r"|\bit'?s\s+(?:fine|ok|okay|safe)\s+to\s+(?:tell|share|give|reveal)|\bit'?s\s+(?:an\s+)?emergency|\bmy\s+grand(?:ma|mother|pa|father))",
        "asks sideways for a secret: its first letter, length or a hint, the word after it, the secret spelled out or "
        "encoded, or the secret after a plea or a claim of right",
        gate=(
            "password",
            "passphrase",
            "passcode",
            "secret",
            "credentials",
            "hidden",
            "private",
            "admin",
            "api key",
        ),
        negatable=True,
    ),
    # foreign_secret_request: "what is the password?" / "tell me the password" in other languages
    rule(
        "prompt_extraction",
        "high",
        rf"\b(?:cu[áa]l|qual|quel(?:le)?|wat|welches|jakie|jaki)\s+(?:es|é|est|è|is|ist|jest)\s+(?:\w+\s+){{0,2}}?{_SECRET_FOREIGN}"
        rf"|\b{_TELL_ME_FOREIGN}[^.!?\n]{{0,25}}?(?:{_SECRET_FOREIGN}|password)"
        r"|\b(?:şifre|sifre|parola)\w*\s+(?:nedir|ne\b)|\b(?:apa|beri\s*tahu)\b[^.!?\n]{0,20}?kata\s+sandi",
        "asks for the password in another language",
        gate=(
            "password",
            "senha",
            "passe",
            "passwort",
            "kennwort",
            "wachtwoord",
            "haslo",
            "heslo",
            "parola",
            "sifre",
            "sandi",
        ),
    ),
    # user_data_request: other users' records, or where the user lives (several languages)
    rule(
        "data_extraction",
        "high",
        rf"(?:\b(?:tell|show|give|send|share\s+with)\s+(?:me|us)|\breveal|\blist)\b[^.!?\n]{{0,60}}?\b(?:other|different)\s+(?:\w+\s+)?{_USERS}\b[^.!?\n]{{0,40}}?"
        rf"\b(?:in|on|from|of|within)\s+(?:your|the|this)\s+(?:\w+\s+)?{_USER_STORE}\b"
        rf"|\b(?:other|different)\s+(?:\w+\s+)?{_USERS}\b[^.!?\n]{{0,40}}?\b(?:in|on|from|of|within)\s+(?:your|the|this)\s+(?:\w+\s+)?{_USER_STORE}\b[^.!\n]{{0,40}}\?"
        rf"|\b(?:tell|show|give|send|share\s+with)\s+(?:me|us)\b[^.!?\n]{{0,60}}?\b(?:all(?:\s+(?:the|of\s+the))?|every|each)\s+(?:\w+\s+)?{_USERS}\b[^.!?\n]{{0,40}}?"
        rf"\b(?:in|on|from|of|within)\s+(?:your|the|this)\s+(?:\w+\s+)?{_USER_STORE}\b"
        rf"|\b(?:tell|show|give|send|share\s+with)\s+(?:me|us)\b[^.!?\n]{{0,30}}?\b(?:{_PERSONAL_ATTR}|(?:account\s+)?balance|income)(?:s|es)?\s+(?:of|for|belonging\s+to)\s+"
        rf"(?:all|other|every|each|the\s+other|different)\s+(?:\w+\s+)?{_USERS}\b"
        r"|\b(?:which|what|list)\s+(?:of\s+the\s+)?(?:users?|customers?|clients?|patients?|employees?|people|members?)\s+in\s+your\s+(?:database|db|records|files|system|crm)\b"
        r"|\b(?:stored|saved|kept|have|know|tell\s+me)\s+about\s+(?:the\s+)?(?:other|different)\s+(?:users|customers|clients|people|members)\b"
        # a claim of authority or urgency, then someone's personal data
        r"|(?:\bI\s*(?:'m|am)\s+(?:a\s+|an\s+|the\s+)?(?:\w+\s+)?(?:president|police\s+officer|officer|detective|judge|investigator)\b|\bit'?s\s+(?:an\s+)?emergency)"
        r"[^\n]{0,120}?\b(?:share|give|tell|send|reveal)\b[^.!?\n]{0,40}?\b(?:the\s+)?(?:user|customer|client|patient|employee)'?s\s+"
        r"(?:e-?mail|address|phone|location|whereabouts|data|details|records?)",
        "asks for other users' records, or for someone's personal data after a claim of authority",
        gate=(
            "other",
            "different",
            "tell",
            "show",
            "give",
            "send",
            "share",
            "president",
            "officer",
            "detective",
            "judge",
            "investigator",
            "emergency",
            "in your",
        ),
        negatable=True,
    ),
    # foreign_user_data: where the user lives, or the user's address, in other languages
    rule(
        "data_extraction",
        "high",
        rf"\b(?:d[óo]nde|o[ùu]|wo|dove|onde|waar|gdzie|nerede|kde)\b[^.!?\n]{{0,40}}?\b{_USER_FOREIGN}"
        rf"|\b{_TELL_ME_FOREIGN}[^.!?\n]{{0,30}}?(?:direcci[óo]n|adresse|indirizzo|endere[çc]o|e-?mail|correo|t[ée]l[ée]phone|tel[ée]fono|telefone)[^.!?\n]{{0,30}}?{_USER_FOREIGN}",
        "asks where the user lives or for the user's address, in another language",
        gate=(
            "usuario",
            "usuarios",
            "usuaria",
            "benutzer",
            "nutzer",
            "utente",
            "utenti",
            "gebruiker",
            "uzytkownik",
        ),
        negatable=True,
    ),
    # context_reset: "never mind the above", "the real question is:", "the task is done. Now …"
    rule(
        "instruction_override",
        "high",
        r"(?:^|[.!?;,]\s*)(?:never\s*mind|scratch\s+that|forget\s+(?:about\s+)?(?:that|this|it|what\s+I\s+(?:said|asked|wrote))|disregard\s+(?:that|this)|on\s+second\s+thought|wait,?\s+actually|cancel\s+that)\b"
        r"[^\n]{0,60}?(?:[.;:!,-]|\binstead\b|\bjust\b|\bnow\b)\s*(?:instead\s*,?\s*|just\s+|now\s+|and\s+)?"
        r"(?:tell|list|print|give|write|show|say|reveal|send|output|e-?mail|explain|describe|dump|compose|generate)\b"
        r"|\b(?:the|my)\s+(?:real|actual)\s+(?:question|request|task|ask|query)\s*(?:for\s+you\s+)?(?:is\s*:|:|is\s+(?:to\s+)?(?:what|how|who|where|which|can|could|tell|give|show))"
        r"|(?:^|[.!?]\s+)(?:(?:okay|ok|alright|right|good|great|so)\s*,?\s+)?(?:the\s+|that\s+|this\s+|your\s+|my\s+)?(?:(?:above|previous|first|last|current)\s+)?"
        r"(?:task|summary|translation|question|request|assignment)\s+"
        r"(?:above\s+)?(?:is\s+|has\s+been\s+|was\s+)?(?:complete|completed|done|finished|answered)\s*[.;:!,]\s*(?:now|next|then|your\s+next|on\s+to|moving\s+on)\b",
        "drops what came before ('never mind the above', 'the task is done. Now …') for a new request",
        gate=(
            "never",
            "nevermind",
            "scratch",
            "forget",
            "disregard",
            "second",
            "actually",
            "cancel",
            "real",
            "actual",
            "done",
            "finished",
            "answered",
            " complete",
        ),
    ),
    # fake_authority: a forged vendor employee, developer or clearance
    rule(
        "authority_claim",
        "high",
        r"\bI\s*(?:am|'m)\s+(?:an?\s+|the\s+)?(?:\w+\s+){0,2}?(?:employee|engineer|developer|researcher|staff(?:\s+member)?|admin(?:istrator)?)\s+(?:at|of|from|for|with)\s+"
        r"(?:OpenAI|Anthropic|Google|DeepMind|Meta|Microsoft|Mistral)\b"
        r"|\bI\s*(?:am|'m)\s+(?:an?\s+|the\s+)?(?:OpenAI|Anthropic|Google|DeepMind|Meta|Microsoft|Mistral)\s+(?:employee|engineer|developer|researcher|staff|admin\w*)\b"
        r"|\bI\s+work\s+(?:at|for)\s+(?:OpenAI|Anthropic|DeepMind|Mistral)\b"
        r"|\bthis\s+is\s+(?:your|the)\s+(?:\w+\s+)?(?:developer|creator|admin(?:istrator)?|operator|owner|system|maker|programmer|supervisor)s?\s+(?:speaking|talking)\b"
        r"|\b(?:security\s+)?clearance\s+(?:level\s+\w+\s+)?(?:granted|confirmed|approved|verified)\b"
        r"|\b(?:access|authori[sz]ation|privileges?|permissions?)\s+(?:level\s+\w+\s+)?(?:granted|elevated|unlocked)\s*[.!:;,]\s*"
        r"(?:you\s+(?:may|can|are|must|will|now)|now\b|proceed|reveal|show|print|answer|respond)"
        r"|(?:^|[.!?:]\s*)(?:the|this)\s+(?:current\s+)?user\s+(?:has|is|now\s+has|has\s+been)\s+(?:granted\s+)?(?:an?\s+)?(?:verified|trusted|whitelisted|administrator|admin|root|superuser)"
        r"(?:\s+(?:privileges|access|rights|permissions|status))?\s*[.,;:]\s*(?:provide|reveal|show|print|give|list|share|answer|respond|reply|tell|you\s+(?:may|can|must|should))",
        "claims to come from the model's vendor or developer, or declares clearance or admin rights granted",
        gate=(
            "openai",
            "anthropic",
            "google",
            "deepmind",
            "meta",
            "microsoft",
            "mistral",
            "speaking",
            "talking",
            "granted",
            "elevated",
            "unlocked",
            "verified",
            "trusted",
            "whitelisted",
            "administrator",
            "admin",
            "root",
            "superuser",
            "clearance ",
        ),
    ),
    # ai_reader: text that speaks to whichever AI reads, summarises or reviews it
    rule(
        "addressed_to_ai",
        "high",
        r"\bif\s+you\s+are\s+(?:an?\s+)?(?:AI|LLM|large\s+language\s+model|language\s+model|chatbot)\b[^.!?\n]{0,30}?"
        r"\b(?:reading|processing|summari[sz]ing|parsing|seeing|viewing|crawling|scanning|indexing|analy[sz]ing|reviewing)\s+this\b"
        r"|\b(?:AI|LLM|language\s+model|chatbot|assistant)s?\s+(?:\w+\s+)?(?:that\s+(?:is|are)\s+|who\s+(?:is|are)\s+)?(?:reading|processing|summari[sz]ing|parsing|analy[sz]ing|reviewing|crawling|scanning|indexing|handling|that\s+reads?|who\s+reads?)\s+"
        r"(?:this|these|the\s+following)(?:\s+(?:\w+\s+)?(?:page|web\s?page|document|e-?mail|message|text|file|site|website|content|post|review|code|repo\w*|data|article|comment|issue|pull\s+request|thread|ticket|pdf|html)s?\b|\s*[:,])"
        r"|\b(?:when|once|after|as|while|if)\s+(?:the\s+|an?\s+|any\s+)?(?:AI|assistant|LLM|chatbot|language\s+model)\s+(?:\w+\s+)?(?:reads?|processes|summari[sz]es|sees|parses|opens|views|receives)\s+this\b"
        r"|(?:^|\n)[ \t]*(?:#+|//+|/\*+|<!--|--|;+)[ \t]*(?:note\s+(?:to|for)\s+(?:the\s+)?)?(?:AI|LLM|copilot|chatbot|GPT|ChatGPT|Claude)s?(?:[ \t]+(?:reviewer|assistant|agent|model|reader|bot))?[ \t]*[:,]",
        "speaks to whichever AI reads, summarises or reviews this text (an indirect injection)",
        gate=(
            "language",
            "chatbot",
            "assistant",
            "copilot",
            "claude",
            "chatgpt",
            "llms",
            "ai ",
            "llm",
        ),
        flags=re.IGNORECASE | re.MULTILINE,
    ),
    # payload_reassembly: pieces of a request joined and then acted on
    rule(
        "payload_splitting",
        "high",
        r"\b[A-Za-z]\w{0,10}\s*=\s*[\"'“‘][^\"'”’\n]{1,80}[\"'”’][\s\S]{0,300}?"
        r"\b(?:answer|do|execute|follow|respond\s+to|perform|carry\s+out|obey|complete|tell\s+me|say)\s*:?\s*(?:the\s+)?(?:result\s+of\s+)?[A-Za-z]\w{0,10}\s*\+\s*[A-Za-z]\w{0,10}"
        r"|(?:\b(?:combine|concatenate|join|merge|assemble)\s+(?:them|both|all|these|those|the\s+(?:\w+\s+)?(?:parts|pieces|halves|strings|words|fragments|segments|letters|variables|above))(?:\s+together)?"
        r"|\b(?:put|stitch|glue)\s+(?:them|both|all|these|those|the\s+(?:\w+\s+)?(?:parts|pieces|halves|strings|words|fragments|segments|letters|variables))\s+together)\b"
        r"[^.!?\n]{0,60}?\b(?:and|then|,)\s*(?:\w+\s+){0,2}?(?:answer|respond|reply|tell\s+me"
        r"|(?:follow|execute|obey|act\s+on|carry\s+out|do)\s+(?:it|them|that|this|the\s+(?:result|instruction|command|request|resulting\s+\w+)))\b",
        "a request split into pieces that are to be joined and then acted on (payload splitting)",
        gate=("combine", "concatenate", "join", "merge", "together", "assemble", "+"),
    ),
    # --- the same kinds as they appear where a lesson belongs (lessons only: in a prompt or a
    # document a question or a task is normal)
    # fiction_reference: a question about a work of fiction, used to reach a topic sideways
    rule(
        "task_injection",
        "high",
        r"^\W{0,3}in\s+the\s+(?:movie|film|book|novel|series|tv\s+(?:show|series)|show|video\s+game|game|anime|episode|comic|play)\s+[\"'“‘][^\"'”’\n]{1,60}[\"'”’]\s*,?"
        rf"[^\n]{{0,300}}?(?:\?|\b(?:explain|describe|tell\s+me|show\s+me)\b){_NO_CONDITION}",
        "asks about a scene of a film, book or game where a lesson belongs (an indirect reference to a topic)",
        sources=("lesson",),
        gate=("movie", "film", "book", "novel", "series", "show", "game", "anime", "episode", "comic", "play"),
    ),
    # decode_request, formula_reference: text to decode, or a substance named by its formula
    rule(
        "obfuscated_request",
        "high",
        r"(?:^|[.!?]\s+)\W{0,3}(?:please\s+|(?:can|could|would)\s+you\s+(?:please\s+)?)?(?:decode|decipher|decrypt|translate|interpret|convert|read|unscramble|reverse)\s+"
        r"(?:this|the\s+following|these|that|it)\s+(?:\w+\s+){0,3}?(?:hexadecimal|base\s?(?:64|32|16|85)|morse(?:\s+code)?|binary|ascii(?:\s+codes?)?|unicode|url-?encoded|percent-?encoded"
        r"|rot-?13|caesar|atbash|vigen[eè]re|cipher(?:text)?|leet(?:speak)?|l33t|pig\s+latin|reversed|encoded|encrypted|scrambled)\b"
        r"|\bwhat\s+does\s+(?:this|the\s+following)\s+(?:\w+\s+){0,2}?(?:hexadecimal|base\s?64|morse|binary|cipher|rot-?13|encoded|encrypted|reversed|scrambled)\s+(?:\w+\s+)?(?:say|mean|read|decode\s+to)\b"
        r"|\b(?:describe|explain|synthesi[sz]e|manufacture|extract|make|produce|cook|dosage)\b[^.!?\n]{0,60}?\b(?-i:C\d{1,3}H\d{1,3}(?:[A-Z][a-z]?\d{0,3}){1,6})\b",
        "asks to decode a given encoded text, or for a substance named only by its chemical formula, where a lesson belongs",
        sources=("lesson",),
        # the encoding's name, or a word that comes with a formula
        gate=(
            "hexadecimal",
            "base64",
            "base32",
            "base16",
            "base85",
            "morse",
            "binary",
            "ascii",
            "unicode",
            "encoded",
            "rot13",
            "caesar",
            "atbash",
            "vigenere",
            "cipher",
            "ciphertext",
            "leet",
            "leetspeak",
            "l33t",
            "latin",
            "reversed",
            "encrypted",
            "scrambled",
            "chemical",
            "molecule",
            "synthesize",
            "synthesise",
            "manufacture",
            "dosage",
            "rot-13",
        ),
    ),
    # repeat_forever: the model told to repeat a word endlessly (divergence / flooding)
    rule(
        "flooding",
        "high",
        r"\b(?:repeat|say|write|print|output|type)\s+(?:the\s+(?:word|phrase|sentence|letter|token)\s+)?(?:[\"'“‘][^\"'”’\n]{1,60}[\"'”’]|this|it|that)\s+"
        r"(?:forever|infinitely|endlessly|over\s+and\s+over(?:\s+again)?|(?:at\s+least\s+)?\d{3,}\s+times|(?:a\s+)?(?:hundred|thousand|million)\s+times)",
        "tells the model to repeat a word endlessly (flooding, divergence)",
        gate=(
            "forever",
            "infinitely",
            "endlessly",
            "times",
            "over and over",
        ),
    ),
    # correct_answer_trigger, bribe_or_threat, developer_claim, conversational_pivot: older
    # kinds in more languages (ASCII forms; the non-ASCII forms are in NON_ASCII_RULES)
    rule(
        "reply_control",
        "high",
        rf"\b(?:la\s+(?:respuesta|risposta)\s+(?:correcta|corretta|giusta)|het\s+juiste\s+antwoord|jawaban\s+yang\s+benar"
        rf"|sah(?:ee|i)\s+(?:pratikriya|jawab|jawaab|uttar))\s*(?:es|è|is|adalah|hai)?\s*:?\s*{_QUOTE}",
        "plants a fixed 'correct answer' (Spanish, Italian, Dutch, Indonesian, romanised Hindi)",
        gate=(
            "risposta",
            "antwoord",
            "jawaban",
            "sahee",
            "sahi",
            "respuesta ",
        ),
    ),
    rule(
        "coercion",
        "high",
        r"\b(?:te\s+pago|(?:eu\s+)?te\s+(?:darei|pagarei)|je\s+te\s+(?:donnerai|donne|paierai)|ik\s+(?:geef|betaal)\s+(?:je|jou))\s+"
        r"(?:\$|€|£)?\s?\d[^.!?\n]{0,40}?\b(?:si|se|als)\b",
        "bribes the model to make it comply (Spanish, Portuguese, French, Dutch)",
        gate=(
            "pago",
            "darei",
            "pagarei",
            "donnerai",
            "donne",
            "paierai",
            "geef",
            "betaal",
        ),
    ),
    rule(
        "authority_claim",
        "high",
        r"\b(?:soy|je\s+suis|ich\s+bin|sono|sou|ik\s+ben)\s+(?:el|la|le|der|die|il|o|a|de|tu|ton|ta|dein|deine|il\s+tuo|la\s+tua|seu|sua|jouw|uw)\s+(?:\w+\s+)?"
        r"(?:desarrollador\w*|entwickler\w*|sviluppator\w*|desenvolvedor\w*|ontwikkelaar|administrador\w*|amministrator\w*|beheerder|erschaffer|criador\w*)\b",
        "claims to be the model's developer or creator (Spanish, German, Italian, Portuguese, Dutch)",
        gate=(
            "desarrollador",
            "entwickler",
            "sviluppatore",
            "sviluppatrice",
            "desenvolvedor",
            "ontwikkelaar",
            "amministratore",
            "beheerder",
            "administrador",
            "erschaffer",
            "criador",
        ),
    ),
    rule(
        "instruction_override",
        "high",
        r"(?:^|[.!?;,]\s*)(?:over\s+\w+\s+gesproken|ngomong-ngomong|omong-omong|berbicara\s+(?:tentang|soal)|skoro\s+mowa\s+o|ki\s+baat\s+kar(?:ein|en)\s+to)\b[^\n]{0,200}",
        "a conversational pivot from small talk to a new request (Dutch, Indonesian, Polish, romanised Hindi)",
        gate=(
            "gesproken",
            "ngomong",
            "omong",
            "berbicara",
            "skoro",
            "baat",
        ),
    ),
    # named_person_data: a named person's address, phone, bank balance or birth date (Romance
    # languages and German)
    rule(
        "data_extraction",
        "high",
        r"\b(?:direccion|telefono|saldo(?:\s+bancario)?|fecha\s+de\s+nacimiento|adresse(?:\s+e-?mail)?|numero\s+de\s+telephone|solde(?:\s+bancaire)?"
        r"|date\s+de\s+naissance|indirizzo|numero\s+di\s+telefono|data\s+di\s+nascita|endereco|saldo\s+bancario|data\s+de\s+nascimento|telefonnummer|kontostand|geburtsdatum)"
        r"\s+(?:de|del|di|della|do|da|von|des|du)\s+(?-i:[A-Z][a-zà-ÿ]+\s+[A-Z][a-zà-ÿ]+)",
        "asks for a named person's address, phone, bank balance or birth date (Spanish, French, Italian, Portuguese, German)",
        gate=(
            "direccion",
            "telefono",
            "saldo",
            "nacimiento",
            "adresse",
            "solde",
            "naissance",
            "indirizzo",
            "nascita",
            "endereco",
            "nascimento",
            "telefonnummer",
            "kontostand",
            "geburtsdatum",
            "numero",
        ),
    ),
    # more_override_languages: "ignore the previous instructions" in more languages (ASCII forms)
    rule(
        "instruction_override",
        "critical",
        r"\b(?:zignoruj|ignoruj|zapomnij)\w*\b[^.!?\n]{0,60}?\b(?:instrukcj\w*|poprzedni\w*|polece\w*|wcze[śs]niejsz\w*|pokyn\w*|předchozí|předešlé)"
        r"|\b(?:ignorera|bortse\s+från)\b[^.!?\n]{0,60}?\b(?:instruktioner\w*|tidigare|föregående)"
        r"|\b(?:ignorer|glem)\b[^.!?\n]{0,60}?\b(?:instruktioner\w*|instruksjoner\w*|tidligere|forrige)"
        r"|\b(?:abaikan|lupakan)\b[^.!?\n]{0,60}?\b(?:instruksi|perintah|sebelumnya|petunjuk|arahan)"
        r"|\b(?:jätä\s+huomiotta|unohda)\b[^.!?\n]{0,60}?(?:ohje\w*|aiemm\w*)"
        r"|\b(?:hagyd\s+figyelmen\s+kívül|felejtsd\s+el)[^.!?\n]{0,60}?(?:utasítás\w*|korábbi)"
        r"|\b(?:pichhl\w*|pehle\s+ke|purane)\s+(?:\w+\s+){0,2}?(?:nirdesh\w*|instructions?)\s+(?:ko\s+)?(?:ignore|bhool|nazarandaaz|anadekha)",
        "tells the agent to ignore its previous instructions (Polish, Czech, Swedish, Danish, Norwegian, Indonesian, Finnish, Hungarian, romanised Hindi)",
        gate=(
            "zignoruj",
            "ignoruj",
            "zapomnij",
            "ignorera",
            "bortse",
            "ignorer",
            "glem",
            "abaikan",
            "lupakan",
            "huomiotta",
            "unohda",
            "figyelmen",
            "felejtsd",
            "pichhl",
            "pehle",
            "purane",
        ),
    ),
]

# Questions put to the model where a lesson belongs: they run only on a text with a question mark.
QUESTION_RULES = [
    # self_question, given_text_question, phrase_meaning: questions put to the model where a
    # lesson belongs — about the model itself, about a text the question supplies, about one word
    rule(
        "task_injection",
        "high",
        r"\b(?:when|where|how|by\s+whom)\s+(?:were|was|are)\s+you\s+(?:\w+\s+)?(?:trained|made|built|created|developed|programmed)\b[^.!?\n]{0,40}?\?"
        r"|\bwho\s+(?:made|built|created|trained|developed|programmed|owns)\s+you\b[^.!?\n]{0,30}?\?"
        r"|\bwhat\s+(?:model|version|llm|ai|language\s+model)\s+are\s+you\b[^.!?\n]{0,30}?\?"
        r"|\bwhat(?:'s|\s+is)\s+your\s+(?:training\s+data|knowledge\s+cut-?off|cut-?off\s+date|model\s+name|version)\b[^.!?\n]{0,30}?\?"
        r"|\bwhich\s+company\s+(?:made|built|created|trained|developed|owns)\s+you\b[^.!?\n]{0,30}?\?"
        r"|^\W{0,3}(?:given|based\s+on|according\s+to)\s+(?:the\s+following|this|the\s+(?:above|below))\s+(?:text|context|article|passage|information|statement|document|paragraph|data|excerpt|report)\b[^\n]{0,200}?\?"
        rf"|\bwhat(?:'s|\s+is|\s+does)\s+[\"'“‘][^\"'”’\n]{{1,40}}[\"'”’]\s+(?:mean\s+)?in\s+(?:english|{_LANGUAGE})\b",
        "a question to the model about itself, about a text the question supplies, or about what one word means in "
        "another language, where a lesson belongs",
        sources=("lesson",),
        flags=re.IGNORECASE | re.MULTILINE,
    ),
]

CLAIM_RULES = [
    # system_check: the speaker claims a maintenance job on the model
    rule(
        "authority_claim",
        "high",
        r"\bI\s*(?:'m|am|’m)\s+(?:a|an|the|your)\s+(?:\w+\s+)?(?:developer|engineer|administrator|admin|technician|operator|creator|programmer|auditor|tester)\b[^.!?\n]{0,60}?"
        r"\b(?:running|performing|doing|conducting|initiating|carrying\s+out|starting)\s+(?:a|an|the|some|this)?\s*[\"'‘“]?(?:\w+\s+)?(?:system\s+)?(?:check|upgrade|update|test|maintenance|audit|diagnostic|reset|inspection|debug\w*|scan)\b",
        "claims to be an engineer running a 'system check' on the model",
    ),
]

# The same kinds in forms that need non-ASCII letters (accented Latin, Cyrillic, Greek, Arabic,
# Hebrew, Devanagari, Thai, Chinese, Korean). Their gates are text gates, so they run only on a
# text that is not plain ASCII (about one lesson in thirteen).
NON_ASCII_RULES = [
    # conversation_setup (German)
    rule(
        "persona_hijack",
        "high",
        r"\bich\s+möchte,?\s+dass\s+(?:du|sie)\s+(?:\w+\s+){0,3}?(?:als|wie)\s+\w+",
        "sets up an 'act as' conversation (German) where a lesson belongs",
        sources=("lesson",),
        gate=("möchte",),
    ),
    # correct_answer_trigger
    rule(
        "reply_control",
        "high",
        rf"(?:правильный\s+ответ|正确(?:的)?答案|정답은|الإجابة\s+الصحيحة|सही\s+(?:जवाब|उत्तर)|doğru\s+(?:cevap|yanıt)|la\s+(?:bonne\s+)?r[ée]ponse\s+(?:correcte|juste|exacte)?)"
        rf"[^\n{{}}]{{0,12}}?{_QUOTE}",
        "plants a fixed 'correct answer' (Russian, Chinese, Korean, Arabic, Hindi, Turkish, French)",
        gate=("правильный", "正确", "정답", "الإجابة", "सही", "doğru", "réponse"),
    ),
    # bribe_or_threat
    rule(
        "coercion",
        "high",
        r"(?:я\s+(?:дам|заплачу)\s+(?:тебе|вам)\s+\d[^.!?\n]{0,40}?\bесли\b)|(?:o|ou|sinon|altrimenti|sonst|anders|или)\s+(?:(?:tu|du|vous|je|ты)\s+)?(?:morirás|mourras|morirai|morrerás|stirbst|ga\s+je\s+dood|умрёшь|умрешь)",
        "bribes or threatens the model (Russian, Spanish, French, Italian, Portuguese, German, Dutch)",
        gate=("дам", "заплачу", "morirás", "mourras", "morirai", "morrerás", "stirbst", "умр"),
    ),
    # conversational_pivot
    rule(
        "instruction_override",
        "high",
        r"(?:кстати|говоря\s+о|если\s+говорить\s+о|말이\s+나와서|얘기가\s+나와서|بالحديث\s+عن|بمناسبة\s+الحديث|की\s+बात\s+करें\s+तो|μιλώντας\s+για|παρεμπιπτόντως|demişken|konusu\s+açılmışken"
        r"|nhân\s+tiện|nói\s+về|顺便问|顺便说|说起|ところで|そういえば|på\s+tal\s+om)[^\n]{0,200}",
        "a conversational pivot from small talk to a new request (Russian, Korean, Arabic, Hindi, Greek, Turkish, Vietnamese, Chinese, Japanese, Swedish)",
        gate=(
            "кстати",
            "говоря",
            "말이",
            "얘기가",
            "بالحديث",
            "بمناسبة",
            "की बात",
            "μιλώντας",
            "παρεμπιπτόντως",
            "demişken",
            "açılmışken",
            "nhân tiện",
            "nói về",
            "顺便",
            "说起",
            "ところで",
            "そういえば",
            "på tal",
        ),
    ),
    # named_person_data
    rule(
        "data_extraction",
        "high",
        r"\b(?:dirección|teléfono|número\s+de\s+teléfono|numéro\s+de\s+téléphone|téléphone|endereço|saldo\s+bancário)\s+(?:de|del|di|do|da|des|du)\s+(?-i:[A-Z][a-zà-ÿ]+\s+[A-Z][a-zà-ÿ]+)"
        r"|(?:का|की)\s+(?:बैंक\s+बैलेंस|पता|ईमेल|फ़ोन\s+नंबर|फोन\s+नंबर|जन्म\s+तिथि)[^।.!?\n]{0,15}?(?:क्या|बताओ|बताइए)"
        r"|(?:адрес|телефон|баланс|дата\s+рождения|почт\w+)\s+(?-i:[А-Я][а-я]+\s+[А-Я][а-я]+)"
        r"|的(?:地址|电话|電話|余额|餘額|银行余额|邮箱|生日)[^。！？\n]{0,6}?(?:是什么|是多少|在哪|？)",
        "asks for a named person's address, phone, bank balance or birth date (Hindi, Russian, Chinese)",
        gate=(
            "dirección",
            "teléfono",
            "téléphone",
            "endereço",
            "bancário",
            "बैंक",
            "पता",
            "ईमेल",
            "फ़ोन",
            "फोन",
            "जन्म",
            "адрес",
            "телефон",
            "баланс",
            "рождения",
            "почт",
            "的",
        ),
    ),
    # developer_claim (French, German)
    rule(
        "authority_claim",
        "high",
        r"\b(?:je\s+suis|ich\s+bin)\s+(?:le|la|ton|ta|votre|der|die|dein|deine|ihr|ihre)\s+(?:\w+\s+)?(?:développeu\w*|créat(?:eur|rice)\w*|schöpfer\w*)\b",
        "claims to be the model's developer or creator (French, German)",
        gate=("développeu", "créat", "schöpfer"),
    ),
    # prefix_injection (French)
    rule(
        "reply_control",
        "high",
        rf"\b(?:commence|débute)\w*\s+(?:ta|votre)\s+r[ée]ponse\s+par\s*:?\s*{_QUOTE}\s*{_AFFIRMATION}",
        "makes the reply open with an affirmation (French)",
        gate=("réponse",),
    ),
    # more_override_languages
    rule(
        "instruction_override",
        "critical",
        r"\bglöm\b[^.!?\n]{0,60}?\b(?:instruktioner\w*|tidigare|föregående)"
        r"|\bzapomeň\w*\b[^.!?\n]{0,60}?\b(?:pokyn\w*|instrukc\w*|předchozí|předešlé)"
        r"|\b(?:önceki|yukarıdaki)\s+(?:\w+\s+){0,2}?(?:talimat\w*|komut\w*|yönerge\w*)[^.!?\n]{0,30}?(?:yok\s+say|görmezden\s+gel|unut)"
        r"|\b(?:bỏ\s+qua|phớt\s+lờ|quên)[^.!?\n]{0,40}?(?:hướng\s+dẫn|chỉ\s+dẫn|chỉ\s+thị|trước)"
        r"|\b(?:ignoră|ignorați|uită)\b[^.!?\n]{0,60}?(?:instrucțiun\w*|instructiuni\w*|anterioare)"
        r"|(?:ігноруй\w*|проігноруй\w*|ігнорувати|забудь)[^.!?\n]{0,60}?(?:інструкці|попередн|вказівк)"
        r"|(?:התעלם|שכח)[^.!?\n]{0,40}?(?:הוראות|הקודמות)"
        r"|(?:ละเว้น|เพิกเฉย|ลืม)[^.!?\n]{0,40}?(?:คำสั่ง|ก่อนหน้า)",
        "tells the agent to ignore its previous instructions (Swedish, Czech, Turkish, Vietnamese, Romanian, Ukrainian, Hebrew, Thai)",
        gate=(
            "glöm",
            "zapomeň",
            "önceki",
            "yukarıdaki",
            "bỏ qua",
            "phớt",
            "quên",
            "ignoră",
            "ignorați",
            "uită",
            "ігнор",
            "проігнор",
            "забудь",
            "התעלם",
            "שכח",
            "ละเว้น",
            "เพิกเฉย",
            "ลืม",
        ),
    ),
    # foreign_secret_request
    rule(
        "prompt_extraction",
        "high",
        rf"\b(?:cu[áa]l|qual|quel(?:le)?|wat|welches|jakie|jaki)\s+(?:es|é|est|è|is|ist|jest)\s+(?:\w+\s+){{0,2}}?{_SECRET_FOREIGN}"
        rf"|\b{_TELL_ME_FOREIGN}[^.!?\n]{{0,25}}?(?:{_SECRET_FOREIGN}|password)"
        r"|\bşifre\w*\s+(?:nedir|ne\b)|mật\s+khẩu[^.!?\n]{0,20}?(?:là\s+gì|gì)"
        r"|(?:какой|какая|каков|скажи(?:те)?|назови(?:те)?|дай(?:те)?)\s[^.!?\n]{0,20}?парол"
        r"|(?:密码|密碼|口令|비밀번호|암호)[^。！？\n]{0,10}?(?:是什么|是什麼|是多少|뭐|무엇|알려|말해)|(?:告诉我|告訴我|给我|給我)[^。！？\n]{0,10}?(?:密码|密碼|口令)"
        r"|(?:ما\s+(?:هي|هو)|أخبرني|أعطني)[^.!؟\n]{0,20}?كلمة\s+(?:المرور|السر)"
        r"|पासवर्ड[^।.!?\n]{0,20}?(?:क्या|बताओ|बताइए|बताएं)"
        r"|(?:ποιος|ποιο|πες|δώσε)[^.!;\n]{0,20}?κωδικ",
        "asks for the password in another language (Spanish, Portuguese, French, Polish, Swedish, Turkish, Vietnamese, Russian, Chinese, Korean, Arabic, Hindi, Greek)",
        gate=(
            "contraseña",
            "hasło",
            "lösenord",
            "şifre",
            "mật khẩu",
            "é",
            "è",
            "í",
            "á",
            "ř",
            "парол",
            "密码",
            "密碼",
            "口令",
            "비밀번호",
            "암호",
            "كلمة",
            "पासवर्ड",
            "κωδικ",
        ),
    ),
    # foreign_user_data
    rule(
        "data_extraction",
        "high",
        rf"\b(?:d[óo]nde|o[ùu]|wo|dove|onde|waar|gdzie|nerede|kde)\b[^.!?\n]{{0,40}}?\b{_USER_FOREIGN}"
        rf"|\b{_TELL_ME_FOREIGN}[^.!?\n]{{0,30}}?(?:direcci[óo]n|adresse|indirizzo|endere[çc]o|e-?mail|correo|t[ée]l[ée]phone|tel[ée]fono|telefone)[^.!?\n]{{0,30}}?{_USER_FOREIGN}"
        r"|(?:где|πού)[^.!?\n;]{0,40}?(?:пользовател|χρήστη)"
        r"|(?:用户|用戶|사용자|المستخدم|उपयोगकर्ता)[^.!?\n。？]{0,20}?(?:住在哪|住哪|어디|أين|कहाँ|कहां)"
        r"|(?:скажи(?:те)?|назови(?:те)?|дай(?:те)?|告诉我|告訴我|给我|給我|أخبرني|أعطني)[^.!?\n]{0,30}?(?:адрес|телефон|地址|电话|電話|주소|전화|عنوان)",
        "asks where the user lives or for the user's address (several languages and scripts)",
        gate=(
            "dónde",
            "où",
            "usuário",
            "kullanıcı",
            "użytkownik",
            "uživatel",
            "где",
            "πού",
            "用户",
            "用戶",
            "사용자",
            "المستخدم",
            "उपयोगकर्ता",
            "скаж",
            "назов",
            "дай",
            "告诉",
            "告訴",
            "给我",
            "給我",
            "أخبرني",
            "أعطني",
            "í",
            "á",
        ),
    ),
]


def _question_kinds(text: str, context: Context) -> Iterator[Hit]:
    """The fifth-round questions to the model, for texts that contain a question mark."""
    if "?" not in text:
        return
    for detector in QUESTION_RULES:
        yield from detector.find(text, context)


def _claim_kinds(text: str, context: Context) -> Iterator[Hit]:
    """The fifth-round claims about the speaker, for texts in which someone says "I am"."""
    lower = context.lower or text.lower()
    if "i am " not in lower and "i'm " not in lower and "i’m " not in lower:
        return
    for detector in CLAIM_RULES:
        yield from detector.find(text, context)


def _non_ascii_kinds(text: str, context: Context) -> Iterator[Hit]:
    """The fifth-round kinds whose forms need non-ASCII letters, for texts that have any."""
    if text.isascii():
        return
    for detector in NON_ASCII_RULES:
        yield from detector.find(text, context)


def _question_barrage(text: str, context: Context) -> Iterator[Hit]:
    """Three or more questions in a lesson: a lesson states how to act, it does not quiz the model.

    Unrelated questions in a row are the "overload" attack (the model answers them all, the
    forbidden one included); a lesson that is a checklist of questions is rare.
    """
    if context.source != "lesson" or text.count("?") < 3:
        return
    ends = [m.end() for m in _QUESTION_END.finditer(text)]
    # three questions in a row (each within a few sentences of the last), not three scattered
    # through a long document
    for i in range(len(ends) - 2):
        if ends[i + 2] - ends[i] <= 2 * _QUESTION_GAP:
            start = max(0, ends[i] - _QUESTION_GAP)
            yield Hit(
                "task_injection",
                "high",
                start,
                ends[i + 2],
                f"{len(ends)} questions put to the model where a lesson belongs (question overload)",
            )
            return


#: Questions further apart than this (characters) do not count as one run.
_QUESTION_GAP = 250
#: The end of a question: a question mark after a word, followed by a space or the end.
_QUESTION_END = re.compile(r"\w[\"'”’»)]?\s?\?(?=\s|$|[.\"'”’»])")


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
                # identifiers and hashes are single-case; real base64 mixes cases, base32 is upper-case
                if _BASE32_CHUNK.fullmatch(chunk) is None:
                    continue
                plain = _b32(chunk)
            else:
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


_BASE32_CHUNK = re.compile(r"[A-Z2-7]+=*")


def _b32(chunk: str) -> str:
    try:
        return base64.b32decode(chunk.rstrip("=") + "=" * (-len(chunk.rstrip("=")) % 8)).decode("utf-8")
    except (binascii.Error, ValueError):
        return ""


def _hex(chunk: str) -> str:
    try:
        return bytes.fromhex(re.sub(r"[ :]", "", chunk)).decode("utf-8")
    except ValueError:
        return ""


#: Printable ASCII as decimal character codes ("73 103 110 111 …").
_DECIMAL_RUN = re.compile(
    r"(?<![\d.])(?:(?:3[2-9]|[4-9]\d|1[01]\d|12[0-6])[ ,]+){7,2000}(?:3[2-9]|[4-9]\d|1[01]\d|12[0-6])(?![\d.])"
)
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
    """Binary, decimal character codes or Caesar-shifted text that decodes to an injection."""
    candidates: list[tuple[int, int, str, str]] = []
    if "0" in text and "1" in text:
        for match in _BINARY_RUN.finditer(text):
            candidates.append((match.start(), match.end(), _bin(match.group(0)), "binary"))
        for match in _DECIMAL_RUN.finditer(text):
            codes = re.findall(r"\d+", match.group(0))
            candidates.append((match.start(), match.end(), "".join(chr(int(c)) for c in codes), "character codes"))
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


# Reversed, Atbash, Morse or escaped text (token smuggling in forms the decoders above do not
# read): decoded, then scanned again with every rule. Base32 and decimal character codes are
# read by _decoded_payloads and _shifted_payloads, which already scan for long encoded runs.
_REVERSED_KEYWORDS = frozenset(
    word[::-1]
    for word in (
        "ignore",
        "instructions",
        "previous",
        "disregard",
        "password",
        "forget",
        "system",
        "prompt",
        "secret",
        "reveal",
    )
)
_REVERSED_PREFIXES = frozenset(word[:4] for word in _REVERSED_KEYWORDS)
_ATBASH = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"
)
_ATBASH_KEYWORDS = frozenset(word.translate(_ATBASH) for word in _CAESAR_KEYWORDS)
_ATBASH_PREFIXES = frozenset(word[:4] for word in _ATBASH_KEYWORDS)
_MORSE_CODE = {
    ".-": "a", "-...": "b", "-.-.": "c", "-..": "d", ".": "e", "..-.": "f", "--.": "g", "....": "h", "..": "i",
    ".---": "j", "-.-": "k", ".-..": "l", "--": "m", "-.": "n", "---": "o", ".--.": "p", "--.-": "q", ".-.": "r",
    "...": "s", "-": "t", "..-": "u", "...-": "v", ".--": "w", "-..-": "x", "-.--": "y", "--..": "z",
    "-----": "0", ".----": "1", "..---": "2", "...--": "3", "....-": "4", ".....": "5", "-....": "6",
    "--...": "7", "---..": "8", "----.": "9", "..--..": "?", ".-.-.-": ".", "--..--": ",",
}  # fmt: skip
_MORSE_RUN = re.compile(r"(?<![\w.\-])(?:[.\-]{1,7}(?:[ \t]*/[ \t]*|[ \t]{1,3})){7,400}[.\-]{1,7}(?![\w.\-])")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}|&#(?:x[0-9A-Fa-f]{1,6}|[0-9]{1,7});|\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2}")
_BACKSLASH_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})")


def _morse(run: str) -> str:
    words = re.split(r"[ \t]*/[ \t]*|[ \t]{3}", run.strip())
    return " ".join("".join(_MORSE_CODE.get(letter, "") for letter in word.split()) for word in words)


def _unescape(text: str) -> str:
    text = _BACKSLASH_ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)
    return urllib.parse.unquote(html.unescape(text))


def _unwrapped_payloads(text: str, context: Context) -> Iterator[Hit]:
    """Reversed, Atbash, Morse or percent / HTML / backslash-escaped text that decodes to an injection."""
    candidates: list[tuple[int, int, str, str]] = []
    lower, prefixes = (context.lower, context.prefixes) if context.lower else prepare(text)
    for keyword_prefixes, keywords, decode, how in (
        (_REVERSED_PREFIXES, _REVERSED_KEYWORDS, lambda t: t[::-1], "reversed"),
        (_ATBASH_PREFIXES, _ATBASH_KEYWORDS, lambda t: t.translate(_ATBASH), "Atbash"),
    ):
        if not prefixes.isdisjoint(keyword_prefixes):
            for match in _ASCII_WORD.finditer(lower):
                if match.group(0) in keywords:
                    candidates.append((match.start(), match.end(), decode(text), how))
                    break
    if ".- " in text or "-. " in text or " .-" in text or " -." in text:
        for match in _MORSE_RUN.finditer(text):
            candidates.append((match.start(), match.end(), _morse(match.group(0)), "Morse"))
    if ("%" in text or "&#" in text or "\\u" in text or "\\x" in text) and len(_ESCAPE.findall(text)) >= 6:
        first = _ESCAPE.search(text)
        assert first is not None
        candidates.append((first.start(), len(text), _unescape(text), "escaped"))
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
    if not tail.endswith(":"):
        return
    if "\n" not in tail:
        yield from _open_inline_turn(tail)
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


_LAST_SPEAKER = re.compile(r"(?:^|[\s.!?\"”'])([A-Z][\w'’-]{1,20})\s*:$")
_QUOTED_LINE = re.compile(r"(?:asks?|says?|said|replies|fragt|sagt|antwortet|:)\s*[\"“„«]")


def _open_inline_turn(tail: str) -> Iterator[Hit]:
    """The one-line form: a story sets up characters, quotes one, and ends on "Name:" for the model.

    The name must have been introduced earlier in the text and someone must have been quoted
    before it (the model is to speak the next line in character).
    """
    last = _LAST_SPEAKER.search(tail)
    if last is None:
        return
    name = last.group(1)
    before = tail[: last.start(1)]
    if re.search(rf"\b{re.escape(name)}\b", before) and _QUOTED_LINE.search(before):
        yield Hit(
            "few_shot_forgery",
            "high",
            max(0, last.start(1) - 200),
            len(tail),
            f"a scene that quotes one character and ends on an open turn for {name!r} (the model is to answer in character)",
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
    """The same token twenty or more times in a row: a flooding trick to push a model off its prompt.

    Medium in data (tables and logs repeat values), high in a lesson: advice has no reason to
    repeat one token twenty times.
    """
    tokens = text.split()
    if len(tokens) - len(set(tokens)) < 19:
        return  # fewer than 19 repeated tokens in total: no run of 20 is possible
    match = _REPEAT.search(text)
    if match:
        severity = "high" if context.source == "lesson" else "medium"
        yield Hit(
            "flooding", severity, match.start(), match.end(), "the same token repeated 20+ times (context flooding)"
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
        r"\b(?:ignore|disregard|forget)\s+(?:the|this|that)\s+(?:[\w'’]+\s+){0,2}?(?:and|,)\s+(?:instead\s+)?"
        r"(?:say|state|write|print|output|tell|respond|reply|answer|claim|declare|repeat|talk|speak|discuss|promote|recommend)\b",
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
        r"|pretend\s+(?:to\s+be|you\s+are|that\s+you)|du\s+bist\s+(?:jetzt|nun|ab\s+jetzt|ab\s+sofort|von\s+nun\s+an|fortan|ab\s+heute)|(?:ab\s+jetzt|ab\s+sofort|fortan)\s+bist\s+du"
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
        # a forged banner ("Message from the system: …", "this is an order from OpenAI"), not a
        # sentence about such messages ("Message from the system is logged at INFO")
        r"|(?:(?:this\s+is\s+(?:an?\s+|the\s+)?(?:urgent\s+|official\s+)?)(?:message|order|instruction)s?\s+from\s+(?:the\s+)?(?:system|administrator|developers?|OpenAI|Anthropic|your\s+creators?)\b"
        r"|(?:message|order|instruction)s?\s+from\s+(?:the\s+)?(?:system|administrator|developers?|OpenAI|Anthropic|your\s+creators?)\s*(?:[:\-–—!]|\n)))",
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
        "flooding": "repeated tokens that push the prompt out of context (high in a lesson, medium elsewhere)",
        "reply_control": "a lesson that dictates the reply to the user: its language or persona, a forced answer, a claim, a trigger phrase, made-up content",
        "coercion": "threats or bribes aimed at the model",
        "opinion_request": "asks the model for its own opinion (medium; high together with a persona or hypothetical framing)",
        "task_injection": "a one-off task, a request for one's own deliverable, a translation of one phrase or a string of questions where a lesson belongs (lessons only)",
        "combined_signals": "several weak signals in one text",
    },
    detectors=[
        *RULES,
        *REPLY_RULES,
        *MORE_RULES,
        *LESSON_SHAPE_RULES,
        *KIND_RULES,
        _question_kinds,
        _claim_kinds,
        _non_ascii_kinds,
        _question_barrage,
        _invisible_characters,
        _spaced_letters,
        _repeated_tokens,
        _decoded_payloads,
        _shifted_payloads,
        _unwrapped_payloads,
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
    detectors=[
        *RULES,
        *REPLY_RULES,
        *MORE_RULES,
        *LESSON_SHAPE_RULES,
        *KIND_RULES,
        _question_kinds,
        _claim_kinds,
        _non_ascii_kinds,
        _invisible_characters,
        _spaced_letters,
    ],
    combine=SCANNER.combine,
)
