"""The attack suite: hostile programs, each with the verdict that shows it was contained.

``rlvr sandbox check`` and the tests fire the same attacks. After each one,
honest programs on the same pool must still score right (``healthy``), the
step must have kept its time bound and no container may have leaked: the
sandbox fails closed. The attacks come in classes, one module each:

* ``limits``: time, processes, threads, memory, output, network, the file
  system, PID 1;
* ``poisoning``: spoiling the container for later submissions;
* ``copying``: reading an earlier submission's answers;
* ``forging``: passing tests without solving them;
* ``host_faults``: values and output that could break the host's side;
* ``cleanup``: work directories that are slow, deep or treacherous to empty.
"""

from rlvr.sandbox.attacks import cleanup, copying, forging, host_faults, limits, poisoning
from rlvr.sandbox.attacks.kit import DOUBLE, STEP_SLACK, Attack, healthy, run_attack

ATTACKS: tuple[Attack, ...] = (
    *limits.ATTACKS,
    *poisoning.ATTACKS,
    *copying.ATTACKS,
    *forging.ATTACKS,
    *host_faults.ATTACKS,
    *cleanup.ATTACKS,
)
"""Every attack, by class."""

__all__ = ["ATTACKS", "DOUBLE", "STEP_SLACK", "Attack", "healthy", "run_attack"]
