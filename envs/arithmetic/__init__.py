"""rlvr/Arithmetic-v0: integer arithmetic with an exact answer (``env``)."""
