import purpose_agent_test_critic
from purpose_agent.models import Action, Observation, Step, Trajectory
from purpose_agent.testing import make_kernel
from purpose_agent_conformance import CriticConformance
from purpose_agent_test_critic import test_counts


class TestConformance(CriticConformance):
    plugin = purpose_agent_test_critic
    plugin_id = "test-critic"
    critic_name = "test-critic"


def run_with(*outputs):
    steps = [Step(index=i, action=Action(kind="tool", tool="python"), observation=Observation(output=o))
             for i, o in enumerate(outputs)]
    return Trajectory(task="t", steps=steps, final_answer="done")


def test_counts_from_pytest_and_unittest():
    assert test_counts("==== 3 passed, 1 failed in 0.1s ====") == (3, 1)
    assert test_counts("Ran 4 tests in 0.001s\n\nFAILED (failures=1, errors=1)") == (2, 2)
    assert test_counts("Ran 2 tests in 0.001s\n\nOK") == (2, 0)
    assert test_counts("hello") is None


def test_the_latest_test_run_counts():
    critic = make_kernel({"test-critic": purpose_agent_test_critic}).critic("test-critic")
    assert critic.score(run_with("1 passed, 3 failed", "4 passed")).value == 10.0
    assert critic.score(run_with("4 passed", "1 passed, 3 failed")).value == 2.5


def test_no_evidence_score_is_configurable():
    kernel = make_kernel({"test-critic": purpose_agent_test_critic},
                         config={"plugins": {"test-critic": {"no_evidence_score": 2}}})
    assert kernel.critic("test-critic").score(run_with("no tests here")).value == 2.0
