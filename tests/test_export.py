"""Export of registered envs as a data set and a TRL-style reward function."""

import json
import math
import random

import pytest

from rlvr import envs
from rlvr.envs.core.task import FunctionSource, Task
from rlvr.envs.data.export import completion_text, reward_function, to_dataset
from rlvr.verifiers import Rubric, Score, Status

pytest.importorskip("datasets")

ENV_IDS = ["rlvr/Arithmetic-v0", "rlvr/Math-v0"]


class EchoTask(Task):
    answer: str


def make_echo(rng: random.Random) -> EchoTask:
    token = str(rng.randint(0, 10**6))
    return EchoTask(question=f"Repeat {token}", answer=token)


def echo_verifier(completion: str, task: EchoTask) -> Score:
    if completion == "?":
        return Score.no_judgement(Status.VERIFIER_ERROR, error="cannot tell")
    return Score.correct() if completion.strip() == task.answer else Score.fail(Status.WRONG)


@pytest.fixture
def echo_id():
    env_id = "testing/ExportEcho-v0"
    envs.register(
        env_id,
        source=FunctionSource(make_echo),
        rubric=Rubric({"accuracy": (echo_verifier, 1.0)}),
        template="plain",
        description="Repeat a number.",
        replace=True,
    )
    return env_id


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_dataset_has_one_row_per_seed_with_the_envs_prompt_and_task(env_id):
    data = to_dataset(env_id, 5, seed=10)
    assert len(data) == 5
    assert set(data.column_names) == {"prompt", "seed", "task_index", "answer", "task"}
    env = envs.make(env_id)
    for i, row in enumerate(data):
        prompt, info = env.reset(seed=10 + i)
        assert row["seed"] == 10 + i
        assert row["prompt"] == prompt
        assert row["task_index"] == info["index"]
        assert row["answer"] == info["task"].reference_answer()
        assert type(info["task"]).model_validate_json(row["task"]) == info["task"]
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_dataset_is_deterministic_per_seed(env_id):
    assert to_dataset(env_id, 4, seed=3).to_list() == to_dataset(env_id, 4, seed=3).to_list()
    assert to_dataset(env_id, 4, seed=3)["task"] != to_dataset(env_id, 4, seed=4)["task"]
    assert to_dataset(env_id, 4, seed=3)[1] == to_dataset(env_id, 2, seed=4)[0] | {"seed": 4}


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("template", [None, "r1"])
def test_reference_answer_scores_the_maximum_and_a_wrong_one_less(env_id, template):
    entry = envs.entry(env_id)
    prompt_template = entry.templates[template] if template else entry.default_template
    high = entry.make_rubric(prompt_template).reward_range[1]
    data = to_dataset(env_id, 6, template=template)
    reward = reward_function(env_id, template=template)
    right = [prompt_template.answer_completion(answer) for answer in data["answer"]]
    wrong = [prompt_template.answer_completion("-12345.5") for _ in data["answer"]]
    assert reward(prompts=data["prompt"], completions=right, **data.to_dict()) == pytest.approx([high] * 6)
    assert all(r < high for r in reward(prompts=data["prompt"], completions=wrong, task=data["task"]))


def test_task_options_reach_both_the_dataset_and_the_reward():
    options = {"digits": [1, 1]}
    data = to_dataset("rlvr/Arithmetic-v0", 3, options=options)
    assert all(len(str(json.loads(t)["operands"][0])) == 1 for t in data["task"])
    reward = reward_function("rlvr/Arithmetic-v0", options=options)
    template = envs.entry("rlvr/Arithmetic-v0").default_template
    completions = [template.answer_completion(a) for a in data["answer"]]
    assert reward(data["prompt"], completions, task=data["task"]) == [1.0] * 3


def test_every_option_of_make_is_an_option_of_the_export_template_included():
    options = {"template": "r1", "digits": [1, 1], "max_turns": 2}
    data = to_dataset("rlvr/Arithmetic-v0", 3, options=options)
    env = envs.make("rlvr/Arithmetic-v0", **options)
    assert data["prompt"] == [env.reset(seed=seed)[0] for seed in range(3)]
    assert data["prompt"] == to_dataset("rlvr/Arithmetic-v0", 3, template="r1", options={"digits": [1, 1]})["prompt"]
    reward = reward_function("rlvr/Arithmetic-v0", options=options)
    r1 = envs.entry("rlvr/Arithmetic-v0").templates["r1"]
    assert reward(data["prompt"], [r1.answer_completion(a) for a in data["answer"]], task=data["task"]) == [1.2] * 3


def test_two_different_templates_for_one_export_are_refused():
    with pytest.raises(envs.ConfigError, match="two templates given"):
        to_dataset("rlvr/Arithmetic-v0", 1, template="plain", options={"template": "r1"})
    assert len(to_dataset("rlvr/Arithmetic-v0", 1, template="r1", options={"template": "r1"})) == 1


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_conversational_form_gives_messages_and_scores_the_last_assistant_message(env_id):
    data = to_dataset(env_id, 3, chat=True, template="r1")
    text = to_dataset(env_id, 3, template="r1")
    assert data["task"] == text["task"]
    env = envs.make(env_id, template="r1")
    _, info = env.reset(seed=0)
    assert data[0]["prompt"] == info["messages"]
    assert [m["role"] for m in data[0]["prompt"]] == ["system", "user"]
    template = envs.entry(env_id).templates["r1"]
    completions = [
        [{"role": "assistant", "content": "draft"}, {"role": "assistant", "content": template.answer_completion(a)}]
        for a in data["answer"]
    ]
    high = envs.entry(env_id).make_rubric(template).reward_range[1]
    reward = reward_function(env_id, template="r1")
    assert reward(data["prompt"], completions, task=data["task"]) == pytest.approx([high] * 3)


def test_trl_sees_text_rows_as_standard_and_chat_rows_as_conversational():
    data_utils = pytest.importorskip("trl.data_utils")
    assert not data_utils.is_conversational(to_dataset("rlvr/Arithmetic-v0", 1)[0])
    assert data_utils.is_conversational(to_dataset("rlvr/Arithmetic-v0", 1, chat=True)[0])


def test_completion_text_reads_strings_messages_and_content_parts():
    assert completion_text("42") == "42"
    parts = [{"role": "assistant", "content": [{"type": "text", "text": "4"}, {"type": "text", "text": "2"}]}]
    assert completion_text(parts) == "42"
    assert completion_text([{"role": "user", "content": "hi"}]) == ""


def test_reward_function_is_named_for_the_family():
    assert reward_function("rlvr/Arithmetic-v0").__name__ == "rlvr_arithmetic"
    assert reward_function("rlvr/Math-v0").__name__ == "rlvr_math"


def test_unjudged_completion_gets_nan_by_default_or_the_given_reward(echo_id):
    data = to_dataset(echo_id, 2)
    answer = data["answer"][0]
    completions = ["?", answer]
    tasks = [data["task"][0]] * 2
    rewards = reward_function(echo_id)(data["prompt"], completions, task=tasks)
    assert math.isnan(rewards[0]) and rewards[1] == 1.0
    assert reward_function(echo_id, none_reward=0.0)(data["prompt"], completions, task=tasks) == [0.0, 1.0]


def test_reward_function_needs_the_task_column():
    reward = reward_function("rlvr/Arithmetic-v0")
    with pytest.raises(TypeError, match="'task' column"):
        reward(["p"], ["c"], answer=["1"])
    with pytest.raises(ValueError, match="2 completions but 1 tasks"):
        reward(["p", "p"], ["c", "c"], task=to_dataset("rlvr/Arithmetic-v0", 1)["task"])


@pytest.mark.parametrize("export", [lambda id: to_dataset(id, 1), reward_function])
def test_unknown_env_id_lists_the_registered_ones(export):
    with pytest.raises(envs.UnknownEnvError) as error:
        export("rlvr/Arithmetc-v0")
    assert "Did you mean 'rlvr/Arithmetic-v0'" in str(error.value)
    assert "rlvr/Math-v0" in str(error.value)


def test_bad_options_and_sizes_are_reported():
    with pytest.raises(envs.ConfigError, match="digitz"):
        to_dataset("rlvr/Arithmetic-v0", 1, options={"digitz": [1]})
    with pytest.raises(envs.ConfigError, match="fireworks"):
        reward_function("rlvr/Arithmetic-v0", template="chatml")
    with pytest.raises(ValueError, match="non-negative"):
        to_dataset("rlvr/Arithmetic-v0", -1)
    assert len(to_dataset("rlvr/Arithmetic-v0", 0)) == 0


def test_trl_grpo_trainer_trains_one_step_on_the_dataset_and_reward(tmp_path):
    trl = pytest.importorskip("trl")
    tokenizers = pytest.importorskip("tokenizers")
    transformers = pytest.importorskip("transformers")
    vocab = {c: i for i, c in enumerate(["<pad>", "<unk>", *map(chr, range(32, 127))])}
    characters = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    characters.pre_tokenizer = tokenizers.pre_tokenizers.Split("", "isolated")
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=characters, pad_token="<pad>", unk_token="<unk>", eos_token="<pad>"
    )
    config = transformers.GPT2Config(
        vocab_size=len(vocab), n_embd=16, n_layer=1, n_head=2, bos_token_id=0, eos_token_id=0, pad_token_id=0
    )
    options = {"digits": [1, 1]}
    args = trl.GRPOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        num_generations=2,
        max_completion_length=4,
        max_steps=1,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
        logging_steps=1,
    )
    trainer = trl.GRPOTrainer(
        model=transformers.GPT2LMHeadModel(config),
        reward_funcs=reward_function("rlvr/Arithmetic-v0", template="plain", options=options),
        args=args,
        train_dataset=to_dataset("rlvr/Arithmetic-v0", 4, template="plain", options=options),
        processing_class=tokenizer,
    )
    trainer.train()
    assert "rewards/rlvr_arithmetic/mean" in trainer.state.log_history[0]
