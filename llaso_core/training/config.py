"""Run configuration: a typed object that round-trips to JSON and is saved in the run folder.

Defaults are the paper's recipe (docs/training.md). ``cpu_default()`` is the embedded default
used when no dataset is given: the offline mini-corpus, the tiny models, settings that finish its
three stages on two CPU cores in about ten minutes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import attrs
import cattrs

from llaso_core.data import MINICORPUS_PER_TASK
from llaso_core.model.lslm import LSLMConfig

Stage = Literal["listen", "align", "instruct"]
STAGE_ORDER: tuple[Stage, ...] = ("listen", "align", "instruct")


@attrs.frozen
class StageConfig:
    """One stage. ``trainable`` lists model parts: ``projector``, ``llm``, ``encoder``."""

    lr: float
    global_batch: int
    trainable: tuple[str, ...]
    tasks: tuple[str, ...] | None = None  # None: the run's tasks
    epochs: float = 1.0
    warmup_ratio: float = 0.01
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    max_steps: int | None = None
    max_minutes: float | None = None  # stop (and save) when the stage has run this long
    # samples per epoch of a task, as a multiple of its samples (tasks not named: 1; 0 leaves it out)
    task_weights: dict[str, float] = attrs.field(factory=dict)
    # a trained part's learning rate as a multiple of lr (parts not named: 1), e.g. {"encoder": 0.1}
    lr_scale: dict[str, float] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        unknown = set(self.trainable) - {"projector", "llm", "encoder"}
        if unknown:
            raise ValueError(f"StageConfig.trainable: unknown parts {sorted(unknown)}")
        untrained = set(self.lr_scale) - set(self.trainable)
        if untrained:
            raise ValueError(f"StageConfig.lr_scale names {sorted(untrained)}, which the stage does not train "
                             f"(trainable: {list(self.trainable)})")
        if any(not scale > 0 for scale in self.lr_scale.values()):
            raise ValueError(f"StageConfig.lr_scale: multipliers are > 0, not {self.lr_scale}")
        if self.global_batch < 1 or self.lr <= 0:
            raise ValueError("StageConfig: global_batch must be >= 1 and lr > 0")


def listen_stage() -> StageConfig:
    """The listen stage (``listen.py``): the encoder alone, under classifier heads; not in the paper's recipe."""
    return StageConfig(lr=1e-3, global_batch=64, trainable=("encoder",))


def paper_align() -> StageConfig:
    return StageConfig(lr=1e-3, global_batch=256, trainable=("projector",), tasks=("ASR",), warmup_ratio=0.0015)


def paper_instruct() -> StageConfig:
    return StageConfig(lr=3e-5, global_batch=128, trainable=("projector", "llm"))


@attrs.frozen
class TrainConfig:
    """Everything a run needs; ``out`` holds ``config.json``, checkpoints and ``metrics.jsonl``."""

    out: str = "runs/llaso"
    data: str | None = None  # a folder of train.jsonl/eval.jsonl (unified) or LLaSO JSON; None = mini-corpus
    bad_records: Literal["skip", "fail"] = "skip"  # malformed records: reported and left out, or stop the run
    long_audio: Literal["truncate", "skip"] = "truncate"  # clips over 30 s: cut (named), or their samples left out
    tasks: tuple[str, ...] = ("all",)
    modalities: tuple[str, ...] = ("ta", "at", "pa")
    stages: tuple[Stage, ...] = ("align", "instruct")  # in this order; "listen" (the encoder alone) goes first
    model: LSLMConfig = attrs.field(factory=LSLMConfig)
    listen: StageConfig = attrs.field(factory=listen_stage)
    align: StageConfig = attrs.field(factory=paper_align)
    instruct: StageConfig = attrs.field(factory=paper_instruct)
    micro_batch: int = 8
    max_length: int = 2048
    loss_normalization: Literal["tokens", "samples"] = "tokens"  # samples: each sample's mean token loss
    share_prefix: bool = True  # run the prompt prefix all rows share (system prompt) once per micro-batch
    precision: Literal["auto", "bf16", "fp32"] = "auto"  # autocast; trainable weights are always fp32 masters
    # the LLM's and encoder's weights in the saved checkpoints (init, final); trainer_state.pt keeps fp32 masters
    checkpoint_dtype: Literal["float32", "bfloat16"] = "float32"
    spec_augment: bool = True
    feature_cache: str | None = None  # folder of cached encoder frames (frozen encoder only)
    backend: Literal["auto", "torch", "deepspeed"] = "auto"
    zero_stage: int = 2
    deepspeed_config: str | None = None  # a user JSON merged over the generated one
    seed: int = 0
    save_every: int = 500
    log_every: int = 10
    workers: int = 2
    minicorpus_per_task: int = MINICORPUS_PER_TASK
    save_init: bool = False  # also save the untrained model (<out>/init): a baseline for reports

    def __attrs_post_init__(self) -> None:
        if self.listen.trainable != ("encoder",):
            raise ValueError(f"the listen stage trains the encoder only, not {list(self.listen.trainable)}")
        unknown = [s for s in self.stages if s not in STAGE_ORDER]
        if unknown or list(self.stages) != sorted(self.stages, key=STAGE_ORDER.index):
            raise ValueError(f"stages {list(self.stages)}: use listen, align, instruct, in that order")

    def stage(self, name: Stage) -> StageConfig:
        return {"listen": self.listen, "align": self.align, "instruct": self.instruct}[name]

    def to_dict(self) -> dict[str, Any]:
        return cattrs.unstructure(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """The config ``data`` describes; a value that does not fit raises one ``ValueError`` naming
        each such field (``... @ $.align.epochs``)."""
        try:
            return cattrs.structure(data, cls)
        except cattrs.BaseValidationError as exc:
            raise ValueError("; ".join(cattrs.transform_error(exc, format_exception=_why))) from None

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> "TrainConfig":
        return cls.from_dict(json.loads(path.read_text()))


def _why(error: BaseException, type_: Any) -> str:
    """A field's error as the config's own check words it (cattrs' wording for type mismatches)."""
    from cattrs.v import format_exception

    return str(error) if type_ is None else format_exception(error, type_)


#: The CPU preset's align tasks: each answer is one acoustic property (voice pitch, note pitch,
#: re-synthesis artefacts), which the projector learns to pass on under the frozen random LLM.
LISTENING_TASKS = ("SGC", "PP", "SSD")
#: The CPU preset's listen mix: synthetic speech six times and vocal sounds three times, the two whose
#: cues the encoder takes longest to learn (benchmarks/README.md, fifth and sixth searches).
LISTEN_TASK_WEIGHTS = {"SSD": 6.0, "VC": 3.0}
#: The CPU preset's instruct mix: the listening tasks twice, and the closed-set tasks the search
#: found slowest (AC, AR and EIE have several label sets) twice; the open-ended tasks (long answers
#: a model trained from scratch in minutes cannot learn) a fifth; every other task once.
CPU_TASK_WEIGHTS = {"SGC": 2.0, "PP": 2.0, "SSD": 2.0, "AC": 2.0, "AR": 2.0, "EIE": 2.0, "ISC": 2.0,
                    "*open": 0.2}


def cpu_default(**overrides: Any) -> TrainConfig:
    """The embedded default: mini-corpus, tiny encoder (it starts random) and tiny LLM, three stages.

    A curriculum, unlike the paper: the listen stage trains the encoder alone under one linear head
    per label set (synthetic speech and vocal sounds weighted up: they need the most passes); align
    trains the projector on the listening tasks under the frozen random LLM; instruct trains
    everything on all the run's tasks, weighted. After listen the encoder learns at a tenth of the
    rate, so the LLM's loss tunes it without undoing what listen taught (benchmarks/README.md,
    cpu_learning.py: every quickstart bar on three seeds). Queries with text (``ta``, ``at``) only: the tiny LLM cannot read a spoken
    instruction. Each sample's mean token loss counts once, so labels weigh as much as transcripts."""
    slow_encoder = {"encoder": 0.1}
    listen = StageConfig(lr=2e-3, global_batch=16, trainable=("encoder",), epochs=3, warmup_ratio=0.05,
                         task_weights=LISTEN_TASK_WEIGHTS)
    align = StageConfig(lr=2e-3, global_batch=16, trainable=("projector", "encoder"), tasks=LISTENING_TASKS,
                        epochs=3, lr_scale=slow_encoder)
    instruct = StageConfig(lr=2e-3, global_batch=16, trainable=("projector", "llm", "encoder"), epochs=2.8,
                           warmup_ratio=0.03, task_weights=CPU_TASK_WEIGHTS, lr_scale=slow_encoder)
    return attrs.evolve(TrainConfig(listen=listen, align=align, instruct=instruct, stages=STAGE_ORDER, micro_batch=16,
                                    precision="fp32", spec_augment=False, save_init=True, workers=1,
                                    modalities=("ta", "at"), loss_normalization="samples"), **overrides)
