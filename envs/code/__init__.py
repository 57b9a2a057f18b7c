"""rlvr/Code-v0 and rlvr/HumanEval-v0: write a Python function; unit tests in the sandbox give the reward.

``env`` holds the task sources, loaders, rubric and registration; ``problems`` the procedural
task families of Code-v0.
"""
