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
