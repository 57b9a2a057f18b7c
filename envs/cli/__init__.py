"""The environment subcommands of ``rlvr``: ``rlvr envs`` (the list), ``rlvr demo`` and ``rlvr decontaminate``."""
