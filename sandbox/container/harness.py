"""The test harness: runs a program, then its tests, and reports one verdict per test over a private pipe.

Input (JSON on stdin, never on disk, so there is no test file to read or
overwrite): the program, the tests (see sandbox/testspec.py), the number of
the pipe's file descriptor and a random key. Each verdict is a line
``key<TAB>json`` on that pipe; the runner keeps only lines with the key, and
the host counts a test that never got a verdict as failed. So exiting early
(``sys.exit(0)``, ``os._exit(0)``) or printing "all tests passed" gains a
program nothing: stdout is not the channel and silence is failure.

Before the program runs, the harness installs an audit hook (PEP 578; it
cannot be removed) that refuses every way Python offers to reach the
harness's own objects: frames (``sys._getframe``, ``tb_frame``,
``gi_frame``, trace and profile functions), the garbage collector's object
lists, ctypes, rewriting a function's code, new threads, and
``/proc/*/mem``; the process is not dumpable, so no other process can read
its memory either. The program runs on a thread of its own, so it cannot
install signal handlers (whose frame argument would lead to the harness),
and the main thread holds nothing. So the program cannot find the reporting
function, the key or the tests in memory.

After the program ran and before the tests run, the harness undoes what the
program may have done to the interpreter: the builtins are restored from a
copy taken before the program ran, modules it changed are restored or
forgotten, interval timers are cancelled, and its own names that
shadow builtins (``abs = ...``) are not visible to the tests. The function
under test must return plain data: instances of built-in types, whose
equality the program cannot redefine.

Standard library only: it runs on the image's own python3.
"""

import _thread
import builtins
import json
import os
import sys

HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made by Python code, whose methods a program can define
PRELOADED = ("math", "re", "string", "collections", "itertools", "functools", "random", "heapq", "bisect", "hashlib")


BLOCKED_EVENTS = frozenset(
    {
        "sys._current_frames",
        "sys.settrace",
        "sys.setprofile",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "object.__getattr__",  # tb_frame, f_code, gi_frame, gi_code, cr_frame, ag_frame, ...
        "code.__new__",
        "function.__new__",
        "_thread.start_new_thread",
    }
)


def main():
    """Read the payload, then do all the work on a thread of its own and wait for it.

    The program runs on that thread, so no frame it could ever see leads to
    the main thread, and signal handlers (which Python runs on the main
    thread only, with the main thread's frame) cannot be installed by it at
    all. The main thread holds nothing but a lock while it waits.
    """
    chunks = []
    while chunk := os.read(0, 1 << 16):
        chunks.append(chunk)
    box = [b"".join(chunks)]
    del chunks
    finished = _thread.allocate_lock()
    finished.acquire()

    def start():
        try:
            work(box.pop())
        finally:
            finished.release()

    _thread.start_new_thread(start, ())
    del start
    finished.acquire()


def work(raw):
    """Run the program, then the tests, reporting each verdict; on the worker thread."""
    payload = json.loads(raw)
    del raw
    fd, key = payload.pop("result_fd"), payload.pop("nonce")
    write, dumps, encode = os.write, json.dumps, str.encode

    def report(index, **verdict):
        verdict["i"] = index
        write(fd, encode(key + "\t" + dumps(verdict) + "\n"))

    for name in PRELOADED:
        __import__(name)
    restore = snapshot()
    asserts, calls, mode = run_asserts, run_calls, payload["spec"]["mode"]
    spec, program = payload["spec"], payload["program"]
    del payload
    namespace = {"__name__": "solution", "__builtins__": builtins}
    sys.addaudithook(refuse_introspection)
    try:
        exec(compile(program, "solution.py", "exec"), namespace)
        program_error = None
    except BaseException as error:  # SystemExit and KeyboardInterrupt too: the program stopped itself
        program_error = "the program raised " + describe(error)
    pristine_builtins = restore()
    if mode == "assert":
        asserts(spec, namespace, pristine_builtins, program_error, report)
    else:
        calls(spec, namespace, program_error, report)


def refuse_introspection(event, args):
    """The audit hook: no frames, no object lists, no ctypes, no code rewriting, no threads, no /proc/*/mem."""
    if event == "sys._getframe":  # ValueError, as for a frame deeper than the stack: callers that ask for
        raise ValueError("frames are not available in the sandbox")  # a caller's module name fall back on it
    if event in BLOCKED_EVENTS or event.startswith("ctypes."):
        raise RuntimeError(event + " is not allowed in the sandbox")
    if event == "object.__setattr__" and len(args) > 1 and args[1] in ("__code__", "__closure__"):
        raise RuntimeError("rewriting a function's code is not allowed in the sandbox")
    if event == "open" and args and isinstance(args[0], (str, bytes)):
        path = os.path.realpath(os.fsdecode(args[0]))
        if path.startswith("/proc/") and path.rsplit("/", 1)[-1] == "mem":
            raise RuntimeError("reading process memory is not allowed in the sandbox")


def snapshot():
    """Record what a program could tamper with; return the function that puts it back.

    That function restores the builtins, the loaded modules and their
    contents and the import machinery's lists, cancels interval timers, and
    returns a private copy of the builtins for the tests. (Signal handlers
    need no restoring: a program off the main thread cannot install any.)
    """
    pristine = dict(builtins.__dict__)
    modules = dict(sys.modules)
    contents = {name: dict(vars(module)) for name, module in modules.items() if hasattr(module, "__dict__")}
    lists = [(items, list(items)) for items in (sys.meta_path, sys.path_hooks, sys.path)]
    import signal

    set_timer, timers = signal.setitimer, (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF)

    def restore():
        for timer in timers:
            set_timer(timer, 0)
        sys.modules.clear()
        sys.modules.update(modules)
        for name, module in modules.items():
            saved = contents.get(name)
            if saved is None:
                continue
            try:
                namespace = vars(module)
                namespace.clear()
                namespace.update(saved)
            except TypeError:
                continue
        for items, saved_items in lists:
            items[:] = saved_items
        return dict(pristine)

    return restore


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
            if step.get("value"):  # an expression whose value the host compares with the expected one
                value = check_plain(eval(compile(step["code"], f"<test {index}>", "eval", dont_inherit=True), scope))
                text = repr(value)
            else:
                exec(compile(step["code"], f"<test {index}>", "exec", dont_inherit=True, optimize=0), scope)
        except BaseException as error:
            if not step["test"]:
                fail_all(range(test_number, len(tests)), "test set-up failed: " + describe(error), report)
                return
            report(test_number, ok=False, msg=describe(error))
        else:
            if step.get("value"):
                report(test_number, value=text)
            elif step["test"]:
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


def check_plain(value, heap_type=HEAP_TYPE, type_of=type, containers=(list, tuple, set, frozenset)):
    """``value``, if it is built of instances of built-in types only; else TypeError."""
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


def plain_results(function, check=check_plain):
    """``function``, checking that what it returns is built of built-in types only."""

    def checked(*args, **kwargs):
        return check(function(*args, **kwargs))

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
