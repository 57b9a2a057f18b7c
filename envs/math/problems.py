"""Math-v0's offline word problems: GSM8K-style stories with an exact integer answer.

Each problem shape in ``PROBLEMS`` (shopping and change, rates and time,
sharing equally, ages, percentages, unit conversion, work and pay, ...) is a
function ``(draw, steps) -> (question, work)``: it draws names, items and
quantities with the task's ``random.Random`` and writes the worked solution
as it goes, one line per calculation in GSM8K's style::

    Natalia sold 48 / 2 = <<48/2=24>>24 clips in May.
    Natalia sold 48 + 24 = <<48+24=72>>72 clips altogether in April and May.
    #### 72

Every number in a solution is computed, never written by hand: a step's
expression is evaluated exactly (``evaluate``), every intermediate value of it
must be a whole number and not negative (no 2.5 people), and the answer is the
value of the last step. Quantities are drawn so that divisions come out exact
(a total is drawn as a multiple of its divisor, or a chain of spending is
built backwards from what is left).

Difficulty is data: ``steps`` (the number of calculation lines; each shape
lists the counts it can write) and ``size`` (``SIZES``: the ranges quantities
are drawn from).
"""

from __future__ import annotations

import ast
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeVar

__all__ = ["MAX_STEPS", "PROBLEMS", "SIZES", "ProblemShape", "WordProblem", "evaluate", "generate_problem"]

T = TypeVar("T")

MAX_STEPS = 8
"""The most calculation lines any shape writes."""

SIZES: dict[int, dict[str, tuple[int, int]]] = {
    1: {"count": (2, 6), "amount": (2, 12), "big": (20, 100)},
    2: {"count": (2, 12), "amount": (2, 30), "big": (50, 300)},
    3: {"count": (3, 30), "amount": (5, 100), "big": (100, 1500)},
    4: {"count": (5, 80), "amount": (10, 400), "big": (500, 8000)},
}
"""Number size presets, smallest first: the ranges of a ``count`` (people, boxes, days),
an ``amount`` (a price, a rate, a distance) and a ``big`` quantity (money saved, a stock)."""


# --- exact evaluation ----------------------------------------------------------------

_OPERATORS: dict[type[ast.operator], Callable[[Fraction, Fraction], Fraction]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


def evaluate(expression: str) -> int:
    """The value of an integer expression of ``+ - * /`` and parentheses, computed exactly.

    Every intermediate value (each operator's result, left to right) must be a
    whole number and not negative, as a quantity in a story is.

    Raises:
        ValueError: the expression is not such an expression, or an
            intermediate value is a fraction or negative.
    """
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise ValueError(f"not an arithmetic expression: {expression!r}") from None

    def value(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            result = Fraction(node.value)
        elif isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            result = _OPERATORS[type(node.op)](value(node.left), value(node.right))
        else:
            raise ValueError(f"not an arithmetic expression: {expression!r}")
        if result.denominator != 1 or result < 0:
            raise ValueError(f"{expression}: {ast.unparse(node)} = {result} is not a whole number")
        return result

    return int(value(tree.body))


# --- the worked solution -------------------------------------------------------------


class _Work:
    """A worked solution, written one calculation at a time; the last one is the answer."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.steps = 0
        self.answer: int | None = None

    def calc(self, before: str, expression: str, after: str = "", *, money: bool = False) -> int:
        """Append ``before expression = <<expression=value>>value after``; return the value."""
        value = evaluate(expression)
        dollar = "$" if money else ""
        self.lines.append(f"{before}{expression} = {dollar}<<{expression.replace(' ', '')}={value}>>{value}{after}")
        self.steps += 1
        self.answer = value
        return value

    def solution(self) -> str:
        return "\n".join([*self.lines, f"#### {self.answer}"])


# --- drawing names, things and numbers -----------------------------------------------


@dataclass(frozen=True)
class _Person:
    name: str
    he: str
    his: str
    him: str

    @property
    def He(self) -> str:
        """The pronoun capitalised, to start a sentence."""
        return self.he.capitalize()

    @property
    def His(self) -> str:
        return self.his.capitalize()

    @property
    def himself(self) -> str:
        return "herself" if self.he == "she" else "himself"


_SHE = (
    "Natalia", "Amara", "Sofia", "Mei", "Priya", "Olivia", "Fatima", "Hannah", "Lucia", "Chloe", "Aisha",
    "Ingrid", "Yuki", "Rosa", "Grace", "Zainab", "Elena", "Maya", "Nora", "Leila",
)  # fmt: skip
_HE = (
    "James", "Mateo", "Kwame", "Ravi", "Liam", "Omar", "Chen", "Diego", "Noah", "Tariq", "Ivan", "Samuel",
    "Kenji", "Lucas", "Ethan", "Amir", "Felix", "Jamal", "Oscar", "Daniel",
)  # fmt: skip


class _Draw:
    """Names, things and quantities drawn with one ``random.Random``, sized by ``SIZES[size]``."""

    def __init__(self, rng: random.Random, size: int) -> None:
        self.rng = rng
        self.ranges = SIZES[size]
        self._used: set[str] = set()

    def between(self, low: int, high: int) -> int:
        """A whole number in ``low..high`` (``low`` when ``high`` is smaller)."""
        return self.rng.randint(low, max(low, high))

    def _sized(self, kind: str, low: int | None, high: int | None) -> int:
        lo, hi = self.ranges[kind]
        lo = lo if low is None else max(lo, low)
        hi = hi if high is None else min(hi, high)
        return self.between(lo, hi)

    def count(self, low: int | None = None, high: int | None = None) -> int:
        """People, boxes, days: a small whole number (at least 2 unless ``low`` says otherwise)."""
        return self._sized("count", low, high)

    def amount(self, low: int | None = None, high: int | None = None) -> int:
        """A price, a rate, a distance."""
        return self._sized("amount", low, high)

    def big(self, low: int | None = None, high: int | None = None) -> int:
        """A larger quantity: money saved, a stock of goods."""
        return self._sized("big", low, high)

    def multiple(self, unit: int, kind: str = "big") -> int:
        """A multiple of ``unit`` near the ``kind`` range (at least ``unit`` itself)."""
        lo, hi = self.ranges[kind]
        return unit * self.between(max(1, -(-lo // unit)), max(1, hi // unit))

    def pick(self, low: int, high: int, ok: Callable[[int], bool]) -> int:
        """A number in ``low..high`` for which ``ok`` holds, uniformly; ``ValueError`` when there is none."""
        candidates = [x for x in range(low, high + 1) if ok(x)]
        if not candidates:
            raise ValueError(f"no number in {low}..{high} fits")  # a bug in a shape, never a draw
        return self.rng.choice(candidates)

    def choice(self, options: Sequence[T]) -> T:
        return self.rng.choice(options)

    def sample(self, options: Sequence[T], k: int) -> list[T]:
        return self.rng.sample(list(options), k)

    def person(self) -> _Person:
        """A person not drawn before in this problem."""
        she = self.rng.random() < 0.5
        names = [n for n in (_SHE if she else _HE) if n not in self._used]
        name = self.rng.choice(names)
        self._used.add(name)
        return _Person(name, "she", "her", "her") if she else _Person(name, "he", "his", "him")


def _join(parts: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


_FRACTION_WORDS = {2: "half", 3: "a third", 4: "a quarter", 5: "a fifth"}
_PERCENTS = (10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _percent(d: _Draw) -> tuple[int, int]:
    """A percentage and the smallest whole of which it is a whole number (25 -> 4)."""
    percent = d.choice(_PERCENTS)
    return percent, 100 // math.gcd(percent, 100)


# --- the problem shapes ----------------------------------------------------------------
# Each takes the drawer and the number of calculation lines to write, and returns the
# question and the worked solution; the answer is the solution's last value.

Shape = Callable[[_Draw, int], tuple[str, _Work]]

_GOODS = (
    "notebooks", "pens", "sandwiches", "comic books", "T-shirts", "toy cars", "potted plants", "mugs",
    "cupcakes", "packs of cards", "candles", "water bottles", "puzzles", "scarves",
)  # fmt: skip
_SINGLE_GOODS = ("a birthday card", "a roll of wrapping paper", "a bag of chips", "a phone case", "a bunch of flowers")


def _shopping_change(d: _Draw, n: int) -> tuple[str, _Work]:
    p, w = d.person(), _Work()
    kinds = 1 if n <= 3 else n - 2
    bought, costs = [], []
    for item in d.sample(_GOODS, kinds):
        count, price = d.count(), d.amount()
        bought.append(f"{count} {item} at ${price} each")
        costs.append(w.calc(f"The {item} cost ", f"{count} * {price}", ".", money=True))
    extra = ""
    if n == 3:
        thing, price = d.choice(_SINGLE_GOODS), d.amount()
        extra = f" {p.He} also buys {thing} for ${price}."
        costs.append(price)
    total = costs[0]
    if len(costs) > 1:
        total = w.calc(f"{p.He} spends ", " + ".join(str(c) for c in costs), " in total.", money=True)
    bill = next((b for b in (5, 10, 20, 50, 100) if b > total), None)
    paid = bill if bill is not None else (total // 100 + 1) * 100
    paying = f"a ${bill} bill" if bill is not None else f"${paid}"
    w.calc(f"{p.His} change is ", f"{paid} - {total}", ".", money=True)
    question = f"{p.name} buys {_join(bought)}.{extra} {p.He} pays with {paying}. How much change does {p.he} get?"
    return question, w


_MACHINES = (
    ("machine", "fills", "fill", "bottles"),
    ("printer", "prints", "print", "pages"),
    ("oven", "bakes", "bake", "loaves of bread"),
    ("robot", "packs", "pack", "boxes"),
    ("loom", "weaves", "weave", "scarves"),
)


def _production(d: _Draw, n: int) -> tuple[str, _Work]:
    machine, verb, verb_plural, things = d.choice(_MACHINES)
    w = _Work()
    rate, hours, days = d.amount(), d.between(2, 12), d.count()
    if n == 2:
        daily = w.calc(f"The {machine} {verb} ", f"{rate} * {hours}", f" {things} a day.")
        w.calc(f"In {days} days it {verb} ", f"{daily} * {days}", f" {things}.")
        question = (
            f"A {machine} {verb} {rate} {things} every hour. It works {hours} hours a day. "
            f"How many {things} does it make in {days} days?"
        )
    else:
        machines = d.count(high=10)
        hourly = w.calc(f"Together the {machine}s {verb_plural} ", f"{machines} * {rate}", f" {things} an hour.")
        daily = w.calc("In a day they make ", f"{hourly} * {hours}", f" {things}.")
        w.calc(f"In {days} days they make ", f"{daily} * {days}", f" {things}.")
        question = (
            f"A workshop has {machines} {machine}s. Each {machine} {verb} {rate} {things} an hour, and they work "
            f"{hours} hours a day. How many {things} do they make in {days} days?"
        )
    return question, w


_SHAREABLE = ("marbles", "stickers", "candies", "cookies", "crayons", "beads", "trading cards")


def _sharing(d: _Draw, n: int) -> tuple[str, _Work]:
    p, w = d.person(), _Work()
    things = d.choice(_SHAREABLE)
    friends, per_bag = d.count(), d.amount()
    step = friends // math.gcd(per_bag, friends)  # bags * per_bag must share out evenly
    bags = step * d.between(max(1, -(-2 // step)), max(1, 12 // step))
    if n == 3 and bags * per_bag // friends < 2:  # too few to keep some back
        bags *= 2
    total = w.calc(f"{p.name} has ", f"{bags} * {per_bag}", f" {things}.")
    if n == 2:
        w.calc("Each friend gets ", f"{total} / {friends}", f" {things}.")
        question = (
            f"{p.name} buys {bags} bags of {things} with {per_bag} {things} in each bag. {p.He} shares all of them "
            f"equally among {friends} friends. How many {things} does each friend get?"
        )
    else:
        kept = friends * d.between(1, total // friends - 1)
        rest = w.calc(f"After keeping {kept}, {p.he} has ", f"{total} - {kept}", f" {things} to share.")
        w.calc("Each friend gets ", f"{rest} / {friends}", f" {things}.")
        question = (
            f"{p.name} buys {bags} bags of {things} with {per_bag} {things} in each bag. {p.He} keeps {kept} for "
            f"{p.himself} and shares the rest equally among {friends} friends. How many {things} does each friend get?"
        )
    return question, w


_TIMES = {2: "twice", 3: "three times", 4: "four times"}


def _ages(d: _Draw, n: int) -> tuple[str, _Work]:
    a, b = d.person(), d.person()
    w = _Work()
    age, times = d.between(3, 14), d.between(2, 4)
    older = w.calc(f"{b.name} is ", f"{age} * {times}", " years old.")
    if n == 2:
        later = d.between(2, 15)
        w.calc(f"In {later} years {b.name} will be ", f"{older} + {later}", " years old.")
        question = (
            f"{a.name} is {age} years old. {b.name} is {_TIMES[times]} as old as {a.name}. "
            f"How old will {b.name} be in {later} years?"
        )
    else:
        c = d.person()
        younger = d.between(1, older - 1)
        third = w.calc(f"{c.name} is ", f"{older} - {younger}", " years old.")
        w.calc("Together they are ", f"{age} + {older} + {third}", " years old.")
        question = (
            f"{a.name} is {age} years old. {b.name} is {_TIMES[times]} as old as {a.name}, and {c.name} is {younger} "
            f"years younger than {b.name}. What is the sum of the ages of {a.name}, {b.name} and {c.name}?"
        )
    return question, w


_GROUPS = (
    ("students at a school", "ride the bus to school", "do not ride the bus", "walk to school"),
    ("books in a library", "are novels", "are not novels", "are history books"),
    ("trees in an orchard", "are apple trees", "are not apple trees", "are pear trees"),
    ("guests at a wedding", "are family members", "are not family", "are coworkers of the couple"),
)


def _percent_of_group(d: _Draw, n: int) -> tuple[str, _Work]:
    w = _Work()
    group, part, rest_name, third = d.choice(_GROUPS)
    noun = group.split(" ")[0]
    percent, unit = _percent(d)
    if n == 2:
        total = d.multiple(unit)
    else:
        q = d.choice((2, 3, 4))
        high = max(d.ranges["big"][1], 100 * q)
        total = d.pick(unit, high, lambda x: x % unit == 0 and (x - x * percent // 100) % q == 0)
    inside = w.calc(f"{percent}% of the {noun} {part}: ", f"{total} * {percent} / 100", f" {noun}.")
    rest = w.calc("So ", f"{total} - {inside}", f" {noun} {rest_name}.")
    question = f"There are {total} {group}. {percent}% of them {part}. How many of them {rest_name}?"
    if n == 3:
        w.calc("Of those, ", f"{rest} / {q}", f" {noun} {third}.")
        question = (
            f"There are {total} {group}. {percent}% of them {part}. {_FRACTION_WORDS[q].capitalize()} of the rest "
            f"{third}. How many {noun} {third}?"
        )
    return question, w


_SALE_ITEMS = ("jacket", "bicycle", "lamp", "pair of boots", "video game", "backpack", "desk chair", "tent")


def _discount(d: _Draw, n: int) -> tuple[str, _Work]:
    p, w = d.person(), _Work()
    item = d.choice(_SALE_ITEMS)
    percent, unit = _percent(d)
    price = d.multiple(unit)
    off = w.calc("The discount is ", f"{price} * {percent} / 100", ".", money=True)
    sale = w.calc(f"The sale price of one {item} is ", f"{price} - {off}", ".", money=True)
    if n == 2:
        question = f"A {item} costs ${price}. It is on sale for {percent}% off. What is the sale price?"
    else:
        count = d.count(high=6)
        w.calc(f"{p.name} pays ", f"{count} * {sale}", ".", money=True)
        question = (
            f"A {item} normally costs ${price}, and this week everything is {percent}% off. {p.name} buys "
            f"{count} of them at the sale price. How much does {p.he} pay?"
        )
    return question, w


_ANIMALS = (("chickens", 2), ("cows", 4), ("ducks", 2), ("goats", 4), ("horses", 4), ("sheep", 4), ("geese", 2))


def _animal_legs(d: _Draw, n: int) -> tuple[str, _Work]:
    p, w = d.person(), _Work()
    herd = [(animal, legs, d.count()) for animal, legs in d.sample(_ANIMALS, n - 1)]
    totals = [w.calc(f"The {animal} have ", f"{count} * {legs}", " legs.") for animal, legs, count in herd]
    w.calc("Altogether the animals have ", " + ".join(str(t) for t in totals), " legs.")
    listing = _join([f"{count} {animal}" for animal, _, count in herd])
    question = f"{p.name}'s farm has {listing}. How many legs do the animals on the farm have in total?"
    return question, w


def _unit_conversion(d: _Draw, n: int) -> tuple[str, _Work]:
    p, w = d.person(), _Work()
    if n == 2:
        variant = d.between(0, 2)
        if variant == 0:
            feet = d.between(2, 20)
            inches = w.calc("The ribbon is ", f"{feet} * 12", " inches long.")
            piece = d.pick(2, inches // 2, lambda x: inches % x == 0)
            w.calc(f"{p.He} gets ", f"{inches} / {piece}", " pieces.")
            question = (
                f"{p.name} has a ribbon {feet} feet long. {p.He} cuts it into pieces that are each {piece} inches "
                f"long. A foot is 12 inches. How many pieces does {p.he} get?"
            )
        elif variant == 1:
            minutes = d.choice((15, 20, 30, 45, 60, 90))
            days = d.pick(2, 16, lambda x: minutes * x % 60 == 0)
            total = w.calc(f"{p.He} practices ", f"{minutes} * {days}", " minutes.")
            w.calc("That is ", f"{total} / 60", " hours.")
            question = (
                f"{p.name} practices the piano for {minutes} minutes every day for {days} days. "
                f"How many hours does {p.he} practice in all?"
            )
        else:
            kilos, grams = d.between(2, 25), d.choice((100, 200, 250, 500))
            total = w.calc("The bag holds ", f"{kilos} * 1000", " grams of rice.")
            w.calc(f"{p.He} fills ", f"{total} / {grams}", " containers.")
            question = (
                f"{p.name} has a {kilos} kg bag of rice. {p.He} divides it into containers of {grams} g each. "
                f"How many containers does {p.he} fill?"
            )
    elif d.between(0, 1) == 0:
        dozens = d.count(high=20)
        eggs = w.calc(f"{p.He} buys ", f"{dozens} * 12", " eggs.")
        per_day = d.between(1, 6)
        days = d.between(1, max(1, eggs // per_day - 1))
        used = w.calc(f"{p.He} uses ", f"{per_day} * {days}", " eggs.")
        w.calc(f"{p.He} has ", f"{eggs} - {used}", " eggs left.")
        question = (
            f"{p.name} buys {dozens} dozen eggs. {p.He} uses {per_day} eggs every day for {days} days. "
            f"How many eggs does {p.he} have left?"
        )
    else:
        weeks, extra, pages = d.between(1, 4), d.between(2, 6), d.amount()
        days = w.calc("The trip lasts ", f"{weeks} * 7", " days.")
        total_days = w.calc("With the extra days that is ", f"{days} + {extra}", " days.")
        w.calc(f"{p.He} reads ", f"{total_days} * {pages}", " pages.")
        question = (
            f"{p.name} goes on a trip that lasts {weeks} weeks and {extra} days. {p.He} reads {pages} pages every "
            f"day of the trip. How many pages does {p.he} read?"
        )
    return question, w


def _work_pay(d: _Draw, n: int) -> tuple[str, _Work]:
    p, w = d.person(), _Work()
    if n in (2, 3):
        wage, hours, days = d.amount(), d.between(2, 10), d.count()
        daily = w.calc(f"{p.He} earns ", f"{wage} * {hours}", " a day.", money=True)
        earned = w.calc(f"In {days} days {p.he} earns ", f"{daily} * {days}", ".", money=True)
        question = (
            f"{p.name} earns ${wage} an hour and works {hours} hours a day. How much does {p.he} earn in {days} days?"
        )
        if n == 3:
            bonus = d.amount()
            w.calc("With the bonus, the total is ", f"{earned} + {bonus}", ".", money=True)
            question = (
                f"{p.name} earns ${wage} an hour and works {hours} hours a day for {days} days. At the end {p.he} "
                f"also gets a ${bonus} bonus. How much does {p.he} earn in all?"
            )
    else:
        low, high = d.ranges["amount"]
        wage = 2 * d.between(max(1, low // 2), high // 2)  # even, so time and a half is whole
        regular, overtime = d.between(20, 40), d.between(2, 15)
        base = w.calc("For the regular hours, ", f"{wage} * {regular}", ".", money=True)
        rate = w.calc("The overtime rate is ", f"{wage} * 3 / 2", " an hour.", money=True)
        extra = w.calc("For the overtime, ", f"{rate} * {overtime}", ".", money=True)
        w.calc(f"{p.He} earns ", f"{base} + {extra}", " in all.", money=True)
        question = (
            f"{p.name} earns ${wage} an hour for the first {regular} hours of a week, and one and a half times "
            f"that for every hour after. This week {p.he} works {regular + overtime} hours. How much does {p.he} earn?"
        )
    return question, w


def _distance(d: _Draw, n: int) -> tuple[str, _Work]:
    p, w = d.person(), _Work()
    vehicle = d.choice(("train", "bus", "car", "boat"))
    speed, hours = d.amount(low=10), d.between(2, 6)
    if n == 2:
        distance = speed * hours
        rate = w.calc(f"The {vehicle} travels ", f"{distance} / {hours}", " km an hour.")
        later = d.between(2, 9)
        w.calc(f"In {later} hours it travels ", f"{rate} * {later}", " km.")
        question = (
            f"A {vehicle} travels {distance} km in {hours} hours. At the same speed, how far does it travel "
            f"in {later} hours?"
        )
    else:
        speed2, hours2 = d.between(10, max(20, speed * 2)), d.between(2, 5)
        first = w.calc(f"First {p.he} drives ", f"{speed} * {hours}", " km.")
        second = w.calc(f"Then {p.he} drives ", f"{speed2} * {hours2}", " km.")
        w.calc(f"{p.He} drives ", f"{first} + {second}", " km in all.")
        question = (
            f"{p.name} drives at {speed} km per hour for {hours} hours, then at {speed2} km per hour for "
            f"{hours2} more hours. How many kilometers does {p.he} drive in all?"
        )
    return question, w


_PURCHASES = (
    "a book", "a concert ticket", "a pair of shoes", "a board game", "a hat", "groceries", "a gift for a friend",
    "a sweater", "lunch", "a new phone charger",
)  # fmt: skip


def _remaining_money(d: _Draw, n: int) -> tuple[str, _Work]:
    p, w = d.person(), _Work()
    plan: list[str] = []
    left_to_plan = n
    while left_to_plan:
        kind = "fixed" if left_to_plan == 1 or d.rng.random() < 0.5 else "fraction"
        plan.append(kind)
        left_to_plan -= 1 if kind == "fixed" else 2
    # Built backwards from what is left, so that every fraction of the money is whole.
    money = d.big() // 4 + 1
    events: list[tuple[str, int, str]] = []
    for kind, thing in zip(reversed(plan), d.sample(_PURCHASES, len(plan)), strict=True):
        if kind == "fixed":
            cost = d.amount()
            events.append((kind, cost, thing))
            money += cost
        else:
            parts = d.choice([q for q in (2, 3, 4, 5) if money % (q - 1) == 0])
            events.append((kind, parts, thing))
            money = money * parts // (parts - 1)
    events.reverse()
    sentences = []
    current = money
    for i, (kind, number, thing) in enumerate(events):
        then = "" if i == 0 else "Then "
        subject = p.he if then else p.He
        if kind == "fixed":
            sentences.append(f"{then}{subject} spends ${number} on {thing}.")
            current = w.calc(f"After buying {thing}, {p.he} has ", f"{current} - {number}", ".", money=True)
        else:
            whole = f"{p.his} money" if i == 0 else "what is left"
            sentences.append(f"{then}{subject} spends {_FRACTION_WORDS[number]} of {whole} on {thing}.")
            spent = w.calc(f"{p.He} spends ", f"{current} / {number}", f" on {thing}.", money=True)
            current = w.calc(f"{p.He} has ", f"{current} - {spent}", " left.", money=True)
    question = f"{p.name} has ${money}. {' '.join(sentences)} How much money does {p.he} have left?"
    return question, w


_TALLIES = (
    ("read", "read", "pages"),
    ("collected", "collect", "shells"),
    ("scored", "score", "points"),
    ("baked", "bake", "cookies"),
    ("sold", "sell", "raffle tickets"),
    ("picked", "pick", "strawberries"),
)


def _how_many_more(d: _Draw, n: int) -> tuple[str, _Work]:
    a, b = d.person(), d.person()
    w = _Work()
    past, base, noun = d.choice(_TALLIES)
    first, times = d.amount(), d.between(2, 5)
    if n == 2:
        more = w.calc(f"{b.name} {past} ", f"{first} * {times}", f" {noun}.")
        w.calc(f"{b.name} {past} ", f"{more} - {first}", f" more {noun} than {a.name}.")
        question = (
            f"{a.name} {past} {first} {noun}. {b.name} {past} {times} times as many {noun} as {a.name}. "
            f"How many more {noun} did {b.name} {base} than {a.name}?"
        )
    else:
        second = w.calc(f"On Tuesday {a.name} {past} ", f"{first} * {times}", f" {noun}.")
        total = w.calc(f"In all {a.name} {past} ", f"{first} + {second}", f" {noun}.")
        other = d.between(1, total - 1)
        w.calc(f"{a.name} {past} ", f"{total} - {other}", f" more {noun} than {b.name}.")
        question = (
            f"On Monday {a.name} {past} {first} {noun}. On Tuesday {a.he} {past} {times} times as many. "
            f"Over the two days {b.name} {past} {other} {noun}. How many more {noun} did {a.name} {base} "
            f"than {b.name} over the two days?"
        )
    return question, w


_GOALS = ("a bike", "a game console", "a guitar", "a telescope", "a tablet", "a camera")


def _savings_goal(d: _Draw, n: int) -> tuple[str, _Work]:
    p, w = d.person(), _Work()
    goal, saved, weeks = d.choice(_GOALS), d.big(), d.count()
    if n == 2:
        weekly = d.amount()
        price = saved + weekly * weeks
        need = w.calc(f"{p.He} still needs ", f"{price} - {saved}", ".", money=True)
        w.calc(f"{p.He} needs to save for ", f"{need} / {weekly}", " weeks.")
        question = (
            f"{p.name} wants to buy {goal} that costs ${price}. {p.He} has saved ${saved} and saves ${weekly} "
            f"every week. How many more weeks must {p.he} save?"
        )
    else:
        spends, net = d.amount(), d.amount()
        earns = spends + net
        price = saved + net * weeks
        need = w.calc(f"{p.He} still needs ", f"{price} - {saved}", ".", money=True)
        kept = w.calc(f"Each week {p.he} keeps ", f"{earns} - {spends}", ".", money=True)
        w.calc(f"{p.He} needs ", f"{need} / {kept}", " weeks.")
        question = (
            f"{p.name} wants to buy {goal} that costs ${price} and has saved ${saved} so far. Every week {p.he} "
            f"earns ${earns} and spends ${spends} of it. How many weeks will it take {p.him} to save the rest?"
        )
    return question, w


_RECIPES = (("cups of flour", "cookies"), ("eggs", "pancakes"), ("cups of milk", "muffins"), ("apples", "pies"))


def _recipe(d: _Draw, n: int) -> tuple[str, _Work]:
    p, w = d.person(), _Work()
    ingredient, dish = d.choice(_RECIPES)
    per_batch, yield_ = d.between(2, 6), d.count()
    batches = d.between(2, 8)
    wanted = yield_ * batches
    count = w.calc(f"{p.He} needs to make ", f"{wanted} / {yield_}", " batches.")
    needed = w.calc(f"{p.He} needs ", f"{count} * {per_batch}", f" {ingredient}.")
    question = (
        f"A recipe uses {per_batch} {ingredient} to make {yield_} {dish}. {p.name} wants to make {wanted} {dish}. "
        f"How many {ingredient} does {p.he} need?"
    )
    if n == 3:
        have = d.between(1, needed - 1)
        w.calc(f"{p.He} must get ", f"{needed} - {have}", f" more {ingredient}.")
        question = (
            f"A recipe uses {per_batch} {ingredient} to make {yield_} {dish}. {p.name} wants to make {wanted} "
            f"{dish} and has {have} {ingredient}. How many more {ingredient} does {p.he} need?"
        )
    return question, w


def _garden(d: _Draw, n: int) -> tuple[str, _Work]:
    p, w = d.person(), _Work()
    length, width = d.amount(low=3), d.amount(low=2)
    if n == 2:
        area = w.calc("The garden's area is ", f"{length} * {width}", " square meters.")
        cover = d.pick(2, max(length, width), lambda x: area % x == 0)  # length and width both qualify
        w.calc(f"{p.He} needs ", f"{area} / {cover}", " bags of seed.")
        question = (
            f"{p.name}'s garden is a rectangle {length} meters long and {width} meters wide. One bag of grass "
            f"seed covers {cover} square meters. How many bags does {p.he} need to cover the garden?"
        )
    else:
        price = d.between(2, 15)
        half = w.calc("Half the perimeter is ", f"{length} + {width}", " meters.")
        fence = w.calc("The perimeter is ", f"{half} * 2", " meters.")
        w.calc("The fence costs ", f"{fence} * {price}", ".", money=True)
        question = (
            f"{p.name} wants to put a fence around a rectangular garden {length} meters long and {width} meters "
            f"wide. Fencing costs ${price} per meter. How much does the fence cost?"
        )
    return question, w


def _field_trip(d: _Draw, n: int) -> tuple[str, _Work]:
    w = _Work()
    seats = d.choice((10, 12, 15, 20, 25, 30, 40, 50))
    buses = d.between(2, 8)
    teachers = d.between(2, min(10, seats - 1))
    students = seats * buses - teachers
    people = w.calc("There are ", f"{students} + {teachers}", " people on the trip.")
    count = w.calc("They need ", f"{people} / {seats}", " buses.")
    question = (
        f"{students} students and {teachers} teachers are going on a field trip. Each bus holds {seats} people. "
        f"How many buses do they need, if every bus is full?"
    )
    if n == 3:
        cost = d.amount() * 10
        w.calc("The buses cost ", f"{count} * {cost}", ".", money=True)
        question = (
            f"{students} students and {teachers} teachers are going on a field trip. Each bus holds {seats} people "
            f"and every bus will be full. Renting a bus costs ${cost}. How much do the buses cost in all?"
        )
    return question, w


def _average(d: _Draw, n: int) -> tuple[str, _Work]:
    p, w = d.person(), _Work()
    tests = d.between(3, 5)
    scores = [d.between(60, 100) for _ in range(tests - 1)]
    if n == 2:
        scores.append(d.pick(60, 100, lambda x: (sum(scores) + x) % tests == 0))
        total = w.calc(f"{p.His} scores add up to ", " + ".join(str(s) for s in scores), ".")
        w.calc(f"{p.His} average is ", f"{total} / {tests}", ".")
        question = f"{p.name} scored {_join([str(s) for s in scores])} on {tests} tests. What is {p.his} average score?"
    else:
        needed = d.pick(60, 100, lambda x: (sum(scores) + x) % tests == 0)
        target = (sum(scores) + needed) // tests
        goal = w.calc(f"{p.He} needs ", f"{target} * {tests}", " points in all.")
        have = w.calc(f"{p.He} has ", " + ".join(str(s) for s in scores), " points so far.")
        w.calc(f"{p.He} needs ", f"{goal} - {have}", " on the last test.")
        question = (
            f"{p.name} scored {_join([str(s) for s in scores])} on {len(scores)} tests. What must {p.he} score on "
            f"the next test to have an average of {target} over all {tests} tests?"
        )
    return question, w


def _reading(d: _Draw, n: int) -> tuple[str, _Work]:
    p, w = d.person(), _Work()
    rate, days = d.amount(), d.between(2, 9)
    if n == 2:
        done = rate * days
        book = done + d.amount()
        read = w.calc(f"{p.He} has read ", f"{rate} * {days}", " pages.")
        w.calc(f"{p.He} has ", f"{book} - {read}", " pages left.")
        question = (
            f"{p.name}'s book has {book} pages. {p.He} reads {rate} pages a day for {days} days. "
            f"How many pages does {p.he} still have to read?"
        )
    else:
        faster, more_days = rate * 2, d.between(2, 6)
        book = rate * days + faster * more_days + d.amount()
        first = w.calc(f"At first {p.he} reads ", f"{rate} * {days}", " pages.")
        second = w.calc(f"Then {p.he} reads ", f"{faster} * {more_days}", " pages.")
        w.calc(f"{p.He} has ", f"{book} - {first} - {second}", " pages left.")
        question = (
            f"{p.name}'s book has {book} pages. {p.He} reads {rate} pages a day for {days} days, then twice as many "
            f"pages a day for {more_days} more days. How many pages are left?"
        )
    return question, w


_PRODUCE = ("apples", "oranges", "peaches", "lemons", "tomatoes", "potatoes")


def _packing(d: _Draw, n: int) -> tuple[str, _Work]:
    p, w = d.person(), _Work()
    fruit, per_box, boxes, price = d.choice(_PRODUCE), d.between(4, 24), d.count(), d.amount()
    if n == 2:
        picked = per_box * boxes
        filled = w.calc(f"{p.He} fills ", f"{picked} / {per_box}", " boxes.")
        w.calc(f"{p.He} earns ", f"{filled} * {price}", ".", money=True)
        question = (
            f"{p.name} picks {picked} {fruit} and packs them in boxes of {per_box}. {p.He} sells every box for "
            f"${price}. How much money does {p.he} make?"
        )
    else:
        bad = d.between(2, 20)
        picked = per_box * boxes + bad
        good = w.calc(f"{p.He} has ", f"{picked} - {bad}", f" good {fruit}.")
        filled = w.calc(f"{p.He} fills ", f"{good} / {per_box}", " boxes.")
        w.calc(f"{p.He} earns ", f"{filled} * {price}", ".", money=True)
        question = (
            f"{p.name} picks {picked} {fruit}, but {bad} of them are bruised and thrown away. {p.He} packs the rest "
            f"in boxes of {per_box} and sells every box for ${price}. How much money does {p.he} make?"
        )
    return question, w


_COLLECTIONS = ("stickers", "marbles", "stamps", "baseball cards", "seashells", "coins")


def _events(d: _Draw, n: int) -> tuple[str, _Work]:
    p, friend, w = d.person(), d.person(), _Work()
    things = d.choice(_COLLECTIONS)
    start = d.amount(low=5)
    current = start
    sentences = []
    limit = 10 * d.ranges["big"][1]
    for i in range(n):
        moves = ["gain"]
        if current > 2:
            moves.append("give")
        if current * 2 <= limit:
            moves.append("double")
        if current % 2 == 0 and current >= 4:
            moves.append("halve")
        move = d.choice(moves)
        subject = p.He if i == 0 else f"Then {p.he}"
        if move == "gain":
            more = d.amount()
            sentences.append(f"{subject} buys {more} more.")
            current = w.calc(f"After buying more, {p.he} has ", f"{current} + {more}", f" {things}.")
        elif move == "give":
            given = d.between(1, current - 1)
            sentences.append(f"{subject} gives {given} to {friend.name}.")
            current = w.calc(f"After giving some away, {p.he} has ", f"{current} - {given}", f" {things}.")
        elif move == "double":
            sentences.append(f"{subject} doubles {p.his} collection.")
            current = w.calc(f"After doubling, {p.he} has ", f"{current} * 2", f" {things}.")
        else:
            sentences.append(f"{subject} loses half of {p.his} {things}.")
            current = w.calc(f"After losing half, {p.he} has ", f"{current} / 2", f" {things}.")
    question = f"{p.name} has {start} {things}. {' '.join(sentences)} How many {things} does {p.he} have now?"
    return question, w


def _tickets(d: _Draw, n: int) -> tuple[str, _Work]:
    w = _Work()
    event = d.choice(("school play", "concert", "magic show", "museum exhibit"))
    adult_price = d.amount(low=4)
    child_price = d.between(1, adult_price - 1)
    adults, children = d.count(), d.count()
    adult_money = w.calc("Adult tickets bring in ", f"{adults} * {adult_price}", ".", money=True)
    child_money = w.calc("Child tickets bring in ", f"{children} * {child_price}", ".", money=True)
    total = w.calc("The tickets bring in ", f"{adult_money} + {child_money}", " in all.", money=True)
    question = (
        f"Tickets to the {event} cost ${adult_price} for adults and ${child_price} for children. {adults} adults "
        f"and {children} children come. How much money do the tickets bring in?"
    )
    if n == 4:
        costs = d.between(1, total - 1)
        w.calc("The profit is ", f"{total} - {costs}", ".", money=True)
        question = (
            f"Tickets to the {event} cost ${adult_price} for adults and ${child_price} for children. {adults} adults "
            f"and {children} children come. Putting on the {event} cost ${costs}. How much profit is made?"
        )
    return question, w


def _fraction_of_group(d: _Draw, n: int) -> tuple[str, _Work]:
    w = _Work()
    parts = d.choice((3, 4, 5, 6, 8))
    share = d.choice([s for s in range(1, parts) if math.gcd(s, parts) == 1])
    if n == 2:
        total = d.multiple(parts)
    else:  # the girls, total * (parts - share) / parts, must be even to halve
        high = max(4 * parts, d.ranges["big"][1])
        total = d.pick(parts, high, lambda x: x % parts == 0 and (x - x * share // parts) % 2 == 0)
    boys = w.calc("There are ", f"{total} * {share} / {parts}", " boys.")
    girls = w.calc("There are ", f"{total} - {boys}", " girls.")
    question = f"A club has {total} members, and {share}/{parts} of them are boys. How many girls are in the club?"
    if n == 3:
        w.calc("Of the girls, ", f"{girls} / 2", " play chess.")
        question = (
            f"A club has {total} members, and {share}/{parts} of them are boys. Half of the girls play chess. "
            f"How many girls play chess?"
        )
    return question, w


def _tank(d: _Draw, n: int) -> tuple[str, _Work]:
    w = _Work()
    leak = d.between(1, 9)
    inflow = leak + d.between(1, 20)
    minutes = d.count(low=2)
    net_rate = inflow - leak
    if n == 2:
        capacity = net_rate * minutes
        rate = w.calc("The tank gains ", f"{inflow} - {leak}", " liters a minute.")
        w.calc("It fills in ", f"{capacity} / {rate}", " minutes.")
        question = (
            f"An empty tank holds {capacity} liters. Water flows in at {inflow} liters a minute and leaks out at "
            f"{leak} liters a minute. How many minutes does it take to fill the tank?"
        )
    else:
        already = d.amount()
        capacity = already + net_rate * minutes
        room = w.calc("The tank has room for ", f"{capacity} - {already}", " more liters.")
        rate = w.calc("It gains ", f"{inflow} - {leak}", " liters a minute.")
        w.calc("It fills in ", f"{room} / {rate}", " minutes.")
        question = (
            f"A tank holds {capacity} liters and already has {already} liters in it. Water flows in at {inflow} "
            f"liters a minute and leaks out at {leak} liters a minute. How many minutes until the tank is full?"
        )
    return question, w


def _weekly(d: _Draw, n: int) -> tuple[str, _Work]:
    p, w = d.person(), _Work()
    activity, unit = d.choice((("runs", "km"), ("swims", "laps"), ("cycles", "km"), ("walks", "km")))
    weekday, weekend = d.between(2, 15), d.between(2, 25)
    on_weekdays = w.calc(f"On weekdays {p.he} {activity} ", f"{weekday} * 5", f" {unit}.")
    on_weekend = w.calc(f"On the weekend {p.he} {activity} ", f"{weekend} * 2", f" {unit}.")
    week = w.calc(f"In a week {p.he} {activity} ", f"{on_weekdays} + {on_weekend}", f" {unit}.")
    question = (
        f"{p.name} {activity} {weekday} {unit} every weekday and {weekend} {unit} on each day of the weekend. "
        f"How many {unit} does {p.he} cover in a week?"
    )
    if n == 4:
        weeks = d.count()
        w.calc(f"In {weeks} weeks {p.he} {activity} ", f"{week} * {weeks}", f" {unit}.")
        question = (
            f"{p.name} {activity} {weekday} {unit} every weekday and {weekend} {unit} on each day of the weekend. "
            f"How many {unit} does {p.he} cover in {weeks} weeks?"
        )
    return question, w


def _profit(d: _Draw, n: int) -> tuple[str, _Work]:
    p, w = d.person(), _Work()
    goods = d.choice(("lemonade cups", "bracelets", "candles", "keychains", "bird houses"))
    count, cost = d.count(), d.amount()
    price = cost + d.amount(low=1)
    question = (
        f"{p.name} makes {count} {goods}. Each one costs ${cost} to make, and {p.he} sells each for ${price}. "
        f"How much profit does {p.he} make if {p.he} sells them all?"
    )
    if n == 2:
        each = w.calc(f"{p.He} makes ", f"{price} - {cost}", " on each one.", money=True)
        w.calc(f"{p.His} profit is ", f"{count} * {each}", ".", money=True)
    else:
        spent = w.calc("Making them costs ", f"{count} * {cost}", ".", money=True)
        earned = w.calc("Selling them brings in ", f"{count} * {price}", ".", money=True)
        w.calc(f"{p.His} profit is ", f"{earned} - {spent}", ".", money=True)
    return question, w


_COINS = (("quarters", 25), ("dimes", 10), ("nickels", 5))


def _coins(d: _Draw, n: int) -> tuple[str, _Work]:
    p, w = d.person(), _Work()
    kinds = list(_COINS) if n >= 4 else d.sample(_COINS, 2)
    counts = [d.count() for _ in kinds]
    if n == 5:  # make the total a whole number of dollars
        rest = sum(c * v for c, (_, v) in zip(counts[:-1], kinds[:-1], strict=True))
        value = kinds[-1][1]
        counts[-1] = d.pick(1, 100, lambda x: (rest + x * value) % 100 == 0)
    cents = [
        w.calc(f"The {name} are worth ", f"{c} * {v}", " cents.") for c, (name, v) in zip(counts, kinds, strict=True)
    ]
    total = w.calc("Altogether that is ", " + ".join(str(c) for c in cents), " cents.")
    listing = _join([f"{c} {name}" for c, (name, _) in zip(counts, kinds, strict=True)])
    question = f"{p.name} has {listing} in {p.his} piggy bank. How many cents does {p.he} have?"
    if n == 5:
        w.calc("That is ", f"{total} / 100", " dollars.")
        question = f"{p.name} has {listing} in {p.his} piggy bank. How many dollars does {p.he} have?"
    return question, w


def _growing_sales(d: _Draw, n: int) -> tuple[str, _Work]:
    p, w = d.person(), _Work()
    goods = d.choice(("cupcakes", "newspapers", "bracelets", "ice creams", "plants"))
    first, more = d.amount(), d.between(1, 12)
    days = _DAYS[:n]
    sales = [first]
    for day in days[1:]:
        sales.append(w.calc(f"On {day} {p.he} sells ", f"{sales[-1]} + {more}", f" {goods}."))
    w.calc(f"In all {p.he} sells ", " + ".join(str(s) for s in sales), f" {goods}.")
    question = (
        f"On {days[0]} {p.name} sells {first} {goods}. Every day after that {p.he} sells {more} more than the day "
        f"before. How many {goods} does {p.he} sell from {days[0]} to {days[-1]}?"
    )
    return question, w


def _orchard_rows(d: _Draw, n: int) -> tuple[str, _Work]:
    p, w = d.person(), _Work()
    plant, crop = d.choice((("tomato plants", "tomatoes"), ("pepper plants", "peppers"), ("bean plants", "beans")))
    rows, per_row, each = d.count(), d.count(), d.between(2, 20)
    plants = w.calc(f"{p.He} has ", f"{rows} * {per_row}", f" {plant}.")
    harvest = w.calc(f"{p.He} picks ", f"{plants} * {each}", f" {crop}.")
    question = (
        f"{p.name} plants {rows} rows of {plant} with {per_row} plants in each row. Each plant gives {each} {crop}. "
        f"How many {crop} does {p.he} pick?"
    )
    if n == 3:
        given = d.between(1, harvest - 1)
        w.calc(f"{p.He} keeps ", f"{harvest} - {given}", f" {crop}.")
        question = (
            f"{p.name} plants {rows} rows of {plant} with {per_row} plants in each row. Each plant gives {each} "
            f"{crop}. {p.He} gives {given} {crop} to {p.his} neighbors. How many {crop} does {p.he} keep?"
        )
    return question, w


@dataclass(frozen=True)
class ProblemShape:
    """One kind of word problem: how it is written, and the step counts it can be written in.

    Attributes:
        name: the shape's name (``shopping_change``).
        steps: the numbers of calculation lines its solutions can have.
        build: ``(draw, steps) -> (question, work)``.
    """

    name: str
    steps: frozenset[int]
    build: Shape


def _shapes(*rows: tuple[str, range | tuple[int, ...], Shape]) -> dict[str, ProblemShape]:
    return {name: ProblemShape(name, frozenset(steps), build) for name, steps, build in rows}


PROBLEMS: dict[str, ProblemShape] = _shapes(
    ("shopping_change", range(2, 7), _shopping_change),
    ("production_rate", (2, 3), _production),
    ("sharing_equally", (2, 3), _sharing),
    ("ages", (2, 3), _ages),
    ("percent_of_group", (2, 3), _percent_of_group),
    ("discount", (2, 3), _discount),
    ("animal_legs", (3, 4, 5), _animal_legs),
    ("unit_conversion", (2, 3), _unit_conversion),
    ("work_and_pay", (2, 3, 4), _work_pay),
    ("distance_speed", (2, 3), _distance),
    ("remaining_money", range(1, MAX_STEPS + 1), _remaining_money),
    ("how_many_more", (2, 3), _how_many_more),
    ("savings_goal", (2, 3), _savings_goal),
    ("recipe_scaling", (2, 3), _recipe),
    ("garden_area", (2, 3), _garden),
    ("field_trip", (2, 3), _field_trip),
    ("average_score", (2, 3), _average),
    ("reading_plan", (2, 3), _reading),
    ("packing_boxes", (2, 3), _packing),
    ("collection_changes", range(1, MAX_STEPS + 1), _events),
    ("ticket_sales", (3, 4), _tickets),
    ("fraction_of_group", (2, 3), _fraction_of_group),
    ("tank_filling", (2, 3), _tank),
    ("weekly_exercise", (3, 4), _weekly),
    ("profit", (2, 3), _profit),
    ("coins", (3, 4, 5), _coins),
    ("growing_sales", range(3, 8), _growing_sales),
    ("rows_of_plants", (2, 3), _orchard_rows),
)
"""Every problem shape by name."""


# --- one problem ------------------------------------------------------------------------


@dataclass(frozen=True)
class WordProblem:
    """A generated problem.

    Attributes:
        problem: the shape's name.
        question: the story and its question.
        solution: the worked solution, GSM8K style, ending ``#### <answer>``.
        answer: the exact answer: the value of the solution's last step.
        steps: the number of calculation lines in the solution.
    """

    problem: str
    question: str
    solution: str
    answer: int
    steps: int


def generate_problem(
    rng: random.Random,
    *,
    problems: Sequence[str] | None = None,
    min_steps: int = 2,
    max_steps: int = 4,
    size: int = 2,
) -> WordProblem:
    """A word problem drawn with ``rng`` alone.

    Args:
        rng: the only source of randomness.
        problems: shape names to draw from (default: all of ``PROBLEMS``);
            shapes that cannot be written in ``min_steps..max_steps`` steps are
            left out.
        min_steps, max_steps: the range of calculation lines in the solution.
        size: the ``SIZES`` preset the quantities are drawn from.

    Raises:
        ValueError: an unknown shape, an unknown size, or no shape that fits
            the step range.
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, got {size}")
    names = list(problems) if problems is not None else list(PROBLEMS)
    unknown = sorted(set(names) - set(PROBLEMS))
    if unknown:
        raise ValueError(f"unknown problems {unknown}; choose from {sorted(PROBLEMS)}")
    wanted = set(range(min_steps, max_steps + 1))
    fitting = [name for name in names if PROBLEMS[name].steps & wanted]
    if not fitting:
        raise ValueError(f"no problem among {sorted(names)} can be written in {min_steps}..{max_steps} steps")
    shape = PROBLEMS[rng.choice(fitting)]
    steps = rng.choice(sorted(shape.steps & wanted))
    question, work = shape.build(_Draw(rng, size), steps)
    if work.steps != steps or work.answer is None:  # pragma: no cover - a shape that miscounts is a bug
        raise AssertionError(f"{shape.name} wrote {work.steps} steps, not {steps}")
    return WordProblem(shape.name, question, work.solution(), work.answer, steps)
