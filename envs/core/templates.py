"""Prompt templates: how a task is put to the model, and where it must answer.

A template renders a task two ways: as one prompt string (the observation, for
base models) and as chat messages (``info["messages"]``, for chat templates).
It also names the answer format the family's rubric reads, and can write a
completion in that format, which tests use as the oracle.

Built-in templates:

* ``fireworks``: the fixed prompt of Fireworks' RLVR arithmetic experiment;
  the answer goes on a line ``Final Answer: the final answer is X. I hope it is correct.``
* ``r1``: DeepSeek-R1-Zero's template; reasoning in ``<think>``, answer in ``<answer>``.
* ``boxed``: "put your final answer within \\boxed{}" (Qwen-Math style).
* ``plain``: the question alone; the last number counts.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rlvr.verifiers.extract import AnswerFormat

__all__ = ["BOXED", "BUILTIN_TEMPLATES", "FIREWORKS", "PLAIN", "R1", "PromptTemplate"]


class PromptTemplate(BaseModel):
    """A prompt in two renderings (flat text and chat messages) plus its answer format.

    ``system``, ``user`` and ``text`` are ``str.format`` templates over the
    task's fields (``{question}``, ...). Literal braces are written ``{{ }}``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Short name, used to pick the template: template='r1'.")
    answer_format: AnswerFormat = Field(description="Where the model must put its final answer.")
    user: str = Field(description="The user message of the chat rendering.")
    system: str | None = Field(None, description="The system message of the chat rendering, if any.")
    text: str | None = Field(
        None,
        description="The flat prompt (the observation). Default: system and user joined by a blank line.",
    )

    def render_messages(self, task: BaseModel) -> list[dict[str, str]]:
        """The task as chat messages: ``[{"role": "system", ...}, {"role": "user", ...}]``."""
        fields = _fields(task)
        messages = []
        if self.system is not None:
            messages.append({"role": "system", "content": self.system.format(**fields)})
        messages.append({"role": "user", "content": self.user.format(**fields)})
        return messages

    def render_text(self, task: BaseModel) -> str:
        """The task as one prompt string."""
        fields = _fields(task)
        if self.text is not None:
            return self.text.format(**fields)
        parts = [self.system, self.user] if self.system is not None else [self.user]
        return "\n\n".join(part.format(**fields) for part in parts)

    def answer_completion(self, answer: str, reasoning: str = "Let me work it out.") -> str:
        """A well-formed completion stating ``answer`` in this template's format."""
        match self.answer_format:
            case AnswerFormat.FIREWORKS:
                return f"{reasoning}\nFinal Answer: the final answer is {answer}. I hope it is correct."
            case AnswerFormat.R1:
                return f"<think>{reasoning}</think>\n<answer>{answer}</answer>"
            case AnswerFormat.BOXED:
                return f"{reasoning} The final answer is \\boxed{{{answer}}}."
            case AnswerFormat.LAST_NUMBER:
                return f"{reasoning} {answer}"
        raise AssertionError(f"unhandled answer format {self.answer_format}")  # pragma: no cover


def _fields(task: BaseModel) -> dict[str, Any]:
    return {name: getattr(task, name) for name in type(task).model_fields}


FIREWORKS = PromptTemplate(
    name="fireworks",
    answer_format=AnswerFormat.FIREWORKS,
    user=(
        "Please answer the following question. You may write out your argument before stating "
        "your final answer X in a new line, following the format "
        '"Final Answer: the final answer is X. I hope it is correct." {question}'
    ),
)

_R1_INSTRUCTION = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant "
    "solves it. The assistant first thinks about the reasoning process in the mind and then "
    "provides the user with the answer. The reasoning process and answer are enclosed within "
    "<think> </think> and <answer> </answer> tags, respectively, i.e., "
    "<think> reasoning process here </think> <answer> answer here </answer>."
)

R1 = PromptTemplate(
    name="r1",
    answer_format=AnswerFormat.R1,
    system=_R1_INSTRUCTION,
    user="{question}",
    text=_R1_INSTRUCTION.replace("{", "{{").replace("}", "}}") + " User: {question} Assistant:",
)

BOXED = PromptTemplate(
    name="boxed",
    answer_format=AnswerFormat.BOXED,
    user="{question}\nPlease reason step by step, and put your final answer within \\boxed{{}}.",
)

PLAIN = PromptTemplate(name="plain", answer_format=AnswerFormat.LAST_NUMBER, user="{question}")

BUILTIN_TEMPLATES: dict[str, PromptTemplate] = {t.name: t for t in (FIREWORKS, R1, BOXED, PLAIN)}
