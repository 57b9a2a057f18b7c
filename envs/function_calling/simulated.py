"""Simulated, deterministic implementations of every tool in ``tool_library.TOOLS``.

An environment that lets the model call functions needs something to answer
the call. ``simulate(name, arguments, seed)`` is that answer: the JSON object
the function returns in the world of task ``seed``, and the *facts* a reply to
the user must then state, so a verifier can check that the model's final
answer says what the function said (the temperature, the converted amount,
the booking's confirmation number) instead of guessing.

Determinism: a result is a pure function of ``(seed, name, arguments)``.
Each call draws from its own ``random.Random`` seeded with the JSON text of
``[seed, name, arguments]`` (keys sorted; Python's ``hash()`` is salted per
process and the global ``random`` is shared, so neither is used). Before
seeding, an argument that is ``null`` or equal to its schema's default
counts as left out, and a whole float counts as the integer (``80.0`` is
``80``): calls the function-calling verifier takes as the same call get the
same result. Any other change of an argument changes the draw, so a call
with wrong arguments gets a world whose facts the right call would not give.

Facts: one to three leaf values of the result (numbers, or short strings
such as a code or a condition) that a helpful answer states. Each lookup or
action has at least one that cannot be guessed without the call: a number
drawn from a wide range, or an id such as ``"EVT-48213"``. Pure computations (a tip, a
loan payment, a BMI, an age, a unit conversion) compute the true value from
the arguments; their facts are the computed values. Ages are counted on the
simulated world's today, ``2026-06-01`` (a Monday), which is also the first
day of a forecast and the default date of a call that gives none.

Arguments come from a model, so they are read leniently and ``simulate``
never raises: a missing value, ``null``, or one of the wrong type gives the
parameter's default; numbers written as strings (``"80"``) are read as
numbers; numbers are clamped into a sane range, so no input can overflow a
formula. An unknown function name gets a generic acknowledgement, ``{"status":
"ok", "reference": "REF-12345"}``, whose fact is the reference.
"""

from __future__ import annotations

import json
import math
import numbers
import random
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rlvr.envs.function_calling.tool_library import TOOLS

__all__ = ["Simulation", "simulate"]

_TODAY = date(2026, 6, 1)
"""The simulated world's today: ages are counted on it; forecasts start on it; the default date."""


@dataclass(frozen=True)
class Simulation:
    """What one simulated call returns.

    Attributes:
        result: the JSON object the function returns (plain JSON data only:
            dicts, lists, strings, finite numbers, booleans).
        facts: values from ``result`` (leaves of it) that a reply to the user
            must state: ints, floats, or short strings.
    """

    result: dict[str, Any]
    facts: tuple[Any, ...]


def simulate(name: str, arguments: Mapping[str, Any], seed: int) -> Simulation:
    """The result of calling tool ``name`` with ``arguments`` in the world of task ``seed``.

    Args:
        name: the function's name, a key of ``TOOLS``; any other name gets the
            generic ``{"status": "ok", "reference": ...}`` result.
        arguments: the call's arguments as the model wrote them (JSON-like;
            anything that is not a mapping counts as no arguments).
        seed: the task's seed; one seed is one world.

    Returns:
        The ``Simulation``: the same for the same ``(name, arguments, seed)``,
        in any process.
    """
    stated = _stated_arguments(name, arguments)
    rng = random.Random(json.dumps([_canonical(seed), name, stated], sort_keys=True))
    implementation = _IMPLEMENTATIONS.get(name, _generic)
    return implementation(_Arguments(stated), rng)


# --- arguments --------------------------------------------------------------------------------

_DEFAULTS: dict[str, dict[str, Any]] = {
    tool.name: {
        key: spec["default"] for key, spec in tool.schema["parameters"]["properties"].items() if "default" in spec
    }
    for tool in TOOLS.values()
}
_NOTHING = object()
_MAX_TEXT = 200
_MAX_ITEMS = 20


def _canonical(value: Any) -> Any:
    """``value`` as plain JSON data: whole floats as ints, other numbers as Python numbers, keys as strings."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return int(number) if number.is_integer() else number
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    return repr(value)


def _stated_arguments(name: str, arguments: Any) -> dict[str, Any]:
    """The arguments that say something: without nulls and values equal to the schema's default."""
    if not isinstance(arguments, Mapping):
        return {}
    defaults = _DEFAULTS.get(name, {})
    return {
        key: value
        for key, value in _canonical(arguments).items()
        if value is not None and defaults.get(key, _NOTHING) != value
    }


class _Arguments:
    """A call's arguments, read leniently: a missing value or one of the wrong type gives the default."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def text(self, key: str, default: str = "") -> str:
        """A non-empty string, stripped and cut to ``_MAX_TEXT`` characters."""
        value = self._values.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:_MAX_TEXT]
        return default

    def number(self, key: str, default: float, low: float = -1e9, high: float = 1e9) -> float:
        """A finite number (a numeric string counts), clamped to ``[low, high]``."""
        value = self._values.get(key)
        if isinstance(value, str):
            try:
                value = float(value.replace(",", "").strip())
            except ValueError:
                return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return default
        if isinstance(value, float) and not math.isfinite(value):
            return default
        clamped = min(max(value, low), high)
        return int(clamped) if isinstance(clamped, float) and clamped.is_integer() else clamped

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        """A whole number in ``[low, high]`` (a fractional one is rounded)."""
        return round(self.number(key, default, low, high))

    def flag(self, key: str, default: bool) -> bool:
        """A boolean; anything else gives the default."""
        value = self._values.get(key)
        return value if isinstance(value, bool) else default

    def texts(self, key: str) -> list[str]:
        """A list of non-empty strings (one string counts as a list of one); at most ``_MAX_ITEMS``."""
        value = self._values.get(key)
        items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        return [item.strip()[:_MAX_TEXT] for item in items if isinstance(item, str) and item.strip()][:_MAX_ITEMS]

    def day(self, key: str, default: date = _TODAY) -> date:
        """A ``YYYY-MM-DD`` date; anything else (or an impossible date) gives the default."""
        match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", self.text(key))
        if match:
            try:
                return date(*(int(part) for part in match.groups()))
            except ValueError:
                pass
        return default


# --- drawing -----------------------------------------------------------------------------------

_CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0 or 1: a code read aloud stays unambiguous


def _code(rng: random.Random, prefix: str) -> str:
    """An id like ``EVT-48213``: 90,000 possible values."""
    return f"{prefix}-{rng.randint(10000, 99999)}"


def _confirmation(rng: random.Random) -> str:
    """A six-character booking code like ``K7P4QX``."""
    return "".join(rng.choice(_CODE_LETTERS) for _ in range(6))


def _clock(minutes: int) -> str:
    """Minutes after midnight as ``HH:MM`` (wrapping past midnight)."""
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


def _minutes(text: str) -> int | None:
    """``HH:MM`` as minutes after midnight; ``None`` if it is not a time."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        return None
    return int(match.group(1)) * 60 + int(match.group(2))


def _quantity(value: float) -> float:
    """A measured quantity: 2 decimals, or 3 significant digits below 1 (so 0.0003 stays 0.0003)."""
    return round(value, 2) if abs(value) >= 1 else float(f"{value:.3g}")


_CITIES = (
    "Lyon", "Manchester", "Osaka", "Boston", "Hamburg", "Valencia", "Milan", "Montreal", "Melbourne", "Pune",
    "Accra", "Bogota", "Busan", "Denver", "Porto", "Bergen", "Cork", "Chiang Mai", "Leipzig", "Memphis",
)  # fmt: skip


# --- weather ------------------------------------------------------------------------------------

_CONDITIONS = ("sunny", "clear", "partly cloudy", "cloudy", "light rain", "rain", "thunderstorms", "fog", "windy")
_COLD_CONDITIONS = ("snow", "light snow", "cloudy", "clear", "fog")


def _temperature_unit(args: _Arguments) -> str:
    return "fahrenheit" if args.text("unit", "celsius").lower().startswith("f") else "celsius"


def _in_unit(celsius: float, unit: str) -> int:
    return round(celsius * 9 / 5 + 32) if unit == "fahrenheit" else round(celsius)


def _condition(rng: random.Random, celsius: float) -> str:
    return rng.choice(_COLD_CONDITIONS if celsius <= 1 else _CONDITIONS)


def _current_weather(args: _Arguments, rng: random.Random) -> Simulation:
    unit = _temperature_unit(args)
    celsius = rng.randint(-10, 40)
    result = {
        "location": args.text("location", "Paris"),
        "temperature": _in_unit(celsius, unit),
        "unit": unit,
        "condition": _condition(rng, celsius),
        "humidity_percent": rng.randint(20, 95),
        "wind_kph": rng.randint(0, 45),
    }
    return Simulation(result, (result["temperature"], result["condition"]))


def _weather_forecast(args: _Arguments, rng: random.Random) -> Simulation:
    unit = _temperature_unit(args)
    typical_high = rng.randint(-5, 33)  # the season at this place; each day varies around it
    days: list[dict[str, Any]] = []
    for offset in range(args.integer("days", 3, 1, 14)):
        high = typical_high + rng.randint(-4, 5)
        low = high - rng.randint(3, 12)
        days.append(
            {
                "date": (_TODAY + timedelta(days=offset)).isoformat(),
                "high": _in_unit(high, unit),
                "low": _in_unit(low, unit),
                "condition": _condition(rng, high),
                "chance_of_rain_percent": rng.randrange(0, 101, 5),
            }
        )
    result = {
        "location": args.text("location", "Paris"),
        "unit": unit,
        "highest": max(day["high"] for day in days),
        "lowest": min(day["low"] for day in days),
        "days": days,
    }
    return Simulation(result, (result["highest"], result["lowest"]))


# --- money -------------------------------------------------------------------------------------

_US_DOLLARS_PER_UNIT = {
    "USD": 1.0, "EUR": 1.08, "GBP": 1.27, "JPY": 0.0067, "CAD": 0.73, "AUD": 0.66, "CHF": 1.13, "INR": 0.012,
    "MXN": 0.055, "CNY": 0.138, "SEK": 0.095, "BRL": 0.18,
}  # fmt: skip
"""Rough exchange rates; each call moves them by up to 2%, and an unknown currency gets a drawn one."""

_STOCK_PRICES = {
    "AAPL": 190, "MSFT": 420, "TSLA": 250, "AMZN": 180, "NVDA": 120, "NFLX": 650, "KO": 62, "IBM": 190, "NKE": 90,
    "DIS": 100,
}  # fmt: skip
"""Rough share prices in US dollars; each call draws within 20% of them, an unknown symbol anywhere in 5..900."""


def _convert_currency(args: _Arguments, rng: random.Random) -> Simulation:
    amount = args.number("amount", 1, low=0, high=1e12)
    source = args.text("from_currency", "USD").upper()
    target = args.text("to_currency", "EUR").upper()
    source_usd = _US_DOLLARS_PER_UNIT.get(source) or 10 ** rng.uniform(-2, 1)
    target_usd = _US_DOLLARS_PER_UNIT.get(target) or 10 ** rng.uniform(-2, 1)
    rate = 1.0 if source == target else float(f"{source_usd / target_usd * rng.uniform(0.98, 1.02):.4g}")
    converted = round(amount * rate, 2)
    result = {
        "amount": amount,
        "from_currency": source,
        "to_currency": target,
        "rate": rate,
        "converted_amount": converted,
    }
    return Simulation(result, (converted, rate))


def _stock_price(args: _Arguments, rng: random.Random) -> Simulation:
    symbol = args.text("symbol", "AAPL").upper()
    base = _STOCK_PRICES.get(symbol)
    price = round(base * rng.uniform(0.8, 1.2) if base else 10 ** rng.uniform(math.log10(5), math.log10(900)), 2)
    result = {
        "symbol": symbol,
        "exchange": args.text("exchange", rng.choice(("NASDAQ", "NYSE"))),
        "price": price,
        "currency": "USD",
        "change_percent": round(rng.uniform(-4, 4), 2),
    }
    return Simulation(result, (price,))


# --- pure computations ---------------------------------------------------------------------------


def _tip(args: _Arguments, rng: random.Random) -> Simulation:
    bill = args.number("bill_amount", 0, low=0, high=1e9)
    percentage = args.number("tip_percentage", 15, low=0, high=1000)
    tip = round(bill * percentage / 100, 2)
    result = {
        "bill_amount": bill,
        "tip_percentage": percentage,
        "tip_amount": tip,
        "total_amount": round(bill + tip, 2),
    }
    return Simulation(result, (result["tip_amount"], result["total_amount"]))


def _loan_payment(args: _Arguments, rng: random.Random) -> Simulation:
    """The standard amortisation formula: ``P r / (1 - (1 + r)^-n)``, ``r`` the monthly rate, ``n`` the months."""
    principal = args.number("principal", 10000, low=0, high=1e12)
    annual_rate = args.number("annual_interest_rate", 5, low=0, high=100)
    years = args.integer("term_years", 10, 1, 100)
    monthly_rate, months = annual_rate / 100 / 12, years * 12
    if monthly_rate == 0:
        payment = principal / months
    else:
        payment = principal * monthly_rate / (1 - (1 + monthly_rate) ** -months)
    result = {
        "principal": principal,
        "annual_interest_rate": annual_rate,
        "term_years": years,
        "monthly_payment": round(payment, 2),
        "total_payment": round(payment * months, 2),
        "total_interest": round(payment * months - principal, 2),
    }
    return Simulation(result, (result["monthly_payment"],))


def _bmi(args: _Arguments, rng: random.Random) -> Simulation:
    weight = args.number("weight_kg", 70, low=1, high=1000)
    height = args.number("height_m", 1.7, low=0.3, high=3)
    bmi = round(weight / height**2, 1)
    category = "underweight" if bmi < 18.5 else "normal" if bmi < 25 else "overweight" if bmi < 30 else "obese"
    result = {"weight_kg": weight, "height_m": height, "bmi": bmi, "category": category}
    return Simulation(result, (bmi, category))


def _age(args: _Arguments, rng: random.Random) -> Simulation:
    """Whole years from the birth date to ``_TODAY`` (negative for a date after it)."""
    born = args.day("birth_date", date(2000, 1, 1))
    age = _TODAY.year - born.year - ((_TODAY.month, _TODAY.day) < (born.month, born.day))
    result = {"birth_date": born.isoformat(), "as_of": _TODAY.isoformat(), "age_years": age}
    return Simulation(result, (age,))


# Each unit's size in its quantity's base unit (meter, gram, liter); US gallons and cups.
_UNIT_SIZES = {
    "meters": ("length", 1.0), "kilometers": ("length", 1000.0), "centimeters": ("length", 0.01),
    "millimeters": ("length", 0.001), "miles": ("length", 1609.344), "yards": ("length", 0.9144),
    "feet": ("length", 0.3048), "inches": ("length", 0.0254),
    "grams": ("mass", 1.0), "kilograms": ("mass", 1000.0), "milligrams": ("mass", 0.001),
    "pounds": ("mass", 453.59237), "ounces": ("mass", 28.349523125),
    "liters": ("volume", 1.0), "milliliters": ("volume", 0.001), "gallons": ("volume", 3.785411784),
    "cups": ("volume", 0.2365882365),
}  # fmt: skip
_UNIT_ALIASES = {
    "m": "meters", "km": "kilometers", "cm": "centimeters", "mm": "millimeters", "mi": "miles", "yd": "yards",
    "ft": "feet", "foot": "feet", "in": "inches", "inch": "inches", "g": "grams", "kg": "kilograms",
    "mg": "milligrams", "lb": "pounds", "lbs": "pounds", "oz": "ounces", "l": "liters", "ml": "milliliters",
    "gal": "gallons", "c": "celsius", "°c": "celsius", "f": "fahrenheit", "°f": "fahrenheit", "k": "kelvin",
}  # fmt: skip
_TO_CELSIUS = {"celsius": lambda t: t, "fahrenheit": lambda t: (t - 32) * 5 / 9, "kelvin": lambda t: t - 273.15}
_FROM_CELSIUS = {"celsius": lambda t: t, "fahrenheit": lambda t: t * 9 / 5 + 32, "kelvin": lambda t: t + 273.15}


def _unit_name(text: str) -> str:
    """A unit's canonical name: ``"km"``, ``"kilometre"`` and ``"Kilometers"`` are all ``"kilometers"``."""
    name = text.lower().strip().removeprefix("degrees ").replace("metre", "meter").replace("litre", "liter")
    name = _UNIT_ALIASES.get(name, name)
    return name + "s" if name + "s" in _UNIT_SIZES else name


def _known_conversion(value: float, source: str, target: str) -> float | None:
    """``value`` in ``source`` units converted to ``target`` units; ``None`` for a pair with no real factor."""
    if source in _TO_CELSIUS and target in _FROM_CELSIUS:
        return _FROM_CELSIUS[target](_TO_CELSIUS[source](value))
    if source in _UNIT_SIZES and target in _UNIT_SIZES and _UNIT_SIZES[source][0] == _UNIT_SIZES[target][0]:
        return value * _UNIT_SIZES[source][1] / _UNIT_SIZES[target][1]
    return None


def _convert_units(args: _Arguments, rng: random.Random) -> Simulation:
    value = args.number("value", 1)
    source = _unit_name(args.text("from_unit", "meters"))
    target = _unit_name(args.text("to_unit", "feet"))
    converted = _known_conversion(value, source, target)
    if converted is None:  # an unknown unit, or two of different quantities: a made-up factor
        converted = value * float(f"{10 ** rng.uniform(-2, 2):.4g}")
    result = {"value": value, "from_unit": source, "to_unit": target, "result": _quantity(converted)}
    return Simulation(result, (result["result"],))


_SYMBOLS = "!#$%&*+-=?@^_"


def _password(args: _Arguments, rng: random.Random) -> Simulation:
    """A drawn password with at least one character of each class asked for."""
    length = args.integer("length", 16, 4, 128)
    classes = [string.ascii_lowercase, string.ascii_uppercase]
    if args.flag("include_numbers", True):
        classes.append(string.digits)
    if args.flag("include_symbols", True):
        classes.append(_SYMBOLS)
    characters = [rng.choice(group) for group in classes]
    characters += [rng.choice("".join(classes)) for _ in range(length - len(characters))]
    rng.shuffle(characters)
    password = "".join(characters)
    result = {
        "password": password,
        "length": length,
        "include_numbers": string.digits in classes,
        "include_symbols": _SYMBOLS in classes,
    }
    return Simulation(result, (password,))


# --- action tools: a confirmation with a drawn id, echoing the key arguments ---------------------


def _calendar_event(args: _Arguments, rng: random.Random) -> Simulation:
    start = args.text("start_time", "09:00")
    duration = args.integer("duration_minutes", 60, 1, 24 * 60)
    result = {
        "status": "created",
        "event_id": _code(rng, "EVT"),
        "title": args.text("title", "Event"),
        "date": args.day("date").isoformat(),
        "start_time": start,
        "duration_minutes": duration,
        "attendees": args.texts("attendees"),
    }
    start_minutes = _minutes(start)
    if start_minutes is not None:
        result["end_time"] = _clock(start_minutes + duration)
    return Simulation(result, (result["event_id"],))


def _email(args: _Arguments, rng: random.Random) -> Simulation:
    result = {
        "status": "sent",
        "message_id": _code(rng, "MSG"),
        "to": args.texts("to"),
        "cc": args.texts("cc"),
        "subject": args.text("subject"),
    }
    return Simulation(result, (result["message_id"],))


def _text_message(args: _Arguments, rng: random.Random) -> Simulation:
    result = {"status": "sent", "message_id": _code(rng, "SMS"), "phone_number": args.text("phone_number")}
    return Simulation(result, (result["message_id"],))


def _reminder(args: _Arguments, rng: random.Random) -> Simulation:
    result = {
        "status": "scheduled",
        "reminder_id": _code(rng, "REM"),
        "message": args.text("message"),
        "date": args.day("date").isoformat(),
        "time": args.text("time", "09:00"),
    }
    return Simulation(result, (result["reminder_id"],))


def _todo_item(args: _Arguments, rng: random.Random) -> Simulation:
    result = {
        "status": "added",
        "item_id": _code(rng, "TODO"),
        "task": args.text("task"),
        "priority": args.text("priority", "medium"),
    }
    if args.text("due_date"):
        result["due_date"] = args.day("due_date").isoformat()
    return Simulation(result, (result["item_id"],))


def _restaurant(args: _Arguments, rng: random.Random) -> Simulation:
    result = {
        "status": "confirmed",
        "confirmation_number": _confirmation(rng),
        "restaurant_name": args.text("restaurant_name", "the restaurant"),
        "date": args.day("date").isoformat(),
        "time": args.text("time", "19:00"),
        "party_size": args.integer("party_size", 2, 1, 100),
        "special_requests": args.text("special_requests"),
    }
    return Simulation(result, (result["confirmation_number"],))


def _timer(args: _Arguments, rng: random.Random) -> Simulation:
    result = {
        "status": "running",
        "timer_id": _code(rng, "TMR"),
        "duration_seconds": args.integer("duration_seconds", 60, 1, 7 * 24 * 3600),
        "label": args.text("label"),
    }
    return Simulation(result, (result["timer_id"],))


def _alarm(args: _Arguments, rng: random.Random) -> Simulation:
    result = {
        "status": "set",
        "alarm_id": _code(rng, "ALM"),
        "time": args.text("time", "07:00"),
        "days": [day.lower() for day in args.texts("days")],
        "label": args.text("label"),
    }
    return Simulation(result, (result["alarm_id"],))


_SPEAKERS = ("Living room speaker", "Kitchen speaker", "Bedroom speaker", "Office speaker")


def _play_song(args: _Arguments, rng: random.Random) -> Simulation:
    result: dict[str, Any] = {
        "status": "playing",
        "playback_id": _code(rng, "PLY"),
        "title": args.text("title", "a song"),
        "device": rng.choice(_SPEAKERS),
    }
    if args.text("artist"):
        result["artist"] = args.text("artist")
    result["volume"] = args.integer("volume", rng.randrange(20, 81, 5), 0, 100)
    return Simulation(result, (result["playback_id"],))


def _thermostat(args: _Arguments, rng: random.Random) -> Simulation:
    """The target is set; the fact is the room's current temperature, a drawn reading within 6 degrees of it."""
    unit = _temperature_unit(args)
    target = args.number("temperature", 21, low=-100, high=200)
    result = {
        "status": "ok",
        "room": args.text("room", "main"),
        "target_temperature": target,
        "unit": unit,
        "current_temperature": round(target + rng.uniform(-6, 6), 1),
    }
    return Simulation(result, (result["current_temperature"],))


_HOTEL_WORDS = (
    "Harbor", "Meridian", "Linden", "Aurora", "Granite", "Willow", "Beacon", "Saffron", "Juniper", "Solstice",
    "Cedar", "Marigold", "Atlas", "Lumen", "Riverside", "Crescent",
)  # fmt: skip
_HOTEL_KINDS = ("Hotel", "Inn", "Suites", "Grand Hotel", "Boutique Hotel")


def _hotel(args: _Arguments, rng: random.Random) -> Simulation:
    check_in = args.day("check_in_date")
    check_out = args.day("check_out_date", check_in + timedelta(days=1))
    if check_out <= check_in:  # a stay is at least one night
        check_out = check_in + timedelta(days=1)
    nights = (check_out - check_in).days
    rooms = args.integer("rooms", 1, 1, 50)
    nightly = rng.randint(70, 450)
    result = {
        "status": "confirmed",
        "confirmation_number": _confirmation(rng),
        "hotel_name": f"{rng.choice(_HOTEL_WORDS)} {rng.choice(_HOTEL_KINDS)}",
        "city": args.text("city", "Paris"),
        "check_in_date": check_in.isoformat(),
        "check_out_date": check_out.isoformat(),
        "nights": nights,
        "guests": args.integer("guests", 1, 1, 100),
        "rooms": rooms,
        "price_per_night": nightly,
        "total_price": nightly * nights * rooms,
        "currency": "USD",
    }
    return Simulation(result, (result["hotel_name"], result["confirmation_number"], result["total_price"]))


_DRIVERS = ("Maria", "Ahmed", "Chen", "Olga", "Tunde", "Priya", "Lucas", "Aiko", "Mateo", "Nadia", "Sam", "Ines")
_CARS = ("Toyota Camry", "Honda Accord", "Tesla Model 3", "Hyundai Ioniq", "Ford Fusion", "Kia Niro")
_RIDE_FARE_FACTORS = {"standard": 1.0, "xl": 1.5, "premium": 2.2}


def _ride(args: _Arguments, rng: random.Random) -> Simulation:
    ride_type = args.text("ride_type", "standard").lower()
    plate = f"{rng.randint(1, 9)}{''.join(rng.choice(string.ascii_uppercase) for _ in range(3))}{rng.randint(100, 999)}"
    result = {
        "status": "driver_assigned",
        "ride_id": _code(rng, "RIDE"),
        "pickup_location": args.text("pickup_location"),
        "destination": args.text("destination"),
        "ride_type": ride_type,
        "driver_name": rng.choice(_DRIVERS),
        "car": rng.choice(_CARS),
        "license_plate": plate,
        "eta_minutes": rng.randint(2, 15),
        "fare_estimate": round(rng.uniform(8, 60) * _RIDE_FARE_FACTORS.get(ride_type, 1.0), 2),
        "currency": "USD",
    }
    return Simulation(result, (result["license_plate"], result["eta_minutes"]))


# --- travel --------------------------------------------------------------------------------------

_AIRLINES = ("BA", "UA", "LH", "AF", "DL", "AA", "KL", "EK", "QF", "IB", "LX", "SQ")
_CABIN_FACTORS = {"economy": 1.0, "premium_economy": 1.6, "business": 3.5, "first": 6.0}


def _flights(args: _Arguments, rng: random.Random) -> Simulation:
    """Two to four flights, cheapest first; the facts are the cheapest one's number and fare per passenger."""
    cabin = args.text("cabin_class", "economy").lower()
    passengers = args.integer("passengers", 1, 1, 9)
    nonstop = args.flag("nonstop_only", False)
    return_date = args.text("return_date")
    fare_factor = _CABIN_FACTORS.get(cabin, 1.0) * (1.8 if return_date else 1.0)
    flights: list[dict[str, Any]] = []
    for _ in range(rng.randint(2, 4)):
        departure = rng.randrange(5 * 60, 23 * 60, 5)
        duration = rng.randrange(60, 900, 5)
        price = round(rng.uniform(80, 1500) * fare_factor, 2)
        flights.append(
            {
                "flight_number": f"{rng.choice(_AIRLINES)}{rng.randint(10, 9999)}",
                "departure_time": _clock(departure),
                "arrival_time": _clock(departure + duration),
                "duration_minutes": duration,
                "stops": 0 if nonstop else rng.choice((0, 0, 1, 1, 2)),
                "price": price,
                "total_price": round(price * passengers, 2),
            }
        )
    flights.sort(key=lambda flight: flight["price"])
    result: dict[str, Any] = {
        "origin": args.text("origin", "JFK"),
        "destination": args.text("destination", "LHR"),
        "departure_date": args.day("departure_date").isoformat(),
        "passengers": passengers,
        "cabin_class": cabin,
        "currency": "USD",
        "flights": flights,
    }
    if return_date:
        result["return_date"] = args.day("return_date").isoformat()
    return Simulation(result, (flights[0]["flight_number"], flights[0]["price"]))


def _flight_status(args: _Arguments, rng: random.Random) -> Simulation:
    scheduled = rng.randrange(5 * 60, 23 * 60, 5)
    delay = rng.randrange(10, 181, 5) if rng.random() < 0.35 else 0
    result = {
        "flight_number": args.text("flight_number", "BA117").upper(),
        "date": args.day("date").isoformat(),
        "status": "delayed" if delay else "on time",
        "gate": f"{rng.choice('ABCDEF')}{rng.randint(1, 60)}",
        "scheduled_departure": _clock(scheduled),
        "estimated_departure": _clock(scheduled + delay),
        "delay_minutes": delay,
    }
    facts = (result["status"], result["gate"], delay) if delay else (result["status"], result["gate"])
    return Simulation(result, facts)


_TRAVEL_SPEEDS_KPH = {"driving": 35, "walking": 5, "bicycling": 15, "transit": 22}
_STREETS = ("Main St", "5th Ave", "Broadway", "Park Ave", "River Rd", "Market St", "Lexington Ave", "Canal St")


def _directions(args: _Arguments, rng: random.Random) -> Simulation:
    mode = args.text("mode", "driving").lower()
    distance = round(rng.uniform(0.5, 8) if mode == "walking" else rng.uniform(1, 40), 1)
    minutes = round(distance / _TRAVEL_SPEEDS_KPH.get(mode, 35) * 60) + rng.randint(1, 6)
    result = {
        "origin": args.text("origin"),
        "destination": args.text("destination"),
        "mode": mode,
        "distance_km": distance,
        "duration_minutes": minutes,
        "route": f"via {rng.choice(_STREETS)}",
    }
    return Simulation(result, (distance, minutes))


def _current_time(args: _Arguments, rng: random.Random) -> Simulation:
    result = {
        "timezone": args.text("timezone", "UTC"),
        "date": _TODAY.isoformat(),
        "local_time": _clock(rng.randrange(24 * 60)),
    }
    return Simulation(result, (result["local_time"],))


_PLACE_NAMES = (
    "Corner", "Central", "Greenway", "Oak Street", "Riverside", "Main Street", "Parkview", "Sunrise", "Harbor",
    "Maple", "Union", "Elm", "Northside", "Hillcrest", "Lakeside", "Market",
)  # fmt: skip
_PLACE_NOUNS = {
    "pharmacy": "Pharmacy", "gas_station": "Gas", "cafe": "Cafe", "atm": "Bank ATM", "hospital": "General Hospital",
    "supermarket": "Market", "restaurant": "Bistro",
}  # fmt: skip


def _nearby_places(args: _Arguments, rng: random.Random) -> Simulation:
    """Three places within the radius, nearest first; the facts are the nearest one's name and distance."""
    place_type = args.text("place_type", "restaurant").lower()
    radius = args.integer("radius_meters", 1000, 100, 50000)
    noun = _PLACE_NOUNS.get(place_type, place_type.replace("_", " ").title())
    places: list[dict[str, Any]] = [
        {
            "name": f"{name} {noun}",
            "distance_meters": rng.randint(20, radius),
            "rating": round(rng.uniform(3, 5), 1),
            "open_now": rng.random() < 0.8,
        }
        for name in rng.sample(_PLACE_NAMES, 3)
    ]
    places.sort(key=lambda place: place["distance_meters"])
    result = {"location": args.text("location"), "place_type": place_type, "radius_meters": radius, "places": places}
    return Simulation(result, (places[0]["name"], places[0]["distance_meters"]))


_PACKAGE_STATUSES = ("in transit", "out for delivery", "delivered")


def _track_package(args: _Arguments, rng: random.Random) -> Simulation:
    number = args.text("tracking_number", "1Z0000000000000000").upper()
    detected = "ups" if number.startswith("1Z") else rng.choice(("fedex", "usps", "dhl"))
    status = rng.choice(_PACKAGE_STATUSES)
    if status == "delivered":
        when = _TODAY - timedelta(days=rng.randint(0, 3))
    elif status == "out for delivery":
        when = _TODAY
    else:
        when = _TODAY + timedelta(days=rng.randint(1, 9))
    result = {
        "tracking_number": number,
        "carrier": args.text("carrier", detected).lower(),
        "status": status,
        "location": rng.choice(_CITIES),
        "delivery_date": when.isoformat(),
    }
    return Simulation(result, (status, result["location"], result["delivery_date"]))


# --- information -----------------------------------------------------------------------------

_SITES = (
    "TrailTalk", "GreenThumb Weekly", "TechRadar Lab", "HowToHub", "The Daily Explainer", "WikiAtlas", "Gearlab",
    "KitchenNotes", "CityGuide", "AskAnExpert", "ScienceDigest", "DevForum",
)  # fmt: skip
_TITLE_FORMS = (
    "{query}: a complete guide", "{query} - what you need to know", "The truth about {query}",
    "{query}, explained", "Everything about {query}", "{query}: tips from experts", "A beginner's look at {query}",
    "{query} in 10 minutes",
)  # fmt: skip


def _web_search(args: _Arguments, rng: random.Random) -> Simulation:
    query = args.text("query", "news")
    slug = "-".join(re.findall(r"[a-z0-9]+", query.lower())[:6]) or "page"
    results = []
    for _ in range(args.integer("num_results", 10, 1, 20)):
        site = rng.choice(_SITES)
        title = rng.choice(_TITLE_FORMS).format(query=query)
        results.append(
            {
                "title": f"{title[0].upper()}{title[1:]} | {site}",
                "url": f"https://{site.lower().replace(' ', '')}.example.com/{slug}-{rng.randint(1000, 99999)}",
                "snippet": f"{site} on {query}.",
            }
        )
    return Simulation({"query": query, "results": results}, (results[0]["title"],))


_SYLLABLES = ("ka", "lo", "mi", "ren", "ta", "vo", "su", "de", "na", "ri", "el", "po", "an", "te", "lu", "ser")


def _translation(args: _Arguments, rng: random.Random) -> Simulation:
    """A made-up translation (drawn words, one per word of the text), so only the call can tell it."""
    text = args.text("text", "Hello.")
    count = min(max(len(re.findall(r"\w+", text)), 1), 40)
    words = ["".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 3))) for _ in range(count)]
    translated = " ".join(words).capitalize() + (text[-1] if text[-1] in ".?!" else "")
    result = {
        "translated_text": translated,
        "source_language": args.text("source_language", "en").lower(),
        "target_language": args.text("target_language", "es").lower(),
    }
    return Simulation(result, (translated,))


_HEADLINES = {
    "business": (
        "Shares of a {place} retailer jump {n}% after earnings beat",
        "{place} startup raises ${n} million in new funding round",
        "Port of {place} reports {n}% rise in cargo volumes",
    ),
    "entertainment": (
        "{place} film festival announces {n} films in competition",
        "Concert tour adds {n} new dates including {place}",
        "Streaming drama set in {place} draws {n} million viewers in first week",
    ),
    "health": (
        "Study of {n},000 adults links daily walks to better sleep",
        "{place} hospitals report {n}% drop in flu cases",
        "New clinic in {place} cuts waiting times by {n} days",
    ),
    "science": (
        "Astronomers spot {n} new exoplanets around a nearby red dwarf",
        "{place} lab unveils battery that charges in {n} minutes",
        "Deep-sea survey off {place} finds {n} unknown species",
    ),
    "sports": (
        "{place} FC extends unbeaten run to {n} matches",
        "Marathon in {place} draws a record {n},000 runners",
        "Rookie scores {n} points as {place} clinches playoff spot",
    ),
    "technology": (
        "{place} chipmaker unveils processor with {n} cores",
        "New phone battery lasts {n} hours in independent tests",
        "{place} rolls out free public Wi-Fi across {n} neighbourhoods",
    ),
}
_NEWS_SOURCES = ("Reuters Wire", "Daily Ledger", "Morning Post", "Global Times Online", "The Courier")


def _news(args: _Arguments, rng: random.Random) -> Simulation:
    category = args.text("category", "business").lower()
    forms = _HEADLINES.get(category, tuple(form for forms in _HEADLINES.values() for form in forms))
    headlines = [
        {
            "title": rng.choice(forms).format(place=rng.choice(_CITIES), n=rng.randint(3, 99)),
            "source": rng.choice(_NEWS_SOURCES),
            "published_at": f"{_TODAY.isoformat()}T{_clock(rng.randrange(0, 12 * 60))}:00Z",
        }
        for _ in range(args.integer("page_size", 10, 1, 50))
    ]
    result = {"category": category, "country": args.text("country", "us").lower(), "headlines": headlines}
    return Simulation(result, (headlines[0]["title"],))


# Title (lower case) -> year, director, leading cast, plot. Other titles get a drawn director, cast and plot.
_MOVIES = {
    "inception": (2010, "Christopher Nolan", ("Leonardo DiCaprio", "Joseph Gordon-Levitt", "Elliot Page"),
                  "A thief who steals secrets from dreams is hired to plant an idea in a mind instead."),
    "the matrix": (1999, "Lana and Lilly Wachowski", ("Keanu Reeves", "Laurence Fishburne", "Carrie-Anne Moss"),
                   "A hacker learns that the world he knows is a simulation run by machines."),
    "parasite": (2019, "Bong Joon-ho", ("Song Kang-ho", "Lee Sun-kyun", "Cho Yeo-jeong"),
                 "A poor family schemes its way into working for a wealthy household."),
    "spirited away": (2001, "Hayao Miyazaki", ("Rumi Hiiragi", "Miyu Irino", "Mari Natsuki"),
                      "A girl trapped in a world of spirits works in a bathhouse to free her parents."),
    "the godfather": (1972, "Francis Ford Coppola", ("Marlon Brando", "Al Pacino", "James Caan"),
                      "The ageing head of a crime family hands his empire to his reluctant son."),
    "arrival": (2016, "Denis Villeneuve", ("Amy Adams", "Jeremy Renner", "Forest Whitaker"),
                "A linguist races to understand the language of alien visitors before it comes to war."),
    "interstellar": (2014, "Christopher Nolan", ("Matthew McConaughey", "Anne Hathaway", "Jessica Chastain"),
                     "Astronauts travel through a wormhole in search of a new home for humanity."),
    "casablanca": (1942, "Michael Curtiz", ("Humphrey Bogart", "Ingrid Bergman", "Paul Henreid"),
                   "A nightclub owner in wartime Morocco must choose between love and helping his old flame escape."),
    "up": (2009, "Pete Docter", ("Ed Asner", "Jordan Nagai", "Christopher Plummer"),
           "A widower flies his house to South America on balloons, with a young scout aboard by accident."),
    "dune": (2021, "Denis Villeneuve", ("Timothée Chalamet", "Rebecca Ferguson", "Oscar Isaac"),
             "The heir of a noble family is drawn into a war over the desert planet Arrakis."),
}  # fmt: skip
_FILM_PEOPLE = (
    "Mara Lindqvist", "Tomas Okafor", "Elena Petrova", "Jun Watanabe", "Sofia Marquez", "David Achebe",
    "Ingrid Holm", "Rafael Duarte", "Amara Nwosu", "Felix Brandt", "Leila Haddad", "Oren Castillo",
)  # fmt: skip
_FILM_HEROES = ("A retired detective", "Two estranged sisters", "A young pilot", "A small-town teacher", "A chef")
_FILM_PLOTS = (
    "must solve one last case", "reunite for a road trip across the country", "crash-lands on a remote island",
    "uncovers a secret that could change the town", "opens a restaurant against all odds",
)  # fmt: skip


def _movie(args: _Arguments, rng: random.Random) -> Simulation:
    """Known titles keep their real director, cast and plot; the rating (out of 10) is always drawn."""
    title = args.text("title", "Untitled")
    known = _MOVIES.get(title.lower())
    year = args.integer("year", known[0] if known else rng.randint(1960, 2025), 1880, 2100)
    if known and year == known[0]:
        director, cast, plot = known[1], list(known[2]), known[3]
    else:
        people = rng.sample(_FILM_PEOPLE, 4)
        director, cast = people[0], people[1:]
        plot = f"{rng.choice(_FILM_HEROES)} {rng.choice(_FILM_PLOTS)}."
    rating = rng.randint(50, 99) / 10
    result = {"title": title, "year": year, "director": director, "cast": cast, "plot": plot, "rating": rating}
    return Simulation(result, (director, rating))


# Word -> part of speech, definition. Other words get a drawn one.
_WORDS = {
    "serendipity": ("noun", "the occurrence of fortunate events by chance"),
    "ephemeral": ("adjective", "lasting for a very short time"),
    "ubiquitous": ("adjective", "present or found everywhere"),
    "laconic": ("adjective", "using very few words"),
    "quixotic": ("adjective", "idealistic to the point of being impractical"),
    "petrichor": ("noun", "the earthy smell of rain falling on dry ground"),
    "sonder": ("noun", "the sense that every passer-by has a life as vivid as your own"),
    "mellifluous": ("adjective", "sweet and smooth to hear"),
}
_MADE_UP_DEFINITIONS = (
    ("noun", "a small tool used in {field}"),
    ("noun", "a person who studies {field}"),
    ("adjective", "relating to {field}"),
    ("verb", "to practise {field} without training"),
)
_FIELDS = ("weaving", "astronomy", "beekeeping", "sailing", "pottery", "bookbinding", "botany", "glassmaking")


def _definition(args: _Arguments, rng: random.Random) -> Simulation:
    """Known words keep their meaning; the year of first known use is drawn."""
    word = args.text("word", "word")
    part_of_speech, definition = _WORDS.get(word.lower()) or rng.choice(_MADE_UP_DEFINITIONS)
    definition = definition.format(field=rng.choice(_FIELDS))
    result = {
        "word": word,
        "part_of_speech": part_of_speech,
        "definition": definition,
        "first_known_use": rng.randint(1400, 1950),
    }
    return Simulation(result, (definition, result["first_known_use"]))


_DISH_WORDS = ("Smoky", "Zesty", "Creamy", "Crispy", "Spicy", "Golden", "Herby", "Garlicky", "Sticky", "Rustic")
_DISHES = ("stir-fry", "curry", "bake", "salad", "stew", "bowl", "skillet", "soup")


def _recipes(args: _Arguments, rng: random.Random) -> Simulation:
    """Two or three recipes, quickest first; the facts are the first one's name and preparation time."""
    ingredients = args.texts("ingredients") or ["vegetables"]
    cuisine = args.text("cuisine")
    longest = args.integer("max_prep_minutes", 90, 5, 600)
    recipes: list[dict[str, Any]] = []
    for _ in range(rng.randint(2, 3)):
        main = " and ".join(rng.sample(ingredients, min(2, len(ingredients))))
        words = [rng.choice(_DISH_WORDS), *([cuisine] if cuisine else []), main, rng.choice(_DISHES)]
        recipes.append(
            {
                "name": " ".join(words),
                "prep_minutes": rng.randint(min(5, longest), longest),
                "ingredients": ingredients,
                "calories_per_serving": rng.randint(250, 900),
            }
        )
    recipes.sort(key=lambda recipe: recipe["prep_minutes"])
    result = {"ingredients": ingredients, "cuisine": cuisine, "recipes": recipes}
    return Simulation(result, (recipes[0]["name"], recipes[0]["prep_minutes"]))


# --- any other name ----------------------------------------------------------------------------


def _generic(args: _Arguments, rng: random.Random) -> Simulation:
    """An unknown function: a bare acknowledgement with a drawn reference."""
    reference = _code(rng, "REF")
    return Simulation({"status": "ok", "reference": reference}, (reference,))


# The table of implementations: function name -> (arguments, rng) -> Simulation. One entry per tool in TOOLS.
_IMPLEMENTATIONS: dict[str, Callable[[_Arguments, random.Random], Simulation]] = {
    "get_current_weather": _current_weather,
    "get_weather_forecast": _weather_forecast,
    "convert_currency": _convert_currency,
    "create_calendar_event": _calendar_event,
    "search_web": _web_search,
    "convert_units": _convert_units,
    "send_email": _email,
    "send_text_message": _text_message,
    "get_stock_price": _stock_price,
    "translate_text": _translation,
    "set_reminder": _reminder,
    "add_todo_item": _todo_item,
    "book_restaurant": _restaurant,
    "search_flights": _flights,
    "check_flight_status": _flight_status,
    "set_timer": _timer,
    "set_alarm": _alarm,
    "get_news_headlines": _news,
    "calculate_tip": _tip,
    "calculate_loan_payment": _loan_payment,
    "calculate_bmi": _bmi,
    "calculate_age": _age,
    "generate_password": _password,
    "get_movie_details": _movie,
    "find_nearby_places": _nearby_places,
    "get_directions": _directions,
    "play_song": _play_song,
    "get_current_time": _current_time,
    "set_thermostat": _thermostat,
    "search_recipes": _recipes,
    "book_hotel": _hotel,
    "get_word_definition": _definition,
    "track_package": _track_package,
    "request_ride": _ride,
}
