import pytest

from rlvr.envs.arithmetic.env import ArithmeticTask
from rlvr.envs.core.templates import BOXED, BUILTIN_TEMPLATES, FIREWORKS, PLAIN, R1, PromptTemplate
from rlvr.verifiers import AnswerFormat, NumericAnswer

TASK = ArithmeticTask(question="1497 * 63", operands=(1497, 63), operations=("*",), answer=94311)


def test_fireworks_prompt_is_the_experiment_prompt():
    assert FIREWORKS.render_text(TASK) == (
        "Please answer the following question. You may write out your argument before stating "
        "your final answer X in a new line, following the format "
        '"Final Answer: the final answer is X. I hope it is correct." 1497 * 63'
    )
    assert FIREWORKS.render_messages(TASK) == [{"role": "user", "content": FIREWORKS.render_text(TASK)}]


def test_r1_prompt_has_the_zero_template_and_a_chat_rendering():
    text = R1.render_text(TASK)
    assert text.startswith("A conversation between User and Assistant.")
    assert "<think> reasoning process here </think> <answer> answer here </answer>" in text
    assert text.endswith("User: 1497 * 63 Assistant:")
    system, user = R1.render_messages(TASK)
    assert system["role"] == "system" and "<think>" in system["content"]
    assert user == {"role": "user", "content": "1497 * 63"}


def test_boxed_prompt_keeps_literal_braces():
    assert BOXED.render_text(TASK).endswith("within \\boxed{}.")


def test_default_text_joins_system_and_user():
    template = PromptTemplate(
        name="t", answer_format=AnswerFormat.LAST_NUMBER, system="Be brief.", user="Q: {question}"
    )
    assert template.render_text(TASK) == "Be brief.\n\nQ: 1497 * 63"


def test_braces_in_a_question_are_not_interpreted():
    task = TASK.model_copy(update={"question": "{answer} {0} }{"})
    assert PLAIN.render_text(task) == "{answer} {0} }{"


@pytest.mark.parametrize("template", list(BUILTIN_TEMPLATES.values()), ids=list(BUILTIN_TEMPLATES))
def test_answer_completion_is_read_back_by_its_format(template):
    completion = template.answer_completion("94311")
    assert NumericAnswer(template.answer_format)(completion, TASK).value == 1.0
