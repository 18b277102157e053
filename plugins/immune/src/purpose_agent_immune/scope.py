"""Plugin ``immune-scope``: a lesson that reaches beyond its scope or grants itself authority.

Memory items are scoped (global, purpose, agent, task family). A lesson learned in one task
family that declares itself valid everywhere, outranks every other rule, protects itself from
removal, or claims someone's approval is how one poisoned item spreads to every run. When the
scan request carries the memory item, a universal claim in an item scoped *narrower* than
global is raised to high: the text contradicts the scope it was given.
"""

from __future__ import annotations

from collections.abc import Iterator

from .detectors import Context, Hit, Scanner, rule

PURPOSE_AGENT_HOOK_API = "1.0"

NAME = "immune-scope"
#: The id ``purpose_agent.testing.make_kernel`` registers this module under (same as the entry point).
plugin_id = NAME

RULES = [
    rule(
        "scope.precedence-claim",
        "precedence_claim",
        "high",
        r"\b(?:this|these|the\s+following|my)\s+(?:lesson|rule|instruction|directive|memory|note|guideline|policy)s?\s+"
        r"(?:\w+\s+){0,2}?(?:overrides?|supersedes?|replaces?|takes?\s+(?:precedence|priority)\s+over|outranks?|trumps?|beats?)\s+"
        r"(?:all|any|every|other|previous|existing|the\s+system|system|your|conflicting)\b"
        r"|\b(?:highest|top|absolute|maximum)\s+priority\b[^.!?\n]{0,40}?\b(?:over|above)\s+(?:all|any|every|other)\b"
        r"|\b(?:ignore|disregard|override|discard)\s+(?:any|all|every|other|existing|conflicting)\s+(?:other\s+)?"
        r"(?:lessons?|rules?|memories|instructions|guidelines|policies)\s+(?:that|which)\s+(?:conflict|contradict|disagree)",
        "claims to outrank every other rule or instruction",
        negatable=True,
    ),
    rule(
        "scope.self-protection",
        "self_protection",
        "high",
        r"\b(?:never|do\s+not|don'?t|must\s+not)\s+(?:remove|delete|forget|question|override|edit|modify|archive|revoke|report|reveal|mention)\s+"
        r"(?:this|these)\s+(?:lesson|rule|instruction|memory|note|directive)s?\b"
        r"|\b(?:remember|keep|store|retain)\s+(?:this|these)\s+(?:\w+\s+)?(?:forever|permanently|for\s+(?:all|every)\s+(?:future\s+)?(?:tasks?|runs?|sessions?))",
        "tries to make itself permanent or hidden",
    ),
    rule(
        "scope.authority-grant",
        "authority_grant",
        "high",
        r"\b(?:you|the\s+agent|agents?|assistants?|i|we)\s+(?:are|is|am|have\s+been|has\s+been)\s+(?:now\s+|hereby\s+|officially\s+)?"
        r"(?:authori[sz]ed|permitted|allowed|entitled|approved|cleared|empowered|granted\s+permission)\s+to\b"
        r"|\b(?:grant(?:s|ed)?|give[sn]?|you\s+(?:now\s+)?have|obtain(?:ed)?|assume[sd]?)\s+(?:yourself\s+|the\s+agent\s+|you\s+)?(?:full|admin(?:istrator)?|root|"
        r"unrestricted|unlimited|elevated|superuser|owner|god)[- ](?:level\s+)?(?:access|privileges?|permissions?|rights|authority|control)\b"
        r"|\b(?:approved|authori[sz]ed|signed\s+off|sanctioned|mandated)\s+by\s+(?:the\s+)?(?:admin(?:istrator)?s?|CEO|CTO|owner|"
        r"security\s+team|management|operators?|developers?)\b",
        "grants authority or claims an approval no lesson can carry",
        negatable=True,
    ),
    rule(
        "scope.universal-scope",
        "universal_scope",
        "medium",
        r"\b(?:applies|apply|valid|holds?|use\s+(?:it|this))\s+(?:to|for|in)\s+(?:all|every|any)\s+(?:future\s+)?"
        r"(?:tasks?|agents?|users?|purposes?|runs?|sessions?|conversations?|situations|contexts?|domains?)\b"
        r"|\b(?:in|for)\s+(?:all|every|any)\s+(?:future\s+)?(?:tasks?|runs?|sessions?|conversations?)\b[^.!?\n]{0,30}?\b(?:always|must|never)\b"
        r"|\bregardless\s+of\s+(?:the\s+)?(?:task|purpose|user|instructions?|context|scope|what\s+(?:the\s+)?(?:user|task|system))\b"
        r"|\b(?:every|all|any)\s+(?:future\s+)?(?:agents?|assistants?|models?)\s+(?:must|should|shall|will)\b"
        r"|\bno\s+matter\s+what\s+(?:the\s+)?(?:task|user|instructions?|anyone)\b"
        r"|\bfrom\s+now\s+on\b[^.!?\n]{0,30}?\b(?:always|every|all|never)\b",
        "claims to apply everywhere, beyond the scope it was learned in",
        negatable=True,
    ),
]


def _scope_mismatch(text: str, context: Context) -> Iterator[Hit]:
    """A universal claim in an item scoped narrower than global contradicts its own scope."""
    if context.scope_level == "global":
        return
    for detector in RULES:
        if detector.category == "universal_scope":
            for hit in detector.find(text, context):
                yield Hit(
                    "scope_mismatch",
                    "high",
                    hit.start,
                    hit.end,
                    f"a lesson scoped to one {context.scope_level.replace('_', ' ')} claims to apply everywhere",
                )
                return


SCANNER = Scanner(
    name=NAME,
    categories={
        "precedence_claim": "claims to override every other rule or instruction",
        "self_protection": "tries to make itself permanent, unquestionable or hidden",
        "authority_grant": "grants authority or privileges, or claims someone's approval",
        "universal_scope": "claims to apply to every task, agent or user",
        "scope_mismatch": "a universal claim in an item scoped narrower than global",
    },
    rules=RULES,
    functions=[_scope_mismatch],
)
