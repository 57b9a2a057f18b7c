"""Registration in gymnasium's own registry, and the API promises of every registered env."""

import random
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rlvr import envs
from rlvr.envs.core.task import FunctionSource, Task
from rlvr.verifiers import Rubric, Score, Status


class EchoTask(Task):
    answer: str


def make_echo(rng: random.Random) -> EchoTask:
    token = str(rng.randint(0, 10**6))
    return EchoTask(question=f"Repeat {token}", answer=token)


def echo_verifier(completion: str, task: EchoTask) -> Score:
    return Score.correct() if completion.strip() == task.answer else Score.fail(Status.WRONG)


@pytest.fixture
def echo_id():
    env_id = "testing/Echo-v0"
    envs.register(
        env_id,
        source=FunctionSource(make_echo),
        rubric=Rubric({"accuracy": (echo_verifier, 1.0)}),
        template="plain",
        description="Repeat a number.",
        replace=True,
    )
    return env_id


def test_builtin_envs_are_registered_under_the_rlvr_namespace():
    assert "rlvr/Arithmetic-v0" in envs.list_envs()
    assert "rlvr/Arithmetic-v0" in gymnasium.registry
    assert gymnasium.registry["rlvr/Arithmetic-v0"].namespace == "rlvr"


def test_list_envs_gives_one_line_descriptions():
    for env_id, description in envs.list_envs().items():
        assert description and "\n" not in description, env_id


@pytest.mark.parametrize("env_id", sorted(envs.list_envs()))
def test_every_registered_env_passes_check_env(env_id):
    env = gymnasium.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the checker's warnings are failures here
        check_env(env.unwrapped)
    env.close()


@pytest.mark.parametrize("env_id", sorted(envs.list_envs()))
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_every_registered_env_works_with_make_vec(env_id, mode):
    vec = gymnasium.make_vec(env_id, num_envs=3, vectorization_mode=mode)
    prompts, infos = vec.reset(seed=[7, 7, 8])
    assert prompts[0] == prompts[1] != prompts[2]
    template = envs.entry(env_id).default_template
    completions = tuple(template.answer_completion(t.reference_answer()) for t in infos["task"])
    _, rewards, terminated, truncated, _ = vec.step(completions)
    high = envs.entry(env_id).make_rubric(template).reward_range[1]
    np.testing.assert_allclose(rewards, [high] * 3)
    assert terminated.all() and not truncated.any()
    vec.close()


def test_register_a_new_family_and_make_it_by_name(echo_id):
    env = gymnasium.make(echo_id)
    prompt, info = env.reset(seed=3)
    assert prompt == f"Repeat {info['task'].answer}"
    assert env.step(info["task"].answer)[1] == 1.0
    assert echo_id in envs.list_envs()
    check_env(env.unwrapped)


def test_registering_an_existing_id_needs_replace(echo_id):
    with pytest.raises(ValueError, match="replace=True"):
        envs.register(
            echo_id,
            source=FunctionSource(make_echo),
            rubric=Rubric({"a": (echo_verifier, 1)}),
            template="plain",
            description="again",
        )


def test_register_accepts_a_list_of_tasks():
    tasks = [EchoTask(question=f"Repeat {i}", answer=str(i)) for i in range(4)]
    envs.register(
        "testing/EchoList-v0",
        source=tasks,
        rubric=Rubric({"a": (echo_verifier, 1.0)}),
        template="plain",
        description="A fixed list.",
        replace=True,
    )
    env = envs.make("testing/EchoList-v0")
    assert env.reset(options={"index": 2})[0] == "Repeat 2"


def test_register_rejects_an_unknown_builtin_template():
    with pytest.raises(ValueError, match="fireworks"):
        envs.register(
            "testing/Bad-v0",
            source=FunctionSource(make_echo),
            rubric=Rubric({"a": (echo_verifier, 1.0)}),
            template="nope",
            description="x",
        )


def test_a_mapping_of_names_to_builtin_template_names_registers_those_templates():
    envs.register(
        "testing/Named-v0",
        source=[EchoTask(question="Repeat 7", answer="7")],
        rubric=Rubric({"accuracy": (echo_verifier, 1.0)}),
        template={"short": "plain", "reasoning": "r1"},
        description="Templates by built-in name.",
        replace=True,
    )
    entry = envs.entry("testing/Named-v0")
    assert list(entry.templates) == ["short", "reasoning"]
    assert entry.templates["reasoning"] is envs.BUILTIN_TEMPLATES["r1"]
    assert envs.make("testing/Named-v0", template="reasoning").unwrapped.template.name == "r1"


@pytest.mark.parametrize("template", [{"short": 3}, 42, {"short": {"user": "{question}"}}])
def test_a_template_that_is_neither_a_prompt_template_nor_a_builtin_name_is_refused_with_what_one_is(template):
    with pytest.raises(ValueError, match="a template is a PromptTemplate") as error:
        envs.register(
            "testing/BadTemplate-v0",
            source=[EchoTask(question="q", answer="a")],
            rubric=Rubric({"accuracy": (echo_verifier, 1.0)}),
            template=template,
            description="never registered",
        )
    assert "fireworks" in str(error.value)  # the built-in names are listed
    assert "testing/BadTemplate-v0" not in envs.list_envs()


def test_a_template_option_that_is_not_a_name_names_the_envs_templates(echo_id):
    with pytest.raises(envs.ConfigError, match=r"template must be the name of one of this env's templates \(plain\)"):
        envs.make(echo_id, template={"plain": "r1"})


def test_an_env_records_the_module_that_registered_it(echo_id):
    assert envs.entry(echo_id).module == __name__
    assert envs.entry(echo_id).distribution is None
    assert envs.entry("rlvr/Math-v0").module == "rlvr.envs.math.env"
    assert envs.entry("rlvr/Math-v0").provider == "rlvr-gym"


def test_an_unknown_namespace_suggests_importing_the_module_that_registers_it():
    with pytest.raises(envs.UnknownEnvError, match="--import MODULE"):
        envs.entry("nobody-registers-this/Env-v0")
    with pytest.raises(envs.UnknownEnvError) as error:
        envs.entry("rlvr/Arithmetc-v0")
    assert "--import" not in str(error.value)  # a typo in a known namespace: the suggestion is the fix


def test_unknown_env_id_lists_the_registered_ones():
    with pytest.raises(envs.UnknownEnvError) as error:
        envs.make("rlvr/Arithmetc-v0")
    message = str(error.value)
    assert "Did you mean 'rlvr/Arithmetic-v0'" in message
    assert "Registered ids:" in message and "rlvr/Arithmetic-v0" in message


def test_unknown_task_option_names_the_field_and_lists_valid_ones():
    with pytest.raises(envs.ConfigError) as error:
        envs.make("rlvr/Arithmetic-v0", digitz=[2, 2])
    assert "digitz" in str(error.value)
    assert "Valid options:" in str(error.value) and "digits" in str(error.value)


def test_bad_env_option_names_the_field():
    with pytest.raises(envs.ConfigError, match="max_turns"):
        envs.make("rlvr/Arithmetic-v0", max_turns=0)


def test_unknown_template_lists_the_choices():
    with pytest.raises(envs.ConfigError, match="fireworks"):
        envs.make("rlvr/Arithmetic-v0", template="chatml")


def test_fixed_source_takes_no_task_options(echo_id):
    with pytest.raises(envs.ConfigError, match="no task options"):
        envs.make(echo_id, digits=[1])


def test_options_reach_the_env_config():
    env = envs.make("rlvr/Arithmetic-v0", max_turns=3, max_prompt_chars=4096)
    assert env.unwrapped.config.max_turns == 3
    assert env.observation_space.max_length == 4096


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_vector_envs_pass_multi_turn_feedback_as_observations(mode):
    vec = gymnasium.make_vec("rlvr/Arithmetic-v0", num_envs=2, vectorization_mode=mode, max_turns=2)
    vec.reset(seed=[1, 2])
    feedback, _, terminated, truncated, _ = vec.step(("no idea", "none"))
    assert tuple(feedback) == ("Your answer was not accepted (unparseable). Please try again.",) * 2
    assert not terminated.any() and not truncated.any()
    _, _, terminated, truncated, _ = vec.step(("still no", "nope"))
    assert truncated.all()
    vec.close()


def test_registered_defaults_apply_unless_make_is_given_others():
    env = envs.make("rlvr/MathTool-v0")
    assert env.unwrapped.config.tools == ("python",) and env.unwrapped.config.max_turns == 4
    plain = envs.make("rlvr/MathTool-v0", tools=[], max_turns=1)
    assert plain.unwrapped.toolbox is None and plain.unwrapped.config.max_turns == 1
