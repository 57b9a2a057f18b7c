"""FunctionCalling-v0's offline tools: realistic function schemas and the requests that call them.

Every tool in ``TOOLS`` is a function schema in OpenAI's format::

    {"name": "get_current_weather", "description": "...",
     "parameters": {"type": "object", "properties": {...}, "required": [...]}}

with string, integer, number, boolean, enum and array parameters, required
and optional ones, and a set of request phrasings (``Phrase``). A phrasing is
a ``str.format`` template whose slots are filled with the task's
``random.Random``: a slot (``Slot``) draws the text that goes into the request
*and* the exact argument value it stands for, so ``"on March 3, 2026 at
3:30 PM"`` comes with ``date="2026-03-03"`` and ``time="15:30"``, and
``"Convert 250 euros to yen"`` with ``amount=250, from_currency="EUR",
to_currency="JPY"``. Some slots also name other acceptable values (a city
given as ``"Paris"`` may be passed as ``"Paris, France"``).

Besides its complete requests, a tool may have *incomplete* phrasings: a
request for the tool that leaves out a required argument (``"What's the
weather like outside right now?"`` gives no location). The right response to
one is no call but a question back, which is how the environment makes its
"required information is missing" cases.

Tools that could serve one another's requests (email and text message,
reminders and to-do items, timers and alarms, current weather and forecast)
share a ``group``, so a request is never shown with a near-duplicate of its
tool standing in as a "distractor" or as the only tool on offer.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

__all__ = ["GROUPS", "TOOLS", "Fill", "Phrase", "Request", "Slot", "Tool", "tool"]


@dataclass(frozen=True)
class Fill:
    """One filled slot.

    Attributes:
        text: what goes into the request (``"March 3, 2026"``).
        value: the argument it stands for (``"2026-03-03"``).
        also: other values a correct call may pass for it (``("Paris, France",)``).
    """

    text: str
    value: Any
    also: tuple[Any, ...] = ()


Slot = Callable[[random.Random], Any]
"""``rng -> Fill`` for one argument, or ``rng -> tuple[Fill, ...]`` for a joint slot of several."""


@dataclass(frozen=True)
class Request:
    """A user request for one tool, with the exact call it asks for.

    Attributes:
        tool: the tool's name.
        text: the request as the user writes it.
        arguments: the argument values the request states (canonical ones,
            valid against the tool's schema when the request is complete).
        alternatives: other acceptable values per argument, if any.
        missing: required arguments the request leaves out (empty for a
            complete request, which the tool can serve as it stands).
    """

    tool: str
    text: str
    arguments: dict[str, Any]
    alternatives: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Phrase:
    """One way of asking for a tool: a template and the slots that fill it.

    Attributes:
        text: a ``str.format`` template over the slot names (``"Weather in {location}?"``).
        slots: argument name -> ``Slot``. A tuple of names is a joint slot
            drawing several arguments at once (two distinct currencies, a
            check-in date before a check-out date). A name starting with
            ``_`` fills text only, no argument.
        fixed: arguments the wording implies without a slot (``"nonstop"``:
            ``nonstop_only=True``).
        missing: required arguments the wording leaves out; non-empty makes
            this an incomplete request, answered with a question, not a call.
    """

    text: str
    slots: Mapping[str | tuple[str, ...], Slot] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    def draw(self, tool: str, rng: random.Random) -> Request:
        """The phrase filled with ``rng``: the request text and the arguments it states."""
        texts: dict[str, str] = {}
        arguments: dict[str, Any] = dict(self.fixed)
        alternatives: dict[str, tuple[Any, ...]] = {}
        for names, slot in self.slots.items():
            keys = names if isinstance(names, tuple) else (names,)
            fills = slot(rng)
            fills = fills if isinstance(fills, tuple) else (fills,)
            for key, fill in zip(keys, fills, strict=True):
                texts[key] = fill.text
                if not key.startswith("_"):
                    arguments[key] = fill.value
                    if fill.also:
                        alternatives[key] = fill.also
        return Request(tool, self.text.format(**texts), arguments, alternatives, self.missing)


@dataclass(frozen=True)
class Tool:
    """A function schema and the phrasings that ask for it.

    Attributes:
        schema: the function in OpenAI's format (name, description, parameters).
        group: tools that could stand in for one another share a group.
        requests: complete phrasings: the request states every required argument.
        incomplete: phrasings that leave out a required argument (may be empty).
    """

    schema: dict[str, Any]
    group: str
    requests: tuple[Phrase, ...]
    incomplete: tuple[Phrase, ...] = ()

    @property
    def name(self) -> str:
        """The function's name."""
        return str(self.schema["name"])

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required parameters."""
        return tuple(self.schema["parameters"].get("required", ()))

    def request(self, rng: random.Random) -> Request:
        """A complete request for this tool, drawn with ``rng``."""
        return rng.choice(self.requests).draw(self.name, rng)

    def incomplete_request(self, rng: random.Random) -> Request:
        """A request for this tool that leaves out a required argument.

        Raises:
            ValueError: the tool has no incomplete phrasing.
        """
        if not self.incomplete:
            raise ValueError(f"tool {self.name!r} has no incomplete phrasing")
        return rng.choice(self.incomplete).draw(self.name, rng)

    def expected_call(self, request: Request) -> dict[str, Any]:
        """The request's call in BFCL form: ``{"name", "arguments": {param: [acceptable values]}}``.

        A stated argument accepts its value and its alternatives; an optional
        parameter the request does not state accepts ``""`` (leave it out)
        and the schema's default, if it declares one.
        """
        properties = self.schema["parameters"].get("properties", {})
        arguments: dict[str, list[Any]] = {}
        for name, spec in properties.items():
            if name in request.arguments:
                arguments[name] = [request.arguments[name], *request.alternatives.get(name, ())]
            elif name not in self.required:
                arguments[name] = ["", spec["default"]] if "default" in spec else [""]
        return {"name": self.name, "arguments": arguments}


def tool(
    name: str,
    description: str,
    properties: Mapping[str, dict[str, Any]],
    required: Sequence[str],
    *,
    group: str | None = None,
    requests: Sequence[Phrase],
    incomplete: Sequence[Phrase] = (),
) -> Tool:
    """A ``Tool`` from its parts; ``group`` defaults to the tool's own name."""
    schema = {
        "name": name,
        "description": description,
        "parameters": {"type": "object", "properties": dict(properties), "required": list(required)},
    }
    return Tool(schema, group or name, tuple(requests), tuple(incomplete))


# --- parameter schemas ------------------------------------------------------------------------


def _string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def _enum(values: Sequence[str], description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "enum": list(values), "description": description, **extra}


def _integer(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "integer", "description": description, **extra}


def _number(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "number", "description": description, **extra}


def _boolean(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "boolean", "description": description, **extra}


def _array(items: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "array", "items": items, "description": description, **extra}


_DATE = "Date in YYYY-MM-DD format"
_TIME = "Time of day in 24-hour HH:MM format"


# --- slots ------------------------------------------------------------------------------------


def pick(*options: Any) -> Slot:
    """A slot drawing one option: a value (its text is ``str(value)``) or a tuple ``(text, value, *also)``."""

    def slot(rng: random.Random) -> Fill:
        option = rng.choice(options)
        if isinstance(option, tuple):
            return Fill(option[0], option[1], tuple(option[2:]))
        return Fill(str(option), option)

    return slot


def _both(pairs: Sequence[tuple[str, Any]]) -> Slot:
    """A slot drawing one ``(text, value)`` pair."""
    return pick(*pairs)


def _integer_slot(low: int, high: int, step: int = 1) -> Slot:
    def slot(rng: random.Random) -> Fill:
        value = rng.randrange(low, high + 1, step)
        return Fill(str(value), value)

    return slot


def _money(low: int, high: int, cents: bool = True, symbol: str = "") -> Slot:
    """An amount of money: whole or with cents; text with thousands separators sometimes."""

    def slot(rng: random.Random) -> Fill:
        whole = rng.randint(low, high)
        value: int | float = whole
        if cents and rng.random() < 0.4:
            value = round(whole + rng.randint(1, 99) / 100, 2)
        text = f"{value:,.2f}" if isinstance(value, float) else (f"{whole:,}" if rng.random() < 0.5 else str(whole))
        return Fill(symbol + text, value)

    return slot


_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_FIRST_DAY = date(2025, 1, 1)


def _date_fill(day: date, rng: random.Random) -> Fill:
    month = _MONTHS[day.month - 1]
    text = rng.choice((f"{month} {day.day}, {day.year}", f"{day.day} {month} {day.year}", day.isoformat()))
    return Fill(text, day.isoformat())


def _date(rng: random.Random) -> Fill:
    """A date in 2025-2026: text in one of three spellings, value ISO (``2026-03-03``)."""
    return _date_fill(_FIRST_DAY + timedelta(days=rng.randrange(730)), rng)


def _date_range(rng: random.Random) -> tuple[Fill, Fill]:
    """Two dates, the second 1 to 14 days after the first."""
    start = _FIRST_DAY + timedelta(days=rng.randrange(716))
    return _date_fill(start, rng), _date_fill(start + timedelta(days=rng.randint(1, 14)), rng)


def _time(rng: random.Random) -> Fill:
    """A time between 07:00 and 21:45 in quarter hours: ``"3:30 PM"`` or ``"15:30"``, value ``"15:30"``."""
    hour, minute = rng.randint(7, 21), rng.choice((0, 15, 30, 45))
    value = f"{hour:02d}:{minute:02d}"
    twelve = f"{(hour - 1) % 12 + 1}:{minute:02d} {'AM' if hour < 12 else 'PM'}"
    if minute == 0 and rng.random() < 0.5:
        twelve = f"{(hour - 1) % 12 + 1} {'am' if hour < 12 else 'pm'}"
    return Fill(rng.choice((twelve, value)), value)


def _sample(options: Sequence[tuple[str, Any]], low: int, high: int) -> Slot:
    """A list of ``low..high`` distinct options, written ``"a, b and c"``; the value is the list."""

    def slot(rng: random.Random) -> Fill:
        chosen = rng.sample(list(options), rng.randint(low, high))
        texts = [text for text, _ in chosen]
        text = texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " and " + texts[-1]
        return Fill(text, [value for _, value in chosen])

    return slot


def _distinct(options: Sequence[Any], count: int = 2) -> Slot:
    """A joint slot of ``count`` options with distinct values.

    ``options`` holds ``(text, value, *also)`` tuples, or lists of them: then
    all ``count`` come from one list drawn first (two units of length).
    """

    def slot(rng: random.Random) -> tuple[Fill, ...]:
        pool = rng.choice(options) if isinstance(options[0], list) else options
        while True:
            chosen = rng.sample(list(pool), count)
            if len({repr(option[1]) for option in chosen}) == count:
                return tuple(Fill(text, value, tuple(also)) for text, value, *also in chosen)

    return slot


# --- fillers -----------------------------------------------------------------------------------

_CITIES = (
    ("Paris", "France"), ("London", "UK"), ("Tokyo", "Japan"), ("New York", "NY"), ("Berlin", "Germany"),
    ("Madrid", "Spain"), ("Rome", "Italy"), ("Toronto", "Canada"), ("Sydney", "Australia"), ("Mumbai", "India"),
    ("Cairo", "Egypt"), ("Nairobi", "Kenya"), ("Lima", "Peru"), ("Seoul", "South Korea"), ("Chicago", "IL"),
    ("Seattle", "WA"), ("Lisbon", "Portugal"), ("Oslo", "Norway"), ("Dublin", "Ireland"), ("Bangkok", "Thailand"),
    ("Mexico City", "Mexico"), ("Cape Town", "South Africa"), ("Vienna", "Austria"), ("Austin", "TX"),
)  # fmt: skip
_CITY = pick(*((city, city, f"{city}, {where}") for city, where in _CITIES))

_CURRENCIES = (
    ("USD", "US dollars"), ("EUR", "euros"), ("GBP", "British pounds"), ("JPY", "Japanese yen"),
    ("CAD", "Canadian dollars"), ("AUD", "Australian dollars"), ("CHF", "Swiss francs"), ("INR", "Indian rupees"),
    ("MXN", "Mexican pesos"), ("CNY", "Chinese yuan"), ("SEK", "Swedish kronor"), ("BRL", "Brazilian reais"),
)  # fmt: skip
_CURRENCY_PAIR = _distinct([(name, code) for code, name in _CURRENCIES] + [(code, code) for code, _ in _CURRENCIES])
_CURRENCY = pick(*((name, code) for code, name in _CURRENCIES))

_PEOPLE = (
    "alice.chen", "bob.smith", "carla.diaz", "dev.patel", "emma.jones", "farid.haddad", "grace.kim", "hugo.martin",
    "ines.costa", "jonas.berg", "kofi.mensah", "lena.vogel",
)  # fmt: skip
_EMAILS = [(f"{p}@example.com", f"{p}@example.com") for p in _PEOPLE]


def _phone(rng: random.Random) -> Fill:
    number = f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    return Fill(number, number, (number.replace(" ", ""), number.replace(" ", "-")))


_MESSAGES = (
    "I'm running ten minutes late", "Dinner is at 7 tonight", "Can you pick up milk on the way home?",
    "The package arrived safely", "Happy birthday!", "Call me when you land", "Meeting moved to 3pm",
)  # fmt: skip
_EMAIL_TOPICS = (
    ("Meeting moved", "Our meeting is moved to Thursday at 10am."),
    ("Invoice 2291", "Please find the invoice for March attached."),
    ("Welcome aboard", "Welcome to the team, we are glad to have you!"),
    ("Weekend plans", "Are we still on for hiking on Saturday?"),
    ("Project update", "The first milestone is done and the demo is ready."),
    ("Office closed", "The office will be closed on Monday for maintenance."),
)


def _email_topic(rng: random.Random) -> tuple[Fill, Fill]:
    subject, body = rng.choice(_EMAIL_TOPICS)
    return Fill(subject, subject), Fill(body, body)


_TITLES = (
    "Team sync", "Dentist appointment", "Quarterly review", "Lunch with Maria", "Project kickoff", "Yoga class",
    "Parent-teacher meeting", "Budget planning", "Book club", "Interview with Sam",
)  # fmt: skip
_QUERIES = (
    "best hiking trails near Denver", "how to repot a snake plant", "reviews of noise-cancelling headphones",
    "history of the Eiffel Tower", "vegan lasagna recipe", "electric cars with the longest range",
    "symptoms of vitamin D deficiency", "cheap flights to Iceland in winter", "how to change a bike tire",
    "Python asyncio tutorial",
)  # fmt: skip
_UNITS = [
    [("kilometers", "kilometers"), ("miles", "miles"), ("meters", "meters"), ("feet", "feet"), ("inches", "inches")],
    [("kilograms", "kilograms"), ("pounds", "pounds"), ("grams", "grams"), ("ounces", "ounces")],
    [("liters", "liters"), ("gallons", "gallons"), ("milliliters", "milliliters"), ("cups", "cups")],
    [("degrees Celsius", "celsius"), ("degrees Fahrenheit", "fahrenheit"), ("kelvin", "kelvin")],
]
_UNIT_NAMES = [value for group in _UNITS for _, value in group]
_COMPANIES = (
    ("Apple", "AAPL"), ("Microsoft", "MSFT"), ("Tesla", "TSLA"), ("Amazon", "AMZN"), ("NVIDIA", "NVDA"),
    ("Netflix", "NFLX"), ("Coca-Cola", "KO"), ("IBM", "IBM"), ("Nike", "NKE"), ("Disney", "DIS"),
)  # fmt: skip
_LANGUAGES = (
    ("Spanish", "es"), ("French", "fr"), ("German", "de"), ("Italian", "it"), ("Japanese", "ja"),
    ("Portuguese", "pt"), ("Korean", "ko"), ("Chinese", "zh"), ("Dutch", "nl"), ("Swedish", "sv"),
)  # fmt: skip
_SENTENCES = (
    "Where is the train station?", "Thank you for your help.", "How much does this cost?",
    "I would like a cup of coffee, please.", "See you tomorrow morning.", "The museum opens at nine.",
    "Could you recommend a good restaurant?", "I lost my umbrella.",
)  # fmt: skip
_CHORES = (
    "call the plumber", "pick up the dry cleaning", "renew my passport", "water the plants",
    "send the invoice to Dana", "book a dentist appointment", "take out the recycling", "buy a birthday gift for Leo",
)  # fmt: skip
_RESTAURANTS = ("Osteria Luca", "The Golden Wok", "Blue Fin Sushi", "Cafe Lumiere", "Taqueria El Sol", "Nandini")
_AIRPORTS = (
    ("Boston", "BOS"), ("Dublin", "DUB"), ("Amsterdam", "AMS"), ("Singapore", "SIN"), ("Dubai", "DXB"),
    ("Madrid", "MAD"), ("Sydney", "SYD"), ("Seattle", "SEA"), ("Denver", "DEN"), ("Zurich", "ZRH"),
    ("Lisbon", "LIS"), ("Hong Kong", "HKG"), ("San Francisco", "SFO"), ("Atlanta", "ATL"),
)  # fmt: skip
_AIRPORT_PAIR = _distinct([(f"{city} ({code})", code) for city, code in _AIRPORTS] + [(c, c) for _, c in _AIRPORTS])
_AIRPORT = pick(*((f"{city} ({code})", code) for city, code in _AIRPORTS))
_CABINS = (("economy", "economy"), ("premium economy", "premium_economy"), ("business class", "business"),
           ("first class", "first"))  # fmt: skip
_DURATIONS = (
    ("5 minutes", 300), ("90 seconds", 90), ("1 hour", 3600), ("25 minutes", 1500), ("an hour and a half", 5400),
    ("45 seconds", 45), ("2 minutes", 120), ("10 minutes", 600), ("3 minutes", 180), ("40 minutes", 2400),
)  # fmt: skip
_TIMER_LABELS = ("pasta", "tea", "laundry", "pomodoro", "bread", "eggs")
_NEWS = ("business", "entertainment", "health", "science", "sports", "technology")
_COUNTRIES = (
    ("Germany", "de"), ("France", "fr"), ("Japan", "jp"), ("the United States", "us"), ("Brazil", "br"),
    ("India", "in"), ("Canada", "ca"), ("Italy", "it"),
)  # fmt: skip
_MOVIES = (
    ("Inception", 2010), ("The Matrix", 1999), ("Parasite", 2019), ("Spirited Away", 2001), ("The Godfather", 1972),
    ("Arrival", 2016), ("Interstellar", 2014), ("Casablanca", 1942), ("Up", 2009), ("Dune", 2021),
)  # fmt: skip
_PLACE_TYPES = (
    ("pharmacy", "pharmacy"), ("gas station", "gas_station"), ("coffee shop", "cafe"), ("cafe", "cafe"),
    ("ATM", "atm"), ("hospital", "hospital"), ("supermarket", "supermarket"), ("restaurant", "restaurant"),
)  # fmt: skip
_NEIGHBOURHOODS = (
    "Union Square, San Francisco", "Shibuya, Tokyo", "Times Square, New York", "Kreuzberg, Berlin",
    "Covent Garden, London", "Le Marais, Paris", "Gracia, Barcelona", "Wicker Park, Chicago",
)  # fmt: skip
_LANDMARKS = (
    ("Central Park", "Central Park"), ("Times Square", "Times Square"), ("the Brooklyn Bridge", "Brooklyn Bridge"),
    ("the Empire State Building", "Empire State Building"), ("Grand Central Terminal", "Grand Central Terminal"),
    ("the Museum of Modern Art", "Museum of Modern Art"), ("JFK Airport", "JFK Airport"),
)  # fmt: skip
_TRAVEL_MODES = (("by bike", "bicycling"), ("on foot", "walking"), ("by public transit", "transit"),
                 ("by car", "driving"))  # fmt: skip
_SONGS = (
    ("Bohemian Rhapsody", "Queen"), ("Hey Jude", "The Beatles"), ("Rolling in the Deep", "Adele"),
    ("Blinding Lights", "The Weeknd"), ("Take Five", "Dave Brubeck"), ("Dancing Queen", "ABBA"),
    ("Shake It Off", "Taylor Swift"), ("Clair de Lune", "Claude Debussy"),
)  # fmt: skip
_TIMEZONES = (
    ("Tokyo", "Asia/Tokyo"), ("London", "Europe/London"), ("New York", "America/New_York"),
    ("Sydney", "Australia/Sydney"), ("Los Angeles", "America/Los_Angeles"), ("Dubai", "Asia/Dubai"),
    ("Singapore", "Asia/Singapore"), ("Berlin", "Europe/Berlin"), ("Sao Paulo", "America/Sao_Paulo"),
    ("Mumbai", "Asia/Kolkata"), ("Chicago", "America/Chicago"),
)  # fmt: skip
_ROOMS = ("living room", "bedroom", "kitchen", "office", "nursery")
_INGREDIENTS = tuple(
    (x, x) for x in ("chicken", "rice", "broccoli", "tofu", "spinach", "chickpeas", "salmon", "potatoes", "mushrooms",
                     "eggs", "tomatoes", "lentils")
)  # fmt: skip
_CUISINES = ("Italian", "Mexican", "Indian", "Thai", "Japanese", "Greek")
_FLIGHTS = ("BA117", "UA902", "LH400", "AF22", "DL15", "QF1", "EK215", "KL641")
_WORDS = ("serendipity", "ephemeral", "ubiquitous", "laconic", "quixotic", "petrichor", "sonder", "mellifluous")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
_DAYS = (*_WEEKDAYS, "saturday", "sunday")
_CARRIERS = (("UPS", "ups"), ("FedEx", "fedex"), ("USPS", "usps"), ("DHL", "dhl"))


def _tracking_number(rng: random.Random) -> Fill:
    number = "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRTUVWXY") for _ in range(16))
    return Fill(number, number)


def _height(rng: random.Random) -> Fill:
    centimetres = rng.randint(150, 198)
    metres = centimetres / 100
    return Fill(rng.choice((f"{centimetres} cm", f"{metres:.2f} m")), metres)


def _number_slot(low: int, high: int) -> Slot:
    """A quantity: whole, or with one decimal."""

    def slot(rng: random.Random) -> Fill:
        value: int | float = rng.randint(low, high)
        if rng.random() < 0.3:
            value = round(value + rng.randint(1, 9) / 10, 1)
        return Fill(str(value), value)

    return slot


_UNIT_TEMPERATURE = _enum(["celsius", "fahrenheit"], "Temperature unit", default="celsius")
_UNIT_WORDS = _both((("Celsius", "celsius"), ("Fahrenheit", "fahrenheit"), ("degrees Fahrenheit", "fahrenheit"),
                     ("degrees Celsius", "celsius")))  # fmt: skip


# --- the tools ------------------------------------------------------------------------------------

TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        tool(
            "get_current_weather",
            "Get the current weather conditions in a given location",
            {"location": _string("The city, e.g. 'Paris' or 'Paris, France'"), "unit": _UNIT_TEMPERATURE},
            ["location"],
            group="weather",
            requests=[
                Phrase("What's the weather like in {location} right now?", {"location": _CITY}),
                Phrase("Is it raining in {location} at the moment?", {"location": _CITY}),
                Phrase(
                    "What's the current temperature in {location} in {unit}?", {"location": _CITY, "unit": _UNIT_WORDS}
                ),
            ],
            incomplete=[
                Phrase("What's the weather like outside right now?", missing=("location",)),
                Phrase(
                    "Tell me the current temperature in {unit}, please.", {"unit": _UNIT_WORDS}, missing=("location",)
                ),
            ],
        ),
        tool(
            "get_weather_forecast",
            "Get the daily weather forecast for a location",
            {
                "location": _string("The city, e.g. 'Paris' or 'Paris, France'"),
                "days": _integer("Number of days to forecast, 1 to 14", minimum=1, maximum=14),
                "unit": _UNIT_TEMPERATURE,
            },
            ["location", "days"],
            group="weather",
            requests=[
                Phrase(
                    "Give me the {days}-day weather forecast for {location}.",
                    {"days": _integer_slot(2, 10), "location": _CITY},
                ),
                Phrase(
                    "What will the weather be like in {location} over the next {days} days?",
                    {"location": _CITY, "days": _integer_slot(2, 14)},
                ),
                Phrase(
                    "Will I need an umbrella in {location} at any point in the next week?",
                    {"location": _CITY},
                    fixed={"days": 7},
                ),
            ],
            incomplete=[
                Phrase(
                    "What's the forecast for the next {days} days?",
                    {"days": _integer_slot(2, 10)},
                    missing=("location",),
                )
            ],
        ),
        tool(
            "convert_currency",
            "Convert an amount of money from one currency to another at the current exchange rate",
            {
                "amount": _number("The amount of money to convert", exclusiveMinimum=0),
                "from_currency": _string("ISO 4217 code of the currency to convert from, e.g. 'USD'"),
                "to_currency": _string("ISO 4217 code of the currency to convert to, e.g. 'EUR'"),
            },
            ["amount", "from_currency", "to_currency"],
            requests=[
                Phrase(
                    "How much is {amount} {from_currency} in {to_currency}?",
                    {"amount": _money(5, 5000), ("from_currency", "to_currency"): _CURRENCY_PAIR},
                ),
                Phrase(
                    "Convert {amount} {from_currency} to {to_currency}, please.",
                    {"amount": _money(5, 5000), ("from_currency", "to_currency"): _CURRENCY_PAIR},
                ),
                Phrase(
                    "I have {amount} {from_currency} left from my trip. What's that in {to_currency}?",
                    {"amount": _money(20, 900, cents=False), ("from_currency", "to_currency"): _CURRENCY_PAIR},
                ),
            ],
            incomplete=[
                Phrase(
                    "How much is {amount} {from_currency} worth?",
                    {"amount": _money(5, 5000), "from_currency": _CURRENCY},
                    missing=("to_currency",),
                ),
                Phrase(
                    "Can you convert some money into {to_currency} for me?",
                    {"to_currency": _CURRENCY},
                    missing=("amount", "from_currency"),
                ),
            ],
        ),
        tool(
            "create_calendar_event",
            "Create an event in the user's calendar",
            {
                "title": _string("Title of the event"),
                "date": _string(_DATE),
                "start_time": _string(_TIME),
                "duration_minutes": _integer("Length of the event in minutes", minimum=5, default=60),
                "attendees": _array({"type": "string", "format": "email"}, "Email addresses of the people to invite"),
            },
            ["title", "date", "start_time"],
            group="calendar",
            requests=[
                Phrase(
                    "Put '{title}' on my calendar for {date} at {start_time}.",
                    {"title": pick(*_TITLES), "date": _date, "start_time": _time},
                ),
                Phrase(
                    "Schedule a {duration_minutes}-minute event called '{title}' on {date} at {start_time}.",
                    {
                        "duration_minutes": pick(15, 30, 45, 90, 120),
                        "title": pick(*_TITLES),
                        "date": _date,
                        "start_time": _time,
                    },
                ),
                Phrase(
                    "Create a calendar event '{title}' on {date} at {start_time} and invite {attendees}.",
                    {"title": pick(*_TITLES), "date": _date, "start_time": _time, "attendees": _sample(_EMAILS, 1, 3)},
                ),
            ],
            incomplete=[
                Phrase(
                    "Add '{title}' to my calendar on {date}.",
                    {"title": pick(*_TITLES), "date": _date},
                    missing=("start_time",),
                ),
                Phrase("Schedule something for me at {start_time}.", {"start_time": _time}, missing=("title", "date")),
            ],
        ),
        tool(
            "search_web",
            "Search the web and return the top results",
            {
                "query": _string("The search query"),
                "num_results": _integer("How many results to return", minimum=1, maximum=20, default=10),
            },
            ["query"],
            requests=[
                Phrase("Search the web for {query}.", {"query": pick(*_QUERIES)}),
                Phrase(
                    "Look up {query} online and give me the top {num_results} results.",
                    {"query": pick(*_QUERIES), "num_results": _integer_slot(3, 10)},
                ),
            ],
            incomplete=[Phrase("Could you run a quick web search for me?", missing=("query",))],
        ),
        tool(
            "convert_units",
            "Convert a quantity between units of length, mass, volume or temperature",
            {
                "value": _number("The quantity to convert"),
                "from_unit": _enum(_UNIT_NAMES, "The unit of the quantity"),
                "to_unit": _enum(_UNIT_NAMES, "The unit to convert to"),
            },
            ["value", "from_unit", "to_unit"],
            group="units",
            requests=[
                Phrase(
                    "How many {to_unit} are in {value} {from_unit}?",
                    {"value": _number_slot(2, 500), ("from_unit", "to_unit"): _distinct(_UNITS)},
                ),
                Phrase(
                    "Convert {value} {from_unit} to {to_unit}.",
                    {"value": _number_slot(1, 1000), ("from_unit", "to_unit"): _distinct(_UNITS)},
                ),
            ],
            incomplete=[
                Phrase(
                    "Convert {value} {from_unit} for me, please.",
                    {"value": _number_slot(1, 1000), ("from_unit", "_other"): _distinct(_UNITS)},
                    missing=("to_unit",),
                )
            ],
        ),
        tool(
            "send_email",
            "Send an email on the user's behalf",
            {
                "to": _array({"type": "string", "format": "email"}, "Recipients' email addresses", minItems=1),
                "subject": _string("Subject line"),
                "body": _string("Text of the email"),
                "cc": _array({"type": "string", "format": "email"}, "Email addresses to copy in"),
            },
            ["to", "subject", "body"],
            group="messaging",
            requests=[
                Phrase(
                    "Send an email to {to} with the subject '{subject}' saying: {body}",
                    {"to": _sample(_EMAILS, 1, 2), ("subject", "body"): _email_topic},
                ),
                Phrase(
                    "Email {to}. Subject: {subject}. Message: {body}",
                    {"to": _sample(_EMAILS, 1, 1), ("subject", "body"): _email_topic},
                ),
                Phrase(
                    "Write to {to} and copy in {cc}. Subject '{subject}', text: {body}",
                    {("to", "cc"): _distinct([[(e, [v]) for e, v in _EMAILS]]), ("subject", "body"): _email_topic},
                ),
            ],
            incomplete=[
                Phrase(
                    "Send an email with the subject '{subject}' saying: {body}",
                    {("subject", "body"): _email_topic},
                    missing=("to",),
                )
            ],
        ),
        tool(
            "send_text_message",
            "Send an SMS text message to a phone number",
            {"phone_number": _string("The recipient's phone number"), "message": _string("Text of the message")},
            ["phone_number", "message"],
            group="messaging",
            requests=[
                Phrase(
                    "Text {phone_number} and tell them: {message}",
                    {"phone_number": _phone, "message": pick(*_MESSAGES)},
                ),
                Phrase(
                    'Send an SMS to {phone_number} that says "{message}".',
                    {"phone_number": _phone, "message": pick(*_MESSAGES)},
                ),
            ],
            incomplete=[
                Phrase(
                    'Send a text to my brother saying "{message}".',
                    {"message": pick(*_MESSAGES)},
                    missing=("phone_number",),
                )
            ],
        ),
        tool(
            "get_stock_price",
            "Get the latest trading price of a stock",
            {
                "symbol": _string("The stock's ticker symbol, e.g. 'AAPL'"),
                "exchange": _enum(["NASDAQ", "NYSE"], "The exchange the stock trades on"),
            },
            ["symbol"],
            group="stocks",
            requests=[
                Phrase("What's {symbol} stock trading at right now?", {"symbol": _both(_COMPANIES)}),
                Phrase("Get me the latest share price of {symbol}.", {"symbol": pick(*(c for _, c in _COMPANIES))}),
            ],
            incomplete=[Phrase("What's the stock price right now?", missing=("symbol",))],
        ),
        tool(
            "translate_text",
            "Translate text into another language",
            {
                "text": _string("The text to translate"),
                "target_language": _string("ISO 639-1 code of the language to translate into, e.g. 'es'"),
                "source_language": _string("ISO 639-1 code of the text's language; detected when left out"),
            },
            ["text", "target_language"],
            requests=[
                Phrase(
                    'Translate "{text}" into {target_language}.',
                    {"text": pick(*_SENTENCES), "target_language": _both(_LANGUAGES)},
                ),
                Phrase(
                    'How do you say "{text}" in {target_language}?',
                    {"text": pick(*_SENTENCES), "target_language": _both(_LANGUAGES)},
                ),
                Phrase(
                    'Translate this from English to {target_language}: "{text}"',
                    {"target_language": _both(_LANGUAGES), "text": pick(*_SENTENCES)},
                    fixed={"source_language": "en"},
                ),
            ],
            incomplete=[
                Phrase('Translate "{text}" for me, please.', {"text": pick(*_SENTENCES)}, missing=("target_language",))
            ],
        ),
        tool(
            "set_reminder",
            "Set a reminder that notifies the user at a given date and time",
            {"message": _string("What to remind the user of"), "date": _string(_DATE), "time": _string(_TIME)},
            ["message", "date", "time"],
            group="tasks",
            requests=[
                Phrase(
                    "Remind me to {message} on {date} at {time}.",
                    {"message": pick(*_CHORES), "date": _date, "time": _time},
                ),
                Phrase(
                    "Set a reminder for {date} at {time}: {message}.",
                    {"date": _date, "time": _time, "message": pick(*_CHORES)},
                ),
            ],
            incomplete=[
                Phrase("Remind me to {message}.", {"message": pick(*_CHORES)}, missing=("date", "time")),
                Phrase("Set a reminder for {date} at {time}.", {"date": _date, "time": _time}, missing=("message",)),
            ],
        ),
        tool(
            "add_todo_item",
            "Add an item to the user's to-do list",
            {
                "task": _string("The to-do item"),
                "due_date": _string(_DATE),
                "priority": _enum(["low", "medium", "high"], "Priority of the item", default="medium"),
            },
            ["task"],
            group="tasks",
            requests=[
                Phrase("Add '{task}' to my to-do list.", {"task": pick(*_CHORES)}),
                Phrase(
                    "Put '{task}' on my to-do list with {priority} priority, due {due_date}.",
                    {"task": pick(*_CHORES), "priority": pick("low", "medium", "high"), "due_date": _date},
                ),
            ],
            incomplete=[
                Phrase("Add a new high-priority item to my to-do list.", fixed={"priority": "high"}, missing=("task",))
            ],
        ),
        tool(
            "book_restaurant",
            "Reserve a table at a restaurant",
            {
                "restaurant_name": _string("Name of the restaurant"),
                "date": _string(_DATE),
                "time": _string(_TIME),
                "party_size": _integer("Number of guests", minimum=1, maximum=20),
                "special_requests": _string("Anything the restaurant should know, e.g. a high chair"),
            },
            ["restaurant_name", "date", "time", "party_size"],
            requests=[
                Phrase(
                    "Book a table for {party_size} at {restaurant_name} on {date} at {time}.",
                    {
                        "party_size": _integer_slot(2, 8),
                        "restaurant_name": pick(*_RESTAURANTS),
                        "date": _date,
                        "time": _time,
                    },
                ),
                Phrase(
                    "Reserve a table at {restaurant_name} for {party_size} people"
                    " on {date} at {time}. We need {special_requests}.",
                    {
                        "restaurant_name": pick(*_RESTAURANTS),
                        "party_size": _integer_slot(2, 8),
                        "date": _date,
                        "time": _time,
                        "special_requests": pick("a high chair", "a table by the window", "wheelchair access"),
                    },
                ),
            ],
            incomplete=[
                Phrase(
                    "Book a table at {restaurant_name} for {party_size} people.",
                    {"restaurant_name": pick(*_RESTAURANTS), "party_size": _integer_slot(2, 8)},
                    missing=("date", "time"),
                )
            ],
        ),
        tool(
            "search_flights",
            "Search for flights between two airports",
            {
                "origin": _string("IATA code of the departure airport, e.g. 'JFK'"),
                "destination": _string("IATA code of the arrival airport, e.g. 'LHR'"),
                "departure_date": _string(_DATE),
                "return_date": _string(f"{_DATE}; leave out for a one-way trip"),
                "passengers": _integer("Number of passengers", minimum=1, maximum=9, default=1),
                "cabin_class": _enum(
                    ["economy", "premium_economy", "business", "first"], "Cabin class", default="economy"
                ),
                "nonstop_only": _boolean("Only list flights without stops", default=False),
            },
            ["origin", "destination", "departure_date"],
            group="flights",
            requests=[
                Phrase(
                    "Find me flights from {origin} to {destination} on {departure_date}.",
                    {("origin", "destination"): _AIRPORT_PAIR, "departure_date": _date},
                ),
                Phrase(
                    "Search for nonstop flights from {origin} to {destination} leaving {departure_date}.",
                    {("origin", "destination"): _AIRPORT_PAIR, "departure_date": _date},
                    fixed={"nonstop_only": True},
                ),
                Phrase(
                    "I need {passengers} {cabin_class} tickets from {origin} to {destination},"
                    " leaving {departure_date} and coming back {return_date}.",
                    {
                        "passengers": _integer_slot(2, 5),
                        "cabin_class": _both(_CABINS),
                        ("origin", "destination"): _AIRPORT_PAIR,
                        ("departure_date", "return_date"): _date_range,
                    },
                ),
            ],
            incomplete=[
                Phrase(
                    "Find me a flight to {destination} on {departure_date}.",
                    {"destination": _AIRPORT, "departure_date": _date},
                    missing=("origin",),
                )
            ],
        ),
        tool(
            "check_flight_status",
            "Get the status of a flight: on time, delayed or cancelled, and its gate",
            {
                "flight_number": _string("Airline code and number, e.g. 'BA117'"),
                "date": _string(f"{_DATE}; today when left out"),
            },
            ["flight_number"],
            group="flight_status",
            requests=[
                Phrase("Is flight {flight_number} on time?", {"flight_number": pick(*_FLIGHTS)}),
                Phrase(
                    "What's the status of flight {flight_number} on {date}?",
                    {"flight_number": pick(*_FLIGHTS), "date": _date},
                ),
            ],
            incomplete=[Phrase("Is my flight on time?", missing=("flight_number",))],
        ),
        tool(
            "set_timer",
            "Start a countdown timer",
            {
                "duration_seconds": _integer("Length of the timer in seconds", minimum=1),
                "label": _string("A name for the timer"),
            },
            ["duration_seconds"],
            group="clock",
            requests=[
                Phrase("Set a timer for {duration_seconds}.", {"duration_seconds": _both(_DURATIONS)}),
                Phrase(
                    "Start a {duration_seconds} timer called '{label}'.",
                    {"duration_seconds": _both(_DURATIONS), "label": pick(*_TIMER_LABELS)},
                ),
            ],
            incomplete=[
                Phrase("Start a timer for the {label}.", {"label": pick(*_TIMER_LABELS)}, missing=("duration_seconds",))
            ],
        ),
        tool(
            "set_alarm",
            "Set an alarm at a time of day, once or on repeating days",
            {
                "time": _string(_TIME),
                "days": _array({"type": "string", "enum": list(_DAYS)}, "Days of the week the alarm repeats on"),
                "label": _string("A name for the alarm"),
            },
            ["time"],
            group="clock",
            requests=[
                Phrase("Set an alarm for {time}.", {"time": _time}),
                Phrase("Wake me up at {time} on weekdays.", {"time": _time}, fixed={"days": list(_WEEKDAYS)}),
                Phrase(
                    "Set an alarm for {time} every {days}.",
                    {"time": _time, "days": pick(*((d.capitalize(), [d]) for d in _DAYS))},
                ),
            ],
            incomplete=[Phrase("Set an alarm for tomorrow morning.", missing=("time",))],
        ),
        tool(
            "get_news_headlines",
            "Get the latest news headlines in a category",
            {
                "category": _enum(_NEWS, "News category"),
                "country": _string("Two-letter ISO 3166 country code, e.g. 'us'"),
                "page_size": _integer("How many headlines to return", minimum=1, maximum=50, default=10),
            },
            ["category"],
            requests=[
                Phrase("What are the latest {category} headlines?", {"category": pick(*_NEWS)}),
                Phrase(
                    "Show me today's top {category} news from {country}.",
                    {"category": pick(*_NEWS), "country": pick(*((n, c, c.upper()) for n, c in _COUNTRIES))},
                ),
                Phrase(
                    "Give me the top {page_size} {category} stories.",
                    {"page_size": _integer_slot(3, 20), "category": pick(*_NEWS)},
                ),
            ],
        ),
        tool(
            "calculate_tip",
            "Calculate the tip for a bill",
            {
                "bill_amount": _number("The bill's total", minimum=0),
                "tip_percentage": _number("The tip as a percentage of the bill, e.g. 15 for 15%", minimum=0),
            },
            ["bill_amount", "tip_percentage"],
            requests=[
                Phrase(
                    "What's a {tip_percentage}% tip on a {bill_amount} bill?",
                    {"tip_percentage": pick(10, 12, 15, 18, 20, 25), "bill_amount": _money(12, 400, symbol="$")},
                ),
                Phrase(
                    "Our dinner came to {bill_amount}. How much is the tip at {tip_percentage} percent?",
                    {"bill_amount": _money(12, 400, symbol="$"), "tip_percentage": pick(10, 15, 18, 20)},
                ),
            ],
            incomplete=[
                Phrase(
                    "How much should I tip on my bill at {tip_percentage}%?",
                    {"tip_percentage": pick(15, 18, 20)},
                    missing=("bill_amount",),
                )
            ],
        ),
        tool(
            "calculate_loan_payment",
            "Calculate the monthly payment of a fixed-rate loan",
            {
                "principal": _number("The amount borrowed", exclusiveMinimum=0),
                "annual_interest_rate": _number("Yearly interest rate in percent, e.g. 4.5", minimum=0),
                "term_years": _integer("Length of the loan in years", minimum=1),
            },
            ["principal", "annual_interest_rate", "term_years"],
            requests=[
                Phrase(
                    "What would my monthly payment be on a {principal} loan"
                    " at {annual_interest_rate}% over {term_years} years?",
                    {
                        "principal": _money(5000, 400000, cents=False, symbol="$"),
                        "annual_interest_rate": pick(3, 3.5, 4.25, 5, 6.75, 7.9),
                        "term_years": pick(5, 10, 15, 20, 30),
                    },
                ),
                Phrase(
                    "I'm borrowing {principal} for {term_years} years at {annual_interest_rate}"
                    " percent a year. What will I pay each month?",
                    {
                        "principal": _money(5000, 400000, cents=False, symbol="$"),
                        "term_years": pick(3, 5, 10, 30),
                        "annual_interest_rate": pick(2.9, 4, 5.5, 8),
                    },
                ),
            ],
            incomplete=[
                Phrase(
                    "What would my monthly payments be on a {principal} loan?",
                    {"principal": _money(5000, 400000, cents=False, symbol="$")},
                    missing=("annual_interest_rate", "term_years"),
                )
            ],
        ),
        tool(
            "calculate_bmi",
            "Calculate the body mass index from weight and height",
            {
                "weight_kg": _number("Weight in kilograms", exclusiveMinimum=0),
                "height_m": _number("Height in meters", exclusiveMinimum=0),
            },
            ["weight_kg", "height_m"],
            requests=[
                Phrase(
                    "I weigh {weight_kg} kg and I'm {height_m} tall. What's my BMI?",
                    {"weight_kg": _number_slot(45, 130), "height_m": _height},
                ),
                Phrase(
                    "Calculate the BMI of someone who is {height_m} tall and weighs {weight_kg} kilograms.",
                    {"height_m": _height, "weight_kg": _number_slot(45, 130)},
                ),
            ],
            incomplete=[
                Phrase(
                    "I weigh {weight_kg} kg. What's my BMI?",
                    {"weight_kg": _number_slot(45, 130)},
                    missing=("height_m",),
                )
            ],
        ),
        tool(
            "calculate_age",
            "Calculate a person's age in years from their date of birth",
            {"birth_date": _string(f"Date of birth, {_DATE}")},
            ["birth_date"],
            requests=[
                Phrase(
                    "I was born on {birth_date}. How old am I?",
                    {
                        "birth_date": lambda rng: _date_fill(
                            date(rng.randint(1950, 2010), rng.randint(1, 12), rng.randint(1, 28)), rng
                        )
                    },
                )
            ],
            incomplete=[Phrase("Can you work out how old I am?", missing=("birth_date",))],
        ),
        tool(
            "generate_password",
            "Generate a random password",
            {
                "length": _integer("Number of characters", minimum=4, maximum=128),
                "include_symbols": _boolean("Include symbols such as !, # and %", default=True),
                "include_numbers": _boolean("Include digits", default=True),
            },
            ["length"],
            group="passwords",
            requests=[
                Phrase("Generate a {length}-character password.", {"length": pick(8, 12, 16, 20, 24, 32)}),
                Phrase(
                    "I need a new password, {length} characters long, without any symbols.",
                    {"length": pick(10, 12, 16, 20)},
                    fixed={"include_symbols": False},
                ),
                Phrase(
                    "Make me a random {length}-character password with letters only, no numbers or symbols.",
                    {"length": pick(8, 12, 16)},
                    fixed={"include_symbols": False, "include_numbers": False},
                ),
            ],
        ),
        tool(
            "get_movie_details",
            "Get the plot, cast, director and rating of a movie",
            {"title": _string("The movie's title"), "year": _integer("Release year, to tell remakes apart")},
            ["title"],
            group="movies",
            requests=[
                Phrase("Tell me about the movie {title}.", {"title": pick(*(t for t, _ in _MOVIES))}),
                Phrase("Who directed {title} and what is it about?", {"title": pick(*(t for t, _ in _MOVIES))}),
                Phrase(
                    "What's the plot of {title} from {year}?",
                    {("title", "year"): lambda rng: tuple(Fill(str(v), v) for v in rng.choice(_MOVIES))},
                ),
            ],
        ),
        tool(
            "find_nearby_places",
            "Find places of a given type near a location",
            {
                "location": _string("Address or neighbourhood to search around"),
                "place_type": _enum(sorted({v for _, v in _PLACE_TYPES}), "Kind of place"),
                "radius_meters": _integer("Search radius in meters", minimum=100, maximum=50000, default=1000),
            },
            ["location", "place_type"],
            group="places",
            requests=[
                Phrase(
                    "Find a {place_type} near {location}.",
                    {"place_type": _both(_PLACE_TYPES), "location": pick(*_NEIGHBOURHOODS)},
                ),
                Phrase(
                    "Is there a {place_type} within {radius_meters} of {location}?",
                    {
                        "place_type": _both(_PLACE_TYPES),
                        "radius_meters": _both(
                            (("500 meters", 500), ("2 km", 2000), ("1 kilometer", 1000), ("300 m", 300))
                        ),
                        "location": pick(*_NEIGHBOURHOODS),
                    },
                ),
            ],
            incomplete=[
                Phrase("Find me the nearest {place_type}.", {"place_type": _both(_PLACE_TYPES)}, missing=("location",))
            ],
        ),
        tool(
            "get_directions",
            "Get directions between two places",
            {
                "origin": _string("Starting point"),
                "destination": _string("Where to go"),
                "mode": _enum(["driving", "walking", "bicycling", "transit"], "How to travel", default="driving"),
            },
            ["origin", "destination"],
            group="directions",
            requests=[
                Phrase(
                    "How do I get from {origin} to {destination} {mode}?",
                    {("origin", "destination"): _distinct(_LANDMARKS), "mode": _both(_TRAVEL_MODES)},
                ),
                Phrase(
                    "Give me directions from {origin} to {destination}.",
                    {("origin", "destination"): _distinct(_LANDMARKS)},
                ),
            ],
        ),
        tool(
            "play_song",
            "Play a song on the user's speaker",
            {
                "title": _string("The song's title"),
                "artist": _string("The performer, to tell covers apart"),
                "volume": _integer("Volume from 0 to 100", minimum=0, maximum=100),
            },
            ["title"],
            group="music",
            requests=[
                Phrase(
                    "Play {title} by {artist}.",
                    {("title", "artist"): lambda rng: tuple(Fill(v, v) for v in rng.choice(_SONGS))},
                ),
                Phrase("Put on {title}.", {"title": pick(*(s for s, _ in _SONGS))}),
                Phrase(
                    "Play {title} at volume {volume}.",
                    {"title": pick(*(s for s, _ in _SONGS)), "volume": pick(20, 30, 40, 50, 70)},
                ),
            ],
        ),
        tool(
            "get_current_time",
            "Get the current local time in a time zone",
            {"timezone": _string("IANA time zone name, e.g. 'Europe/Paris'")},
            ["timezone"],
            group="clock_zone",
            requests=[
                Phrase("What time is it in {timezone} right now?", {"timezone": _both(_TIMEZONES)}),
                Phrase("Tell me the local time in {timezone}.", {"timezone": _both(_TIMEZONES)}),
            ],
        ),
        tool(
            "set_thermostat",
            "Set the target temperature of a smart thermostat",
            {
                "temperature": _number("Target temperature"),
                "unit": _UNIT_TEMPERATURE,
                "room": _string("The room whose thermostat to set; the main one when left out"),
            },
            ["temperature"],
            group="home",
            requests=[
                Phrase(
                    "Set the thermostat to {temperature} degrees Celsius.",
                    {"temperature": pick(18, 19, 20, 21, 22, 23, 21.5)},
                    fixed={"unit": "celsius"},
                ),
                Phrase(
                    "Set the {room} to {temperature} degrees Fahrenheit.",
                    {"room": pick(*_ROOMS), "temperature": pick(64, 66, 68, 70, 72)},
                    fixed={"unit": "fahrenheit"},
                ),
            ],
            incomplete=[
                Phrase(
                    "Change the thermostat setting in the {room}, please.",
                    {"room": pick(*_ROOMS)},
                    missing=("temperature",),
                )
            ],
        ),
        tool(
            "search_recipes",
            "Find recipes that use the given ingredients",
            {
                "ingredients": _array({"type": "string"}, "Ingredients to use", minItems=1),
                "cuisine": _string("Cuisine, e.g. 'Italian'"),
                "max_prep_minutes": _integer("Longest acceptable preparation time in minutes", minimum=1),
            },
            ["ingredients"],
            group="recipes",
            requests=[
                Phrase("What can I cook with {ingredients}?", {"ingredients": _sample(_INGREDIENTS, 2, 3)}),
                Phrase(
                    "Find me a {cuisine} recipe with {ingredients} that takes under {max_prep_minutes} minutes.",
                    {
                        "cuisine": pick(*_CUISINES),
                        "ingredients": _sample(_INGREDIENTS, 1, 3),
                        "max_prep_minutes": pick(15, 20, 30, 45, 60),
                    },
                ),
            ],
            incomplete=[
                Phrase(
                    "Find me a quick {cuisine} recipe I can make with what's in my fridge.",
                    {"cuisine": pick(*_CUISINES)},
                    missing=("ingredients",),
                )
            ],
        ),
        tool(
            "book_hotel",
            "Book a hotel room",
            {
                "city": _string("The city to stay in"),
                "check_in_date": _string(_DATE),
                "check_out_date": _string(_DATE),
                "guests": _integer("Number of guests", minimum=1, maximum=10),
                "rooms": _integer("Number of rooms", minimum=1, default=1),
            },
            ["city", "check_in_date", "check_out_date", "guests"],
            group="hotels",
            requests=[
                Phrase(
                    "Book a hotel in {city} for {guests} guests from {check_in_date} to {check_out_date}.",
                    {
                        "city": pick(*(c for c, _ in _CITIES)),
                        "guests": _integer_slot(1, 4),
                        ("check_in_date", "check_out_date"): _date_range,
                    },
                ),
                Phrase(
                    "I need {rooms} rooms in {city} for {guests} people, checking"
                    " in {check_in_date} and out {check_out_date}.",
                    {
                        "rooms": _integer_slot(2, 3),
                        "city": pick(*(c for c, _ in _CITIES)),
                        "guests": _integer_slot(4, 6),
                        ("check_in_date", "check_out_date"): _date_range,
                    },
                ),
            ],
            incomplete=[
                Phrase(
                    "Book me a hotel in {city} for {guests} people.",
                    {"city": pick(*(c for c, _ in _CITIES)), "guests": _integer_slot(1, 4)},
                    missing=("check_in_date", "check_out_date"),
                )
            ],
        ),
        tool(
            "get_word_definition",
            "Look up the definition of an English word",
            {"word": _string("The word to define")},
            ["word"],
            group="dictionary",
            requests=[
                Phrase("What does '{word}' mean?", {"word": pick(*_WORDS)}),
                Phrase("Define the word {word}.", {"word": pick(*_WORDS)}),
            ],
        ),
        tool(
            "track_package",
            "Track a parcel by its tracking number",
            {
                "tracking_number": _string("The parcel's tracking number"),
                "carrier": _enum([c for _, c in _CARRIERS], "The shipping company; detected when left out"),
            },
            ["tracking_number"],
            group="parcels",
            requests=[
                Phrase(
                    "Where's my package? The tracking number is {tracking_number}.",
                    {"tracking_number": _tracking_number},
                ),
                Phrase(
                    "Track {carrier} package {tracking_number}.",
                    {"carrier": _both(_CARRIERS), "tracking_number": _tracking_number},
                ),
            ],
            incomplete=[Phrase("Where is my package right now?", missing=("tracking_number",))],
        ),
        tool(
            "request_ride",
            "Order a taxi ride",
            {
                "pickup_location": _string("Where to be picked up"),
                "destination": _string("Where to go"),
                "ride_type": _enum(["standard", "xl", "premium"], "Size or class of car", default="standard"),
            },
            ["pickup_location", "destination"],
            group="rides",
            requests=[
                Phrase(
                    "Get me a ride from {pickup_location} to {destination}.",
                    {("pickup_location", "destination"): _distinct(_LANDMARKS)},
                ),
                Phrase(
                    "Book an {ride_type} car from {pickup_location} to {destination}.",
                    {"ride_type": _both((("XL", "xl"),)), ("pickup_location", "destination"): _distinct(_LANDMARKS)},
                ),
            ],
        ),
    )
}
"""The tool library, by function name."""

GROUPS: dict[str, tuple[str, ...]] = {}
"""Tool names by group: tools in one group could serve one another's requests."""
for _tool in TOOLS.values():
    GROUPS[_tool.group] = (*GROUPS.get(_tool.group, ()), _tool.name)
