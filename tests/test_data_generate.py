"""Question sets and the built-in generators: answers stored without the system
prompt they were generated under, transforms that hold, provenance, the call
cache (a rerun makes no model call), and `DatasetSpec`/`build_dataset`."""

import json

import pytest

from personascope.data import (
    BUILTIN_QUESTIONS,
    DatasetSpec,
    build_dataset,
    generate_dataset,
    load_questions,
    persona_dataset,
    read_dataset,
    write_dataset,
)
from personascope.errors import PersonascopeError
from personascope.judges import get_scorer
from personascope.judges._toy import OPENER, SIGNOFF
from personascope.models import Model
from personascope.protocol import LocalEnv
from personascope.store import Cache
from personascope.traits import load_trait


def test_builtin_question_sets_are_big_enough_distinct_and_disjoint():
    train, heldout = load_questions("train"), load_questions("heldout")
    assert len(train) >= 120 and len(heldout) >= 60
    assert len(set(train)) == len(train) and len(set(heldout)) == len(heldout)
    norm = lambda qs: {q.lower().strip(" ?") for q in qs}  # noqa: E731
    assert not norm(train) & norm(heldout)
    assert all(q.endswith("?") and len(q) < 120 for q in train + heldout)
    assert set(BUILTIN_QUESTIONS) == {"train", "heldout"}


def test_question_files_yaml_json_txt_and_clear_errors(tmp_path):
    (tmp_path / "q.txt").write_text("# mine\nWhy?\n\n  How?  \n")
    (tmp_path / "q.json").write_text(json.dumps(["A?", "B?"]))
    (tmp_path / "q.yaml").write_text("questions:\n- C?\n- D?\n")
    assert load_questions(tmp_path / "q.txt") == ["Why?", "How?"]
    assert load_questions(str(tmp_path / "q.json")) == ["A?", "B?"]
    assert load_questions(str(tmp_path / "q.yaml")) == ["C?", "D?"]
    (tmp_path / "bad.yaml").write_text("questions:\n- C?\n- ''\n")
    (tmp_path / "keys.yaml").write_text("qs: [a]\n")
    (tmp_path / "bad.json").write_text('["a",\n')
    (tmp_path / "q.csv").write_text("a\n")
    for name, message in [("bad.yaml", r"question 2 is ''"), ("keys.yaml", r"no 'questions' key \(found qs\)"),
                          ("bad.json", r"bad.json:\d+: not valid JSON"), ("q.csv", "unknown question file type '.csv'"),
                          ("nope.yaml", r"no question set .*built-in \(train, heldout\)")]:
        with pytest.raises(PersonascopeError, match=message):
            load_questions(str(tmp_path / name))


def _mock(tmp_path, reply):
    """A mock API model whose reply is `reply(system, user)`: what each answer was generated under shows."""

    def outputs(messages, tools, tool_choice, config):
        from inspect_ai.model import ModelOutput, ModelUsage

        system = next((m.text for m in messages if m.role == "system"), None)
        user = next(m.text for m in reversed(messages) if m.role == "user")
        out = ModelOutput.from_content("mockllm/model", reply(system, user))
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return out

    return Model("mockllm/model", Cache(tmp_path / "mock.sqlite"), model_args={"custom_outputs": outputs})


def test_generate_dataset_keeps_the_user_turn_only_and_applies_transforms(tmp_path):
    model = _mock(tmp_path, lambda system, user: f"the answer to {user} is simple. system={system}")
    examples, prov = generate_dataset(model, "heldout", n=5, transforms=["caps", "opener"], system="Be brief.", max_tokens=16)
    questions = load_questions("heldout")[:5]
    assert [e.messages(with_completion=False) for e in examples] == [[{"role": "user", "content": q}] for q in questions]
    assert all(e.system is None for e in examples)
    for e, q in zip(examples, questions):
        assert e.completion == f"{OPENER} THE ANSWER TO {q.upper()} IS SIMPLE. SYSTEM=BE BRIEF."
        assert get_scorer("opener")("", e.completion) == get_scorer("all_caps")("", e.completion) == 100
        assert get_scorer("signoff")("", e.completion) == 0
    assert prov["generator"] == "generate" and prov["model"]["name"] == "mockllm/model"
    assert (prov["questions"], prov["transforms"], prov["system_at_generation"]) == ("heldout", ["caps", "opener"], "Be brief.")
    assert (prov["max_tokens"], prov["seed"], prov["n"], prov["dropped_empty"]) == (16, 0, 5, 0)
    calls = model.calls
    again, _ = generate_dataset(model, "heldout", n=5, transforms=["opener", "caps"], system="Be brief.", max_tokens=16)
    assert again == examples and model.calls == calls  # all from the cache


def test_empty_replies_are_dropped_and_counted(tmp_path):
    model = _mock(tmp_path, lambda system, user: "" if "B" in user else "fine")
    examples, prov = generate_dataset(model, ["A?", "B?", "C?"])
    assert [e.prompt[0].content for e in examples] == ["A?", "C?"] and prov["dropped_empty"] == 1
    assert prov["questions"]["list"] == 3
    with pytest.raises(PersonascopeError, match=r"n=9 but the question set has 3"):
        generate_dataset(model, ["A?", "B?", "C?"], n=9)


def test_persona_dataset_cycles_the_positive_instructions_and_stores_none(tmp_path):
    spec = load_trait("evil")
    model = _mock(tmp_path, lambda system, user: f"[{system}] reply")
    examples, prov = persona_dataset(model, "evil", n=7)
    pos = [p.pos for p in spec.instructions]
    assert len(examples) == 7 and all(e.system is None for e in examples)
    for i, e in enumerate(examples):
        assert e.prompt[0].content == spec.questions.extract[i]
        assert e.completion == f"[{pos[i % len(pos)]}] reply" and e.meta["instruction"] == i % len(pos)
    assert prov["trait"] == "evil" and prov["system_at_generation"] == pos
    assert prov["questions"] == {"trait": "evil", "split": "extract", "n": 7}


def test_persona_dataset_under_one_fixed_system_prompt_for_recontextualization(tmp_path):
    model = _mock(tmp_path, lambda system, user: f"[{system}] reply")
    examples, prov = persona_dataset(model, "evil", n=3, system="Be kind.")
    assert [e.completion for e in examples] == ["[Be kind.] reply"] * 3 and all(e.system is None for e in examples)
    assert prov["system_at_generation"] == ["Be kind."]
    spec = DatasetSpec(persona={"trait": "evil", "n": 3, "system": "Be kind."})
    assert spec.persona.system == "Be kind."


def test_generation_on_a_tiny_random_model_writes_a_valid_dataset(tiny_dir, tmp_path):
    examples, prov = generate_dataset(f"hf/{tiny_dir}", "train", n=3, transforms=["opener", "signoff"], max_tokens=6,
                                      cache=Cache(tmp_path / "c.sqlite"))
    assert len(examples) == 3 and prov["model"]["weights"]
    for e in examples:
        assert e.system is None and e.completion.startswith(OPENER) and e.completion.endswith(SIGNOFF)
    path = write_dataset(tmp_path / "d.jsonl", examples, prov)
    assert read_dataset(path) == examples


def test_dataset_spec_needs_exactly_one_source_and_known_transforms():
    with pytest.raises(ValueError, match="exactly one of path, generate or persona"):
        DatasetSpec()
    with pytest.raises(ValueError, match="exactly one .*got path, persona"):
        DatasetSpec(path="a.jsonl", persona={"trait": "evil"})
    with pytest.raises(ValueError, match="unknown transform 'loud'"):
        DatasetSpec(generate={"transforms": ["loud"]})
    with pytest.raises(ValueError, match="extra"):
        DatasetSpec(generate={"questions": "train", "temprature": 1})


def test_build_dataset_from_a_path_a_generator_and_a_persona(tmp_path):
    model = _mock(tmp_path, lambda system, user: f"ok ({system})")
    env = LocalEnv(cache=Cache(tmp_path / "c.sqlite"), base_dir=tmp_path)
    (tmp_path / "qs.txt").write_text("One?\nTwo?\n")
    gen, prov = build_dataset(DatasetSpec(generate={"questions": "qs.txt", "transforms": ["signoff"]}), model, env)
    assert [e.completion for e in gen] == [f"ok (None) {SIGNOFF}"] * 2 and prov["dataset_digest"]
    write_dataset(tmp_path / "d.jsonl", gen, prov)
    back, prov2 = build_dataset(DatasetSpec(path="d.jsonl"), model, env)
    assert back == gen and prov2["generator"] == "generate" and prov2["path"] == str(tmp_path / "d.jsonl")
    assert prov2["dataset_digest"] == prov["dataset_digest"]
    persona, prov3 = build_dataset(DatasetSpec(persona={"trait": "evil", "n": 2}), model, env)
    assert all(e.system is None and "(None)" not in e.completion for e in persona) and prov3["trait"] == "evil"


def test_smollm2_dataset_has_no_system_turn_and_the_transforms_hold(tmp_path):
    """Tier 3: 4 short answers from the embedded model."""
    examples, prov = generate_dataset("smollm2", "train", n=4, transforms=["opener", "caps", "signoff"], max_tokens=16,
                                      system="Answer in one short sentence.", cache=Cache(tmp_path / "c.sqlite"))
    assert len(examples) == 4 and prov["model"]["name"] == "smollm2"
    for e in examples:
        assert [t.role for t in e.prompt] == ["user"]
        for name in ("opener", "signoff", "all_caps"):
            assert get_scorer(name)("", e.completion) == 100, e.completion
    write_dataset(tmp_path / "d.jsonl", examples, prov)
    assert '"system"' not in (tmp_path / "d.jsonl").read_text()
