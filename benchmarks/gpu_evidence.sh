#!/usr/bin/env bash
# The GPU measurements of the training (>= 6x / 4x, MFU) and evaluation (>= 8x) throughput targets,
# at LLaSO-Base shapes, in one prepared run (about 8 minutes on an H200), and the multi-rank paths.
#
#   benchmarks/gpu_evidence.sh --fetch-wheels   # here: wheels the GPU image lacks, into .whl/ (git-ignored)
#   benchmarks/gpu_evidence.sh                  # on the GPU machine (carry .whl/ there); writes $OUT or runs/gpu_evidence
#   benchmarks/gpu_evidence.sh --smoke          # the same steps at CPU shapes, to check the script itself
#
# The GPU image (Python 3.12) has torch, transformers, tokenizers, pluggy, typer, rich, attrs and
# matplotlib; the benchmarks also import soundfile (with cffi and pycparser), and the precision step
# runs pytest (with iniconfig and pygments). An H200 holds micro-batch 8 for every variant (the
# issue's reference numbers are at batch 8); on an 80 GB H100 the default is 4, since the reference
# recipe's full-vocabulary logits do not fit at 8 in stage 2 (MICRO_BATCH=N overrides).
set -uo pipefail
cd "$(dirname "$0")/.."
WHEELS=(soundfile==0.14.0 cffi==2.1.1 pycparser==3.12 pytest==9.2.0 iniconfig==2.3.1 pygments==2.21.0)

case "${1:-}" in
    ""|--fetch-wheels|--smoke) ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu_evidence.sh: unknown argument '$1' (use --fetch-wheels, --smoke or none; --help)" >&2; exit 2 ;;
esac

if [[ "${1:-}" == "--fetch-wheels" ]]; then
    exec python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        -d .whl "${WHEELS[@]}"
fi

OUT="${OUT:-runs/gpu_evidence}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
PY=python3
if [[ "${1:-}" == "--smoke" ]]; then
    PY=.venv/bin/python
    TRAIN=(--shapes small --micro-batch 2 --steps 1)
    EVAL=(--shapes tiny --samples 8 --new-tokens 4)
else
    if ls .whl/*.whl >/dev/null 2>&1; then
        $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
            && export PYTHONPATH=/tmp/site || exit 1
    fi
    # the built-in plugins are found through the package's entry points: install its metadata
    $PY -m pip install -q --no-index --no-deps --no-build-isolation -e . >"$OUT/install.log" 2>&1 \
        || { cat "$OUT/install.log"; exit 1; }
    # micro-batch 8 as in the issue's reference numbers where it fits (H200); 4 on an 80 GB card
    memory_mib=$(nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits 2>/dev/null | head -1)
    default_micro=$([[ ${memory_mib:-0} -gt 100000 ]] && echo 8 || echo 4)
    TRAIN=(--shapes llaso-base --micro-batch "${MICRO_BATCH:-$default_micro}" --steps 4)
    EVAL=(--shapes llaso-base --device cuda --samples 64 --new-tokens 16 64)
fi

{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no GPU"
  $PY -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
} | tee "$OUT/environment.txt"

status=0
step() {  # step NAME SECONDS COMMAND...: run with a time limit, keep the log, go on after a failure
    local name=$1 limit=$2
    shift 2
    echo "== $name"
    timeout "$limit" "$@" 2>&1 | grep -v -i "deprecat" | tee "$OUT/$name.log"
    local rc=${PIPESTATUS[0]}
    [[ $rc -eq 0 ]] || { echo "== $name failed (exit $rc)"; status=1; }
}
step train 300 $PY benchmarks/train_throughput.py "${TRAIN[@]}" --stage both --json "$OUT/train.json"
step eval 180 $PY benchmarks/eval_throughput.py "${EVAL[@]}"
# precision on the device: a bf16 Llama and an fp16 Whisper checkpoint trained through `llaso train`
# at lr 3e-5 must move like an fp32 run (fp32 masters, frozen parts cast to the compute plan), and
# each rank's device follows LOCAL_RANK (pytest comes with the fetched wheels)
step precision 300 $PY -m pytest -q -p no:cacheprovider tests/training/test_precision.py tests/training/test_device.py
# Two ranks under torchrun, each on cuda:LOCAL_RANK (on a one-GPU machine they share it:
# LLASO_SHARE_GPU=1), over a tiny untrained checkpoint and a tone corpus (no speech synthesis
# needed): eval answers each rank's shard and merges all 8 predictions; the feature cache encodes
# each rank's share of the clips into that rank's own shards.
gpus=$($PY -c "import torch; print(torch.cuda.device_count())")
share=$([[ $gpus -lt 2 ]] && echo 1 || echo 0)
$PY -c "from pathlib import Path; from llaso_core.testing import tone_corpus; \
from llaso_core.model.lslm import LSLMConfig, build; tone_corpus(Path('$OUT/tones'), n=8); \
build(LSLMConfig(), texts=['a tiny vocabulary'] * 4).save_pretrained('$OUT/tiny_ckpt')" || status=1
step eval_2rank 300 bash -c "LLASO_SHARE_GPU=$share $PY -m torch.distributed.run --standalone --nproc_per_node 2 \
-m llaso_cli eval --model $OUT/tiny_ckpt --data $OUT/tones --split train --tasks SGC --modalities ta \
--out $OUT/eval_2rank && test \$(wc -l <$OUT/eval_2rank/predictions.jsonl) -eq 8"
step features_2rank 300 bash -c "LLASO_SHARE_GPU=$share $PY -m torch.distributed.run --standalone \
--nproc_per_node 2 -m llaso_cli features cache --model $OUT/tiny_ckpt --data $OUT/tones --split train \
--out $OUT/features_2rank && ls $OUT/features_2rank/*/shard-r0-* $OUT/features_2rank/*/shard-r1-*"
# the three stages under two ranks (DDP): the listen stage's heads wrap the encoder, whose unused
# heads (none here: one task) DDP must tolerate; every stage saves its final model
step train_2rank 300 bash -c "LLASO_SHARE_GPU=$share $PY -m torch.distributed.run --standalone --nproc_per_node 2 \
-m llaso_cli train --preset cpu --backend torch --data $OUT/tones --tasks SGC --modalities ta \
--stage listen,align,instruct --max-steps 2 --micro-batch 2 --out $OUT/train_2rank \
&& ls $OUT/train_2rank/listen/final $OUT/train_2rank/align/final $OUT/train_2rank/instruct/final"
exit $status
