"""Rule-based verifiers: pure functions ``(completion, task) -> Score``, and rubrics.

* ``Score`` and ``Status``: a verdict in [0, 1] with the reason for it.
* ``Rubric``: named, weighted verifiers composed into an environment's reward.
* ``extract``: reading answers out of completions (Fireworks, R1, boxed, last number).
* Built-in verifiers: ``NumericAnswer`` (exact number), ``R1Format`` (anchored
  think/answer format).
* ``rlvr.verifiers.properties`` and ``rlvr.verifiers.strategies``: the hypothesis kit
  that property-tests any verifier (imported on demand; it needs hypothesis).
"""

from rlvr.verifiers.extract import AnswerFormat, extract, extract_all
from rlvr.verifiers.numbers import parse_number
from rlvr.verifiers.numeric_answer import NumericAnswer
from rlvr.verifiers.r1_format import R1Format
from rlvr.verifiers.rubric import Criterion, Rubric, RubricResult, Verifier
from rlvr.verifiers.score import Score, Status

__all__ = [
    "AnswerFormat",
    "Criterion",
    "NumericAnswer",
    "R1Format",
    "Rubric",
    "RubricResult",
    "Score",
    "Status",
    "Verifier",
    "extract",
    "extract_all",
    "parse_number",
]
