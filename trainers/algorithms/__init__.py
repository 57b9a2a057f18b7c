"""The training algorithms and their configs: GRPO, PPO, the loop they share (``rl_trainer``), and
the adapter that runs TRL's GRPOTrainer from the same config.
"""
