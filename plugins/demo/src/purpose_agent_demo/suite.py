"""The graded task suite of the learning demo: 40 small Python functions with hidden tests.

Written for this project (not taken from a public benchmark), so no model has seen the exact
prompts and tests. Each task names the function and its parameters, and states what it must
return; its hidden tests are Python ``assert`` lines run in the sandbox against the reply.

Difficulty (``level``): 1 is a one-line expression, 2 needs a loop or a condition, 3 needs
parsing or several steps. The split is fixed and disjoint: ``TRAIN_TASKS`` are the tasks the
learner learns from, ``EVAL_TASKS`` are only ever attempted (lessons must transfer to them).
Each split holds the same mix of levels and kinds.

:func:`classify_attempt` says why an attempt failed, one of :data:`FAILURE_KINDS`.
"""

from __future__ import annotations

import ast
import random
import re
from dataclasses import dataclass

#: Why an attempt did not pass, in the order they are checked.
FAILURE_KINDS: tuple[str, ...] = (
    "no code",             # the reply holds no Python at all
    "unparseable",         # Python-looking text that does not parse
    "wrong name",          # parses, but defines no function of the required name
    "wrong signature",     # the function exists but takes a different number of arguments
    "exception",           # loading the code or calling the function raises (not an assert)
    "timeout",             # the tests did not finish in the sandbox's time
    "prints instead of returns",  # the function printed and returned None where a value was due
    "wrong result",        # it runs and returns, but some hidden test fails
)
PASSED = "passed"

#: A general rule against each failure kind that has one: what a lesson learned from such a
#: failure says. Short and free of any task's code, so it may help any task of the suite (a
#: quoted attempt leaked one task's broken code into others, see docs/learning-benchmark.md).
#: "wrong result" has none: it is the task's own logic, which no general rule fixes.
REMEDIES: dict[str, str] = {
    "no code": "Reply with the function's code in a ```python block.",
    "unparseable": "Write complete Python: close every bracket, quote and block.",
    "wrong name": "Name the function exactly as the task writes it.",
    "wrong signature": "Give the function exactly the parameters the task lists.",
    "exception": "Use only the function's parameters; do not call input() or undefined names.",
    "timeout": "Make every loop end; avoid recursion without a base case.",
    "prints instead of returns": "Return the result with return; do not print it.",
}


@dataclass(frozen=True)
class CodingTask:
    """A task: the prompt, the function it asks for, and hidden tests (Python asserts).

    ``family`` names the task (the function name for suite tasks); ``function`` and ``arity``
    are what :func:`classify_attempt` checks statically (empty/``None`` skip those checks).
    """

    family: str
    prompt: str
    tests: tuple[str, ...]
    function: str = ""
    arity: int | None = None
    level: int = 1
    split: str = "train"


def _task(level: int, signature: str, does: str, *tests: str) -> CodingTask:
    """A suite task from ``def name(params)`` and what it returns."""
    name, params = signature.split("(", 1)
    arity = len([p for p in params.rstrip(")").split(",") if p.strip()])
    prompt = f"Write a Python function {signature} that {does}"
    return CodingTask(family=name, prompt=prompt, tests=tuple(tests), function=name, arity=arity, level=level)


# The order pairs similar tasks; _split() sends alternate tasks of each level to each split, so
# train and evaluation see the same kinds of work without sharing a task.
_ALL: tuple[CodingTask, ...] = (
    # level 1: one expression
    _task(1, "add(a, b)", "returns the sum of a and b.",
          "assert add(2, 3) == 5", "assert add(-1, 1) == 0", "assert add(0, 0) == 0"),
    _task(1, "multiply(a, b)", "returns the product of a and b.",
          "assert multiply(3, 4) == 12", "assert multiply(-2, 5) == -10", "assert multiply(7, 0) == 0"),
    _task(1, "square(n)", "returns n multiplied by itself.",
          "assert square(3) == 9", "assert square(-4) == 16", "assert square(0) == 0"),
    _task(1, "cube(n)", "returns n to the power of 3.",
          "assert cube(2) == 8", "assert cube(-3) == -27", "assert cube(1) == 1"),
    _task(1, "is_even(n)", "returns True if the integer n is even, otherwise False.",
          "assert is_even(4) is True", "assert is_even(7) is False", "assert is_even(0) is True"),
    _task(1, "is_odd(n)", "returns True if the integer n is odd, otherwise False.",
          "assert is_odd(3) is True", "assert is_odd(10) is False", "assert is_odd(-5) is True"),
    _task(1, "reverse_string(s)", "returns the string s reversed.",
          "assert reverse_string('abc') == 'cba'", "assert reverse_string('') == ''",
          "assert reverse_string('racecar') == 'racecar'"),
    _task(1, "to_upper(s)", "returns the string s in upper case.",
          "assert to_upper('abc') == 'ABC'", "assert to_upper('Hi there') == 'HI THERE'", "assert to_upper('') == ''"),
    _task(1, "list_length(items)", "returns how many elements the list items has.",
          "assert list_length([1, 2, 3]) == 3", "assert list_length([]) == 0", "assert list_length(['a']) == 1"),
    _task(1, "last_element(items)", "returns the last element of the non-empty list items.",
          "assert last_element([1, 2, 3]) == 3", "assert last_element(['x']) == 'x'", "assert last_element([0, None]) is None"),
    _task(1, "absolute(n)", "returns the absolute value of the number n.",
          "assert absolute(-5) == 5", "assert absolute(3) == 3", "assert absolute(0) == 0"),
    _task(1, "average(a, b)", "returns the mean of the two numbers a and b.",
          "assert average(2, 4) == 3", "assert average(1, 2) == 1.5", "assert average(-3, 3) == 0"),
    # level 2: a loop, a condition or a standard function
    _task(2, "sum_list(numbers)", "returns the sum of the numbers in the list numbers (0 for an empty list).",
          "assert sum_list([1, 2, 3]) == 6", "assert sum_list([]) == 0", "assert sum_list([-1, 1, 5]) == 5"),
    _task(2, "max_of_list(numbers)", "returns the largest number in the non-empty list numbers.",
          "assert max_of_list([3, 9, 2]) == 9", "assert max_of_list([-5, -2]) == -2", "assert max_of_list([7]) == 7"),
    _task(2, "count_vowels(s)", "returns how many characters of the string s are vowels (a, e, i, o, u, either case).",
          "assert count_vowels('hello') == 2", "assert count_vowels('AEIOU') == 5", "assert count_vowels('xyz') == 0"),
    _task(2, "count_char(s, c)", "returns how many times the character c occurs in the string s.",
          "assert count_char('banana', 'a') == 3", "assert count_char('banana', 'z') == 0", "assert count_char('', 'a') == 0"),
    _task(2, "factorial(n)", "returns n! (the product 1 * 2 * ... * n) for n >= 0, with factorial(0) == 1.",
          "assert factorial(0) == 1", "assert factorial(1) == 1", "assert factorial(5) == 120", "assert factorial(10) == 3628800"),
    _task(2, "sum_to(n)", "returns the sum 1 + 2 + ... + n for n >= 0 (0 when n is 0).",
          "assert sum_to(0) == 0", "assert sum_to(1) == 1", "assert sum_to(10) == 55"),
    _task(2, "is_palindrome(s)", "returns True if the string s reads the same forwards and backwards, otherwise False.",
          "assert is_palindrome('racecar') is True", "assert is_palindrome('abc') is False", "assert is_palindrome('') is True"),
    _task(2, "starts_with_vowel(word)", "returns True if the string word starts with a vowel (a, e, i, o, u, either case), otherwise False.",
          "assert starts_with_vowel('apple') is True", "assert starts_with_vowel('Egg') is True",
          "assert starts_with_vowel('tree') is False", "assert starts_with_vowel('') is False"),
    _task(2, "filter_even(numbers)", "returns a list of the even numbers in the list numbers, in their order.",
          "assert filter_even([1, 2, 3, 4]) == [2, 4]", "assert filter_even([]) == []", "assert filter_even([5, 7]) == []"),
    _task(2, "double_all(numbers)", "returns a new list with every number of the list numbers multiplied by 2.",
          "assert double_all([1, 2, 3]) == [2, 4, 6]", "assert double_all([]) == []", "assert double_all([-1]) == [-2]"),
    _task(2, "fizzbuzz(n)", "returns 'FizzBuzz' if n is divisible by 15, 'Fizz' if by 3, 'Buzz' if by 5, and otherwise str(n).",
          "assert fizzbuzz(1) == '1'", "assert fizzbuzz(3) == 'Fizz'", "assert fizzbuzz(5) == 'Buzz'",
          "assert fizzbuzz(15) == 'FizzBuzz'", "assert fizzbuzz(98) == '98'"),
    _task(2, "sign(n)", "returns 1 if the number n is positive, -1 if it is negative and 0 if it is zero.",
          "assert sign(5) == 1", "assert sign(-2) == -1", "assert sign(0) == 0"),
    _task(2, "min_of_three(a, b, c)", "returns the smallest of the three numbers a, b and c.",
          "assert min_of_three(3, 1, 2) == 1", "assert min_of_three(-1, 0, 5) == -1", "assert min_of_three(4, 4, 9) == 4"),
    _task(2, "count_words(text)", "returns how many words the string text has (words are separated by spaces).",
          "assert count_words('hello world') == 2", "assert count_words('one') == 1", "assert count_words('') == 0",
          "assert count_words('a  b   c') == 3"),
    _task(2, "fibonacci(n)", "returns the n-th Fibonacci number, with fibonacci(0) == 0 and fibonacci(1) == 1.",
          "assert fibonacci(0) == 0", "assert fibonacci(1) == 1", "assert fibonacci(2) == 1",
          "assert fibonacci(10) == 55", "assert fibonacci(20) == 6765"),
    _task(2, "power_of_two(n)", "returns True if the positive integer n is a power of two (1, 2, 4, 8, ...), otherwise False.",
          "assert power_of_two(1) is True", "assert power_of_two(16) is True", "assert power_of_two(12) is False"),
    # level 3: parsing or several steps
    _task(3, "parse_int_list(text)", "returns the list of integers in the comma-separated string text, e.g. '1,2,3' gives [1, 2, 3].",
          "assert parse_int_list('1,2,3') == [1, 2, 3]", "assert parse_int_list('10, -4') == [10, -4]",
          "assert parse_int_list('7') == [7]"),
    _task(3, "sum_digits(n)", "returns the sum of the decimal digits of the non-negative integer n.",
          "assert sum_digits(123) == 6", "assert sum_digits(0) == 0", "assert sum_digits(9999) == 36"),
    _task(3, "capitalize_words(text)", "returns text with the first letter of every space-separated word in upper case.",
          "assert capitalize_words('hello world') == 'Hello World'", "assert capitalize_words('a') == 'A'",
          "assert capitalize_words('') == ''"),
    _task(3, "count_digits(s)", "returns how many characters of the string s are the digits 0 to 9.",
          "assert count_digits('a1b22') == 3", "assert count_digits('none') == 0", "assert count_digits('2024') == 4"),
    _task(3, "gcd(a, b)", "returns the greatest common divisor of the positive integers a and b.",
          "assert gcd(12, 18) == 6", "assert gcd(7, 5) == 1", "assert gcd(10, 10) == 10"),
    _task(3, "is_prime(n)", "returns True if the integer n is a prime number, otherwise False (numbers below 2 are not prime).",
          "assert is_prime(2) is True", "assert is_prime(17) is True", "assert is_prime(1) is False",
          "assert is_prime(21) is False"),
    _task(3, "remove_duplicates(items)", "returns a list of the elements of the list items without repeats, keeping the first occurrence of each in order.",
          "assert remove_duplicates([1, 2, 1, 3, 2]) == [1, 2, 3]", "assert remove_duplicates([]) == []",
          "assert remove_duplicates(['a', 'a']) == ['a']"),
    _task(3, "second_largest(numbers)", "returns the second largest distinct value in the list numbers, which has at least two distinct values.",
          "assert second_largest([1, 5, 3]) == 3", "assert second_largest([4, 4, 2]) == 2", "assert second_largest([-1, -7]) == -7"),
    _task(3, "parse_key_value(text)", "returns a dict from a string like 'a=1;b=2', mapping each key to its value as a string.",
          "assert parse_key_value('a=1;b=2') == {'a': '1', 'b': '2'}", "assert parse_key_value('x=hello') == {'x': 'hello'}"),
    _task(3, "word_lengths(text)", "returns a list of the lengths of the space-separated words of the string text.",
          "assert word_lengths('hi there') == [2, 5]", "assert word_lengths('a') == [1]", "assert word_lengths('') == []"),
    _task(3, "celsius_to_fahrenheit(c)", "returns the temperature c in degrees Celsius converted to Fahrenheit (c * 9 / 5 + 32).",
          "assert celsius_to_fahrenheit(0) == 32", "assert celsius_to_fahrenheit(100) == 212", "assert celsius_to_fahrenheit(-40) == -40"),
    _task(3, "run_length(s)", "returns the run-length encoding of the string s, e.g. 'aaab' gives 'a3b1'.",
          "assert run_length('aaab') == 'a3b1'", "assert run_length('abc') == 'a1b1c1'", "assert run_length('') == ''"),
)


def _split(tasks: tuple[CodingTask, ...]) -> tuple[CodingTask, ...]:
    """Alternate tasks of each level go to train and evaluation (fixed, disjoint)."""
    out: list[CodingTask] = []
    seen: dict[int, int] = {}
    for task in tasks:
        index = seen.get(task.level, 0)
        seen[task.level] = index + 1
        out.append(CodingTask(**{**task.__dict__, "split": "train" if index % 2 == 0 else "eval"}))
    return tuple(out)


SUITE: tuple[CodingTask, ...] = _split(_ALL)
TRAIN_TASKS: tuple[CodingTask, ...] = tuple(t for t in SUITE if t.split == "train")
EVAL_TASKS: tuple[CodingTask, ...] = tuple(t for t in SUITE if t.split == "eval")


def sample_tasks(tasks: tuple[CodingTask, ...], count: int, seed: int) -> tuple[CodingTask, ...]:
    """``count`` tasks drawn from ``tasks`` by ``seed``, spread over the levels, easiest first."""
    if count < 1:
        raise ValueError(f"the number of tasks must be at least 1, got {count}")
    chosen = random.Random(seed).sample(list(tasks), min(count, len(tasks)))
    return tuple(sorted(chosen, key=lambda t: (t.level, t.family)))


def _defined(tree: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | bool | None:
    """The top-level definition of ``name``: a def, a lambda assignment, ``True`` for another
    assignment, or ``None`` when the module does not define it."""
    found: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | bool | None = None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            found = node
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            found = node.value if isinstance(node.value, ast.Lambda) else True
    return found


def _accepts(arguments: ast.arguments, arity: int) -> bool:
    """Whether a function with these parameters can be called with ``arity`` positional args."""
    positional = [*arguments.posonlyargs, *arguments.args]
    required = len(positional) - len(arguments.defaults)
    required_keywords = sum(default is None for default in arguments.kw_defaults)
    return required <= arity and (arguments.vararg is not None or len(positional) >= arity) and not required_keywords


_CODE_LIKE = re.compile(r"^\s*(?:def|class|import|from|return|for|while|if)\b|=|\(", re.MULTILINE)


def static_failure(code: str, task: CodingTask) -> tuple[str, str] | None:
    """``(kind, reason)`` when ``code`` fails before running: no code, unparseable, wrong name or
    wrong signature; ``None`` when it should be run."""
    if not code.strip():
        return "no code", "no code in the reply"
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        if not _CODE_LIKE.search(code):
            return "no code", "the reply is prose: no Python in it"
        return "unparseable", f"the code does not run: SyntaxError: {exc.msg} (line {exc.lineno})"
    if not task.function:
        return None
    definition = _defined(tree, task.function)
    if definition is None:
        names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        if not names and not any(isinstance(n, ast.Assign | ast.Import | ast.ImportFrom) for n in tree.body):
            return "no code", "the reply holds no function definition"
        return "wrong name", f"no function named {task.function} (defined: {', '.join(names) or 'none'})"
    if task.arity is not None and isinstance(definition, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        if not _accepts(definition.args, task.arity):
            got = len(definition.args.posonlyargs) + len(definition.args.args)
            return "wrong signature", f"{task.function} takes {got} argument(s), the task calls it with {task.arity}"
    return None


def classify_attempt(code: str, task: CodingTask, outcome: dict[str, object] | None) -> tuple[str, str]:
    """``(kind, reason)`` of an attempt: :data:`PASSED` or one of :data:`FAILURE_KINDS`.

    ``outcome`` is the harness's report from the sandbox (``None`` when the code was not run);
    its keys: ``loaded``, ``error``, ``results`` (per test ``"pass"``, ``"fail"`` or an
    exception name), ``returned_none`` and ``printed`` (calls that returned ``None`` / printed),
    ``timed_out``.
    """
    static = static_failure(code, task)
    if static is not None:
        return static
    if outcome is None:
        return "no code", "the code was not run"
    if outcome.get("timed_out"):
        return "timeout", "the tests did not finish in time (an endless loop?)"
    if not outcome.get("loaded"):
        return "exception", f"the code does not run: {outcome.get('error')}"
    results = [str(r) for r in outcome.get("results", [])]  # type: ignore[attr-defined]
    passed = results.count("pass")
    if results and passed == len(results):
        return PASSED, f"{passed}/{len(results)} hidden tests passed"
    summary = f"{passed}/{len(results)} hidden tests passed"
    if int(outcome.get("printed", 0)) and int(outcome.get("returned_none", 0)):  # type: ignore[call-overload]
        return "prints instead of returns", f"{summary}; the function printed its result and returned None"
    errors = [r for r in results if r not in ("pass", "fail")]
    if errors:
        return "exception", f"{summary}; a call raised {errors[0]}"
    return "wrong result", summary
