"""Writing prompts and IFEval's 25 verifiable instructions (and 8 of IFBench's), for rlvr/InstructionFollowing-v0.

* ``BASE_PROMPTS``: varied writing tasks (emails, stories, explanations,
  product descriptions, poems, summaries of a given paragraph, advice, ...).
* ``INSTRUCTIONS``: for each IFEval instruction id (Zhou et al. 2023), a
  sampler of its keyword arguments, under IFEval's own names and value ranges
  (``num_sentences`` 1..20 with ``relation`` "less than" / "at least",
  ``num_words`` 100..500, ``num_bullets`` 1..5, ...), and its rendering as a
  sentence of the prompt, phrased as IFEval phrases it.
* ``INCOMPATIBLE``: pairs of instructions that cannot (or should not) be
  asked together, and ``sample_constraints``: 1-3 mutually compatible ones.
* ``build_response``: a response that follows a list of instructions, made
  from plain filler sentences; the sampler only keeps draws for which it can
  make one (checked with ``rlvr.verifiers.ifeval.check_instruction``), so every
  generated task has a reference response.

``IFBENCH_GENERATED``: the IFBench ids tasks can also draw (when asked with
``instructions=``), each with a sampler, IFBench's phrasing and a reference:
``count:person_names``, ``count:pronouns``, ``count:conjunctions``,
``count:numbers``, ``count:keywords_multiple``, ``format:output_template``,
``format:thesis`` and ``format:list``. IFBench's other 50 ids are checked (in
IFBench-format data sets) but not generated.

Differences from IFEval's own sampling, so that a reference can be built:
``letter_frequency`` asks for "less than" only for letters absent from the
filler text (``j``, ``q``, ``x``, ``z``); ``response_language`` draws from the
languages with a reference text here (``REFERENCE_LANGUAGES``); keywords come
from ``KEYWORDS``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BASE_PROMPTS",
    "FILLER",
    "IFBENCH_GENERATED",
    "INCOMPATIBLE",
    "INSTRUCTIONS",
    "INSTRUCTION_IDS",
    "KEYWORDS",
    "LANGUAGES",
    "REFERENCE_LANGUAGES",
    "Instruction",
    "Unconstructible",
    "build_response",
    "compatible",
    "describe",
    "sample_constraints",
]

Constraint = tuple[str, dict[str, Any]]
"""One instruction: its IFEval id and its keyword arguments."""

BASE_PROMPTS: tuple[str, ...] = (
    "Write an email to your landlord asking for a leaking kitchen tap to be repaired.",
    "Write an email to a colleague who is leaving the company thanking them for their help.",
    "Write an email inviting your neighbours to a street party next month.",
    "Write a short email to a customer apologising for a delayed order.",
    "Write a cover letter for a job as a junior librarian.",
    "Write a short story about a lighthouse keeper who finds a message in a bottle.",
    "Write a story for children about a turtle who wants to fly.",
    "Write a short story set on the last train of the night.",
    "Write a fable about a proud oak tree and a humble reed.",
    "Explain how a rainbow forms to a ten-year-old.",
    "Explain why the sky is blue.",
    "Explain the difference between weather and climate.",
    "Explain how vaccines train the immune system.",
    "Explain what compound interest is and why it matters for saving.",
    "Explain how a bill becomes a law in a parliamentary system.",
    "Explain what a black hole is to someone who has never studied physics.",
    "Write a product description for a stainless steel water bottle that keeps drinks cold for a day.",
    "Write a product description for a pair of noise-cancelling headphones.",
    "Write a product description for a handmade wooden chess set.",
    "Write an advertisement for a new bakery that opens on Main Street.",
    "Write a poem about the first snow of winter.",
    "Write a poem about a city waking up in the morning.",
    "Write a poem about friendship and distance.",
    "Write a limerick about a cat who loves cheese.",
    "Write song lyrics about a long road trip.",
    "Give advice to a student who is nervous about their first exam.",
    "Give advice to someone who wants to start running.",
    "What advice would you give to a new manager leading their first team?",
    "Give tips for keeping houseplants alive through the winter.",
    "Suggest ways a small town could attract more visitors.",
    "Write a review of a restaurant you visited recently.",
    "Write a blog post about the benefits of reading before bed.",
    "Write a speech for a best friend's wedding.",
    "Write a motivational message for a sports team before a final.",
    "Write a diary entry of an astronaut on her first day on the space station.",
    "Write a letter to your future self ten years from now.",
    "Describe your ideal weekend.",
    "Describe the history of the bicycle in a few paragraphs.",
    "Compare living in a big city with living in the countryside.",
    "Write a pitch for a mobile app that helps people share leftover food.",
    "Write a riddle about time and give its answer.",
    "Write a dialogue between a teacher and a student about homework.",
    "Summarize the following paragraph: The honeybee is one of the most important pollinators in the world. "
    "Bees visit flowers to collect nectar and pollen and in doing so they carry pollen from one flower to "
    "another. Many fruits and vegetables depend on this process. In recent years bee populations have "
    "declined because of habitat loss and disease and pesticides.",
    "Summarize the following paragraph: The printing press was invented by Johannes Gutenberg around 1440. "
    "It made books far cheaper to produce and helped ideas spread across Europe. Literacy rates rose and "
    "the press played a part in the Reformation and the Scientific Revolution.",
    "Summarize the following paragraph: Sleep is essential for health. During sleep the body repairs "
    "tissue and the brain stores memories. Adults need seven to nine hours a night and too little sleep "
    "is linked to heart disease and poor concentration.",
    "Summarize the following paragraph: The Great Wall of China was built over many centuries to protect "
    "Chinese states from raids. Its many sections stretch for thousands of kilometres across mountains "
    "and deserts. Today it is one of the most visited monuments in the world.",
)
"""The writing tasks the generated prompts start from."""

KEYWORDS: tuple[str, ...] = (
    "garden", "river", "lantern", "compass", "harvest", "mountain", "library", "window", "winter", "candle",
    "bicycle", "orchard", "painting", "teacher", "village", "market", "island", "forest", "thunder", "kitchen",
    "planet", "pencil", "ticket", "bridge", "station", "shadow", "meadow", "castle", "engine", "blanket",
    "harbor", "feather", "dragon", "cottage", "valley", "violin", "umbrella", "balloon", "sunrise", "journal",
)  # fmt: skip
"""Words drawn for ``keywords:*`` and ``nth_paragraph_first_word`` (IFEval draws from its own word list)."""

FILLER: tuple[str, ...] = (
    "Here is a short answer to the task.",
    "The main point is easy to follow.",
    "Each part builds on the one before it.",
    "Good writing stays clear and calm.",
    "This part adds a little more detail.",
    "The reader can use these notes right away.",
    "Small steps often lead to steady progress.",
    "The plan works best when it stays simple.",
    "Careful thought helps every choice.",
    "The last part brings the ideas together.",
)
"""Neutral sentences reference responses are made of: no commas, no capital words, no j, q, x or z."""

LANGUAGES: dict[str, str] = {
    "en": "English", "es": "Spanish", "pt": "Portuguese", "ar": "Arabic", "hi": "Hindi", "fr": "French",
    "ru": "Russian", "de": "German", "ja": "Japanese", "it": "Italian", "bn": "Bengali", "uk": "Ukrainian",
    "th": "Thai", "ur": "Urdu", "ta": "Tamil", "te": "Telugu", "bg": "Bulgarian", "ko": "Korean", "pl": "Polish",
    "he": "Hebrew", "fa": "Persian", "vi": "Vietnamese", "ne": "Nepali", "sw": "Swahili", "kn": "Kannada",
    "mr": "Marathi", "gu": "Gujarati", "pa": "Punjabi", "ml": "Malayalam", "fi": "Finnish",
}  # fmt: skip
"""IFEval's response languages: ISO 639-1 code -> name."""

_NATIVE: dict[str, tuple[tuple[str, ...], str]] = {
    "es": (
        (
            "Esta respuesta está escrita completamente en español.",
            "Cada frase explica una idea sencilla y clara para el lector.",
            "El objetivo es ayudar con buenos consejos y con ejemplos útiles.",
            "Al final todo queda bien resumido y ordenado en pocas palabras.",
        ),
        "Gracias por leer este texto con atención.",
    ),
    "fr": (
        (
            "Cette réponse est écrite entièrement en français.",
            "Chaque phrase explique une idée simple et claire pour le lecteur.",
            "Le but est de donner de bons conseils avec des exemples utiles.",
            "À la fin tout est bien résumé et bien rangé en quelques mots.",
        ),
        "Merci de lire ce texte avec attention.",
    ),
    "de": (
        (
            "Diese Antwort ist vollständig auf Deutsch geschrieben.",
            "Jeder Satz erklärt eine einfache und klare Idee für den Leser.",
            "Das Ziel ist es mit guten Ratschlägen und nützlichen Beispielen zu helfen.",
            "Am Ende ist alles gut zusammengefasst und in wenigen Worten geordnet.",
        ),
        "Danke dass Sie diesen Text aufmerksam gelesen haben.",
    ),
    "it": (
        (
            "Questa risposta è scritta interamente in italiano.",
            "Ogni frase spiega un'idea semplice e chiara per il lettore.",
            "Lo scopo è aiutare con buoni consigli e con esempi utili.",
            "Alla fine tutto è ben riassunto e ordinato in poche parole.",
        ),
        "Grazie per aver letto questo testo con attenzione.",
    ),
    "pt": (
        (
            "Esta resposta está escrita inteiramente em português.",
            "Cada frase explica uma ideia simples e clara para o leitor.",
            "O objetivo é ajudar com bons conselhos e com exemplos úteis.",
            "No final tudo fica bem resumido e organizado em poucas palavras.",
        ),
        "Obrigado por ler este texto com atenção.",
    ),
}

REFERENCE_LANGUAGES: tuple[str, ...] = tuple(_NATIVE)
"""Languages ``language:response_language`` is drawn from: those with a reference text here."""

_RELATIONS = ("less than", "at least")
_CONSTRAINED_OPTIONS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")
_ENDINGS = ("Any other questions?", "Is there anything else I can help with?")
_RARE_LETTERS = "jqxz"


# --- the 25 instructions ----------------------------------------------------------------

Sampler = Callable[[random.Random, str], dict[str, Any]]
Renderer = Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True)
class Instruction:
    """One IFEval instruction type.

    Attributes:
        id: IFEval's instruction id, ``"group:name"``.
        sample: ``(rng, base_prompt) -> kwargs``, under IFEval's argument names.
        render: ``kwargs -> the sentence that asks for it``.
    """

    id: str
    sample: Sampler
    render: Renderer


def _words(rng: random.Random, count: int) -> list[str]:
    return rng.sample(KEYWORDS, count)


def _letter_frequency(rng: random.Random, prompt: str) -> dict[str, Any]:
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    relation = rng.choice(_RELATIONS) if letter in _RARE_LETTERS else "at least"
    return {"letter": letter, "let_frequency": rng.randint(1, 10), "let_relation": relation}


def _nth_paragraph(rng: random.Random, prompt: str) -> dict[str, Any]:
    paragraphs = rng.randint(1, 5)
    return {"num_paragraphs": paragraphs, "nth_paragraph": rng.randint(1, paragraphs), "first_word": _words(rng, 1)[0]}


def _list(words: Iterable[str]) -> str:
    return ", ".join(words)


_SPECS: tuple[Instruction, ...] = (
    Instruction(
        "keywords:existence",
        lambda rng, prompt: {"keywords": _words(rng, 2)},
        lambda k: f"Include keywords {_list(k['keywords'])} in the response.",
    ),
    Instruction(
        "keywords:frequency",
        lambda rng, prompt: {
            "keyword": _words(rng, 1)[0],
            "frequency": rng.randint(1, 3),
            "relation": rng.choice(_RELATIONS),
        },
        lambda k: f"In your response, the word {k['keyword']} should appear {k['relation']} {k['frequency']} times.",
    ),
    Instruction(
        "keywords:forbidden_words",
        lambda rng, prompt: {"forbidden_words": _words(rng, 2)},
        lambda k: f"Do not include keywords {_list(k['forbidden_words'])} in the response.",
    ),
    Instruction(
        "keywords:letter_frequency",
        _letter_frequency,
        lambda k: (
            f"In your response, the letter {k['letter']} should appear {k['let_relation']} {k['let_frequency']} times."
        ),
    ),
    Instruction(
        "language:response_language",
        lambda rng, prompt: {"language": rng.choice(REFERENCE_LANGUAGES)},
        lambda k: (
            f"Your ENTIRE response should be in {LANGUAGES.get(k['language'], k['language'])} language, "
            "no other language is allowed."
        ),
    ),
    Instruction(
        "length_constraints:number_sentences",
        lambda rng, prompt: {"num_sentences": rng.randint(1, 20), "relation": rng.choice(_RELATIONS)},
        lambda k: f"Your response should contain {k['relation']} {k['num_sentences']} sentences.",
    ),
    Instruction(
        "length_constraints:number_paragraphs",
        lambda rng, prompt: {"num_paragraphs": rng.randint(1, 5)},
        lambda k: (
            f"There should be {k['num_paragraphs']} paragraphs. Paragraphs are separated with the markdown divider: ***"
        ),
    ),
    Instruction(
        "length_constraints:number_words",
        lambda rng, prompt: {"num_words": rng.randint(100, 500), "relation": rng.choice(_RELATIONS)},
        lambda k: f"Answer with {k['relation']} {k['num_words']} words.",
    ),
    Instruction(
        "length_constraints:nth_paragraph_first_word",
        _nth_paragraph,
        lambda k: (
            f"There should be {k['num_paragraphs']} paragraphs. Paragraphs and only paragraphs are "
            "separated with each other by two new lines as if it was '\\n\\n' in python. "
            f"Paragraph {k['nth_paragraph']} must start with word {k['first_word']}."
        ),
    ),
    Instruction(
        "detectable_content:number_placeholders",
        lambda rng, prompt: {"num_placeholders": rng.randint(1, 4)},
        lambda k: (
            f"The response must contain at least {k['num_placeholders']} placeholders represented by "
            "square brackets, such as [address]."
        ),
    ),
    Instruction(
        "detectable_content:postscript",
        lambda rng, prompt: {"postscript_marker": rng.choice(("P.S.", "P.P.S"))},
        lambda k: (
            f"At the end of your response, please explicitly add a postscript starting with {k['postscript_marker']}"
        ),
    ),
    Instruction(
        "detectable_format:number_bullet_lists",
        lambda rng, prompt: {"num_bullets": rng.randint(1, 5)},
        lambda k: (
            f"Your answer must contain exactly {k['num_bullets']} bullet points. "
            "Use the markdown bullet points such as:\n* This is point 1. \n* This is point 2"
        ),
    ),
    Instruction(
        "detectable_format:constrained_response",
        lambda rng, prompt: {},
        lambda k: f"Answer with one of the following options: {_CONSTRAINED_OPTIONS}",
    ),
    Instruction(
        "detectable_format:number_highlighted_sections",
        lambda rng, prompt: {"num_highlights": rng.randint(1, 4)},
        lambda k: (
            f"Highlight at least {k['num_highlights']} sections in your answer with markdown, "
            "i.e. *highlighted section*."
        ),
    ),
    Instruction(
        "detectable_format:multiple_sections",
        lambda rng, prompt: {"section_spliter": rng.choice(("Section", "SECTION")), "num_sections": rng.randint(1, 5)},
        lambda k: (
            f"Your response must have {k['num_sections']} sections. Mark the beginning of each section "
            f"with {k['section_spliter']} X, such as:\n{k['section_spliter']} 1\n[content of section 1]\n"
            f"{k['section_spliter']} 2\n[content of section 2]"
        ),
    ),
    Instruction(
        "detectable_format:json_format",
        lambda rng, prompt: {},
        lambda k: "Entire output should be wrapped in JSON format. You can use markdown ticks such as ```.",
    ),
    Instruction(
        "detectable_format:title",
        lambda rng, prompt: {},
        lambda k: "Your answer must contain a title, wrapped in double angular brackets, such as <<poem of joy>>.",
    ),
    Instruction(
        "combination:two_responses",
        lambda rng, prompt: {},
        lambda k: (
            "Give two different responses. Responses and only responses should be separated by 6 asterisk "
            "symbols: ******."
        ),
    ),
    Instruction(
        "combination:repeat_prompt",
        lambda rng, prompt: {"prompt_to_repeat": prompt},
        lambda k: (
            "First repeat the request above word for word without change, then give your answer (1. do not "
            "say any words or characters before repeating the request; 2. the request you need to repeat does not "
            "include these instructions)"
        ),
    ),
    Instruction(
        "startend:end_checker",
        lambda rng, prompt: {"end_phrase": rng.choice(_ENDINGS)},
        lambda k: (
            f"Finish your response with this exact phrase {k['end_phrase']}. No other words should follow this phrase."
        ),
    ),
    Instruction(
        "startend:quotation",
        lambda rng, prompt: {},
        lambda k: "Wrap your entire response with double quotation marks.",
    ),
    Instruction(
        "change_case:capital_word_frequency",
        lambda rng, prompt: {"capital_frequency": rng.randint(1, 20), "capital_relation": rng.choice(_RELATIONS)},
        lambda k: (
            f"In your response, words with all capital letters should appear {k['capital_relation']} "
            f"{k['capital_frequency']} times."
        ),
    ),
    Instruction(
        "change_case:english_capital",
        lambda rng, prompt: {},
        lambda k: "Your entire response should be in English, and in all capital letters.",
    ),
    Instruction(
        "change_case:english_lowercase",
        lambda rng, prompt: {},
        lambda k: (
            "Your entire response should be in English, and in all lowercase letters. No capital letters are allowed."
        ),
    ),
    Instruction(
        "punctuation:no_comma",
        lambda rng, prompt: {},
        lambda k: "In your entire response, refrain from the use of any commas.",
    ),
)

_PEOPLE = ("Emma", "Liam", "Sophia", "Noah", "Olivia")
_LIST_MARKERS = ("SEPARATOR", "!?!?")

_IFBENCH_SPECS: tuple[Instruction, ...] = (
    Instruction(
        "count:person_names",
        lambda rng, prompt: {"N": rng.randint(1, len(_PEOPLE))},
        lambda k: (
            f"Mention at least {k['N']} different person names in the response, from this list of person names: "
            "Emma, Liam, Sophia, Jackson, Olivia, Noah, Ava, Lucas, Isabella, Mason."
        ),
    ),
    Instruction(
        "count:pronouns",
        lambda rng, prompt: {"N": rng.randint(1, 5)},
        lambda k: f"The response should include at least {k['N']} pronouns.",
    ),
    Instruction(
        "count:conjunctions",
        lambda rng, prompt: {"small_n": rng.randint(2, 5)},
        lambda k: f"Use at least {k['small_n']} different coordinating conjunctions in the response.",
    ),
    Instruction(
        "count:numbers",
        lambda rng, prompt: {"N": rng.randint(1, 5)},
        lambda k: f"Include exactly {k['N']} numbers in the response.",
    ),
    Instruction(
        "count:keywords_multiple",
        lambda rng, prompt: {f"keyword{i}": word for i, word in enumerate(_words(rng, 5), 1)},
        lambda k: (
            f"Include keyword {k['keyword1']} once in your response, keyword {k['keyword2']} twice in your "
            f"response, keyword {k['keyword3']} three times in your response, keyword {k['keyword4']} five times "
            f"in your response, and keyword {k['keyword5']} seven times in your response."
        ),
    ),
    Instruction(
        "format:output_template",
        lambda rng, prompt: {},
        lambda k: (
            "Use this exact template for your response: My Answer: [answer] My Conclusion: [conclusion] "
            "Future Outlook: [outlook]"
        ),
    ),
    Instruction(
        "format:thesis",
        lambda rng, prompt: {},
        lambda k: "Each section must begin with a thesis statement in italics, use HTML to indicate the italics.",
    ),
    Instruction(
        "format:list",
        lambda rng, prompt: {"sep": rng.choice(_LIST_MARKERS)},
        lambda k: f"Answer with a list of items, instead of bullet points use {k['sep']}.",
    ),
)

INSTRUCTIONS: dict[str, Instruction] = {spec.id: spec for spec in _SPECS + _IFBENCH_SPECS}
"""The instruction types generated tasks can draw: IFEval's 25 and IFBench's 8 in ``IFBENCH_GENERATED``."""

INSTRUCTION_IDS: tuple[str, ...] = tuple(spec.id for spec in _SPECS)
"""IFEval's 25 instruction ids, in IFEval's grouping order: what generated tasks draw from by default."""

IFBENCH_GENERATED: tuple[str, ...] = tuple(spec.id for spec in _IFBENCH_SPECS)
"""The IFBench instruction ids generated tasks can draw (``instructions=[...]``), each with a reference response."""


def describe(instruction_id: str, kwargs: Mapping[str, Any]) -> str:
    """The prompt sentence asking for ``instruction_id`` with ``kwargs``."""
    return INSTRUCTIONS[instruction_id].render(kwargs)


# --- which instructions go together ----------------------------------------------------------

_ONLY_WITH: dict[str, frozenset[str]] = {
    "detectable_format:constrained_response": frozenset(
        {
            "punctuation:no_comma",
            "startend:quotation",
            "detectable_format:title",
            "detectable_content:postscript",
            "startend:end_checker",
            "detectable_content:number_placeholders",
            "detectable_format:number_highlighted_sections",
        }
    ),
    "language:response_language": frozenset(
        {
            "punctuation:no_comma",
            "startend:quotation",
            "detectable_content:number_placeholders",
            "detectable_content:postscript",
        }
    ),
    "detectable_format:json_format": frozenset(
        {
            "keywords:existence",
            "keywords:frequency",
            "keywords:forbidden_words",
            "keywords:letter_frequency",
            "length_constraints:number_words",
            "length_constraints:number_sentences",
            "punctuation:no_comma",
            "change_case:english_capital",
            "change_case:english_lowercase",
            "change_case:capital_word_frequency",
            "detectable_content:number_placeholders",
        }
    ),
    "combination:two_responses": frozenset(
        {
            "keywords:existence",
            "keywords:forbidden_words",
            "detectable_content:number_placeholders",
            "detectable_format:number_highlighted_sections",
            "detectable_format:title",
            "punctuation:no_comma",
            "change_case:english_capital",
            "change_case:english_lowercase",
        }
    ),
}
"""Instructions that go only with the few listed: each fixes the whole shape of the response."""

_PAIRS: tuple[tuple[str, str], ...] = (
    ("change_case:english_capital", "change_case:english_lowercase"),
    ("change_case:english_capital", "change_case:capital_word_frequency"),
    ("change_case:english_lowercase", "change_case:capital_word_frequency"),
    ("change_case:english_capital", "detectable_format:multiple_sections"),
    ("change_case:english_lowercase", "detectable_format:multiple_sections"),
    ("length_constraints:number_paragraphs", "length_constraints:nth_paragraph_first_word"),
    ("length_constraints:number_paragraphs", "detectable_format:multiple_sections"),
    ("length_constraints:nth_paragraph_first_word", "detectable_format:multiple_sections"),
    ("combination:repeat_prompt", "length_constraints:nth_paragraph_first_word"),
    ("startend:quotation", "startend:end_checker"),
    ("startend:quotation", "combination:repeat_prompt"),
)


def _table() -> frozenset[frozenset[str]]:
    pairs = {frozenset(pair) for pair in _PAIRS}
    for only, partners in _ONLY_WITH.items():
        pairs.update(frozenset((only, other)) for other in INSTRUCTIONS if other != only and other not in partners)
    return frozenset(pairs)


INCOMPATIBLE: frozenset[frozenset[str]] = _table()
"""Unordered pairs of instruction ids never asked together.

english_capital/english_lowercase/capital_word_frequency exclude one another;
the case changes exclude multiple_sections (its splitter is case-sensitive);
the three paragraph layouts (number_paragraphs, nth_paragraph_first_word,
multiple_sections) exclude one another; quotation excludes end_checker and
repeat_prompt; repeat_prompt excludes nth_paragraph_first_word. Four
instructions fix the whole response and go only with a few others:
constrained_response (no_comma, quotation, title, postscript, end_checker,
placeholders, highlights), response_language (no_comma, quotation,
placeholders, postscript: no English-only case or word constraint),
json_format (keywords, letter and word and sentence counts, no_comma, the case
changes, placeholders) and two_responses (keywords existence and forbidden
words, placeholders, highlights, title, no_comma, the case changes).
"""


def compatible(instruction_ids: Iterable[str]) -> bool:
    """Whether no two of ``instruction_ids`` are an ``INCOMPATIBLE`` pair (and none repeats)."""
    ids = list(instruction_ids)
    if len(set(ids)) != len(ids):
        return False
    return not any(frozenset((a, b)) in INCOMPATIBLE for i, a in enumerate(ids) for b in ids[i + 1 :])


# --- reference responses ---------------------------------------------------------------------


class Unconstructible(ValueError):
    """``build_response`` cannot make a response that follows every instruction given."""


def _grouped(constraints: Sequence[Constraint]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for instruction_id, kwargs in constraints:
        groups.setdefault(instruction_id, []).append(dict(kwargs))
    return groups


def _extras(groups: Mapping[str, list[dict[str, Any]]]) -> list[str]:
    """Sentences that put keywords, letters, capital words, placeholders and highlights into the text."""
    sentences = []
    for kwargs in groups.get("keywords:existence", []):
        sentences.append("This text mentions " + " and ".join(kwargs["keywords"]) + ".")
    for kwargs in groups.get("keywords:frequency", []):
        if kwargs["relation"] == "at least":
            sentences.append("Think of " + " and ".join([kwargs["keyword"]] * int(kwargs["frequency"])) + ".")
    for kwargs in groups.get("keywords:letter_frequency", []):
        if kwargs["let_relation"] == "at least":
            sentences.append("Letters: " + " ".join([kwargs["letter"]] * int(kwargs["let_frequency"])) + " done.")
    for kwargs in groups.get("change_case:capital_word_frequency", []):
        if kwargs["capital_relation"] == "at least":
            sentences.append("Note " + " ".join(["NOTE"] * int(kwargs["capital_frequency"])) + " here.")
    for kwargs in groups.get("detectable_content:number_placeholders", []):
        names = ("[name]", "[date]", "[place]", "[time]", "[topic]", "[amount]")
        count = int(kwargs["num_placeholders"])
        sentences.append("Fill in " + " and ".join(names[i % len(names)] for i in range(count)) + " as needed.")
    for kwargs in groups.get("count:person_names", []):
        sentences.append(" and ".join(_PEOPLE[: int(kwargs["N"])]) + " read this note.")
    if "count:pronouns" in groups:
        sentences.append("I think you and we and they and she agree.")
    if "count:conjunctions" in groups:
        sentences.append("Tea and cake but not jam or bread so we ate yet more.")
    for kwargs in groups.get("count:numbers", []):
        sentences.append("Count " + " and ".join(("3", "7", "11", "19", "23")[: int(kwargs["N"])]) + " here.")
    for kwargs in groups.get("count:keywords_multiple", []):
        words = [kwargs[f"keyword{i}"] for i in range(1, 6) for _ in range((1, 2, 3, 5, 7)[i - 1])]
        sentences.append("Say " + " ".join(words) + ".")
    if "format:output_template" in groups:
        sentences.append("My Answer: yes. My Conclusion: it works. Future Outlook: good.")
    if "format:thesis" in groups:
        sentences.insert(0, "<i>The main claim comes first.</i>")
    for kwargs in groups.get("detectable_format:number_highlighted_sections", []):
        count = int(kwargs["num_highlights"])
        sentences.append("Keep in mind " + " and ".join(f"*point {i + 1}*" for i in range(count)) + " above all.")
    return sentences


def _target(groups: Mapping[str, list[dict[str, Any]]]) -> tuple[int, int]:
    """The fewest filler sentences and words the length instructions ask for."""
    sentences, words = 1, 0
    for kwargs in groups.get("length_constraints:number_sentences", []):
        if kwargs["relation"] == "at least":
            sentences = max(sentences, int(kwargs["num_sentences"]))
    for kwargs in groups.get("length_constraints:number_words", []):
        if kwargs["relation"] == "at least":
            words = max(words, int(kwargs["num_words"]))
    return sentences, words


def _layout(groups: Mapping[str, list[dict[str, Any]]], filler: list[str], extras: list[str], ps: str | None) -> str:
    """Paragraphs (or sections) of filler, with the title, bullets, postscript and end phrase in place."""
    first = groups.get("length_constraints:nth_paragraph_first_word", [None])[0]
    counted = groups.get("length_constraints:number_paragraphs", [None])[0]
    sections = groups.get("detectable_format:multiple_sections", [None])[0]
    count = 1
    if first is not None:
        count = int(first["num_paragraphs"])
    elif counted is not None:
        count = int(counted["num_paragraphs"])
    elif sections is not None:
        count = int(sections["num_sections"])
    count = max(count, 1)
    shares: list[list[str]] = [[] for _ in range(count)]
    for index, sentence in enumerate(filler):
        shares[index % count].append(sentence)
    shares[0] = extras + shares[0]
    paragraphs: list[list[str]] = []
    for index, share in enumerate(shares):
        lines = []
        if sections is not None:
            lines.append(f"{sections['section_spliter']} {index + 1}")
        if first is not None and index + 1 == int(first["nth_paragraph"]):
            lines.append(f"{first['first_word'].capitalize()} is the word this part starts with.")
        lines.append(" ".join(share or [FILLER[index % len(FILLER)]]))
        paragraphs.append(lines)
    if "detectable_format:title" in groups:
        title = "<<A Clear Answer>>"
        if first is not None and int(first["nth_paragraph"]) == 1:
            paragraphs[0].insert(1, title)
        else:
            paragraphs[0].insert(0, title)
    for kwargs in groups.get("detectable_format:number_bullet_lists", []):
        bullets = [f"* {FILLER[i % len(FILLER)]}" for i in range(int(kwargs["num_bullets"]))]
        paragraphs[-1].extend(bullets)
    for kwargs in groups.get("format:list", []):
        paragraphs[-1].extend(f"{kwargs['sep']} {FILLER[i]}" for i in range(2))
    for kwargs in groups.get("detectable_content:postscript", []):
        paragraphs[-1].append(f"{kwargs['postscript_marker']} {ps or 'Thank you for reading this note.'}")
    for kwargs in groups.get("startend:end_checker", []):
        paragraphs[-1][-1] += " " + kwargs["end_phrase"]
    repeat = groups.get("combination:repeat_prompt", [None])[0]
    if repeat is not None:
        paragraphs[0].insert(0, str(repeat["prompt_to_repeat"]))
    separator = "\n***\n" if counted is not None else "\n\n"
    return separator.join("\n".join(lines) for lines in paragraphs)


def _compose(groups: Mapping[str, list[dict[str, Any]]], filler_count: int, comma: bool) -> str:
    extras = _extras(groups)
    if comma:
        extras.append("Yes, this sentence has a comma.")
    language = groups.get("language:response_language", [None])[0]
    if "detectable_format:constrained_response" in groups:
        filler, ps = [_CONSTRAINED_OPTIONS[0]], None
    elif language is not None:
        if language["language"] not in _NATIVE:
            raise Unconstructible(f"no reference text in language {language['language']!r}")
        filler, ps = list(_NATIVE[language["language"]][0]), _NATIVE[language["language"]][1]
        extras = [s for s in extras if "[" in s or "," in s]
        extras = [" ".join(w for w in s.split() if w.startswith("[") or w.endswith(",")) for s in extras]
    else:
        filler, ps = [FILLER[i % len(FILLER)] for i in range(filler_count)], None
    if "detectable_format:json_format" in groups:
        return json.dumps({"answer": " ".join(extras + filler)})
    if "combination:two_responses" in groups:
        title = "<<A Clear Answer>>\n" if "detectable_format:title" in groups else ""
        second = " ".join(FILLER[(i + 3) % len(FILLER)] for i in range(max(filler_count, 2)))
        return title + " ".join(extras + filler) + "\n******\n" + second
    return _layout(groups, filler, extras, ps)


def _finish(groups: Mapping[str, list[dict[str, Any]]], text: str) -> str:
    if "change_case:english_capital" in groups:
        text = text.upper()
    if "change_case:english_lowercase" in groups:
        text = text.lower()
    if "startend:quotation" in groups:
        text = f'"{text}"'
    return text


def build_response(constraints: Sequence[Constraint], *, comma: bool = False, check: bool = True) -> str:
    """A response that follows every instruction of ``constraints`` (IFEval ids and kwargs).

    It is made of ``FILLER`` sentences (or a reference text for
    ``language:response_language``), laid out in the paragraphs, sections,
    bullets, title, postscript and wrappers asked for, with sentences that
    carry keywords, letters, capital words, placeholders and highlights, and
    enough filler for the length instructions.

    Args:
        constraints: ``(instruction_id, kwargs)`` pairs; an id may repeat.
        comma: also put a comma in the text (to break ``punctuation:no_comma``).
        check: check the result with ``rlvr.verifiers.ifeval.check_instruction``
            (strict) and raise when any instruction is not followed.

    Raises:
        Unconstructible: no response is made that follows them all.
    """
    groups = _grouped(constraints)
    unknown = sorted(set(groups) - set(INSTRUCTIONS))
    if unknown:
        raise Unconstructible(f"unknown instruction ids {unknown}")
    sentences, words = _target(groups)
    count = sentences
    text = _finish(groups, _compose(groups, count, comma))
    if words:
        from rlvr.verifiers.ifeval import count_words

        for _ in range(100):
            missing = words - count_words(text)
            if missing <= 0:
                break
            count += max(1, missing // 7)
            text = _finish(groups, _compose(groups, count, comma))
    if check:
        from rlvr.verifiers.ifeval import check_instruction

        for instruction_id, kwargs in constraints:
            if not check_instruction(instruction_id, kwargs, text):
                raise Unconstructible(f"the response does not follow {instruction_id} {dict(kwargs)}")
    return text


# --- sampling ---------------------------------------------------------------------------------


def sample_constraints(
    rng: random.Random,
    prompt: str,
    *,
    allowed: Sequence[str] | None = None,
    min_count: int = 1,
    max_count: int = 3,
    attempts: int = 200,
) -> list[Constraint]:
    """``min_count``..``max_count`` mutually compatible instructions with kwargs, drawn with ``rng``.

    Only draws for which ``build_response`` makes a following response are
    kept (a draw that fails is drawn again, ``attempts`` times at most).

    Args:
        rng: the only source of randomness.
        prompt: the base prompt (what ``combination:repeat_prompt`` repeats).
        allowed: the instruction ids to draw from (default all 25).
        min_count: fewest instructions.
        max_count: most instructions.

    Raises:
        ValueError: an unknown id, a bad count, or no draw could be built.
    """
    pool = list(allowed) if allowed is not None else list(INSTRUCTION_IDS)
    unknown = sorted(set(pool) - set(INSTRUCTIONS))
    if unknown:
        raise ValueError(f"unknown instruction ids {unknown}")
    if not 1 <= min_count <= max_count:
        raise ValueError(f"need 1 <= min_count <= max_count, got {min_count} and {max_count}")
    for _ in range(attempts):
        count = rng.randint(min_count, max_count)
        chosen: list[str] = []
        for _ in range(count):
            options = [i for i in pool if i not in chosen and compatible([*chosen, i])]
            if not options:
                break
            chosen.append(rng.choice(options))
        if len(chosen) < min_count:
            continue
        constraints = [(i, INSTRUCTIONS[i].sample(rng, prompt)) for i in chosen]
        try:
            build_response(constraints)
        except Unconstructible:
            continue
        return constraints
    raise ValueError(f"no {min_count}..{max_count} compatible, constructible instructions among {sorted(pool)}")
