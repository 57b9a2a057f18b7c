"""rlvr/FunctionCalling-v0: registration, options, generated requests, Glaive and BFCL files, and scoring."""

from __future__ import annotations

import json
import warnings

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

from rlvr import envs
from rlvr.envs.function_calling.env import (
    KINDS,
    TEMPLATES,
    FunctionCallingConfig,
    FunctionCallingTask,
    RequestSource,
    bfcl_task,
    detect_format,
    glaive_task,
    load_function_calling,
    reference_arguments,
    reference_completion,
    render_calls,
)
from rlvr.envs.function_calling.tool_library import TOOLS

pytest.importorskip("jsonschema")

ID = "rlvr/FunctionCalling-v0"

_GLAIVE_SYSTEM = "SYSTEM: You are a helpful assistant with access to the following functions. Use them if required -\n"
BMI = {
    "name": "calculate_bmi",
    "description": "Calculate the Body Mass Index",
    "parameters": {
        "type": "object",
        "properties": {
            "weight": {"type": "number", "description": "The weight in kilograms"},
            "height": {"type": "number", "description": "The height in meters"},
        },
        "required": ["weight", "height"],
    },
}
NEWS = {
    "name": "get_news",
    "description": "Get the latest news",
    "parameters": {
        "type": "object",
        "properties": {"country": {"type": "string", "description": "The country"}},
        "required": ["country"],
    },
}
SMS = {
    "name": "send_sms",
    "description": "Send a text message",
    "parameters": {
        "type": "object",
        "properties": {"number": {"type": "string"}, "text": {"type": "string"}},
        "required": ["number", "text"],
    },
}

GLAIVE_ROWS = [
    {  # one call, single-quoted arguments, two functions listed
        "system": _GLAIVE_SYSTEM + json.dumps(BMI, indent=4) + "\n\n" + json.dumps(NEWS, indent=4) + "\n",
        "chat": "USER: Hi, I weigh 70 kg and I'm 1.75 m tall. What's my BMI?\n\n\n"
        'ASSISTANT: <functioncall> {"name": "calculate_bmi", "arguments": \'{"weight": 70, "height": 1.75}\'} '
        '<|endoftext|>\n\n\nFUNCTION RESPONSE: {"bmi": 22.86}\n\n\n'
        "ASSISTANT: Your BMI is 22.86, in the healthy range. <|endoftext|>\n\n\n",
    },
    {  # no function at all
        "system": "SYSTEM: You are a helpful assistant, with no access to external functions.",
        "chat": "USER: Tell me a joke.\n\n\nASSISTANT: Why did the scarecrow win an award? Because he was "
        "outstanding in his field. <|endoftext|>\n\n\n",
    },
    {  # a function, but the request misses its required argument
        "system": _GLAIVE_SYSTEM + json.dumps(NEWS, indent=4),
        "chat": "USER: Can you get me the latest news?\n\n\nASSISTANT: Sure, which country would you like the "
        "news for? <|endoftext|>\n\n\nUSER: Canada\n\n\n"
        'ASSISTANT: <functioncall> {"name": "get_news", "arguments": \'{"country": "Canada"}\'} <|endoftext|>',
    },
    {  # an apostrophe inside the single-quoted arguments
        "system": _GLAIVE_SYSTEM + json.dumps(SMS, indent=4),
        "chat": "USER: Text +1 555 010 2000 that I'm late.\n\n\n"
        'ASSISTANT: <functioncall> {"name": "send_sms", "arguments": \'{"number": "+1 555 010 2000", '
        '"text": "I\'m late"}\'} <|endoftext|>',
    },
    {  # bad: calls a function it does not define
        "system": _GLAIVE_SYSTEM + json.dumps(NEWS, indent=4),
        "chat": "USER: What's my BMI? I'm 80 kg, 1.8 m.\n\n\n"
        'ASSISTANT: <functioncall> {"name": "calculate_bmi", "arguments": \'{"weight": 80, "height": 1.8}\'} '
        "<|endoftext|>",
    },
    {  # bad: the function definitions are not JSON
        "system": _GLAIVE_SYSTEM + '{"name": "get_news", "parameters": {',
        "chat": "USER: News from France?\n\n\nASSISTANT: <functioncall> "
        '{"name": "get_news", "arguments": \'{"country": "France"}\'} <|endoftext|>',
    },
]

WEATHER = {
    "name": "get_weather",
    "description": "Current weather",
    "parameters": {
        "type": "dict",
        "properties": {
            "location": {"type": "string", "description": "City"},
            "unit": {"type": "string", "enum": ["c", "f"], "description": "Unit"},
        },
        "required": ["location"],
    },
}
ADD = {
    "name": "add",
    "description": "Add two numbers",
    "parameters": {
        "type": "dict",
        "properties": {"a": {"type": "integer", "description": "x"}, "b": {"type": "integer", "description": "y"}},
        "required": ["a", "b"],
    },
}
BFCL_ROWS = [
    {
        "question": [[{"role": "user", "content": "What's the weather in Paris?"}]],
        "function": [WEATHER, ADD],
        "ground_truth": [{"get_weather": {"location": ["Paris", "Paris, France"], "unit": ["", "c"]}}],
    },
    {
        "question": "Add 2 and 3, and also 4 and 5.",
        "function": [ADD],
        "ground_truth": [{"add": {"a": [2], "b": [3]}}, {"add": {"a": [4], "b": [5]}}],
    },
    {"question": "Who wrote Hamlet?", "function": [WEATHER], "ground_truth": []},
    {  # bad: the ground truth names a function the record does not list
        "question": "Add 1 and 1.",
        "function": [WEATHER],
        "ground_truth": [{"add": {"a": [1], "b": [1]}}],
    },
    {  # bad: an expected value that does not fit its schema
        "question": "Add one and two.",
        "function": [ADD],
        "ground_truth": [{"add": {"a": ["one"], "b": [2]}}],
    },
]


def _write(tmp_path_factory, name, rows):
    path = tmp_path_factory.mktemp("fc") / name
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


@pytest.fixture(scope="module")
def glaive_file(tmp_path_factory):
    return _write(tmp_path_factory, "glaive.jsonl", GLAIVE_ROWS)


@pytest.fixture(scope="module")
def bfcl_file(tmp_path_factory):
    return _write(tmp_path_factory, "bfcl.jsonl", BFCL_ROWS)


def load_quietly(source: str, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_function_calling(source, **options)


def score(task: FunctionCallingTask, completion: str, template: str = "tool_call"):
    """(reward, accuracy status) of ``completion`` under the env's rubric for ``template``."""
    rubric = envs.entry(ID).make_rubric(TEMPLATES[template])
    result = rubric.score(completion, task)
    return result.reward, result.scores["accuracy"].status.value


def task_of(kind: str, seed: int = 0, **config) -> FunctionCallingTask:
    return RequestSource(FunctionCallingConfig(**config)).get(seed, kind=kind)


def first_with_distractor(kind: str = "call") -> FunctionCallingTask:
    for seed in range(100):
        task = task_of(kind, seed)
        if len(task.functions) > len({c["name"] for c in task.expected_calls}):
            return task
    raise AssertionError("no task with a distractor in 100 seeds")


# --- registration and options ------------------------------------------------------------


def test_function_calling_v0_is_registered_with_three_templates():
    assert ID in gymnasium.registry and gymnasium.registry[ID].namespace == "rlvr"
    assert "Glaive" in envs.list_envs()[ID] and "BFCL" in envs.list_envs()[ID]
    assert list(envs.entry(ID).templates) == ["tool_call", "glaive", "r1"]


def test_check_env_passes():
    env = gymnasium.make(ID)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)
    env.close()


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"mode": "lenient"}, "mode"),
        ({"partial_credit": "maybe"}, "partial_credit"),
        ({"no_call_share": 1.5}, "no_call_share"),
        ({"parallel_share": -0.1}, "parallel_share"),
        ({"no_call_share": 0.7, "parallel_share": 0.5}, "parallel_share"),
        ({"max_distractors": -1}, "max_distractors"),
        ({"split": "test"}, "split"),
        ({"format": "glaive"}, "format"),
        ({"dataset": "x.jsonl", "parallel_share": 0.1}, "parallel_share"),
        ({"dataset": "x.jsonl", "format": "csv"}, "format"),
        ({"distractors": 3}, "distractors"),
        ({"mode": "bfcl", "partial_credit": True}, "partial_credit"),
    ],
)
def test_a_bad_option_is_a_config_error_naming_the_field(options, field):
    with pytest.raises(envs.ConfigError, match=field):
        envs.make(ID, **options)


def test_an_unknown_kind_reset_option_is_refused():
    env = gymnasium.make(ID)
    with pytest.raises(ValueError, match="kind"):
        env.reset(seed=0, options={"kind": "chat"})


# --- prompts ------------------------------------------------------------------------------


def test_the_default_prompt_lists_the_functions_and_asks_for_tool_call_blocks():
    env = gymnasium.make(ID)
    prompt, info = env.reset(seed=3)
    task = info["task"]
    assert "<tools>" in prompt and "<tool_call>" in prompt and prompt.endswith(task.question)
    assert [json.loads(line) for line in task.tools.splitlines()] == task.functions
    system, user = info["messages"]
    assert system["role"] == "system" and task.tools in system["content"]
    assert user == {"role": "user", "content": task.question}


def test_the_glaive_and_r1_prompts_keep_their_own_markers():
    glaive, info = gymnasium.make(ID, template="glaive").reset(seed=3)
    assert glaive.startswith("SYSTEM: You are a helpful assistant with access to the following functions.")
    assert glaive.endswith(f"USER: {info['task'].question}\n\n\nASSISTANT:") and "<functioncall>" in glaive
    r1, info = gymnasium.make(ID, template="r1").reset(seed=3)
    assert "<think>" in r1 and "<tool_call>" in r1 and r1.endswith(f"User: {info['task'].question} Assistant:")


# --- generated requests -------------------------------------------------------------------


def test_same_seed_same_task_across_env_copies_and_index_picks_a_task():
    prompts = {gymnasium.make(ID).reset(seed=42)[0] for _ in range(3)}
    assert len(prompts) == 1
    env = gymnasium.make(ID)
    task = env.reset(options={"index": 5})[1]["task"]
    assert task == env.reset(seed=9, options={"index": 5})[1]["task"] == RequestSource().get(5)


def test_tasks_vary_over_seeds():
    tasks = [RequestSource().get(seed) for seed in range(60)]
    assert len({t.question for t in tasks}) >= 55
    assert len({c["name"] for t in tasks for c in t.expected_calls}) >= 20
    assert len({len(t.functions) for t in tasks}) >= 4


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_has_the_expected_shape(kind):
    for seed in range(30):
        task = task_of(kind, seed)
        names = [f["name"] for f in task.functions]
        assert task.kind == kind and len(names) == len(set(names)) <= 6
        groups = {TOOLS[c["name"]].group for c in task.expected_calls}
        if kind == "call":
            assert len(task.expected_calls) == 1 and task.expected_calls[0]["name"] in names
        elif kind == "parallel":
            assert len(task.expected_calls) == 2 and task.expected_calls[0] != task.expected_calls[1]
        else:
            assert task.expected_calls == [] and task.reply
        # a distractor never does what the relevant tool does
        relevant = {c["name"] for c in task.expected_calls}
        assert not {TOOLS[n].group for n in names if n not in relevant} & groups


def test_a_missing_argument_task_lists_the_tool_and_asks_for_what_is_missing():
    for seed in range(20):
        task = task_of("missing_argument", seed)
        lead = "I can help with that, but first I need to know the "
        assert task.reply.startswith(lead) and task.reply.endswith(". Could you tell me?")
        missing = {w.replace(" ", "_") for w in task.reply[len(lead) : -len(". Could you tell me?")].split(" and the ")}
        assert any(missing <= set(TOOLS[f["name"]].required) for f in task.functions)


def test_a_no_tool_task_lists_nothing_that_serves_the_request():
    task = task_of("no_tool", 0, max_distractors=0)
    assert task.functions == [] and task.tools == ""
    for seed in range(20):
        task = task_of("no_tool", seed)
        (asked,) = [t for t in TOOLS.values() if t.schema["description"][1:] + "." in task.reply]
        assert asked.group not in {TOOLS[f["name"]].group for f in task.functions}


def test_the_shares_set_the_mix_of_kinds():
    def kinds(**config):
        source = RequestSource(FunctionCallingConfig(**config))
        return {source.get(seed).kind for seed in range(200)}

    assert kinds(no_call_share=1.0) == {"no_tool", "missing_argument"}
    assert kinds(no_call_share=0.0, parallel_share=1.0) == {"parallel"}
    assert kinds(no_call_share=0.0) == {"call"}
    assert kinds(no_call_share=0.3, parallel_share=0.3) == set(KINDS)


def test_max_distractors_bounds_the_tools_listed():
    source = RequestSource(FunctionCallingConfig(max_distractors=0, no_call_share=0.0))
    assert all(len(source.get(seed).functions) == 1 for seed in range(30))
    source = RequestSource(FunctionCallingConfig(max_distractors=10))
    assert max(len(source.get(seed).functions) for seed in range(60)) > 5


def test_the_task_carries_the_verifier_settings():
    env = gymnasium.make(ID, mode="base", partial_credit=True)
    task = env.reset(seed=0)[1]["task"]
    assert task.mode == "base" and task.partial_credit is True


# --- the reference answer and scoring --------------------------------------------------------


@pytest.mark.parametrize("template", list(TEMPLATES))
@pytest.mark.parametrize("mode", ["strict", "base", "bfcl"])
def test_the_reference_completion_scores_the_maximum_in_each_template_and_mode(template, mode):
    env = gymnasium.make(ID, template=template, mode=mode, no_call_share=0.3, parallel_share=0.3)
    high = env.unwrapped.reward_range[1]
    for seed in range(40):
        _, info = env.reset(seed=seed)
        _, reward, terminated, _, step_info = env.step(reference_completion(info["task"], template))
        assert reward == high and terminated, (seed, step_info["score"])


def test_reference_answer_writes_tool_call_blocks_or_the_reply():
    call = task_of("call", 1)
    answer = call.reference_answer()
    assert answer.startswith("<tool_call>\n") and answer.endswith("\n</tool_call>")
    assert json.loads(answer.splitlines()[1]) == {
        "name": call.expected_calls[0]["name"],
        "arguments": reference_arguments(call.expected_calls[0]),
    }
    no_call = task_of("no_tool", 1)
    assert no_call.reference_answer() == no_call.reply and "<tool_call>" not in no_call.reply


def test_reference_arguments_leave_out_what_may_be_omitted_and_take_first_values():
    expected = {"name": "f", "arguments": {"a": ["x", "y"], "b": ["", 3], "c": [5]}}
    assert reference_arguments(expected) == {"a": "x", "c": 5}


def test_render_calls_writes_glaive_single_quoted_arguments():
    text = render_calls([{"name": "f", "arguments": {"s": "I'm"}}], "glaive")
    assert text == '<functioncall> {"name": "f", "arguments": \'{"s": "I\'m"}\'}'


def test_a_wrong_function_scores_less():
    task = first_with_distractor()
    other = next(f["name"] for f in task.functions if f["name"] != task.expected_calls[0]["name"])
    arguments = reference_arguments(task.expected_calls[0])
    for mode in ("strict", "base"):
        task_mode = task.model_copy(update={"mode": mode})
        assert score(task_mode, render_calls([{"name": other, "arguments": arguments}])) == (0.0, "wrong")


def _with_wrong_argument(task: FunctionCallingTask) -> str:
    call = task.expected_calls[0]
    arguments = reference_arguments(call)
    name, value = next(iter(arguments.items()))
    if isinstance(value, bool):
        arguments[name] = not value
    elif isinstance(value, int | float):
        arguments[name] = value + 7
    elif isinstance(value, list):
        arguments[name] = [*value, value[0]]
    else:
        arguments[name] = value + " and more"
    return render_calls([{"name": call["name"], "arguments": arguments}])


def test_a_wrong_argument_scores_less_in_strict_mode_and_partly_with_partial_credit():
    for seed in range(10):
        task = task_of("call", seed)
        completion = _with_wrong_argument(task)
        assert score(task, completion) == (0.0, "wrong")
        reward, status = score(task.model_copy(update={"partial_credit": True}), completion)
        assert 0.0 < reward < 1.0 and status == "partial"
        assert score(task.model_copy(update={"mode": "base"}), completion) == (1.0, "ok")


@pytest.mark.parametrize("kind", ["no_tool", "missing_argument"])
def test_a_call_when_none_applies_scores_zero(kind):
    for seed in range(20):
        task = task_of(kind, seed)
        if task.functions:
            break
    listed = task.functions[0]
    call = render_calls([{"name": listed["name"], "arguments": {}}])
    for mode in ("strict", "base"):
        assert score(task.model_copy(update={"mode": mode}), call) == (0.0, "wrong")
    assert score(task, task.reply) == (1.0, "ok")


def test_no_call_when_one_is_expected_scores_zero():
    task = task_of("call", 2)
    assert score(task, "I think you should check a website for that.") == (0.0, "wrong")


def test_a_parallel_task_needs_both_calls():
    task = task_of("parallel", 4)
    calls = [{"name": c["name"], "arguments": reference_arguments(c)} for c in task.expected_calls]
    assert score(task, render_calls(calls[::-1])) == (1.0, "ok")
    assert score(task, render_calls(calls[:1])) == (0.0, "wrong")
    assert score(task.model_copy(update={"partial_credit": True}), render_calls(calls[:1])) == (0.5, "partial")


def test_the_r1_template_adds_the_format_reward():
    task = task_of("call", 0)
    rubric = envs.entry(ID).make_rubric(TEMPLATES["r1"])
    assert rubric.weights == {"accuracy": 1.0, "format": 0.2}
    assert rubric.score(task.reference_answer(), task).reward == 1.0
    assert rubric.score(reference_completion(task, "r1"), task).reward == pytest.approx(1.2)


def test_a_call_inside_think_tags_is_not_a_call():
    task = task_of("call", 0)
    hidden = f"<think>{task.reference_answer()}</think>\n<answer>I'm not sure.</answer>"
    assert score(task, hidden, "r1")[1] == "wrong"


# --- Glaive and BFCL files -----------------------------------------------------------------


def test_detect_format_reads_the_columns():
    assert detect_format(["system", "chat"]) == "glaive"
    assert detect_format(["id", "question", "function", "ground_truth"]) == "bfcl"
    with pytest.raises(ValueError, match="format='glaive'"):
        detect_format(["prompt", "completion"])


def test_glaive_records_become_tasks_and_bad_ones_are_left_out_with_a_counted_warning(glaive_file):
    with pytest.warns(UserWarning, match=r"left out 2 of 6 records .*rows 4, 5"):
        records = load_function_calling(glaive_file)
    assert records.format == "glaive" and records.skipped == (4, 5) and sum(records.reasons.values()) == 2
    bmi, joke, news, sms = records.tasks
    assert bmi.question == "Hi, I weigh 70 kg and I'm 1.75 m tall. What's my BMI?"
    assert [f["name"] for f in bmi.functions] == ["calculate_bmi", "get_news"]
    assert bmi.expected_calls == [{"name": "calculate_bmi", "arguments": {"weight": [70], "height": [1.75]}}]
    assert bmi.kind == "call" and bmi.source == glaive_file
    assert joke.functions == [] and joke.expected_calls == [] and joke.kind == "no_call"
    assert joke.reply.startswith("Why did the scarecrow") and "<|endoftext|>" not in joke.reply
    assert news.expected_calls == [] and news.reply == "Sure, which country would you like the news for?"
    assert sms.expected_calls[0]["arguments"]["text"] == ["I'm late"]


def test_glaive_task_returns_none_for_a_record_without_a_request():
    assert glaive_task({"system": "SYSTEM: hi", "chat": "ASSISTANT: hello"}) is None
    assert glaive_task({"system": None, "chat": "USER: hi"}) is None


def test_bfcl_records_become_tasks_and_bad_ones_are_left_out(bfcl_file):
    with pytest.warns(UserWarning, match="left out 2 of 5 records"):
        records = load_function_calling(bfcl_file)
    assert records.format == "bfcl" and records.skipped == (3, 4)
    weather, adds, hamlet = records.tasks
    assert weather.question == "What's the weather in Paris?"
    assert weather.expected_calls[0] == {
        "name": "get_weather",
        "arguments": {"location": ["Paris", "Paris, France"], "unit": ["", "c"]},
    }
    assert adds.kind == "parallel" and len(adds.expected_calls) == 2
    assert hamlet.kind == "no_call" and hamlet.expected_calls == []


def test_bfcl_task_reads_json_text_fields_and_refuses_a_missing_ground_truth():
    row = {
        "question": "Add 1 and 2",
        "function": json.dumps([ADD]),
        "ground_truth": json.dumps([{"add": {"a": [1], "b": [2]}}]),
    }
    task = bfcl_task(row)
    assert task is not None and task.expected_calls == [{"name": "add", "arguments": {"a": [1], "b": [2]}}]
    assert bfcl_task({**row, "ground_truth": None}) is None
    assert bfcl_task({**row, "question": [[{"role": "system", "content": "be brief"}]]}) is None


@pytest.mark.parametrize("template", list(TEMPLATES))
def test_a_data_set_env_scores_its_reference_at_the_maximum(glaive_file, bfcl_file, template):
    for path in (glaive_file, bfcl_file):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            env = gymnasium.make(ID, dataset=path, template=template, mode="strict")
        size = env.unwrapped.source.size
        assert env.unwrapped.source.skipped
        for index in range(size):
            _, info = env.reset(options={"index": index})
            _, reward, *_ = env.step(reference_completion(info["task"], template))
            assert reward == env.unwrapped.reward_range[1]


def test_a_data_set_takes_the_verifier_settings(bfcl_file):
    records = load_quietly(bfcl_file, mode="base", partial_credit=True)
    assert all(t.mode == "base" and t.partial_credit for t in records.tasks)


def test_a_data_set_with_no_usable_record_is_an_error(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(BFCL_ROWS[3]) + "\n")
    with pytest.raises(ValueError, match="none of its 1 records"):
        load_quietly(str(path))


def test_a_data_set_without_the_format_columns_is_an_error(tmp_path):
    path = tmp_path / "other.jsonl"
    path.write_text(json.dumps({"system": "x", "question": "y"}) + "\n")
    with pytest.raises(ValueError, match="needs the field"):
        load_quietly(str(path), format="glaive")


GRADES = {  # BFCL multiple_9
    "name": "calculate_average",
    "description": "Average grade across subjects.",
    "parameters": {
        "type": "dict",
        "properties": {"gradeDict": {"type": "dict", "description": "Subject -> score."}},
        "required": ["gradeDict"],
    },
}
PEOPLE = {  # BFCL live_simple_165-98-0
    "name": "extractor.extract_information",
    "description": "Extract names and ages.",
    "parameters": {
        "type": "dict",
        "properties": {
            "data": {"type": "array", "items": {"type": "dict"}, "description": "Records."},
            "schema": {"type": "string", "enum": ["personal_info", "employment_record"], "description": "Kind."},
        },
        "required": ["data"],
    },
}
BFCL_DATA_ROWS = [
    {
        "question": "What is the average of math 90, science 75, history 82 and music 89?",
        "function": [GRADES],
        "ground_truth": [
            {"calculate_average": {"gradeDict": [{"math": [90], "science": [75], "history": [82], "music": [89]}]}}
        ],
    },
    {
        "question": "Extract Li Lei, 18, and Li Li, 21.",
        "function": [PEOPLE],
        "ground_truth": [
            {
                "extractor.extract_information": {
                    "data": [[{"name": ["Li Lei"], "age": [18]}, {"name": ["Li Li"], "age": [21]}]],
                    "schema": ["", "personal_info"],
                }
            }
        ],
    },
    {  # one accepted value is null: it goes, the record stays
        "question": "Weather in Paris?",
        "function": [WEATHER],
        "ground_truth": [{"get_weather": {"location": ["Paris"], "unit": ["", None]}}],
    },
    {  # a required parameter marked omissible: the mark goes, the record stays
        "question": "Weather in Rome, in c?",
        "function": [WEATHER],
        "ground_truth": [{"get_weather": {"location": ["", "Rome"], "unit": ["c", "celsius"]}}],
    },
    {  # the only accepted value is outside the enum: strict mode cannot score it, bfcl mode can
        "question": "Weather in Oslo in kelvin?",
        "function": [WEATHER],
        "ground_truth": [{"get_weather": {"location": ["Oslo"], "unit": ["k"]}}],
    },
]


@pytest.fixture(scope="module")
def bfcl_data_file(tmp_path_factory):
    return _write(tmp_path_factory, "bfcl_data.jsonl", BFCL_DATA_ROWS)


def reference_arguments_of(task: FunctionCallingTask) -> list[dict]:
    return [json.loads(line)["arguments"] for line in task.reference_answer().splitlines() if line.startswith("{")]


def test_bfcl_records_with_objects_or_bad_accepted_values_are_kept_and_the_values_left_out_are_counted(
    bfcl_data_file,
):
    counted = r"left out 1 of 5 records .*rows 4; and left out 3 accepted values in 2 of the 4 records kept"
    with pytest.warns(UserWarning, match=counted) as caught:
        records = load_function_calling(bfcl_data_file)
    message = str(caught[0].message)
    for reason in ("1 null", "1 a required parameter marked as omissible", "1 not one of the enum values"):
        assert reason in message
    assert records.skipped == (4,) and records.dropped_in == 2
    assert records.dropped == {
        "null": 1,
        "a required parameter marked as omissible": 1,
        "not one of the enum values": 1,
    }
    for task in records.tasks:
        assert score(task, task.reference_answer()) == (1.0, "ok")


def test_the_reference_answer_writes_an_object_as_a_model_would(bfcl_data_file):
    grades, people, paris, rome = load_quietly(bfcl_data_file).tasks
    assert reference_arguments_of(grades) == [{"gradeDict": {"math": 90, "science": 75, "history": 82, "music": 89}}]
    assert reference_arguments_of(people) == [{"data": [{"name": "Li Lei", "age": 18}, {"name": "Li Li", "age": 21}]}]
    assert reference_arguments_of(paris) == [{"location": "Paris"}]
    assert reference_arguments_of(rome) == [{"location": "Rome", "unit": "c"}]
    wrapped = {"gradeDict": {"math": [90], "science": [75], "history": [82], "music": [89]}}
    assert score(grades, render_calls([{"name": "calculate_average", "arguments": wrapped}])) == (0.0, "wrong")


def test_reference_arguments_with_the_functions_choose_a_value_that_fits_the_schema():
    expected = {"name": "get_weather", "arguments": {"location": ["", "Rome"], "unit": ["kelvin", "c"]}}
    assert reference_arguments(expected, [WEATHER]) == {"location": "Rome", "unit": "c"}
    grades = {"name": "calculate_average", "arguments": {"gradeDict": [{"math": [90], "music": ["", 89]}]}}
    assert reference_arguments(grades) == {"gradeDict": {"math": 90}}
    assert reference_arguments(grades, [GRADES]) == {"gradeDict": {"math": 90}}


def test_mode_bfcl_keeps_every_record_bfcls_checker_can_score_and_scores_its_reference_at_the_maximum(
    bfcl_data_file,
):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        records = load_function_calling(bfcl_data_file, mode="bfcl")
    assert len(records.tasks) == 5 and records.dropped == {} and all(t.mode == "bfcl" for t in records.tasks)
    env = gymnasium.make(ID, dataset=bfcl_data_file, mode="bfcl")
    for index in range(env.unwrapped.source.size):
        _, info = env.reset(options={"index": index})
        assert env.step(info["task"].reference_answer())[1] == 1.0
    oslo = records.tasks[4]
    kelvin = render_calls([{"name": "get_weather", "arguments": {"location": "OSLO", "unit": "K"}}])
    assert score(oslo, kelvin) == (1.0, "ok")  # BFCL folds case and never reads the enum


def test_a_glaive_call_with_an_object_argument_is_expected_as_bfcl_writes_objects(tmp_path):
    order = {
        "name": "order",
        "description": "Order items",
        "parameters": {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {"type": "object"}},
                "address": {"type": "object"},
            },
            "required": ["items", "address"],
        },
    }
    arguments = {"items": [{"sku": "A1", "tags": ["gift"]}], "address": {"city": "Lyon", "lines": ["1 rue X"]}}
    row = {
        "system": _GLAIVE_SYSTEM + json.dumps(order),
        "chat": f"USER: Order A1 as a gift to 1 rue X, Lyon.\n\n\nASSISTANT: <functioncall> "
        f"{json.dumps({'name': 'order', 'arguments': json.dumps(arguments)})} <|endoftext|>",
    }
    task = glaive_task(row)
    assert task is not None
    assert task.expected_calls[0]["arguments"] == {
        "items": [[{"sku": ["A1"], "tags": [["gift"]]}]],
        "address": [{"city": ["Lyon"], "lines": [["1 rue X"]]}],
    }
    assert reference_arguments_of(task) == [arguments]
    assert score(task, render_calls([{"name": "order", "arguments": arguments}])) == (1.0, "ok")
    lost_tag = {**arguments, "items": [{"sku": "A1", "tags": "gift"}]}
    assert score(task, render_calls([{"name": "order", "arguments": lost_tag}])) == (0.0, "wrong")
