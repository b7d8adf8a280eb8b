import attrs

from llaso_core.training.config import cpu_default
from llaso_core.training.run import DataError, train


def test_training_on_cached_frames_runs_and_refuses_a_trainable_encoder(tones, tmp_path):
    _, root = tones
    base = cpu_default(out=str(tmp_path / "run"), data=str(root), tasks=("SGC",), modalities=("ta",),
                       stages=("instruct",), workers=0, feature_cache=str(tmp_path / "cache"))
    frozen = attrs.evolve(base.instruct, trainable=("projector", "llm"), lr_scale={}, global_batch=8, max_steps=3)
    [result] = train(attrs.evolve(base, instruct=frozen, micro_batch=4), announce=lambda m: None)
    assert result.steps == 3 and result.last_loss < result.first_loss
    assert any((tmp_path / "cache").rglob("*"))
    try:
        train(base, announce=lambda m: None)
    except DataError as exc:
        assert "frozen encoder" in str(exc)
    else:
        raise AssertionError("a trainable encoder with a feature cache must be refused")
