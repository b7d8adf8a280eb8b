"""SRE: is the speaker talking slowly, normally or fast? A complete third-party llaso task: its
declaration, a mini-corpus recipe (:mod:`.recipe`) and a raw-corpus adapter (:mod:`.corpus`)."""

from llaso_core import hookimpl
from llaso_core.specs import AdapterSpec, LabelSet, RecipeSpec, Source, TaskSpec, Template, TemplateSet

TEMPLATES = TemplateSet(
    templates=[
        Template("SRE-1", "How fast is the speaker talking? Answer with one of: {labels}.", "standardized"),
        Template("SRE-2", "You are coaching a public speaker. Rate their pace as {labels}.", "contextualized"),
        Template("SRE-3", "Quick one: is this person's speech {labels}?", "stylistic"),
        Template("SRE-4", "Classify the speaking rate. Output exactly one word from: {labels}.", "fine-grained"),
    ],
    eval_ids={"SRE-4"},
)

SPEAKING_RATE = TaskSpec(
    id="SRE",
    name="speaking rate estimation",
    category="paralinguistic-speaker",
    sources=[Source("speaking_rate_classification", modalities=("ta", "pa"))],
    templates=TEMPLATES,
    label_sets=[LabelSet("closed", ["slow", "normal", "fast"])],
    extractor="label",
    metrics=("acc", "abstention"),
    max_new_tokens=8,
)


@hookimpl
def llaso_register_tasks(register):
    register(SPEAKING_RATE)


#: how ``llaso data synth`` makes SRE samples; "module:attr" keeps this module import-light
RECIPE = RecipeSpec("SRE", "llaso_speaking_rate.recipe:speaking_rate", modality_weights={"ta": 0.7, "pa": 0.3})


@hookimpl
def llaso_register_recipes(register):
    register(RECIPE)


#: how ``llaso data build`` reads a folder-per-label corpus of SRE clips
ADAPTER = AdapterSpec("rate-folders", "llaso_speaking_rate.corpus:iter_items", tasks=("SRE",),
                      sources={"SRE": "speaking_rate_classification"},
                      description="<root>/<slow|normal|fast>/<speaker>_*.wav -> SRE")


@hookimpl
def llaso_register_adapters(register):
    register(ADAPTER)
