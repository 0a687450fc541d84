#!/usr/bin/env bash
# Train a design of tiny-rlm on a lent GPU inside one fixed time budget (issue #11), as run by the
# `device` tool: bash training/gpu/train_design.sh DESIGN BUDGET_S
#
# The design's cosine schedule needs its length up front, so a 150-step pilot measures this machine's
# step time first and the real run gets the most whole 250-step units that fit what is left.
# Carried (ignored, named in the call's `carry`): .whl/ (transformers 5.23.0 and what resp-dsl needs
# that the GPU image lacks) and .carry/stdlib.tar.gz (the Python 3.11 standard-library sources this
# CPU's corpus is read from, so the generic text is the same: RESP_DSL_STDLIB_DIR).
# Everything comes back under $OUT: the logs, and the model with the run's state.json and
# summary.json as a tar split into 15 MiB parts (the tool returns files of 16 MiB at most).
set -u
design=$1 budget=$2
device=${DEVICE:-cuda} pilot=${PILOT:-150} unit=${UNIT:-250}  # overridden only to test this script on a CPU
t0=$(date +%s)
left() { echo $(( budget - ($(date +%s) - t0) )); }
if [ -z "${SKIP_WHEELS:-}" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
fi
export PYTHONPATH=/tmp/site:$PWD TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
mkdir -p /tmp/stdlib && tar -xzf .carry/stdlib.tar.gz -C /tmp/stdlib && export RESP_DSL_STDLIB_DIR=/tmp/stdlib
train=(python3 -m resp_dsl zoo train tiny-rlm --design "$design" --device "$device" --micro-batch 128 --data-workers 6)
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  python3 -c "import sys, torch, transformers; print(sys.version.split()[0], torch.__version__, transformers.__version__)"
  python3 -c "from resp_dsl.zoo import generic; print('generic corpus', generic.corpus_checksum())"
  "${train[@]}" --workdir /tmp/pilot --out /tmp/pilot-model --steps 100000 --until "$pilot"
} > "$OUT/pilot.log" 2>&1
step_s=$(python3 -c "
import json, statistics
log = json.load(open('/tmp/pilot/state.json'))['log']
print(statistics.median(e['seconds'] for e in log[min(30, len(log) // 2):]))")
# every eval_every steps (2000) the trainer runs a greedy eval of 100 problems: about 6 s here
steps=$(python3 -c "
avail = $(left) - 60
n = int(avail / ($step_s * 1.03) / $unit) * $unit
while n > $unit and n * $step_s * 1.03 + (n // 2000 + 1) * 6 > avail: n -= $unit
print(n)")
[ "$steps" -ge "$unit" ] || { echo "no time left to train" >> "$OUT/pilot.log"; exit 1; }
echo "step ${step_s}s, $(left)s left: training $steps steps" | tee -a "$OUT/pilot.log"
timeout $(( $(left) - 25 )) "${train[@]}" --workdir /tmp/w --out /tmp/w/model --steps "$steps" > "$OUT/train.log" 2>&1
echo "train rc=$? $(left)s left" >> "$OUT/train.log"
cd /tmp/w && if [ -d model ]; then tar -cf /tmp/m.tar model state.json summary.json; else tar -cf /tmp/m.tar model.safetensors state.json; fi
cd - > /dev/null && split -b 15M /tmp/m.tar "$OUT/m.tar.part-"
if [ "$(left)" -gt 50 ]; then  # the GPU path of the interpreter, on the quickstart's model
  timeout $(( $(left) - 15 )) python3 -m resp_dsl run .carry/gpu_smoke.prune --out /tmp/smoke > "$OUT/smoke.log" 2>&1
  echo "smoke rc=$?" >> "$OUT/smoke.log"
fi
