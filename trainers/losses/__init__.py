"""The losses as pure tensor-in, tensor-out functions: GRPO's (advantages, clipped surrogate, KL,
aggregation) and PPO's (per-token rewards, GAE, whitening, clipped value loss).
"""
