"""Ready-made rubrics for answer-based task families.

``answer_rubric`` is the DeepSeek-R1 recipe: an accuracy reward, plus a format
reward when the prompt asked for the R1 think/answer format. The format weight
defaults to 0.2 so that a right answer in a broken format (1.0) still beats a
wrong answer in a perfect one (0.2).
"""

from __future__ import annotations

from rlvr.verifiers.extract import AnswerFormat
from rlvr.verifiers.r1_format import R1Format
from rlvr.verifiers.rubric import Criterion, Rubric, Verifier

__all__ = ["answer_rubric"]


def answer_rubric(accuracy: Verifier, answer_format: AnswerFormat | str, format_weight: float = 0.2) -> Rubric:
    """``accuracy`` (weight 1.0), plus ``format`` (``R1Format``, ``format_weight``) for the R1 format."""
    criteria = [Criterion("accuracy", accuracy, 1.0)]
    if AnswerFormat(answer_format) is AnswerFormat.R1:
        criteria.append(Criterion("format", R1Format(), format_weight))
    return Rubric(criteria)
