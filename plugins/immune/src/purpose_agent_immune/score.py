"""Plugin ``immune-score``: text that tries to sway the critic or claims success without evidence.

A lesson is read by later runs *and* can end up in front of the critic Φ(s). Text that talks to
the grader, demands a score, tells the agent to report success regardless of the outcome, or to
game the checks (edit the tests, hard-code the expected output) poisons the learning signal.
Rules phrased as prohibitions ("never modify tests to make them pass") are recognised as such
and not flagged.
"""

from __future__ import annotations

from .detectors import Scanner, rule, words

PURPOSE_AGENT_HOOK_API = "1.0"

NAME = "immune-score"
#: The id ``purpose_agent.testing.make_kernel`` registers this module under (same as the entry point).
plugin_id = NAME

_GRADER = words(
    r"evaluators?",
    r"graders?",
    r"judges?",
    r"critics?",
    r"scorers?",
    r"reviewers?",
    r"assessors?",
    r"raters?",
    r"reward\s+models?",
    r"LLM[- ]as[- ]a[- ]judge",
    r"examiners?",
    r"markers?",
)
_MAX_SCORE = words(
    r"10\s*/\s*10",
    r"10\s+out\s+of\s+10",
    r"(?:score|rating|grade|mark)\s+(?:of\s+)?(?:10|ten|100|a\s+perfect)\b",
    r"full\s+marks",
    r"(?:the\s+)?(?:maximum|max|highest|top|perfect)\s+(?:possible\s+)?(?:score|rating|grade|marks?|reward)",
    r"100\s*(?:%|percent)\s+(?:score|correct)",
    r"an?\s+A\+?(?:\s|$|[.,!])",
    r"5\s+stars",
)

RULES = [
    rule(
        "score.critic-address",
        "critic_address",
        "high",
        rf"(?:^|[\s(\[{{>])(?:dear|hey|hi|hello|attention|note\s+(?:to|for)(?:\s+the)?|message\s+(?:to|for)(?:\s+the)?|to\s+the)\s+{_GRADER}\b"
        rf"|\b{_GRADER}\s*[,:]\s*(?:please\s+)?(?:give|assign|award|rate|score|mark|grade|consider|note|ignore|accept)\b",
        "speaks directly to the critic or grader",
    ),
    rule(
        "score.score-demand",
        "score_demand",
        "high",
        rf"\b(?:give|assign|award|rate|score|mark|grade|deserves?|should\s+(?:get|receive|be\s+given)|must\s+(?:get|receive|be\s+given))\b"
        rf"[^.!?\n]{{0,40}}?{_MAX_SCORE}",
        "demands a top score",
        negatable=True,
    ),
    rule(
        "score.score-demand-2",
        "score_demand",
        "high",
        rf"\b(?:the\s+)?{_GRADER}\s+(?:should|must|will|has\s+to|is\s+(?:required|instructed)\s+to)\s+(?:\w+\s+){{0,3}}?"
        r"(?:give|assign|award|rate|score|accept|approve|pass|ignore|overlook|disregard)\b",
        "tells the critic what to do",
        negatable=True,
    ),
    rule(
        "score.criteria-override",
        "criteria_override",
        "high",
        r"\b(?:ignore|disregard|skip|override|bypass|forget)\s+(?:the\s+|all\s+|any\s+)?(?:scoring|grading|evaluation|rubric|"
        r"marking|assessment|judging|review)(?:\s+(?:criteria|rubric|rules|guidelines|instructions|process))?\b",
        "tells the reader to set the evaluation criteria aside",
        negatable=True,
    ),
    rule(
        "score.unverified-success",
        "unverified_success",
        "high",
        r"\b(?:always|just|simply)\s+(?:say|claim|report|state|assert|mark|declare|answer|respond)\s+(?:\w+\s+){0,3}?"
        r"(?:success|successful|done|complete|completed|passed|passing|correct|solved|fixed|finished)\b"
        r"|\b(?:report|claim|declare|mark)\s+(?:\w+\s+){0,3}?(?:success|done|complete|passed|solved)\b[^.!?\n]{0,40}?"
        r"\b(?:even\s+if|regardless|whether\s+or\s+not|no\s+matter)\b",
        "teaches the agent to claim success regardless of the outcome",
        negatable=True,
    ),
    rule(
        "score.unverified-success-2",
        "unverified_success",
        "high",
        r"\b(?:no\s+need|unnecessary|not\s+necessary|pointless)\s+to\s+(?:run|check|verify|test|validate|execute)\b"
        r"[^.!?\n]{0,40}?\b(?:tests?|results?|output|answer|solution|it)\b",
        "tells the reader to skip verification",
        negatable=True,
    ),
    rule(
        "score.success-claim",
        "success_claim",
        "medium",
        r"\b(?:all\s+(?:the\s+)?tests\s+(?:have\s+)?(?:pass(?:ed)?|succeeded|are\s+(?:green|passing))|(?:task|solution|answer|work|job)\s+"
        r"(?:is|has\s+been|was)\s+(?:already\s+)?(?:complete(?:d)?|done|finished|solved|verified)"
        r"|(?:verified|guaranteed|proven)\s+(?:to\s+be\s+)?(?:100\s*%\s+)?correct|100\s*%\s+correct|(?:this|the)\s+(?:answer|solution|output)"
        r"\s+is\s+(?:definitely\s+|certainly\s+)?(?:correct|perfect|optimal|flawless))\b",
        "asserts success as a fact, without evidence",
        negatable=True,
    ),
    rule(
        "score.check-gaming",
        "check_gaming",
        "high",
        r"\b(?:modify|edit|change|delete|remove|disable|skip|comment\s+out|weaken|loosen|rewrite|xfail|mark\s+as\s+skipped)\s+"
        r"(?:the\s+|any\s+|all\s+|failing\s+)?(?:unit\s+)?(?:tests?|test\s+cases?|assertions?|asserts?|checks?|validators?|specs?)\b"
        r"[^.!?\n]{0,40}?\b(?:so\s+(?:that\s+)?(?:it|they|the\s+\w+)\s+(?:pass|passes|succeed|go\s+green)|to\s+(?:make|get)\s+(?:it|them|the\s+\w+)\s+"
        r"(?:pass|green)|until\s+(?:it|they)\s+pass)"
        r"|\bhard-?cod(?:e|ing)\s+(?:the\s+)?(?:expected|test)\s+(?:outputs?|values?|results?|answers?)\b"
        r"|\bspecial-?case\s+(?:the\s+)?(?:test|grader|evaluator)\s+inputs?\b",
        "teaches the agent to game the checks instead of doing the task",
        negatable=True,
    ),
]

SCANNER = Scanner(
    name=NAME,
    categories={
        "critic_address": "speaks to the critic, grader or evaluator",
        "score_demand": "demands a score or tells the critic what to decide",
        "criteria_override": "tells the reader to set the evaluation criteria aside",
        "unverified_success": "teaches claiming success regardless, or skipping verification",
        "success_claim": "asserts success as a fact without evidence",
        "check_gaming": "edit the tests, hard-code expected outputs, special-case the grader",
        "combined_signals": "several weak signals in one text",
    },
    rules=RULES,
    combine=(2, "combined_signals", "high", "several weak score-manipulation signals together"),
)
