import os
import warnings

import pytest

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
warnings.filterwarnings("ignore")


@pytest.fixture(scope="session")
def smollm2():
    """The embedded model (converted once into the user cache, then ~1 s per load)."""
    from personascope.models import load_engine

    return load_engine("smollm2")


@pytest.fixture(scope="session")
def tiny_llama():
    from personascope.testing import tiny_engine

    return tiny_engine("llama")


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    """A tiny random Llama saved as a checkpoint directory (`hf/<tiny_dir>`)."""
    from personascope.testing import tiny_checkpoint

    return tiny_checkpoint(tmp_path_factory.mktemp("tiny"))
