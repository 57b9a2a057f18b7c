"""rlvr/InstructionFollowing-v0: writing prompts with IFEval's (and IFBench's) verifiable instructions.

``env`` holds the task source, loader, rubric and registration; ``prompts`` the writing prompts,
the instruction samplers and renderings, and reference responses.
"""
