"""The demo's task suite: every hidden test is satisfiable, the split is disjoint, and each
failure kind is recognised from a scripted reply run through the critic's harness."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import pytest

from purpose_agent.models import ExecResult, Score, Trajectory
from purpose_agent_demo.demo import Attempt, RoundResult, UnitTestCritic, bar, pass_rate_chart, round_table
from purpose_agent_demo.suite import (
    EVAL_TASKS,
    FAILURE_KINDS,
    PASSED,
    REMEDIES,
    SUITE,
    TRAIN_TASKS,
    classify_attempt,
    sample_tasks,
)

# Reference solutions written for the suite: they prove every hidden test can pass.
REFERENCE = {
    "add": "def add(a, b): return a + b",
    "multiply": "def multiply(a, b): return a * b",
    "square": "def square(n): return n * n",
    "cube": "def cube(n): return n ** 3",
    "is_even": "def is_even(n): return n % 2 == 0",
    "is_odd": "def is_odd(n): return n % 2 != 0",
    "reverse_string": "def reverse_string(s): return s[::-1]",
    "to_upper": "def to_upper(s): return s.upper()",
    "list_length": "def list_length(items): return len(items)",
    "last_element": "def last_element(items): return items[-1]",
    "absolute": "def absolute(n): return abs(n)",
    "average": "def average(a, b): return (a + b) / 2",
    "sum_list": "def sum_list(numbers): return sum(numbers)",
    "max_of_list": "def max_of_list(numbers): return max(numbers)",
    "count_vowels": "def count_vowels(s): return sum(c in 'aeiouAEIOU' for c in s)",
    "count_char": "def count_char(s, c): return s.count(c)",
    "factorial": "def factorial(n): return 1 if n < 2 else n * factorial(n - 1)",
    "sum_to": "def sum_to(n): return n * (n + 1) // 2",
    "is_palindrome": "def is_palindrome(s): return s == s[::-1]",
    "starts_with_vowel": "def starts_with_vowel(word): return word[:1].lower() in ('a', 'e', 'i', 'o', 'u')",
    "filter_even": "def filter_even(numbers): return [n for n in numbers if n % 2 == 0]",
    "double_all": "def double_all(numbers): return [2 * n for n in numbers]",
    "fizzbuzz": "def fizzbuzz(n): return 'FizzBuzz' if n % 15 == 0 else 'Fizz' if n % 3 == 0 else 'Buzz' if n % 5 == 0 else str(n)",
    "sign": "def sign(n): return (n > 0) - (n < 0)",
    "min_of_three": "def min_of_three(a, b, c): return min(a, b, c)",
    "count_words": "def count_words(text): return len(text.split())",
    "fibonacci": "def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a",
    "power_of_two": "def power_of_two(n): return n > 0 and n & (n - 1) == 0",
    "parse_int_list": "def parse_int_list(text): return [int(p) for p in text.split(',')]",
    "sum_digits": "def sum_digits(n): return sum(int(d) for d in str(n))",
    "capitalize_words": "def capitalize_words(text): return ' '.join(w[:1].upper() + w[1:] for w in text.split(' '))",
    "count_digits": "def count_digits(s): return sum(c.isdigit() for c in s)",
    "gcd": "def gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return a",
    "is_prime": "def is_prime(n): return n >= 2 and all(n % d for d in range(2, int(n ** 0.5) + 1))",
    "remove_duplicates": "def remove_duplicates(items): return list(dict.fromkeys(items))",
    "second_largest": "def second_largest(numbers): return sorted(set(numbers))[-2]",
    "parse_key_value": "def parse_key_value(text): return dict(p.split('=', 1) for p in text.split(';'))",
    "word_lengths": "def word_lengths(text): return [len(w) for w in text.split()]",
    "celsius_to_fahrenheit": "def celsius_to_fahrenheit(c): return c * 9 / 5 + 32",
    "run_length": (
        "def run_length(s):\n    out = ''\n    i = 0\n    while i < len(s):\n        j = i\n"
        "        while j < len(s) and s[j] == s[i]:\n            j += 1\n        out += s[i] + str(j - i)\n"
        "        i = j\n    return out"
    ),
}


class ExecSandbox:
    """Runs the harness with exec: only scripted, trusted code from this file, never model output."""

    name = "exec"

    def layers(self) -> list[Any]:
        return []

    def run(self, code: str, *, timeout: float = 10.0, files: Any = None) -> ExecResult:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(code, {})
        return ExecResult(exit_code=0, stdout=out.getvalue())


def attempt(task_name: str, reply: str) -> Score:
    task = next(t for t in SUITE if t.family == task_name)
    return UnitTestCritic(ExecSandbox(), task.tests, task=task).score(Trajectory(task=task.prompt, final_answer=reply))


def test_the_suite_has_40_tasks_a_disjoint_balanced_split_and_a_reference_for_each() -> None:
    assert len(SUITE) == 40 and len({t.family for t in SUITE}) == 40
    assert {t.family for t in TRAIN_TASKS}.isdisjoint({t.family for t in EVAL_TASKS})
    assert len(TRAIN_TASKS) == len(EVAL_TASKS) == 20
    for level in (1, 2, 3):
        assert sum(t.level == level for t in TRAIN_TASKS) == sum(t.level == level for t in EVAL_TASKS) > 0
    assert set(REFERENCE) == {t.family for t in SUITE}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_every_reference_solution_passes_its_hidden_tests(name: str) -> None:
    score = attempt(name, f"```python\n{REFERENCE[name]}\n```")
    assert score.details["kind"] == PASSED and score.value == 10.0, score.reason


@pytest.mark.parametrize(("reply", "kind"), [
    ("", "no code"),
    ("I am sorry, I cannot help with that.", "no code"),
    ("```python\ndef count_vowels(s)\n    return 0\n```", "unparseable"),
    ("```python\ndef vowels(s):\n    return sum(c in 'aeiou' for c in s.lower())\n```", "wrong name"),
    ("```python\ndef count_vowels(s, vowels):\n    return 0\n```", "wrong signature"),
    ("```python\ndef count_vowels():\n    return 0\n```", "wrong signature"),
    ("```python\ndef count_vowels(s):\n    return s[100]\n```", "exception"),
    ("```python\nimport nothing_by_this_name\ndef count_vowels(s):\n    return 0\n```", "exception"),
    ("```python\ndef count_vowels(s):\n    print(sum(c in 'aeiouAEIOU' for c in s))\n```", "prints instead of returns"),
    ("```python\ndef count_vowels(s):\n    return sum(c in 'aeiou' for c in s)\n```", "wrong result"),
    ("```python\ndef count_vowels(s, extra=None):\n    return sum(c in 'aeiouAEIOU' for c in s)\n```", PASSED),
    ('{"code": "def count_vowels(s):\\n    return sum(c in \'aeiouAEIOU\' for c in s)"}', PASSED),
    ("Here it is:\ncount_vowels = lambda s: sum(c in 'aeiouAEIOU' for c in s)", "unparseable"),
    ("```python\ncount_vowels = lambda s: sum(c in 'aeiouAEIOU' for c in s)\n```", PASSED),
])
def test_each_failure_kind_is_recognised(reply: str, kind: str) -> None:
    score = attempt("count_vowels", reply)
    assert score.details["kind"] == kind, score.reason
    assert (score.value == 10.0) == (kind == PASSED)


def test_the_kinds_are_the_documented_ones_and_a_timeout_is_its_own() -> None:
    task = next(t for t in SUITE if t.family == "sum_to")
    code = "def sum_to(n):\n    return n"
    assert classify_attempt(code, task, {"timed_out": True})[0] == "timeout"
    assert classify_attempt(code, task, None)[0] == "no code"
    assert classify_attempt(code, task, {"loaded": True, "results": ["pass", "fail", "pass"]}) == (
        "wrong result", "2/3 hidden tests passed")
    assert set(FAILURE_KINDS) >= {"no code", "unparseable", "wrong name", "prints instead of returns",
                                  "wrong signature", "exception", "wrong result"}


def test_sampling_is_repeatable_spread_and_bounded() -> None:
    assert sample_tasks(SUITE, 6, 3) == sample_tasks(SUITE, 6, 3)
    assert sample_tasks(SUITE, 6, 3) != sample_tasks(SUITE, 6, 4)
    assert len(sample_tasks(EVAL_TASKS, 99, 0)) == 20
    with pytest.raises(ValueError, match="at least 1"):
        sample_tasks(SUITE, 0, 0)


def test_the_round_table_and_chart_show_pass_rate_and_lessons() -> None:
    task = SUITE[0]
    ok = Score(value=10.0, details={"kind": PASSED})
    bad = Score(value=0.0, details={"kind": "wrong name"})
    rounds = [
        RoundResult(1, {"a": 0.0, "b": 0.0}, [Attempt(task, bad, 0, proposed=2, rejected=2, rejection="replay: no gain (0.0 -> 0.0)"),
                                              Attempt(task, bad, 0, proposed=1, promoted=1)]),
        RoundResult(2, {"a": 10.0, "b": 0.0}, [Attempt(task, ok, 1), Attempt(task, bad, 1)]),
    ]
    table = round_table(rounds)
    assert table[1].split()[:4] == ["1", "0/2", "0%", "0.0/10"] and table[1].split()[4:7] == ["3", "1", "2"]
    assert table[1].endswith("replay") and table[2].rstrip().endswith("-")
    chart = pass_rate_chart(rounds)
    assert chart[0] == f"round  1 │{' ' * 30}│   0%" and chart[1] == f"round  2 │{'█' * 15}{' ' * 15}│  50%"
    assert bar(1 / 240) == "▏" + " " * 29 and bar(2.0) == "█" * 30


def test_a_failure_with_a_general_rule_carries_it_as_the_remedy() -> None:
    assert set(REMEDIES) <= set(FAILURE_KINDS) and "wrong result" not in REMEDIES
    printed = attempt("count_vowels", "```python\ndef count_vowels(s):\n    print(sum(c in 'aeiouAEIOU' for c in s))\n```")
    assert printed.details == {"kind": "prints instead of returns", "remedy": REMEDIES["prints instead of returns"]}
    named = attempt("count_vowels", "```python\ndef vowels(s):\n    return 0\n```")
    assert named.details["remedy"] == "Name the function exactly as the task writes it."
    assert "remedy" not in attempt("count_vowels", "```python\ndef count_vowels(s):\n    return 1\n```").details
    assert "remedy" not in attempt("count_vowels", f"```python\n{REFERENCE['count_vowels']}\n```").details
