"""The judge: runs a program's tests in a process of its own and reports one verdict per test.

The judge runs as a user of its own, apart from the program's (candidate.py):
the program cannot read, write, signal or trace it, and never holds one of
its file descriptors. The judge holds the tests; the program only ever sees
the arguments of each call. ``candidate`` (and every other function the
program defines, such as HumanEval's helpers) is bound in the tests' scope to
a ``Remote``: calling it sends the arguments as plain data to the program's
process and turns the plain data that comes back into values of the judge's
own making (wire.py). So a test compares values of built-in types that no
code of the program's defines, with the judge's own builtins and modules,
and no verdict passes through the program's hands.

File descriptors: 0 the payload (JSON: ``program`` and ``spec``, see
sandbox/testspec.py), 3 and 4 the program's answers and requests,
``VERDICTS`` the verdict lines for the runner. Standard output is /dev/null,
so a test that prints cannot write a verdict.

Verdict lines, one JSON object each: ``{"i": n, "ok": bool, "msg": text}`` for
a test judged here, ``{"i": n, "value": text}`` for a value the host compares
(a value check of an assert, a call test's return value; ``text`` is
``wire.dumps`` of the value), ``{"i": n, "error": text}`` for a call test
whose call failed; last ``{"done": true}``.

Standard library only: it runs on the image's own python3.
"""

import builtins
import json
import os
import sys

import wire

RPC_IN, RPC_OUT, VERDICTS = 3, 4, 5
MAX_PAYLOAD = 1 << 26
MAX_ANSWER = 1 << 23  # bytes of one answer of the program
MAX_VALUE = 1 << 20  # bytes of one value sent to the host for comparison


class ProgramGone(Exception):
    """The program's process stopped answering (it exited, or broke the protocol)."""


class Program:
    """The connection to the program's process: one request, one answer, in order."""

    def __init__(self, answers, requests):
        self.answers, self.requests = answers, requests
        self.reader = wire.Reader(answers)
        self.next_id = 0
        self.gone = None

    def ask(self, request):
        """Send ``request``; the program's answer (a dict). ``ProgramGone`` once it has failed to answer."""
        if self.gone is not None:
            raise ProgramGone(self.gone)
        self.next_id += 1
        request["id"] = self.next_id
        try:
            wire.send(self.requests, request)
            answer = wire.receive(self.answers, MAX_ANSWER, self.reader)
        except (OSError, wire.PlainDataError) as error:
            self.gone = "the program stopped answering: " + (str(error) if str(error) else type(error).__name__)
            raise ProgramGone(self.gone) from None
        if answer is None:
            self.gone = "the program exited"
        elif type(answer) is not dict or answer.get("id") != self.next_id:
            self.gone = "the program broke the test protocol"
        if self.gone is not None:
            raise ProgramGone(self.gone)
        return answer


class Remote:
    """A function of the program, called in its process with plain-data arguments."""

    def __init__(self, program, name):
        self.program, self.name = program, name

    def __call__(self, *args, **kwargs):
        try:
            request = {"op": "call", "name": self.name, "args": wire.encode(list(args))}
            if kwargs:
                request["kwargs"] = wire.encode(kwargs)
        except wire.PlainDataError as error:
            raise TypeError(
                f"the tests pass {self.name}() something that cannot cross to the program: {error}"
            ) from None
        answer = self.program.ask(request)
        if "error" in answer:
            raise _exception(answer.get("type"), answer.get("error"))
        try:
            return wire.decode(answer.get("value"))
        except wire.PlainDataError as error:
            raise TypeError(f"{self.name}() returned something that is not plain data: {error}") from None

    def __repr__(self):
        return f"<function {self.name} of the program>"


def _exception(type_name, message):
    """The program's exception as one of the judge's: the built-in type of that name, else RuntimeError."""
    kind = getattr(builtins, type_name, None) if type(type_name) is str else None
    text = message if type(message) is str else "the program failed"
    if isinstance(kind, type) and issubclass(kind, Exception) and kind.__module__ == "builtins":
        try:
            return kind(text.partition(": ")[2] or text)
        except Exception:
            pass
    return RuntimeError(text)


def main(answers=RPC_IN, requests=RPC_OUT, verdicts=VERDICTS):
    """Read the payload on stdin, load the program, run the tests; returns the exit status (0).

    ``answers`` and ``requests`` are the descriptors from and to the program's process, ``verdicts`` the one to
    the runner.
    """
    chunks, size = [], 0
    while chunk := os.read(0, 1 << 20):
        size += len(chunk)
        if size > MAX_PAYLOAD:
            raise SystemExit("the payload is too large")
        chunks.append(chunk)
    payload = json.loads(b"".join(chunks))
    report = Reporter(verdicts)
    program = Program(answers, requests)
    try:
        loaded = program.ask({"op": "load", "program": payload["program"]})
    except ProgramGone as gone:
        loaded = {"error": str(gone)}
    spec = payload["spec"]
    if spec["mode"] == "assert":
        run_asserts(spec, program, loaded, report)
    else:
        run_calls(spec, program, loaded, report)
    report.done()
    return 0


class Reporter:
    """Writes verdict lines for the runner."""

    def __init__(self, fd):
        self.fd = fd

    def __call__(self, index, **verdict):
        verdict["i"] = index
        self._write(verdict)

    def value(self, index, value):
        """Send ``value`` for the host to compare, or a failure when it cannot cross."""
        try:
            text = wire.dumps(value)
        except wire.PlainDataError as error:
            self(index, ok=False, msg=str(error))
            return
        if len(text) > MAX_VALUE:
            self(index, ok=False, msg=f"the value is too large to compare ({len(text)} bytes of text)")
        else:
            self(index, value=text)

    def done(self):
        self._write({"done": True})

    def _write(self, message):
        data = (json.dumps(message) + "\n").encode()
        while data:
            data = data[os.write(self.fd, data) :]


def scope_for(program, loaded):
    """The tests' globals: the judge's builtins, and the program's functions and constants by name."""
    scope = {"__builtins__": builtins, "__name__": "tests"}
    own = vars(builtins)
    for name in loaded.get("callables", []):
        if type(name) is str and name not in own:
            scope[name] = Remote(program, name)
    for name, data in (loaded.get("constants") or {}).items():
        if type(name) is str and name not in own:
            try:
                scope[name] = wire.decode(data)
            except wire.PlainDataError:
                continue
    return scope


def run_asserts(spec, program, loaded, report):
    steps = spec["steps"]
    tests = sum(1 for step in steps if step["test"])
    if "error" in loaded:
        fail_all(range(tests), loaded["error"], report)
        return
    scope = scope_for(program, loaded)
    entry = spec.get("entry_point")
    if entry:
        if entry not in loaded.get("callables", []):
            fail_all(range(tests), f"the program defines no function {entry!r}", report)
            return
        scope[entry] = scope["candidate"] = Remote(program, entry)
    try:
        exec(compile(spec.get("preamble", ""), "<test set-up>", "exec"), scope)
    except BaseException as error:
        fail_all(range(tests), "test set-up failed: " + describe(error), report)
        return
    number = 0
    for index, step in enumerate(steps):
        try:
            if step.get("value"):  # an expression whose value the host compares with the expected one
                value = eval(compile(step["code"], f"<test {index}>", "eval", dont_inherit=True), scope)
            else:
                exec(compile(step["code"], f"<test {index}>", "exec", dont_inherit=True, optimize=0), scope)
        except BaseException as error:
            if not step["test"]:
                fail_all(range(number, tests), "test set-up failed: " + describe(error), report)
                return
            report(number, ok=False, msg=describe(error))
        else:
            if step.get("value"):
                report.value(number, value)
            elif step["test"]:
                report(number, ok=True)
        number += step["test"]


def run_calls(spec, program, loaded, report):
    calls = spec["calls"]
    name = spec["function"]
    if "error" in loaded or name not in loaded.get("callables", []):
        message = loaded.get("error") or f"the program defines no function {name!r}"
        for index in range(len(calls)):
            report(index, error=message)
        return
    function = Remote(program, name)
    for index, arguments in enumerate(calls):
        try:
            value = function(*arguments)
        except BaseException as error:
            report(index, error=describe(error))
        else:
            report.value(index, value)


def fail_all(indices, message, report):
    for index in indices:
        report(index, ok=False, msg=message)


def describe(error):
    """``TypeName: message``, short."""
    name = type(error).__name__
    text = str(error)
    return (name + (": " + text if text else ""))[:300]


if __name__ == "__main__":
    sys.exit(main())
