"""Generation: rollout engines (transformers, vLLM), episodes from envs, and asynchronous rollouts."""
