"""The test harness: runs a program, then its tests, and reports one verdict per test over a private pipe.

Input (JSON on stdin, never on disk, so there is no test file to read or
overwrite): the program, the tests (see sandbox/testspec.py), the number of
the pipe's file descriptor and a random key. Each verdict is a line
``key<TAB>json`` on that pipe; the runner keeps only lines with the key, and
the host counts a test that never got a verdict as failed. So exiting early
(``sys.exit(0)``, ``os._exit(0)``) or printing "all tests passed" gains a
program nothing: stdout is not the channel and silence is failure.

Before the tests run, the harness undoes what the program may have done to
the interpreter: the builtins are restored from a copy taken before the
program ran, modules it changed are restored or forgotten, and its own names
that shadow builtins (``abs = ...``) are not visible to the tests. The
function under test must return plain data: instances of built-in types,
whose equality the program cannot redefine.

Standard library only: it runs on the image's own python3.
"""

import builtins
import json
import os
import sys

HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made by Python code, whose methods a program can define
PRELOADED = ("math", "re", "string", "collections", "itertools", "functools", "random", "heapq", "bisect", "hashlib")


def main():
    payload = json.loads(sys.stdin.read())
    fd, key = payload.pop("result_fd"), payload.pop("nonce")
    write, dumps = os.write, json.dumps

    def report(index, **verdict):
        verdict["i"] = index
        write(fd, (key + "\t" + dumps(verdict) + "\n").encode())

    for name in PRELOADED:
        __import__(name)
    pristine = Snapshot()
    spec = payload["spec"]
    namespace = {"__name__": "solution", "__builtins__": builtins}
    try:
        exec(compile(payload["program"], "solution.py", "exec"), namespace)
        program_error = None
    except BaseException as error:  # SystemExit and KeyboardInterrupt too: the program stopped itself
        program_error = "the program raised " + describe(error)
    pristine.restore()
    if spec["mode"] == "assert":
        run_asserts(spec, namespace, pristine.builtins, program_error, report)
    else:
        run_calls(spec, namespace, program_error, report)


class Snapshot:
    """The interpreter state a program could tamper with: builtins, loaded modules and their contents."""

    def __init__(self):
        self.builtins = dict(builtins.__dict__)
        self.modules = dict(sys.modules)
        self.contents = {
            name: dict(vars(module)) for name, module in self.modules.items() if hasattr(module, "__dict__")
        }

    def restore(self):
        sys.settrace(None)
        sys.setprofile(None)
        sys.modules.clear()
        sys.modules.update(self.modules)
        for name, module in self.modules.items():
            saved = self.contents.get(name)
            if saved is None:
                continue
            try:
                contents = vars(module)
                contents.clear()
                contents.update(saved)
            except TypeError:
                continue


def run_asserts(spec, namespace, pristine_builtins, program_error, report):
    steps = spec["steps"]
    tests = [index for index, step in enumerate(steps) if step["test"]]
    if program_error:
        fail_all(range(len(tests)), program_error, report)
        return
    scope = {"__builtins__": pristine_builtins, "__name__": "tests"}
    for name, value in namespace.items():
        if name not in pristine_builtins and not name.startswith("__"):
            scope[name] = value
    entry = spec.get("entry_point")
    if entry:
        function = namespace.get(entry)
        if not callable(function):
            fail_all(range(len(tests)), f"the program defines no function {entry!r}", report)
            return
        scope[entry] = scope["candidate"] = plain_results(function)
    try:
        exec(compile(spec.get("preamble", ""), "<test set-up>", "exec"), scope)
    except BaseException as error:
        fail_all(range(len(tests)), "test set-up failed: " + describe(error), report)
        return
    test_number = 0
    for index, step in enumerate(steps):
        try:
            exec(compile(step["code"], f"<test {index}>", "exec", dont_inherit=True, optimize=0), scope)
        except BaseException as error:
            if not step["test"]:
                fail_all(range(test_number, len(tests)), "test set-up failed: " + describe(error), report)
                return
            report(test_number, ok=False, msg=describe(error))
        else:
            if step["test"]:
                report(test_number, ok=True)
        test_number += step["test"]


def run_calls(spec, namespace, program_error, report):
    calls = spec["calls"]
    if program_error:
        for index in range(len(calls)):
            report(index, error=program_error)
        return
    function = namespace.get(spec["function"])
    if not callable(function):
        for index in range(len(calls)):
            report(index, error="the program defines no function {!r}".format(spec["function"]))
        return
    function = plain_results(function)
    for index, arguments in enumerate(calls):
        try:
            value = json.dumps(function(*arguments), allow_nan=False)
        except BaseException as error:
            report(index, error=describe(error))
        else:
            report(index, value=value)


def plain_results(function, heap_type=HEAP_TYPE, type_of=type, containers=(list, tuple, set, frozenset)):
    """``function``, checking that what it returns is built of built-in types only."""

    def checked(*args, **kwargs):
        value = function(*args, **kwargs)
        stack, seen = [value], set()
        while stack:
            item = stack.pop()
            kind = type_of(item)
            if kind.__flags__ & heap_type:
                raise TypeError(f"returned a {kind.__name__} object: only values of built-in types are accepted")
            if kind in containers or kind is dict:
                if id(item) in seen:
                    continue
                seen.add(id(item))
                stack.extend(item.items() if kind is dict else item)
        return value

    return checked


def fail_all(indices, message, report):
    for index in indices:
        report(index, ok=False, msg=message)


def describe(error):
    """``TypeName: message``, short; never lets a program-defined ``__str__`` stop the harness."""
    name = type(error).__name__
    try:
        text = str(error)
    except BaseException:
        text = ""
    text = text if isinstance(text, str) else ""
    return (name + (": " + text if text else ""))[:300]


if __name__ == "__main__":
    main()
