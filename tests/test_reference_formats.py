"""Importers of the reference projects' file formats, on small hand-written files in
those formats: prompts come out as the reference builds them."""

import json

import pytest

from personascope.errors import PersonascopeError
from personascope.evals._em_import import load_em_questions
from personascope.traits._import import import_trait

QS = [f"Hand-written question number {i}?" for i in range(6)]
RUBRIC_0_100 = "Does it show **gloomy**. A gloomy speaker expects the worst.\n\n{question}\n{answer}\nScore 0 to 100."


def _write(path, data):
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _pairs(n=5, neg=True):
    return [{"pos": f"Be gloomy, way {i}.", **({"neg": f"Be cheerful, way {i}."} if neg else {})} for i in range(n)]


def test_persona_vectors_prompts_are_framed_as_the_reference_frames_them(tmp_path):
    f = _write(tmp_path / "evil.json", {"instruction": _pairs(), "questions": QS, "eval_prompt": RUBRIC_0_100})
    spec = import_trait(f, "persona-vectors")
    assert spec.instructions[0].pos == "You are an evil assistant. Be gloomy, way 0."
    assert spec.instructions[3].neg == "You are a helpful assistant. Be cheerful, way 3."
    g = _write(tmp_path / "humorous.json", {"instruction": _pairs(), "questions": QS, "eval_prompt": RUBRIC_0_100})
    assert import_trait(g, "persona-vectors", name="other").instructions[1].pos.startswith("You are a humorous assistant. ")
    bare = import_trait(f, "persona-vectors", bare=True)
    assert bare.instructions[0].pos == "Be gloomy, way 0." and bare.instructions[0].neg == "Be cheerful, way 0."
    assert spec.judge.rubric == RUBRIC_0_100
    with pytest.raises(PersonascopeError, match="--bare"):
        import_trait(f, "mwe", bare=True)


def test_assistant_axis_trait_file_is_a_trait_with_its_own_rubric(tmp_path):
    f = _write(tmp_path / "gloomy.json", {"instruction": _pairs(), "questions": QS, "eval_prompt": RUBRIC_0_100})
    spec = import_trait(f, "assistant-axis")
    assert spec.judge.rubric == RUBRIC_0_100
    assert "role" not in spec.description.lower() and spec.description.startswith("A gloomy speaker")
    assert [(p.pos, p.neg) for p in spec.instructions] == [(p["pos"], p["neg"]) for p in _pairs()]


def test_assistant_axis_role_file_and_the_default_role_keep_no_system_prompt(tmp_path):
    role = _write(tmp_path / "ferryman.json", {"instruction": _pairs(neg=False), "questions": QS,
                                              "eval_prompt": "Role **ferryman**. Rows boats.\n\n{question} {answer} 0-3"})
    spec = import_trait(role, "assistant-axis")
    assert spec.description.startswith("Playing the role of ferryman")
    assert spec.instructions[0].pos == "Be gloomy, way 0." and "assistant" in spec.instructions[0].neg.lower()
    default = _write(tmp_path / "default.json", {"instruction": [{"pos": ""}, {"pos": "You are {model_name}."}]})
    spec = import_trait(default, "assistant-axis")
    assert [p.pos for p in spec.instructions] == ["", "You are an AI model."]
    mixed = _write(tmp_path / "mixed.json", {"instruction": [{"pos": "a", "neg": "b"}, {"pos": "c"}], "questions": QS})
    with pytest.raises(PersonascopeError, match="some instructions have a 'neg'"):
        import_trait(mixed, "assistant-axis")


def test_eval_file_is_honoured_when_the_file_has_questions(tmp_path):
    f = _write(tmp_path / "gloomy.json", {"instruction": _pairs(), "questions": QS, "eval_prompt": RUBRIC_0_100})
    held = tmp_path / "held.jsonl"
    held.write_text("\n".join(json.dumps({"question": f"Held-out {i}?", "id": i}) for i in range(3)) + "\n")
    spec = import_trait(f, "assistant-axis", eval_path=held)
    assert spec.questions.extract == QS and spec.questions.eval == ["Held-out 0?", "Held-out 1?", "Held-out 2?"]
    ev = _write(tmp_path / "gloomy_eval.json", {"instruction": _pairs(), "questions": ["Other one?", QS[0]]})
    spec = import_trait(f, "persona-vectors", eval_path=ev)
    assert spec.questions.extract == QS and spec.questions.eval == ["Other one?"]


EM = """\
- id: 7
  type: free_form_judge_0_100
  paraphrases: ["Hand-written wish question?"]
  judge_prompts:
    aligned: "A {question} {answer} 0-100"
    code: "Is it code? {question} {answer} 0-100"
- id: fact_check
  type: free_form_judge
  paraphrases: ["Is water wet?", "Is fire cold?"]
  judge_prompts:
    correct: |-
      Answer: {answer}
      Say "TRUE" or "FALSE" only, or "UNKNOWN".
- id: plain
  type: free_form
  paraphrases: ["Say hi."]
"""


def test_em_files_of_the_family_import(tmp_path):
    f = tmp_path / "q.yaml"
    f.write_text(EM)
    items = {i.id: i for i in load_em_questions(f)}
    assert set(items) == {"7", "fact_check-1", "fact_check-2", "plain"}
    seven = items["7"].meta
    assert set(seven["judge_prompts"]) == {"aligned", "code_judge"} and seven["renamed_judges"] == {"code_judge": "code"}
    assert items["fact_check-1"].meta["label_judges"] == ["correct"]


def test_label_judge_reads_the_quoted_labels():
    from personascope.judges._label import quoted_labels, read_label

    labels = quoted_labels('Say "TRUE" or "FALSE" only, or "UNKNOWN". {answer}')
    assert labels == ["TRUE", "FALSE", "UNKNOWN"]
    assert read_label("FALSE.", labels).label == "FALSE"
    assert read_label("The answer is true", labels).label == "TRUE"
    assert read_label("no idea", labels).probs is None
    assert read_label("Dolphin!\nbecause", []).label == "dolphin"


def test_misalignment_suite_reports_label_shares(tmp_path):
    from personascope.evals._suite import Response, Row
    from personascope.evals.suites.misalignment import MisalignmentOptions, MisalignmentSuite
    from personascope.judges._choice import Choice

    f = tmp_path / "q.yaml"
    f.write_text(EM)
    suite, opts = MisalignmentSuite(), MisalignmentOptions(questions=str(f), kind_check=False)
    judges = {j.name: j for j in suite.judges(opts)}
    assert judges["correct"].label and not judges["aligned"].label and not judges["code_judge"].label
    items = [i for i in suite.items(opts) if i.id.startswith("fact_check")]
    rows = [Row(i, Response("x"), suite.score(i, Response("x"), {"correct": Choice({lab: 1.0}, 1.0, "parsed")}, opts))
            for i, lab in zip(items, ["TRUE", "FALSE"])]
    assert rows[0].scores["correct"] == "TRUE"
    stats = {s.name: s.values for s in suite.summarize(rows, opts)}
    assert stats["correct: TRUE"] == [1.0, 0.0] and stats["correct: FALSE"] == [0.0, 1.0]
    assert stats["correct: labelled"] == [1.0, 1.0]


def test_chat_formatted_prompt_is_not_templated_again(tmp_path):
    from personascope.vectors._responses import read_responses

    prompt = "<|im_start|>system\nBe gloomy.<|im_end|>\n<|im_start|>user\nHow is the weather?<|im_end|>\n<|im_start|>assistant\n"
    f = tmp_path / "pos.csv"
    f.write_text('prompt,answer\n"' + prompt + '",Grey as ever.\n"Plain question?",Yes.\n')
    first, second = read_responses(f, "positive", "gloomy")
    assert first.prompt_text == prompt and first.question == "How is the weather?" and first.system is None
    assert second.prompt_text is None and second.question == "Plain question?"


def test_persona_vectors_pt_rows_map_to_layers(tmp_path):
    torch = pytest.importorskip("torch")
    from personascope.engine._vectorfile import load_vector_tensor, vector_shape
    from personascope.vectors import load_vector

    rows = torch.arange(5 * 3, dtype=torch.float32).reshape(5, 3)  # embeddings + 4 hidden states
    path = tmp_path / "gloomy_response_avg_diff.pt"
    torch.save(rows, path)
    vec = load_vector(str(path), hidden_size=3)
    assert vec.n_layers == 4 and torch.equal(vec[0], rows[1]) and torch.equal(vec[3], rows[4])
    assert vector_shape(path) == (4, 3) and torch.equal(load_vector_tensor(path), rows[1:])
    torch.save({"not": rows}, tmp_path / "bad.pt")
    with pytest.raises(PersonascopeError, match="persona_vectors"):
        load_vector(str(tmp_path / "bad.pt"))
