"""Built-in model kinds: our checkpoints, the published LLaSO release layout, transformers audio LMs
and OpenAI-compatible servers (``--model KIND:REFERENCE``, see ``llaso models``)."""

from llaso_core import hookimpl
from llaso_core.specs import ModelSpec

MODELS = (
    ModelSpec("lslm", "llaso_plugins.models.lslm:load", "a checkpoint folder written by llaso train",
              reference="FOLDER"),
    ModelSpec("llaso-release", "llaso_plugins.models.llaso_release:load",
              "published LLaSO-Base checkpoints in the authors' LLaVA layout (Whisper + mlp2x_gelu + Llama)",
              batched=False, reference="PATH_OR_HUB_ID", converter="llaso_plugins.models.llaso_release:convert"),
    ModelSpec("hf", "llaso_plugins.models.hf:load",
              "transformers audio LMs through AutoProcessor and the model's own chat template",
              reference="PATH_OR_HUB_ID"),
    ModelSpec("openai", "llaso_plugins.models.openai_chat:load",
              "OpenAI-compatible chat completions with input_audio parts (vLLM, hosted audio models)",
              reference="MODEL@BASE_URL"),
)


@hookimpl
def llaso_register_models(register):
    for spec in MODELS:
        register(spec)
