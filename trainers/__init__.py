"""Trainers that train a language model on any registered environment, by env id.

GRPO and its PPO baseline will live here; this package holds no trainer yet.
"""
