"""The frozen-encoder feature cache: trimmed frames equal the encoder's, reuse, invalidation, training batches."""

import json
import os

import numpy as np
import pytest
import torch

from llaso_core.loader import get_host
from llaso_core.model.lslm import LSLMConfig, build
from llaso_core.training.data import CachedFrames, TrainingSet
from llaso_core.training.features import CacheMiss, FeatureCache, encoder_fingerprint, sample_audio_paths
from llaso_core.training.run import tokenizer_texts
from llaso_core.data.audio import AudioPolicy, load_audio

# float16 keeps 11 significant bits: |error| <= 2^-11 |x| (~5e-4 relative) on LayerNorm-scale frames
F16 = dict(rtol=1e-3, atol=1e-3)


@pytest.fixture
def tiny_model(tones):
    samples, _ = tones
    torch.manual_seed(0)
    model = build(LSLMConfig(), get_host(), texts=tokenizer_texts(samples, get_host()))
    model.eval()
    return model


def on_the_fly(encoder, paths):
    """Each clip encoded alone (no neighbours, no padding), valid frames only."""
    out = []
    for path in paths:
        wave = load_audio(path, AudioPolicy()).samples
        feats, lengths = encoder.featurizer([wave])
        with torch.no_grad():
            frames, frame_lengths = encoder(feats, lengths)
        out.append(frames[0, :int(frame_lengths[0])])
    return out


def test_cached_frames_equal_the_encoder_frames_and_are_reused(tones, tiny_model, tmp_path):
    samples, root = tones
    encoder = tiny_model.encoder
    paths = sample_audio_paths(samples, root)
    cache = FeatureCache.for_encoder(tmp_path / "cache", encoder, "tiny")
    seen = []
    report = cache.build(encoder, paths, encoder_id="tiny", batch_size=5, shard_clips=20,
                         progress=lambda done, total: seen.append((done, total)))
    assert (report.clips, report.already, report.problems) == (48, 0, 0)
    assert seen[-1] == (48, 48) and len(seen) == 10  # batches of 5
    assert sorted(p.name for p in cache.folder.glob("shard-*.json")) == [f"shard-r0-0000{i}.json" for i in range(3)]
    assert report.bytes == report.frames * encoder.output_dim * 2  # float16, valid frames only
    # trimming: only each clip's own frames, equal to the encoder on the clip alone
    expected = on_the_fly(encoder, paths)
    got = cache.frames(paths)
    assert [g.shape[0] for g in got] == [encoder.num_frames(len(load_audio(p).samples)) for p in paths]
    for g, e in zip(got, expected):
        assert g.dtype == np.float16
        torch.testing.assert_close(torch.from_numpy(g.astype(np.float32)), e, **F16)
    padded, lengths = cache.padded(paths[:3])
    assert padded.shape == (3, int(lengths.max()), encoder.output_dim)
    assert padded[int(lengths.argmin()), int(lengths.min()):].abs().sum() == 0
    # reopened (another process, another stage or epoch): everything is found, nothing re-encoded
    again = FeatureCache.for_encoder(tmp_path / "cache", encoder, "tiny")
    assert len(again) == 48 and all(p in again for p in paths)
    assert again.build(encoder, paths, encoder_id="tiny").clips == 0
    # a changed file is a miss until re-encoded; only it is encoded again
    os.utime(paths[0], ns=(1, 1))
    assert paths[0] not in again
    with pytest.raises(CacheMiss, match="changed since"):
        again.frames([paths[0]])
    assert again.build(encoder, paths, encoder_id="tiny").clips == 1
    assert paths[0] in again
    # other weights or another id: another fingerprint, another folder
    fp = encoder_fingerprint(encoder, "tiny")
    assert encoder_fingerprint(encoder, "other") != fp
    with torch.no_grad():
        encoder.norm.weight.add_(1e-3)
    assert encoder_fingerprint(encoder, "tiny") != fp
    with pytest.raises(ValueError, match="fingerprint"):
        again.build(encoder, paths, encoder_id="tiny")


def test_cached_batches_give_the_same_loss_as_audio_batches(tones, tiny_model, tmp_path):
    samples, root = tones
    model = tiny_model
    cache = FeatureCache.for_encoder(tmp_path / "cache", model.encoder, "tiny")
    cache.build(model.encoder, sample_audio_paths(samples, root), encoder_id="tiny", batch_size=16)
    kwargs = dict(tokenizer=model.tokenizer, featurizer=model.encoder.featurizer, frame_stack=1,
                  audio_token_id=model.audio_token_id, max_length=2048)
    audio_set = TrainingSet(samples, root, **kwargs)
    cached_set = TrainingSet(samples, root, audio=CachedFrames(cache), **kwargs)
    ids = [0, 5, 6, 11]
    assert np.array_equal(cached_set.lengths(), audio_set.lengths())
    assert (audio_set.lengths() > 0).all()
    pad = model.tokenizer.pad_token_id
    audio_batch = audio_set.collator(pad, augment=False, seed=0)([audio_set[i] for i in ids])
    collate_cached = cached_set.collator(pad, augment=True, seed=0)
    assert not collate_cached.augment  # no SpecAugment on cached frames
    cached_batch = collate_cached([cached_set[i] for i in ids])
    assert cached_batch.audio_features is None and cached_batch.audio_frames.shape[0] == 4
    assert torch.equal(cached_batch.input_ids, audio_batch.input_ids)
    assert torch.equal(cached_batch.splice_frame, audio_batch.splice_frame)
    with torch.no_grad():
        loss_audio, n_audio = model(audio_batch)
        loss_cached, n_cached = model(cached_batch)
    assert n_audio == n_cached
    torch.testing.assert_close(loss_cached, loss_audio, rtol=1e-3, atol=1e-3)
    # pickles into data-loader workers (memory maps reopen there)
    loader = torch.utils.data.DataLoader(cached_set, batch_size=4, collate_fn=collate_cached, num_workers=1)
    assert next(iter(loader)).audio_frames.shape[-1] == model.encoder.output_dim
    # a clip missing from the cache is found when its sample is loaded, named in the problem log
    log = tmp_path / "problems.jsonl"
    empty = TrainingSet(samples, root, audio=CachedFrames(FeatureCache(tmp_path / "empty", cache.fingerprint)),
                        problem_log=log, **kwargs)
    assert empty[3] is None and empty.problems == 1
    [line] = [json.loads(l) for l in log.read_text().splitlines()]
    assert line["sample_id"] == samples[3].id and line["kind"] == "missing" and "feature cache" in line["reason"]
    assert line["path"].endswith(samples[3].audio[0].path)


@pytest.mark.parametrize("mode", ["pad30", "trim"])
def test_whisper_cache_keeps_the_valid_part_of_the_encoding(tones, tmp_path, mode):
    """pad30: each clip is encoded padded to 30 s (as Whisper was trained) and only its own frames are
    stored; trim: the clip's frames only. Both equal the encoder's output for the clip alone."""
    from llaso_plugins.encoders.whisper import build as whisper

    samples, root = tones
    torch.manual_seed(0)
    config = dict(d_model=64, encoder_layers=2, encoder_attention_heads=4, encoder_ffn_dim=128, num_mel_bins=80,
                  max_source_positions=1500)
    encoder = whisper(None, config=config, length_mode=mode).eval()
    paths = sample_audio_paths(samples, root)[:6]
    cache = FeatureCache.for_encoder(tmp_path / "cache", encoder, "whisper")
    cache.build(encoder, paths, encoder_id="whisper", batch_size=4)
    for got, want in zip(cache.frames(paths), on_the_fly(encoder, paths)):
        assert got.shape[0] == want.shape[0] < 1500
        torch.testing.assert_close(torch.from_numpy(got.astype(np.float32)), want, **F16)


def test_cli_caches_an_lslm_checkpoint_and_fails_clearly(tones, tiny_model, tmp_path):
    from typer.testing import CliRunner

    from llaso_cli.features_cmd import app

    samples, root = tones
    tiny_model.save_pretrained(tmp_path / "ckpt")
    runner = CliRunner()
    result = runner.invoke(app, ["cache", "--model", str(tmp_path / "ckpt"), "--data", str(root),
                                 "--out", str(tmp_path / "cache"), "--batch", "8"])
    assert result.exit_code == 0, result.output
    assert "48 clip(s) encoded" in result.output
    from llaso_core.model.lslm import LSLM

    encoder = LSLM.from_pretrained(tmp_path / "ckpt").encoder
    cache = FeatureCache.for_encoder(tmp_path / "cache", encoder, "tiny")
    assert len(cache) == 48 and cache.manifest["dim"] == encoder.output_dim
    for args, message in [
        (["--model", str(tmp_path / "ckpt"), "--data", str(tmp_path / "nope")], "nope: no such file or folder"),
        (["--model", "tiny", "--data", str(root)], "no pretrained weights"),
        (["--model", "wisper", "--data", str(root)], "unknown encoder"),
        (["--model", str(root), "--data", str(root)], "not an LSLM checkpoint"),
    ]:
        result = runner.invoke(app, ["cache", *args, "--out", str(tmp_path / "cache")])
        assert result.exit_code == 2 and message in result.output, result.output
    assert "--batch" in runner.invoke(app, ["cache", "--help"]).output


def _cache_rank(rank, port, root, out):
    """One rank of a 2-process launch building the cache of the tone corpus's clips."""
    from tests.training.conftest import end_rank, join_two_rank_launch

    join_two_rank_launch(rank, port)
    from llaso_core.data.store import read_samples

    samples = list(read_samples(root / "train.jsonl"))
    torch.manual_seed(0)
    model = build(LSLMConfig(), get_host(), texts=tokenizer_texts(samples, get_host()))
    cache = FeatureCache.for_encoder(out / "cache", model.encoder, "tiny")
    report = cache.build(model.encoder, sample_audio_paths(samples, root), encoder_id="tiny", batch_size=4)
    (out / f"rank{rank}.json").write_text(json.dumps({"clips": report.clips, "seen": len(cache)}))
    end_rank()


def test_two_ranks_build_one_cache_each_encoding_its_own_share(tones, tmp_path):
    """Under a 2-rank launch every clip is encoded once, by one rank, into that rank's own shards;
    after the build both ranks see the whole cache, equal to a one-process build."""
    import torch.multiprocessing as mp

    from tests.training.conftest import free_port

    samples, root = tones
    mp.start_processes(_cache_rank, args=(free_port(), root, tmp_path), nprocs=2, start_method="spawn")
    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["clips"] for r in reports] == [24, 24] and [r["seen"] for r in reports] == [48, 48]
    folder = next((tmp_path / "cache").iterdir())
    keys = {r: [e[0] for p in folder.glob(f"shard-r{r}-*.json") for e in json.loads(p.read_text())["entries"]]
            for r in (0, 1)}
    assert len(keys[0]) == len(set(keys[0])) == 24 and len(keys[1]) == 24 and not set(keys[0]) & set(keys[1])
    torch.manual_seed(0)
    model = build(LSLMConfig(), get_host(), texts=tokenizer_texts(samples, get_host()))
    one = FeatureCache.for_encoder(tmp_path / "one", model.encoder, "tiny")
    one.build(model.encoder, sample_audio_paths(samples, root), encoder_id="tiny", batch_size=4)
    two = FeatureCache.for_encoder(tmp_path / "cache", model.encoder, "tiny")
    assert two.fingerprint == one.fingerprint
    paths = sample_audio_paths(samples, root)
    for a, b in zip(one.frames(paths), two.frames(paths)):
        np.testing.assert_allclose(a.astype(np.float32), b.astype(np.float32), rtol=1e-3, atol=1e-3)
