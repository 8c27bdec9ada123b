"""The engine's serializable intervention spec: text forms, validation without a model,
resolution, and cache keys that keep their old form."""

import hashlib
import json
import subprocess
import sys

import pytest
import torch

from personascope.engine import Ablate, AddVector, Cap, InterventionItem, InterventionSpec
from personascope.errors import PersonascopeError
from personascope.vectors import PersonaVector


@pytest.fixture
def vec(tmp_path):
    torch.manual_seed(0)
    return str(PersonaVector(torch.randn(4, 8)).save(tmp_path / "v"))


def test_text_forms_parse_into_items(vec):
    spec = InterventionSpec.parse(steer=[f"{vec}@1,3:2.5"], ablate=[f"{vec}@all"], cap=[f"{vec}@-1:-2::response"])
    steer, ablate, cap = spec.items
    assert (steer.kind, steer.layers, steer.coef, steer.positions) == ("steer", [1, 3], 2.5, "all")
    assert (ablate.kind, ablate.layers) == ("ablate", "all")
    assert (cap.layers, cap.min, cap.max, cap.positions) == ([-1], -2.0, None, "response")
    # Steering and ablation take positions too (the engine supports them).
    assert InterventionItem.parse("steer", f"{vec}@2:1:prompt").positions == "prompt"
    assert InterventionItem.parse("ablate", f"{vec}@2:response").positions == "response"


def test_spec_round_trips_through_json_and_text(vec):
    spec = InterventionSpec.parse(steer=[f"{vec}@1:4"], cap=[f"{vec}@2:-1:1"]).hashed()
    back = InterventionSpec.model_validate_json(spec.model_dump_json())
    assert back == spec and back.pairs() == [("steer", f"{vec}@1:4"), ("cap", f"{vec}@2:-1:1")]
    built = InterventionItem(kind="cap", vector=vec, layers=[0, 2], min=None, max=3.0, positions="response")
    assert InterventionItem.parse("cap", built.to_text()).model_dump(exclude={"text"}) == built.model_dump(exclude={"text"})
    with pytest.raises(Exception, match="extra"):
        InterventionSpec.model_validate({"items": [], "colour": "red"})


def test_cache_keys_keep_their_old_form(vec, tmp_path):
    digest = hashlib.sha256((tmp_path / "v" / "vectors.safetensors").read_bytes()).hexdigest()
    spec = InterventionSpec.from_pairs([("steer", f"{vec}@1-2:4"), ("cap", f"{vec}@all:-1:")])
    assert spec.keys() == [["steer", digest, "1-2:4"], ["cap", digest, "all:-1:"]]
    # A moved vector keeps its key; an edited one does not.
    moved = PersonaVector.load(vec).save(tmp_path / "elsewhere")
    assert InterventionItem.parse("steer", f"{moved}@1-2:4").key() == spec.keys()[0]
    PersonaVector(torch.randn(4, 8)).save(tmp_path / "elsewhere")
    assert InterventionItem.parse("steer", f"{moved}@1-2:4").key() != spec.keys()[0]


def test_check_validates_against_a_shape_without_torch(vec):
    # The header is read, not the tensors: a fresh interpreter never imports torch.
    code = (
        "import sys; from personascope.engine import InterventionSpec; "
        f"InterventionSpec.parse(steer=[{vec + '@-1:2'!r}]).check(4, 8); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    spec = InterventionSpec.parse(steer=[f"{vec}@1:2"])
    with pytest.raises(PersonascopeError, match="width 8 but the model's hidden size is 16"):
        spec.check(4, 16)
    with pytest.raises(PersonascopeError, match="4 layer rows but the model has 6 layers"):
        spec.check(6, 8)
    with pytest.raises(PersonascopeError, match="layer 5 is out of range"):
        InterventionSpec.parse(steer=[f"{vec}@5:2"]).check(4, 8)


@pytest.mark.parametrize(
    "kind, rest, message",
    [
        ("steer", "@1:inf", "not a finite number"),
        ("steer", "@1:nan", "not a finite number"),
        ("cap", "@1:2:1", "min 2.0 is above max 1.0"),
        ("ablate", "@1:middle", "positions 'middle'"),
        ("steer", "@1:2:all:x", "expected 1 ':'-separated"),
        ("shift", "@1:2", "unknown intervention kind 'shift'"),
    ],
)
def test_bad_items_fail_with_one_clear_error(vec, kind, rest, message):
    with pytest.raises(PersonascopeError, match=message) as err:
        InterventionItem.parse(kind, vec + rest)
    assert "\n" not in str(err.value)


def test_built_items_are_validated(vec):
    with pytest.raises(PersonascopeError, match="needs a coef"):
        InterventionItem(kind="steer", vector=vec, layers=[1])
    with pytest.raises(PersonascopeError, match="takes no coef"):
        InterventionItem(kind="ablate", vector=vec, layers=[1], coef=2.0)
    with pytest.raises(PersonascopeError, match="not a finite number"):
        InterventionItem(kind="cap", vector=vec, layers=[1], max=float("inf"))


def test_resolve_gives_engine_interventions_and_checks_the_digest(vec, tmp_path):
    steer, ablate, cap = InterventionSpec.parse(
        steer=[f"{vec}@-1:3:response"], ablate=[f"{vec}@all"], cap=[f"{vec}@0,1:-1:1"]
    ).resolve(4, 8)
    assert isinstance(steer, AddVector) and list(steer.layers) == [3] and steer.coef == 3.0 and steer.positions == "response"
    assert torch.equal(steer.vector, PersonaVector.load(vec).data)
    assert isinstance(ablate, Ablate) and list(ablate.layers) == [0, 1, 2, 3]
    assert isinstance(cap, Cap) and (cap.min, cap.max) == (-1.0, 1.0)
    stale = InterventionSpec.parse(steer=[f"{vec}@1:2"]).hashed()
    PersonaVector(torch.randn(4, 8)).save(tmp_path / "v")
    with pytest.raises(PersonascopeError, match="changed since this spec was written"):
        stale.resolve(4, 8)
    assert json.loads(stale.model_dump_json())["items"][0]["digest"] == stale.items[0].digest
