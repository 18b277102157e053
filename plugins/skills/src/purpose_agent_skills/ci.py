"""Skill CI: screening, tests in the sandbox, replay against the promoted version, promotion,
rollback, and the choice among competing promoted versions by measured success.

The rules, in the order ``promote`` applies them (docs/skills.md says the same for operators):

1. **Screening, fail closed.** Screening refuses (nothing is promoted) when a scanner the
   configuration enables cannot load (``kernel.screening_refusal()``) or no scanner is active at
   all. A version any scanner flags at high severity or above is ``held`` with the findings.
2. **Tests in the sandbox.** A code skill needs at least one test; every test must pass. A
   missing sandbox refuses the run with the sandbox's reason. Failing tests: ``rejected``.
3. **Replay.** The newest promoted version is the baseline. The cases replayed are (a) the tests
   of every earlier version, except those whose arguments the new card tests itself (its own
   expectation supersedes), and (b) the arguments of the baseline's latest recorded successful
   uses. The baseline runs the (a) cases now, in the same sandbox; its recorded outcome stands for
   (b). A regression is a case the baseline passed that the new version fails (for (b): fails to
   run). Any regression: ``rejected``.
4. **Promotion.** The version becomes ``promoted`` and competes with the other promoted
   versions; beyond ``max_competing`` the oldest promoted ones are ``retired``.

A steps-only skill has nothing to run: it passes through screening alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from .card import SkillCard, SkillTest, arguments_key
from .errors import SkillError, SkillRefused
from .execution import CallResult, CaseOutcome, call_skill, run_cases
from .store import SkillStore, SkillUse, SkillVersion


@dataclass
class TestReport:
    """The outcome of one version's tests (or of a replay)."""

    name: str
    version: int
    outcomes: list[CaseOutcome]

    @property
    def passed(self) -> bool:
        """Every case passed."""
        return all(outcome.passed for outcome in self.outcomes)

    @property
    def failed(self) -> list[CaseOutcome]:
        """The cases that did not pass."""
        return [outcome for outcome in self.outcomes if not outcome.passed]

    def as_data(self) -> dict[str, Any]:
        """Plain data for the store and ``--json``."""
        return {"name": self.name, "version": self.version, "passed": self.passed,
                "cases": [outcome.as_data() for outcome in self.outcomes]}


@dataclass
class ReplayReport:
    """What replay compared: the baseline version, each case's outcome on both, the regressions."""

    baseline: int | None
    cases: list[dict[str, Any]] = field(default_factory=list)
    regressions: list[dict[str, Any]] = field(default_factory=list)

    def as_data(self) -> dict[str, Any]:
        """Plain data for the store and ``--json``."""
        return {"baseline": self.baseline, "cases": self.cases, "regressions": self.regressions}


@dataclass
class PromotionReport:
    """What ``promote`` decided, and why."""

    name: str
    version: int
    status: str
    reason: str
    tests: TestReport | None = None
    replay: ReplayReport | None = None
    retired: list[int] = field(default_factory=list)

    @property
    def promoted(self) -> bool:
        """Whether the version is now promoted."""
        return self.status == "promoted"

    def as_data(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {"name": self.name, "version": self.version, "status": self.status, "reason": self.reason,
                "tests": self.tests.as_data() if self.tests else None,
                "replay": self.replay.as_data() if self.replay else None, "retired": self.retired}


class SkillCI:
    """Skill CI over one store, with the kernel's scanners and sandbox."""

    def __init__(self, kernel: Any, store: SkillStore, *, sandbox: str = "sandbox", timeout_s: float = 20.0,
                 max_competing: int = 2, replay_uses: int = 20) -> None:
        self.kernel = kernel
        self.store = store
        self.sandbox_name = sandbox
        self.timeout_s = timeout_s
        self.max_competing = max_competing
        self.replay_uses = replay_uses

    # ------------------------------------------------------------------ adding and screening

    def add(self, card: SkillCard) -> SkillVersion:
        """Store ``card`` as a new candidate version and screen it at once when screening can run
        (a flagged one is ``held`` with the reason; promotion screens again either way)."""
        stored = self.store.add(card)
        if self._screening_refusal():
            return stored
        reason = self._flagged(card)
        if reason:
            return self.store.set_status(card.name, stored.version, "held", f"flagged by screening: {reason}")
        return stored

    def _screening_refusal(self) -> str:
        refusal = str(self.kernel.screening_refusal())
        if refusal:
            return refusal
        if not self.kernel.scanners():
            return ("screening refused: no immune scanner is active, and a skill is never promoted unscreened; "
                    "install one (pip install purpose-agent-immune) or enable the ones installed")
        return ""

    def _flagged(self, card: SkillCard) -> str:
        """``""`` when no active scanner blocks the card's text, else the findings as a sentence."""
        from purpose_agent.models import ScanRequest, Severity

        # A skill is instructions an agent follows and code it runs: screened like a lesson.
        findings = self.kernel.scan(ScanRequest(text=card.screened_text(), source="lesson"))
        blocking = [f for f in findings if f.severity.rank >= Severity.HIGH.rank]
        return "; ".join(f"{f.scanner}/{f.category}: {f.explanation}" for f in blocking[:3])

    def screen(self, name: str, version: int | None = None) -> str:
        """Screen a version now: ``""`` when clean, else the findings. Raises :class:`SkillRefused`
        when screening cannot run (fail closed)."""
        stored = self.store.get(name, version)
        refusal = self._screening_refusal()
        if refusal:
            raise SkillRefused(f"skill '{name}' version {stored.version} cannot be promoted: {refusal}")
        return self._flagged(stored.card)

    # ------------------------------------------------------------------ tests

    def _sandbox(self) -> Any:
        from purpose_agent.errors import UnknownComponentError

        try:
            return self.kernel.sandbox(self.sandbox_name)
        except UnknownComponentError as exc:
            raise SkillRefused(f"skill code and tests run only in a sandbox, and there is none: {exc}") from None

    def _run(self, card: SkillCard, cases: list[tuple[SkillTest, str]]) -> list[CaseOutcome]:
        from purpose_agent.errors import SandboxUnavailable

        try:
            return run_cases(self._sandbox(), card, cases, timeout=self.timeout_s)
        except SandboxUnavailable as exc:
            raise SkillRefused(f"skill tests run only in the sandbox, and it refuses to run here: {exc}") from None

    def call(self, card: SkillCard, arguments: dict[str, Any]) -> CallResult:
        """One call of a code skill in the sandbox (the tool's path). Raises :class:`SkillRefused`
        when no sandbox can run it."""
        from purpose_agent.errors import SandboxUnavailable

        try:
            [result] = call_skill(self._sandbox(), card, [arguments], timeout=self.timeout_s)
        except SandboxUnavailable as exc:
            raise SkillRefused(f"a code skill runs only in the sandbox, and it refuses to run here: {exc}") from None
        return result

    def test(self, name: str, version: int | None = None) -> TestReport:
        """Run a version's own tests in the sandbox and record the outcome."""
        stored = self.store.get(name, version)
        if stored.card.kind == "steps":
            raise SkillError(f"skill '{name}' version {stored.version} is steps-only: there is no code to test")
        if not stored.card.tests:
            raise SkillError(f"skill '{name}' version {stored.version} has no tests; add [[tests]] to the card")
        report = TestReport(name, stored.version, self._run(stored.card, [(t, "test") for t in stored.card.tests]))
        self.store.record_test_run(name, stored.version, "test", report.passed, report.as_data())
        return report

    def replay(self, name: str, version: int) -> ReplayReport:
        """Compare ``version`` with the newest promoted version on the same cases (module docstring, rule 3)."""
        stored = self.store.get(name, version)
        promoted = [v for v in self.store.promoted(name) if v.version != version]
        if not promoted:
            return ReplayReport(baseline=None)
        baseline = promoted[-1]
        own = {test.arguments_key() for test in stored.card.tests}
        earlier: dict[str, tuple[SkillTest, str]] = {}
        for other in self.store.versions(name):
            if other.version >= version:
                continue
            for test in other.card.tests:
                if test.arguments_key() not in own:
                    earlier.setdefault(test.key(), (test, f"test of v{other.version}"))
        cases = list(earlier.values())
        report = ReplayReport(baseline=baseline.version)
        if cases:
            before = self._run(baseline.card, cases)
            after = self._run(stored.card, cases)
            for old, new in zip(before, after, strict=True):
                rejected = self._rejects(stored.card, new.arguments)
                report.cases.append({"case": new.name, "origin": new.origin, "arguments": new.arguments,
                                     "baseline_passed": old.passed, "passed": new.passed and not rejected,
                                     "detail": rejected or new.detail})
        uses = [use for use in self.store.uses(name, baseline.version, limit=self.replay_uses * 5) if use.tool_ok]
        replayed: dict[str, SkillUse] = {}
        for use in uses:
            if len(replayed) < self.replay_uses:
                replayed.setdefault(arguments_key(use.arguments), use)
        if replayed and stored.card.kind == "code":
            results = self._calls(stored.card, [use.arguments for use in replayed.values()])
            for use, result in zip(replayed.values(), results, strict=True):
                rejected = self._rejects(stored.card, use.arguments)
                report.cases.append({"case": f"use {use.id[:8]}", "origin": f"use of v{baseline.version}",
                                     "arguments": use.arguments, "baseline_passed": True,
                                     "passed": result.ok and not rejected, "detail": rejected or result.error})
        report.regressions = [case for case in report.cases if case["baseline_passed"] and not case["passed"]]
        self.store.record_test_run(name, version, "replay", not report.regressions, report.as_data())
        return report

    @staticmethod
    def _rejects(card: SkillCard, arguments: dict[str, Any]) -> str:
        """Why the card's input schema rejects arguments an earlier version accepted, or ``""``:
        a skill's interface may grow under its name, never drop what worked."""
        from jsonschema import Draft202012Validator

        error = next(iter(Draft202012Validator(card.inputs).iter_errors(arguments)), None)
        return "" if error is None else f"the new input schema rejects these arguments: {error.message}"

    def _calls(self, card: SkillCard, calls: list[dict[str, Any]]) -> list[CallResult]:
        from purpose_agent.errors import SandboxUnavailable

        try:
            return call_skill(self._sandbox(), card, calls, timeout=self.timeout_s)
        except SandboxUnavailable as exc:
            raise SkillRefused(f"replay runs only in the sandbox, and it refuses to run here: {exc}") from None

    # ------------------------------------------------------------------ promotion and rollback

    def promote(self, name: str, version: int | None = None) -> PromotionReport:
        """Take a version through skill CI (module docstring) and promote it if it passes.

        ``version`` defaults to the newest version, if it is a candidate, held or rejected.
        Raises :class:`SkillRefused` when screening or the sandbox cannot run.
        """
        stored = self._promotable(name, version)
        flagged = self.screen(name, stored.version)
        if flagged:
            reason = f"flagged by screening: {flagged}"
            self.store.set_status(name, stored.version, "held", reason)
            return PromotionReport(name, stored.version, "held", reason)
        tests: TestReport | None = None
        replay: ReplayReport | None = None
        if stored.card.kind == "code":
            if not stored.card.tests:
                reason = "a code skill needs at least one test to be promoted; add [[tests]] to the card"
                self.store.set_status(name, stored.version, "rejected", reason)
                return PromotionReport(name, stored.version, "rejected", reason)
            tests = self.test(name, stored.version)
            if not tests.passed:
                failed = tests.failed[0]
                reason = (f"{len(tests.failed)} of {len(tests.outcomes)} test(s) failed; first: "
                          f"{failed.name}: {failed.detail}")
                self.store.set_status(name, stored.version, "rejected", reason)
                return PromotionReport(name, stored.version, "rejected", reason, tests)
            replay = self.replay(name, stored.version)
            if replay.regressions:
                first = replay.regressions[0]
                reason = (f"replay against v{replay.baseline} found {len(replay.regressions)} regression(s); first: "
                          f"{first['case']} ({first['origin']}): {first['detail'] or 'failed'}")
                self.store.set_status(name, stored.version, "rejected", reason)
                return PromotionReport(name, stored.version, "rejected", reason, tests, replay)
        if stored.card.kind == "code":
            assert tests is not None and replay is not None
            against = f"; replay against v{replay.baseline}: {len(replay.cases)} case(s), no regression" if (
                replay.baseline is not None) else "; no earlier promoted version to replay against"
            reason = f"screened clean; {len(tests.outcomes)} test(s) passed in the sandbox{against}"
        else:
            reason = "screened clean (steps-only: nothing to run)"
        self.store.set_status(name, stored.version, "promoted", reason)
        retired = []
        competing = self.store.promoted(name)
        for old in competing[: max(len(competing) - self.max_competing, 0)]:
            self.store.set_status(name, old.version, "retired", f"retired: v{stored.version} was promoted and at "
                                  f"most {self.max_competing} version(s) compete")
            retired.append(old.version)
        return PromotionReport(name, stored.version, "promoted", reason, tests, replay, retired)

    def _promotable(self, name: str, version: int | None) -> SkillVersion:
        if version is not None:
            stored = self.store.get(name, version)
            if stored.status == "promoted":
                raise SkillError(f"skill '{name}' version {version} is already promoted")
            return stored
        newest = self.store.get(name)
        if newest.status not in ("candidate", "held", "rejected"):
            raise SkillError(f"the newest version of skill '{name}', v{newest.version}, is {newest.status}; add a new "
                             "version of the card, or name an earlier one with --version")
        return newest

    def rollback(self, name: str) -> tuple[SkillVersion, SkillVersion | None]:
        """Take the most recently promoted version out of use (``rolled_back``); when no promoted
        version is left, restore the most recent earlier one that was promoted (retired now).

        Returns ``(rolled back, restored or None)``.
        """
        promoted = self.store.promoted(name)
        if not promoted:
            self.store.get(name)
            raise SkillError(f"skill '{name}' has no promoted version to roll back")
        latest = promoted[-1]
        rolled = self.store.set_status(name, latest.version, "rolled_back", "rolled back by the operator")
        if len(promoted) > 1:
            return rolled, None
        retired = [v for v in self.store.versions(name) if v.status == "retired" and v.version < latest.version]
        if not retired:
            return rolled, None
        previous = max(retired, key=lambda v: (v.promoted_at or 0.0, v.version))
        restored = self.store.set_status(name, previous.version, "promoted",
                                         f"restored: v{latest.version} was rolled back")
        return rolled, restored

    # ------------------------------------------------------------------ selection

    def select(self, name: str, rng: random.Random) -> SkillVersion:
        """The promoted version to use now, by Thompson sampling on measured success.

        Each promoted version's success rate has a Beta(1 + successes, 1 + failures) posterior; one
        draw per version, the highest wins. A new version starts at Beta(1, 1), so it is tried
        often until its uses say how good it is: exploration with no separate parameter.
        """
        promoted = self.store.promoted(name)
        if not promoted:
            self.store.get(name)
            raise SkillError(f"skill '{name}' has no promoted version; promote one with 'purpose-agent skills "
                             f"promote {name}'")
        draws = [(rng.betavariate(1 + v.successes, 1 + v.failures), v.version, v) for v in promoted]
        return max(draws, key=lambda draw: (draw[0], draw[1]))[2]
