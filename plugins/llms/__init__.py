"""Built-in LLMs: Llama-3.x-Instruct and a tiny random-initialised Llama for tests and the CPU."""

from llaso_core import hookimpl
from llaso_core.specs import LLMSpec

LLMS = (
    LLMSpec("llama", "llaso_plugins.llms.llama:build", "Llama-3.x-Instruct from a path or hub id",
            default_checkpoint="meta-llama/Llama-3.2-3B-Instruct"),
    LLMSpec("tiny", "llaso_plugins.llms.tiny:build",
            "random-initialised 2-layer Llama with a locally trained BPE tokenizer (tests, CPU default)"),
)


@hookimpl
def llaso_register_llms(register):
    for spec in LLMS:
        register(spec)
