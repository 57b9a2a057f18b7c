"""rlvr-gym: gymnasium environments with verifiable rewards, and trainers for RL on language models.

The installed package is one namespace; each part is a subpackage with one role:

- ``rlvr.envs``: task environments, their registry (and plugins) and the built-in families;
- ``rlvr.verifiers``: scores, rubrics and the rule-based verifiers that give rewards;
- ``rlvr.trainers``: GRPO, PPO and the TRL adapter, rollouts, losses, runs, SFT and sampling;
- ``rlvr.sandbox``: hardened Docker execution of model-written code;
- ``rlvr.cli``: the ``rlvr`` command and its subcommand table.

Importing ``rlvr`` imports none of them.
"""

__version__ = "0.1.0"
