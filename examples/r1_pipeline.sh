#!/usr/bin/env bash
# DeepSeek-R1's multi-stage recipe on the main job (tiny model, rlvr/Arithmetic-v0 level 1):
#   1. cold-start SFT on worked examples, then GRPO        (rlvr train)
#   2. rejection sampling: keep the policy's accepted answers (rlvr sample; add --grader-url for a judge)
#   3. SFT of the cold-start model on them                  (rlvr sft)
#   4. GRPO again from that model                           (rlvr train)
# Each stage reads what the one before wrote, and prints held-out accuracy before and after.
#
#   bash examples/r1_pipeline.sh [OUT]          # OUT defaults to runs/r1-pipeline; about a minute on 2 cores
#   STEPS=50 PROMPTS=64 bash examples/r1_pipeline.sh /tmp/r1   # shorter
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-runs/r1-pipeline}
STEPS=${STEPS:-400}           # GRPO steps of each RL stage
PROMPTS=${PROMPTS:-256}       # prompts to rejection-sample, 8 completions each
EVAL=${EVAL:-200}             # held-out prompts per evaluation
RLVR=${RLVR:-rlvr}
ENV_OPTIONS='{"level": 1, "template": "equation"}'
QUIET=(--progress false --tensorboard false)

echo "== 1. cold start + GRPO"
"$RLVR" train --config examples/tiny_arithmetic.yaml --output-dir "$OUT/rl1" --steps "$STEPS" \
    --eval-prompts "$EVAL" "${QUIET[@]}"

echo "== 2. rejection sampling from the GRPO policy"
"$RLVR" sample --env rlvr/Arithmetic-v0 --env-options "$ENV_OPTIONS" --model "$OUT/rl1/final" \
    --prompts "$PROMPTS" --k 8 --max-new-tokens 4 --out "$OUT/sample" --progress false

echo "== 3. SFT of the cold-start model on the accepted completions"
"$RLVR" sft --data "$OUT/sample" --model "$OUT/rl1/sft" --out "$OUT/sft" --epochs 8 --batch-size 8 --learning-rate 3e-4 \
    --max-new-tokens 4 --eval-prompts "$EVAL" "${QUIET[@]}"

echo "== 4. GRPO again, from the SFT model"
"$RLVR" train --config examples/tiny_arithmetic.yaml --model "$OUT/sft/final" --cold-start-steps 0 \
    --output-dir "$OUT/rl2" --steps "$STEPS" --eval-prompts "$EVAL" "${QUIET[@]}"
