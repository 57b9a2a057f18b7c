"""GRPO configuration: one pydantic model, the same fields from the CLI and from YAML/JSON.

Every field says what it does and, where it comes from a paper, which one.
Names follow TRL's GRPOConfig where there is one (``num_generations`` is our
``group_size``, ``num_iterations`` our ``mu``), so the knobs are familiar.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["GRPOConfig", "LoraSettings", "TrainerConfigError", "load_config_file"]


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


class GRPOConfig(BaseModel):
    """Everything a GRPO run needs. ``rlvr train --help`` lists the same fields."""

    model_config = ConfigDict(extra="forbid")

    # --- what to train, on what ---
    env: str = Field("rlvr/Arithmetic-v0", description="Registered env id to train on (see `rlvr envs`).")
    env_options: dict[str, Any] = Field(
        default_factory=dict, description='Options passed to the env, e.g. {"level": 2, "template": "r1"}.'
    )
    model: str = Field(
        "tiny", description="Hub id, local path, or 'tiny' (the embedded offline Llama with a character tokenizer)."
    )
    output_dir: Path = Field(Path("runs/grpo"), description="Where metrics, plots and checkpoints go.")
    seed: int = Field(0, description="Seeds model init (tiny), prompt order and sampling.")

    # --- rollouts ---
    steps: int = Field(100, ge=0, description="GRPO steps: each samples a fresh batch of prompts and groups.")
    prompts_per_step: int = Field(8, ge=1, description="Prompts (env seeds) per step.")
    group_size: int = Field(8, ge=2, description="G: completions per prompt; advantages are relative within a group.")
    max_new_tokens: int = Field(64, ge=1, description="Generation budget per turn, in tokens.")
    temperature: float = Field(1.0, ge=0.0, description="Sampling temperature; also divides logits for log-probs.")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    use_chat_template: bool | None = Field(
        None, description="Render prompts with the tokenizer's chat template; None: when it has one."
    )
    engine: Literal["hf", "vllm"] = Field(
        "hf", description="Rollout engine: transformers generate, or an in-process vLLM (GPU, optional extra)."
    )

    # --- the GRPO objective (DeepSeekMath; DAPO; Dr. GRPO) ---
    scale_rewards: Literal["group", "batch", "none"] = Field(
        "group", description="Advantage scaling: group std (GRPO), batch std, or none (Dr. GRPO)."
    )
    beta: float = Field(
        0.04, ge=0.0, description="Weight of the k3 KL penalty to the frozen reference; 0 loads no reference."
    )
    epsilon: float = Field(0.2, gt=0.0, description="Lower clip range: ratio >= 1 - epsilon.")
    epsilon_high: float | None = Field(
        None, gt=0.0, description="Upper clip range (DAPO's clip-higher); None: same as epsilon."
    )
    num_iterations: int = Field(1, ge=1, description="mu: optimizer steps per batch, with the old log-probs fixed.")
    loss_aggregation: Literal["sequence_mean", "token_mean", "constant"] = Field(
        "sequence_mean",
        description="Per-sequence mean (GRPO paper), token mean (DAPO), or a constant divisor (Dr. GRPO).",
    )
    filter_zero_std_groups: bool = Field(
        False, description="Drop groups whose rewards are all equal (no signal) from the loss; they are counted."
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
    resume: bool = Field(True, description="Continue from the newest checkpoint in output_dir when there is one.")
    tensorboard: bool = Field(True, description="Also write TensorBoard event files.")
    progress: bool = Field(True, description="Show a progress bar.")

    @model_validator(mode="after")
    def _check(self) -> GRPOConfig:
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


def load_config_file(path: Path) -> dict[str, Any]:
    """Field values from a YAML (``.yaml``/``.yml``) or JSON file, as a dict."""
    text = Path(path).read_text()
    if Path(path).suffix in {".yaml", ".yml"}:
        import yaml

        data = yaml.safe_load(text) or {}
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of config fields, got {type(data).__name__}")
    return data
