"""Learning, not just running: the tiny model (random encoder, trainable) trained for at most five
minutes on the mini-corpus learns speaker gender and pitch on held-out sentences and notes; the
untrained model does not."""

import json

import attrs
import pytest

from llaso_core.evaluation.evaluate import generate_predictions, read_done
from llaso_core.evaluation.generate import GenerationOptions, Generator
from llaso_core.loader import get_host
from llaso_core.metrics import METRICS
from llaso_core.model.lslm import LSLM
from llaso_core.training.config import cpu_default
from llaso_core.training.run import load_samples, train

pytestmark = pytest.mark.slow
TASKS = ("SGC", "PP")


def scores(checkpoint, corpus, out):
    host = get_host()
    config = cpu_default(data=str(corpus), tasks=TASKS, modalities=("ta",))
    samples, root = load_samples(config, host, split="eval", announce=lambda m: None)
    generator = Generator(LSLM.from_pretrained(checkpoint, host))
    path, _ = generate_predictions(generator, samples, root, out, host, options=GenerationOptions(batch_size=32))
    rows = list(read_done(path).values())
    by_task = {t: [r for r in rows if r["task"] == t] for t in TASKS}
    gender = [r["prediction"] for r in by_task["SGC"]], [r["reference"] for r in by_task["SGC"]]
    pitch = [r["prediction"] for r in by_task["PP"]], [r["reference"] for r in by_task["PP"]]
    acc = METRICS["acc"](*gender, protocol="strict", labels=["male", "female"])
    mae = METRICS["mae"](*pitch, protocol="strict", parser="pitch")
    return acc, mae


def test_tiny_model_learns_gender_and_pitch_in_five_minutes(tmp_path_factory):
    from llaso_core.data.synth.corpus import synthesize_corpus

    corpus = tmp_path_factory.mktemp("corpus")
    synthesize_corpus(corpus, per_task=500, seed=0, workers=2, tasks=TASKS)
    base = cpu_default(out=str(tmp_path_factory.mktemp("run")), data=str(corpus), tasks=TASKS,
                       modalities=("ta",), stages=("instruct",), seed=0)
    config = attrs.evolve(base, instruct=attrs.evolve(base.instruct, epochs=100, max_steps=400, max_minutes=5.0))
    [result] = train(config, announce=lambda m: None)
    assert result.seconds <= 5.5 * 60
    losses = [json.loads(line)["loss"] for line in open(f"{config.out}/instruct/metrics.jsonl")]
    assert sum(losses[-10:]) / 10 <= 0.5 * sum(losses[:5]) / 5, "training loss at least halved"

    trained_acc, trained_mae = scores(result.checkpoint, corpus, tmp_path_factory.mktemp("eval_trained"))
    untrained_acc, untrained_mae = scores(f"{config.out}/init", corpus, tmp_path_factory.mktemp("eval_init"))
    print(f"steps {result.steps} in {result.seconds:.0f} s; gender acc {trained_acc.value:.3f} "
          f"(untrained {untrained_acc.value:.3f}); pitch MAE {trained_mae.value} over {trained_mae.n_used} "
          f"(untrained {untrained_mae.value} over {untrained_mae.n_used} of {untrained_mae.n})")
    assert trained_acc.value >= 0.85 and trained_acc.n_invalid == 0  # every answer a valid label
    assert trained_mae.value <= 6.0 and trained_mae.n_invalid == 0
    assert untrained_acc.value < 0.85 or untrained_acc.n_invalid > 0
    assert untrained_mae.value is None or untrained_mae.value > 6.0 or untrained_mae.n_invalid > 0
