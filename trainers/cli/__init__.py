"""The trainer subcommands of ``rlvr``: ``rlvr train`` (``train``), ``rlvr sample`` and ``rlvr sft``
(``sample_sft``), and the pydantic-fields-as-flags helper they share (``flags``).
"""
