"""Trainer configuration: pydantic models, the same fields from the CLI and from YAML/JSON.

``TrainerConfig`` holds what every trainer shares (the env, the model,
rollouts, optimisation, the cold start, evaluation, checkpoints);
``GRPOConfig`` and ``PPOConfig`` add their algorithm's own fields. Every field
says what it does and, where it comes from a paper, which one. Names follow
TRL's GRPOConfig and PPOConfig where there is one (``num_generations`` is our
``group_size``, ``num_iterations`` GRPO's ``mu``, ``num_ppo_epochs`` our
``ppo_epochs``), so the knobs are familiar.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rlvr.envs.core.plugins import EnvModules
from rlvr.trainers.losses.grpo_loss import LossType
from rlvr.trainers.losses.kl import KLEstimator
from rlvr.trainers.rollout.curriculum import Curriculum
from rlvr.trainers.rollout.env_mixture import EnvSelection

__all__ = ["GRPOConfig", "LoraSettings", "PPOConfig", "TrainerConfig", "TrainerConfigError", "load_config_file"]


class TrainerConfigError(ValueError):
    """A valid config that the chosen trainer cannot honour; the message names the field."""


class LoraSettings(BaseModel):
    """LoRA adapters through peft; ``r=0`` trains all weights."""

    model_config = ConfigDict(extra="forbid")

    r: int = Field(0, ge=0, description="LoRA rank; 0 disables LoRA and trains the full model.")
    alpha: int = Field(16, ge=1, description="LoRA scaling numerator (lora_alpha).")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="Dropout on the LoRA branch.")
    target_modules: list[str] = Field(
        default=["q_proj", "k_proj", "v_proj", "o_proj"],
        description="Module names that get adapters (Llama-style attention projections by default).",
    )


class TrainerConfig(EnvModules, EnvSelection):
    """The fields every trainer shares. ``rlvr train --help`` lists them with each trainer's own."""

    model_config = ConfigDict(extra="forbid")

    # --- what to train, on what: env, env_options, mixture (EnvSelection) ---
    model: str = Field(
        "tiny", description="Hub id, local path, or 'tiny' (the embedded offline Llama with a character tokenizer)."
    )
    output_dir: Path = Field(Path("runs/train"), description="Where metrics, plots and checkpoints go.")
    seed: int = Field(0, description="Seeds model init (tiny), prompt order and sampling.")

    # --- rollouts ---
    steps: int = Field(100, ge=0, description="Training steps: each samples a fresh batch of prompts.")
    prompts_per_step: int = Field(8, ge=1, description="Prompts (env seeds) per step.")
    group_size: int = Field(8, ge=1, description="Completions sampled per prompt.")
    max_new_tokens: int = Field(64, ge=1, description="Generation budget per turn, in tokens.")
    max_episode_tokens: int | None = Field(
        None,
        ge=1,
        description="Generation budget of a whole multi-turn episode (tool calls, retries), in tokens: the turn that "
        "reaches it is cut there and ends the episode. None: max_turns and the model's context bound an episode.",
    )
    temperature: float = Field(1.0, ge=0.0, description="Sampling temperature; also divides logits for log-probs.")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    top_k: int = Field(0, ge=0, description="Sample from the k most likely tokens only (0: no limit).")
    min_p: float = Field(
        0.0, ge=0.0, le=1.0, description="Drop tokens less likely than min_p times the most likely one (0: off)."
    )
    stop: list[str] = Field(
        default_factory=list,
        description="Stop strings: a completion ends with the token that completes one (it is kept and trained on).",
    )
    use_chat_template: bool | None = Field(
        None, description="Render prompts with the tokenizer's chat template; None: when it has one."
    )
    engine: Literal["hf", "vllm"] = Field(
        "hf", description="Rollout engine: transformers generate, or an in-process vLLM (GPU, optional extra)."
    )
    curriculum: list[Curriculum] = Field(
        default_factory=list,
        description="Curricula: how an env's reset option (its level) moves over training, by a fixed schedule "
        '({"option": "level", "schedule": [[0, 1], [200, 2]]}) or by a rule on its accuracy ({"levels": [1, 2, 3], '
        '"threshold": 0.8, "window": 256, "replay": 0.2}); "env" names the env in a mixture.',
    )
    async_rollouts: bool = Field(
        False,
        description="Sample the next batch on a background thread while the current one trains "
        "(one step off-policy; the ratio is taken against the sampling policy's log-probs).",
    )

    # --- the policy loss, shared by GRPO and PPO ---
    epsilon: float = Field(0.2, gt=0.0, description="Lower clip range: ratio >= 1 - epsilon.")
    epsilon_high: float | None = Field(
        None, gt=0.0, description="Upper clip range (DAPO's clip-higher); None: same as epsilon."
    )
    entropy_coef: float = Field(0.0, ge=0.0, description="Entropy bonus weight (0: off).")

    # --- optimisation ---
    learning_rate: float = Field(1e-6, gt=0.0, description="AdamW learning rate.")
    weight_decay: float = Field(0.0, ge=0.0, description="AdamW weight decay.")
    warmup_steps: int = Field(0, ge=0, description="Linear warm-up, in optimizer steps.")
    lr_scheduler: Literal["constant", "linear", "cosine"] = Field(
        "constant", description="Learning-rate schedule after warm-up."
    )
    gradient_accumulation_steps: int = Field(
        1, ge=1, description="Micro-batches per optimizer step; the step's batch is split into this many."
    )
    max_grad_norm: float = Field(1.0, gt=0.0, description="Gradient clipping by global norm.")
    gradient_checkpointing: bool = Field(False, description="Recompute activations in backward to save memory.")
    bf16: bool | None = Field(None, description="bfloat16 weights and compute; None: on when CUDA is used.")
    device: str = Field("auto", description="'auto' (CUDA when available), 'cpu', 'cuda', 'cuda:1', ...")
    fsdp: bool = Field(
        False, description="Shard the model over torchrun processes (FSDP2) instead of replicating it (DDP)."
    )
    lora: LoraSettings = Field(default_factory=LoraSettings, description="LoRA adapters (peft).")

    # --- the tiny model's cold start (DeepSeek-R1's SFT warm-up) ---
    cold_start_steps: int | None = Field(
        None, ge=0, description="SFT steps on worked examples before GRPO; None: 300 for 'tiny', 0 otherwise."
    )
    cold_start_learning_rate: float = Field(3e-3, gt=0.0, description="Learning rate of the cold-start SFT.")
    cold_start_batch_size: int = Field(32, ge=1, description="Examples per cold-start SFT step.")

    # --- evaluation, logging, checkpoints ---
    eval_every: int = Field(10, ge=0, description="Evaluate on held-out seeds every N steps (0: only at the ends).")
    eval_prompts: int = Field(64, ge=1, description="Held-out prompts per evaluation.")
    pass_k: int = Field(4, ge=1, description="k of pass@k in evaluation (k samples per prompt).")
    save_every: int = Field(20, ge=0, description="Checkpoint every N steps (0: only at the end).")
    keep_checkpoints: int = Field(2, ge=1, description="Newest checkpoints kept on disk.")
    resume: bool = Field(
        True,
        description="Continue from the newest checkpoint in output_dir when there is one (refused when it was saved "
        "with other settings that shape the learning problem; false starts over and replaces it).",
    )
    overwrite: bool = Field(
        False,
        description="Delete what output_dir holds of an earlier run (checkpoints, metrics, TensorBoard, the cold-start "
        "and final policies, curves) before starting.",
    )
    tensorboard: bool = Field(True, description="Also write TensorBoard event files.")
    progress: bool = Field(True, description="Show a progress bar.")

    @model_validator(mode="after")
    def _check_curriculum(self) -> TrainerConfig:
        if self.async_rollouts and any(c.levels for c in self.curriculum):
            raise ValueError(
                "a curriculum rule moves on the accuracy of the step just trained, which async_rollouts "
                "samples past: use a schedule, or async_rollouts=false"
            )
        return self

    @model_validator(mode="after")
    def _check_batch(self) -> TrainerConfig:
        batch = self.prompts_per_step * self.group_size
        if batch % self.gradient_accumulation_steps:
            raise ValueError(
                f"gradient_accumulation_steps={self.gradient_accumulation_steps} must divide "
                f"prompts_per_step * group_size = {batch}"
            )
        return self

    @property
    def clip_high(self) -> float:
        """The upper clip range actually used."""
        return self.epsilon if self.epsilon_high is None else self.epsilon_high

    @property
    def sft_steps(self) -> int:
        """Cold-start steps actually run."""
        if self.cold_start_steps is not None:
            return self.cold_start_steps
        return 300 if self.model.startswith("tiny") else 0

    @property
    def kl_weight(self) -> float:
        """Weight of the KL to the frozen reference; 0 means no reference model is loaded."""
        raise NotImplementedError


class GRPOConfig(TrainerConfig):
    """Everything a GRPO run needs (DeepSeekMath; DAPO; Dr. GRPO)."""

    output_dir: Path = Field(Path("runs/grpo"), description="Where metrics, plots and checkpoints go.")
    group_size: int = Field(8, ge=2, description="G: completions per prompt; advantages are relative within a group.")
    scale_rewards: Literal["group", "batch", "none"] = Field(
        "group", description="Advantage scaling: group std (GRPO), batch std, or none (Dr. GRPO)."
    )
    scale_rewards_by_env: bool = Field(
        False,
        description="With a mixture and scale_rewards=batch: the std of each env's own rewards, not the whole "
        "batch's, so an env with larger rewards does not shrink the others' advantages.",
    )
    beta: float = Field(
        0.04, ge=0.0, description="Weight of the k3 KL penalty to the frozen reference; 0 loads no reference."
    )
    num_iterations: int = Field(1, ge=1, description="mu: optimizer steps per batch, with the old log-probs fixed.")
    loss_type: LossType = Field(
        "grpo",
        description="TRL's loss types: 'grpo' (per-sequence mean, DeepSeekMath), 'dapo' (token mean over the batch, "
        "DAPO), 'bnpo' (token mean per micro-batch), 'dr_grpo' (sum over a constant, Dr. GRPO), 'cispo' "
        "(clipped importance-sampling weights, MiniMax-M1; epsilon_high is the weight cap).",
    )
    importance_sampling_level: Literal["token", "sequence"] = Field(
        "token",
        description="One probability ratio per token (PPO, GRPO) or per completion, the geometric mean of its "
        "tokens' (GSPO, Zheng et al. 2025; use with small clip ranges such as 3e-4 / 4e-4).",
    )
    kl_estimator: KLEstimator = Field(
        "k3", description="Estimator of the KL to the reference (Schulman 2020): k1, k2 or k3 (GRPO's)."
    )
    kl_penalty: Literal["loss", "reward"] = Field(
        "loss",
        description="Where beta's KL goes: a term of the loss (GRPO), or subtracted from each completion's reward "
        "before the advantages, summed over its tokens (as PPO-style RLHF does).",
    )
    filter_zero_std_groups: bool = Field(
        False, description="Drop groups whose rewards are all equal (no signal) from the loss; they are counted."
    )
    dynamic_sampling: bool = Field(
        False,
        description="DAPO's dynamic sampling: drop groups whose rewards are all equal and sample more prompts until "
        "the step has prompts_per_step informative groups (at most max_sampling_rounds rounds).",
    )
    max_sampling_rounds: int = Field(
        4, ge=1, description="Dynamic sampling: rounds of prompts_per_step prompts sampled at most per step."
    )
    mask_truncated_completions: bool = Field(
        False, description="DAPO's overlong filtering: completions that hit max_new_tokens are left out of the loss."
    )
    overlong_buffer: int = Field(
        0,
        ge=0,
        description="DAPO's soft overlong punishment: in the last overlong_buffer tokens of the budget the reward "
        "falls linearly by up to overlong_penalty (0: off).",
    )
    overlong_penalty: float = Field(1.0, ge=0.0, description="Largest soft overlong punishment, in reward units.")
    importance_sampling_correction: bool = Field(
        False,
        description="Truncated importance sampling (Yao et al. 2025): weigh each token's loss by "
        "min(pi_trainer / pi_sampler, importance_sampling_cap), correcting the gap between the sampler's "
        "probabilities (other kernels, truncated sampling, async rollouts) and the trainer's.",
    )
    importance_sampling_cap: float = Field(
        2.0, gt=0.0, description="C of truncated importance sampling: the largest per-token weight."
    )

    @model_validator(mode="before")
    @classmethod
    def _loss_aggregation_alias(cls, data: Any) -> Any:
        """``loss_aggregation`` (the former field) names the same losses: sequence_mean, token_mean, constant."""
        if isinstance(data, dict) and "loss_aggregation" in data:
            data = dict(data)
            legacy = data.pop("loss_aggregation")
            mapped = {"sequence_mean": "grpo", "token_mean": "dapo", "constant": "dr_grpo"}.get(legacy)
            if mapped is None:
                raise ValueError(
                    f"loss_aggregation={legacy!r}: expected sequence_mean, token_mean or constant (or use loss_type)"
                )
            if data.setdefault("loss_type", mapped) != mapped:
                raise ValueError(f"loss_aggregation={legacy!r} contradicts loss_type={data['loss_type']!r}")
        return data

    @model_validator(mode="after")
    def _check_losses(self) -> GRPOConfig:
        if self.loss_type == "cispo" and self.epsilon_high is None:
            raise ValueError("loss_type='cispo' caps each weight at epsilon_high: set it (MiniMax-M1 uses 5.0)")
        if self.overlong_buffer >= self.max_new_tokens:
            raise ValueError(
                f"overlong_buffer={self.overlong_buffer} must be below max_new_tokens={self.max_new_tokens}"
            )
        return self

    @property
    def kl_weight(self) -> float:
        return self.beta


class PPOConfig(TrainerConfig):
    """Everything a PPO run needs: the classic RLHF set-up with a critic (Ziegler et al. 2019; InstructGPT).

    The policy samples ``prompts_per_step * group_size`` completions; every
    generated token is a step with a KL penalty as its reward, the verifier's
    reward arrives on the last token, GAE turns these and the critic's values
    into advantages, and ``ppo_epochs`` passes over ``num_mini_batches``
    shuffled mini-batches train the policy (clipped surrogate) and the critic
    (clipped value loss) together.
    """

    output_dir: Path = Field(Path("runs/ppo"), description="Where metrics, plots and checkpoints go.")
    group_size: int = Field(
        1, ge=1, description="Completions per prompt; PPO needs no groups (1), more samples each prompt again."
    )
    kl_coef: float = Field(
        0.05,
        ge=0.0,
        description="KL penalty per token in the reward (InstructGPT's beta); 0 loads no reference. "
        "With adaptive_kl, the coefficient the run starts from.",
    )
    kl_estimator: Literal["k1", "k2", "k3"] = Field(
        "k1",
        description="Per-token KL estimator of the penalty (Schulman 2020, 'Approximating KL Divergence'): "
        "k1 = log pi - log pi_ref (the classic, unbiased, negative on some tokens), k2 = (log ratio)^2 / 2 "
        "(biased, low variance, >= 0), k3 = exp(x) - x - 1 with x = log pi_ref - log pi (unbiased, >= 0).",
    )
    adaptive_kl: bool = Field(
        False,
        description="Adapt kl_coef after each batch to keep the KL near target_kl (Ziegler et al. 2019): "
        "kl_coef *= 1 + clip(kl / target_kl - 1, -0.2, 0.2) * sequences / kl_horizon.",
    )
    target_kl: float = Field(
        6.0, gt=0.0, description="adaptive_kl's target: KL to the reference in nats per sequence (summed over tokens)."
    )
    kl_horizon: int = Field(
        10000,
        ge=1,
        description="adaptive_kl's horizon in sequences: a batch of n moves kl_coef by at most 0.2 * n / kl_horizon.",
    )
    gamma: float = Field(1.0, ge=0.0, le=1.0, description="Discount per generated token in GAE.")
    lam: float = Field(0.95, ge=0.0, le=1.0, description="GAE's lambda: 0 is one-step TD, 1 is Monte Carlo.")
    ppo_epochs: int = Field(4, ge=1, description="Passes over each batch (TRL's num_ppo_epochs).")
    num_mini_batches: int = Field(
        1, ge=1, description="Optimizer steps per pass: the batch is shuffled and split into this many."
    )
    cliprange_value: float = Field(
        0.2, ge=0.0, description="Value clipping: the critic moves at most this far (reward units) per batch."
    )
    critic_learning_rate: float | None = Field(
        None, gt=0.0, description="AdamW learning rate of the critic; None: the policy's learning_rate."
    )
    whiten_advantages: bool = Field(True, description="Whiten advantages over the batch (mean 0, std 1).")

    @model_validator(mode="after")
    def _check_mini_batches(self) -> PPOConfig:
        batch = self.prompts_per_step * self.group_size
        if batch % self.num_mini_batches:
            raise ValueError(
                f"num_mini_batches={self.num_mini_batches} must divide prompts_per_step * group_size = {batch}"
            )
        mini_batch = batch // self.num_mini_batches
        if mini_batch % self.gradient_accumulation_steps:
            raise ValueError(
                f"gradient_accumulation_steps={self.gradient_accumulation_steps} must divide the mini-batch "
                f"of {mini_batch} completions (prompts_per_step * group_size / num_mini_batches)"
            )
        if self.adaptive_kl and self.kl_coef == 0.0:
            raise ValueError("adaptive_kl scales kl_coef, which stays 0 from 0: set kl_coef > 0 to start from")
        if self.adaptive_kl and batch >= 5 * self.kl_horizon:
            raise ValueError(
                f"kl_horizon={self.kl_horizon} must exceed prompts_per_step * group_size / 5 = {batch / 5}: "
                "a batch could otherwise take kl_coef to zero or below"
            )
        return self

    @property
    def kl_weight(self) -> float:
        return self.kl_coef


def load_config_file(path: Path) -> dict[str, Any]:
    """Field values from a YAML (``.yaml``/``.yml``) or JSON file, as a dict.

    Raises:
        ValueError: one line naming the file (and the line and column of a syntax error): the file is
            missing or unreadable, does not parse, or does not hold a mapping of fields.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ValueError(f"{path}: no such config file") from None
    except OSError as error:
        raise ValueError(f"{path}: cannot read the config file ({error.strerror or error})") from None
    if path.suffix in {".yaml", ".yml"}:
        import yaml

        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
            problem = getattr(error, "problem", None) or str(error).splitlines()[0]
            raise ValueError(f"{path}{where}: not valid YAML: {problem}") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of config fields, got {type(data).__name__}")
    return data
