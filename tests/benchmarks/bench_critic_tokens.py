"""Critic prompt size along a 50-step trajectory: standard (whole run) vs delta (what changed).

    .venv/bin/python tests/benchmarks/bench_critic_tokens.py [--steps 50] [--max-steps-in-prompt 40]

The critics score the trajectory after every step, as the agent loop does. No model is needed:
the judge is a FunctionBackend from purpose_agent.testing that replies with a fixed-size verdict
quoting the newest tool output. Tokens are counted the way that backend reports
``usage.prompt_tokens``: whitespace-separated words summed over the system and user messages
(the JSON schema, sent separately, is the same size at every step and is not counted). Real
tokenizers give roughly 1.3–2× more tokens, in the same proportions.

Each step is alike (a short tool call and a one-line output), so any growth is the critic's own.
Target: delta at step 50 ≤ 1.2 × delta at step 1, while standard grows. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from purpose_agent.models import Action, ChatRequest, Observation, Step, Trajectory
from purpose_agent.testing import FunctionBackend, make_kernel


def judge(request: ChatRequest) -> dict[str, Any]:
    """A verdict of fixed size that quotes the newest observation line (so it is verified)."""
    lines = re.findall(r"OBSERVATION \(tool output[^)]*\):\n(.*)", request.messages[-1].content)
    quote = lines[-1] if lines else "none"
    verdict: dict[str, Any] = {"score": 5, "reason": "steady progress; parts computed and checked", "evidence": [quote]}
    if "summary" in (request.response_schema or {}).get("properties", {}):
        verdict["summary"] = "parts computed one by one; every check so far reported ok; total not yet reported"
    return verdict


def trajectory(steps: int) -> Trajectory:
    return Trajectory(
        run_id="bench",
        task="Compute every part of the ledger and report the total.",
        steps=[
            Step(index=i, action=Action(kind="tool", tool="python", arguments={"code": f"part_{i} = compute({i})"}),
                 observation=Observation(output=f"part {i}: value {i * 7 % 13}, check ok"))
            for i in range(steps)
        ],
    )


def measure(name: str, steps: int, max_steps_in_prompt: int) -> list[int]:
    import purpose_agent_critics

    kernel = make_kernel({"critics": purpose_agent_critics},
                         config={"plugins": {"critics": {"max_steps_in_prompt": max_steps_in_prompt}}})
    critic = kernel.critic(name, backend=FunctionBackend(judge))
    run = trajectory(steps)
    tokens = []
    for n in range(1, steps + 1):
        score = critic.score(run.model_copy(update={"steps": run.steps[:n]}))
        if "error" in score.details:
            sys.exit(f"{name} failed at step {n}: {score.details['error']}")
        tokens.append(score.details["usage"]["prompt_tokens"])
    return tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--max-steps-in-prompt", type=int, default=40, help="the critics' setting (default 40)")
    args = parser.parse_args()

    results = {name: measure(name, args.steps, args.max_steps_in_prompt) for name in ("standard", "delta")}
    marks = [1, *range(10, args.steps + 1, 10)]
    if marks[-1] != args.steps:
        marks.append(args.steps)
    print(f"critic prompt tokens (whitespace words, system + user message) after each step; "
          f"max_steps_in_prompt={args.max_steps_in_prompt}")
    print(f"{'step':>6} | {'standard':>9} | {'delta':>6}")
    print(f"{'-' * 6}-+-{'-' * 9}-+-{'-' * 6}")
    for mark in marks:
        print(f"{mark:>6} | {results['standard'][mark - 1]:>9} | {results['delta'][mark - 1]:>6}")
    last = args.steps
    ratio = results["delta"][last - 1] / results["delta"][0]
    flat_max = max(results["delta"]) / results["delta"][0]
    summary = {
        name: {f"step_{m}": results[name][m - 1] for m in marks} for name in ("standard", "delta")
    }
    summary[f"delta_ratio_{last}_to_1"] = round(ratio, 3)
    summary["delta_max_ratio_to_1"] = round(flat_max, 3)
    summary[f"standard_ratio_{last}_to_1"] = round(results["standard"][last - 1] / results["standard"][0], 3)
    summary["target_met"] = ratio <= 1.2 and flat_max <= 1.2 and results["standard"][last - 1] > results["standard"][0]
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
