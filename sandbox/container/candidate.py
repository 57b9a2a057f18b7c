"""The program's side of a test run: load the program, then answer the judge's calls with plain data.

This runs in the untrusted process, as the program's user, and trusts
nothing of its own: the program may rewrite any of it. That is harmless by
design. The judge (judge.py) runs the tests in another process, as another
user, and reads only framed JSON from here, which it turns into values of its
own making (wire.py). Whatever this process does, the most it can send is
some plain value per call, which is no more than a function of the program
could return anyway.

Requests (from the judge on ``RPC_IN``), each answered on ``RPC_OUT``:

* ``{"id": n, "op": "load", "program": source}``: run the program as module
  ``solution``; the answer lists its callables and plain constants, or says
  why it failed (``{"id": n, "error": ...}``).
* ``{"id": n, "op": "call", "name": f, "args": [...], "kwargs": {...}}``
  (arguments encoded by wire.py): call ``f``; answer ``{"id": n, "value":
  ...}`` or ``{"id": n, "error": "TypeName: message", "type": "TypeName"}``.

End of stream on ``RPC_IN`` ends the process with status 0.

Standard library only: it runs on the image's own python3.
"""

import builtins
import sys

import wire

RPC_IN, RPC_OUT = 3, 4
MAX_REQUEST = 1 << 26  # bytes: a program and its arguments fit well under this


def serve(rpc_in=RPC_IN, rpc_out=RPC_OUT):
    """Answer the judge's requests until it closes the stream; returns the exit status (0)."""
    namespace = {"__name__": "solution", "__builtins__": builtins}
    reader = wire.Reader(rpc_in)
    while True:
        try:
            request = wire.receive(rpc_in, MAX_REQUEST, reader)
        except wire.PlainDataError:
            return 1
        if request is None:
            return 0
        answer = {"id": request.get("id")}
        try:
            if request.get("op") == "load":
                answer.update(load(request["program"], namespace))
            else:
                answer.update(call(request, namespace))
        except BaseException as error:  # the program's own failure, reported as data
            answer.update(error=describe(error), type=type_name(error))
        try:
            wire.send(rpc_out, answer)
        except OSError:
            return 0  # the judge is gone
        except (ValueError, RecursionError, MemoryError) as error:  # an int past Python's digit limit, ...
            wire.send(rpc_out, {"id": answer["id"], "error": "the value cannot be written: " + type_name(error)})


def load(program, namespace):
    """Run the program; its callables by name and its plain constants, or why it failed."""
    try:
        exec(compile(program, "solution.py", "exec"), namespace)
    except BaseException as error:  # SystemExit and KeyboardInterrupt too: the program stopped itself
        return {"error": "the program raised " + describe(error)}
    callables, constants = [], {}
    for name, value in list(namespace.items()):
        if name.startswith("__") or type(name) is not str:
            continue
        if callable(value):
            callables.append(name)
            continue
        try:
            constants[name] = wire.encode(value)
        except wire.PlainDataError:
            continue  # modules, classes' instances: not available to the tests
    return {"callables": callables, "constants": constants}


def call(request, namespace):
    """Call the named function with the decoded arguments; its encoded value."""
    function = namespace.get(request["name"])
    if not callable(function):
        return {"error": "the program defines no function {!r}".format(request["name"]), "type": "NameError"}
    args = wire.decode(request.get("args", []))
    kwargs = wire.decode(request.get("kwargs", {"dict": []}))
    value = function(*args, **kwargs)
    return {"value": wire.encode(value)}


def describe(error):
    """``TypeName: message``, short; never lets a program-defined ``__str__`` stop the answer."""
    name = type_name(error)
    try:
        text = str(error)
    except BaseException:
        text = ""
    text = text if type(text) is str else ""
    return (name + (": " + text if text else ""))[:300]


def type_name(value):
    try:
        name = type.__getattribute__(type(value), "__name__")
    except BaseException:
        return "object"
    return name if type(name) is str else "object"


if __name__ == "__main__":
    sys.exit(serve())
