"""Bad input across the CLI: every case is refused before any model loads, as one
`error:` line naming the fix (see tests/_badinput.py for what each row asserts)."""

import json

import pytest

from _badinput import run_case

# -- files the rows build on --------------------------------------------------
def trait(**over) -> str:
    """A valid trait spec as YAML text, with top-level fields replaced by `over`."""
    import yaml

    spec = {
        "schema_version": 1, "name": "mine", "description": "Cheerful.",
        "instructions": [{"pos": "Be cheerful.", "neg": "Be gloomy."}],
        "questions": {"extract": ["How are you?", "What is new?"], "eval": ["How was your day?"]},
        "judge": {"rubric": "Question: {question}\nAnswer: {answer}\nRate cheerfulness 0-100."},
    }
    spec.update(over)
    return yaml.safe_dump(spec, sort_keys=False)


def study(steps: str, head: str = "schema_version: 1\nname: s\nmodels: [smollm2]\n") -> str:
    return head + "steps:\n" + steps


GEN = "  - id: g\n    type: generate\n    prompts: p.jsonl\n"
EVAL = "  - id: e\n    type: eval\n    suite: trait\n    options: {trait: evil}\n"
SHAPE = 'one JSON object per line: {"prompt": "text"}'
ROLES = "roles: system, user, assistant"
MSG = lambda m: json.dumps({"messages": m})  # noqa: E731
VEC = {"vec/meta.json": "{}"}

CASES = [
    # -- study configs: schema, YAML, encoding, paths ---------------------------
    ("study-schema-2", ["study", "validate", "s.yaml"], {"s.yaml": study(EVAL, "schema_version: 2\nname: s\n")}, "schema_version 2 is not one this personascope reads"),
    ("study-schema-0", ["study", "run", "s.yaml"], {"s.yaml": study(EVAL, "schema_version: 0\nname: s\n")}, "write schema_version: 1"),
    ("study-schema-text", ["study", "validate", "s.yaml"], {"s.yaml": study(EVAL, "schema_version: two\nname: s\n")}, "schema_version: Input should be a valid integer"),
    ("study-dup-top", ["study", "validate", "s.yaml"], {"s.yaml": "name: a\nname: b\nsteps: []\n"}, "s.yaml:2: duplicate key 'name' (first on line 1)"),
    ("study-dup-step", ["study", "run", "s.yaml"], {"s.yaml": study("  - id: e\n    type: eval\n    suite: trait\n    suite: mwe\n")}, "s.yaml:8: duplicate key 'suite' (first on line 7)"),
    ("study-dup-seed", ["study", "validate", "s.yaml"], {"s.yaml": "seed: 1\n" + study(EVAL) + "seed: 2\n"}, "duplicate key 'seed'"),
    ("study-latin1", ["study", "validate", "s.yaml"], {"s.yaml": "name: caf\xe9\n".encode("latin-1")}, "not UTF-8 text"),
    ("study-binary", ["study", "run", "s.yaml"], {"s.yaml": b"\x00\x01\x02binary"}, "a binary file, not a study config"),
    ("study-dir", ["study", "validate", "cfg"], {"cfg/study.yaml": study(EVAL)}, "is a directory, not a study config (fix: give one of its files"),
    ("study-dir-empty", ["study", "run", "cfg"], {"cfg/": ""}, "give the study's .yaml file, not its folder"),
    ("study-missing", ["study", "validate", "nope.yaml"], {}, "no such study config: nope.yaml"),
    ("study-bad-yaml", ["study", "validate", "s.yaml"], {"s.yaml": "name: [a\n"}, "not valid YAML"),
    ("study-list", ["study", "validate", "s.yaml"], {"s.yaml": "- a\n- b\n"}, "a study config is a mapping"),
    ("study-no-steps", ["study", "validate", "s.yaml"], {"s.yaml": "name: s\n"}, "steps: Field required (fix: add this field)"),
    ("study-extra-key", ["study", "validate", "s.yaml"], {"s.yaml": "nmae: s\n" + study(EVAL)}, "nmae: Extra inputs are not permitted"),
    ("study-bad-name", ["study", "validate", "s.yaml"], {"s.yaml": study(EVAL, "name: 'a b'\n")}, "use letters, digits"),
    ("study-unknown-type", ["study", "validate", "s.yaml"], {"s.yaml": study("  - id: x\n    type: nosuch\n")}, "unknown step type 'nosuch'"),
    ("study-no-type", ["study", "validate", "s.yaml"], {"s.yaml": study("  - id: x\n")}, "step has no 'type'"),
    ("study-dup-id", ["study", "validate", "s.yaml"], {"s.yaml": study(EVAL + EVAL)}, "duplicate step id 'e'"),
    ("study-bad-need", ["study", "validate", "s.yaml"], {"s.yaml": study(EVAL + "    needs: [zz]\n")}, "no step has id 'zz'"),
    ("study-bad-model", ["study", "validate", "s.yaml"], {"s.yaml": study(EVAL + "    model: other\n")}, "'other' is not a model of this study"),
    ("study-unknown-suite", ["study", "validate", "s.yaml"], {"s.yaml": study("  - id: e\n    type: eval\n    suite: nosuch\n")}, "unknown suite 'nosuch'"),
    ("study-eval-option", ["study", "validate", "s.yaml"], {"s.yaml": study("  - id: e\n    type: eval\n    suite: trait\n    options: {trait: evil, bogus: 1}\n")}, "bogus: not an option of this suite"),
    ("study-run-eval-option", ["study", "run", "s.yaml"], {"s.yaml": study("  - id: e\n    type: eval\n    suite: mwe\n    options: {files: [], trat: x}\n")}, "trat: not an option of this suite"),
    ("study-eval-samples", ["study", "validate", "s.yaml"], {"s.yaml": study(EVAL + "    samples: 2\n")}, "set temperature > 0"),
    ("study-eval-limit", ["study", "validate", "s.yaml"], {"s.yaml": study(EVAL + "    limit: 0\n")}, "limit: Input should be greater than or equal to 1"),
    # -- prompt files inside a study ------------------------------------------
    ("study-prompts-missing", ["study", "validate", "s.yaml"], {"s.yaml": study(GEN)}, "no prompts file 'p.jsonl'"),
    ("study-prompts-int", ["study", "validate", "s.yaml"], {"s.yaml": study(GEN), "p.jsonl": "42\n"}, "a record is a JSON object, not int 42"),
    ("study-prompts-role", ["study", "validate", "s.yaml"], {"s.yaml": study(GEN), "p.jsonl": MSG([{"role": "bot", "content": "x"}]) + "\n"}, ROLES),
    ("study-prompts-bad-json", ["study", "run", "s.yaml"], {"s.yaml": study(GEN), "p.jsonl": '{"prompt": "a"}\n{oops\n'}, "p.jsonl:2: not valid JSON"),
    ("study-prompts-binary", ["study", "validate", "s.yaml"], {"s.yaml": study(GEN), "p.jsonl": b"\x00\xff\x00"}, "a binary file, not a prompts file"),
    ("study-contrast-questions", ["study", "validate", "s.yaml"], {"s.yaml": study("  - id: c\n    type: contrast\n    questions: q.jsonl\n    positive_system: a\n    negative_system: b\n"), "q.jsonl": '{"text": "hi"}\n'}, "needs a 'prompt' string or a 'messages' list"),
    # -- prompt files for generate --------------------------------------------
    ("gen-int", ["generate", "-i", "p.jsonl"], {"p.jsonl": "42\n"}, "p.jsonl:1: a record is a JSON object, not int 42"),
    ("gen-list", ["generate", "-i", "p.jsonl"], {"p.jsonl": '{"prompt": "a"}\n[1,2,3]\n'}, "p.jsonl:2: a record is a JSON object, not list"),
    ("gen-string-record", ["generate", "-i", "p.jsonl"], {"p.jsonl": '"just text"\n'}, "not str"),
    ("gen-messages-str", ["generate", "-i", "p.jsonl"], {"p.jsonl": '{"messages": "hi"}\n'}, "messages: Input should be a valid list"),
    ("gen-messages-empty", ["generate", "-i", "p.jsonl"], {"p.jsonl": '{"messages": []}\n'}, "messages: List should have at least 1 item"),
    ("gen-role", ["generate", "-i", "p.jsonl"], {"p.jsonl": MSG([{"role": "bot", "content": "x"}]) + "\n"}, "messages.0.role: Input should be 'system', 'user' or 'assistant'"),
    ("gen-content-missing", ["generate", "-i", "p.jsonl"], {"p.jsonl": MSG([{"role": "user"}]) + "\n"}, "messages.0.content: Field required"),
    ("gen-content-int", ["generate", "-i", "p.jsonl"], {"p.jsonl": MSG([{"role": "user", "content": 5}]) + "\n"}, "messages.0.content: Input should be a valid string"),
    ("gen-message-extra", ["generate", "-i", "p.jsonl"], {"p.jsonl": MSG([{"role": "user", "content": "x", "name": "a"}]) + "\n"}, "messages.0.name: Extra inputs are not permitted"),
    ("gen-prompt-int", ["generate", "-i", "p.jsonl"], {"p.jsonl": '{"prompt": 7}\n'}, "prompt: Input should be a valid string"),
    ("gen-prompt-empty", ["generate", "-i", "p.jsonl"], {"p.jsonl": '{"prompt": ""}\n'}, "prompt: String should have at least 1 character"),
    ("gen-no-prompt", ["generate", "-i", "p.jsonl"], {"p.jsonl": '{"question": "hi"}\n'}, "needs a 'prompt' string or a 'messages' list"),
    ("gen-shape-named", ["generate", "-i", "p.jsonl"], {"p.jsonl": '{"prompt": null}\n'}, SHAPE),
    ("gen-bad-json", ["generate", "-i", "p.jsonl"], {"p.jsonl": '{"prompt": "ok"}\n{not json}\n'}, "p.jsonl:2: not valid JSON"),
    ("gen-latin1", ["generate", "-i", "p.txt"], {"p.txt": "caf\xe9\n".encode("latin-1")}, "not UTF-8 text"),
    ("gen-binary", ["generate", "-i", "p.jsonl"], {"p.jsonl": b"\x89PNG\r\n\x1a\n\x00\x00"}, "a binary file, not a prompts file"),
    ("gen-dir", ["generate", "-i", "d"], {"d/": ""}, "is a directory (fix: give a prompts file"),
    ("gen-missing", ["generate", "-i", "nope.jsonl"], {}, "no such prompts file: nope.jsonl"),
    ("gen-empty", ["generate", "-i", "p.txt"], {"p.txt": "\n\n"}, "has no prompts"),
    ("gen-max-tokens-0", ["generate", "-i", "p.txt", "--max-tokens", "0"], {"p.txt": "hi\n"}, "--max-tokens 0: input should be greater than or equal to 1"),
    ("gen-top-p-2", ["generate", "-i", "p.txt", "--top-p", "2"], {"p.txt": "hi\n"}, "--top-p 2.0: input should be less than or equal to 1"),
    ("gen-top-p-0", ["generate", "-i", "p.txt", "--top-p", "0"], {"p.txt": "hi\n"}, "give a number above 0 and at most 1"),
    ("gen-temperature", ["generate", "-i", "p.txt", "--temperature", "-0.5"], {"p.txt": "hi\n"}, "--temperature -0.5: input should be greater than or equal to 0"),
    ("gen-batch-size", ["generate", "-i", "p.txt", "--batch-size", "0"], {"p.txt": "hi\n"}, "--batch-size 0"),
    ("gen-bad-steer", ["generate", "-i", "p.txt", "--steer", "VEC@1"], {"p.txt": "hi\n"}, "malformed steer argument"),
    # -- trait specs ----------------------------------------------------------
    ("trait-unknown-scorer", ["traits", "validate", "t.yaml"], {"t.yaml": trait(scorers=["sentimnet"])}, "unknown scorer 'sentimnet' (fix: use one of:"),
    ("trait-scorer-ref", ["traits", "validate", "t.yaml"], {"t.yaml": trait(scorers=["mod:"])}, "is neither a name nor a module:function"),
    ("trait-dup-extract", ["traits", "validate", "t.yaml"], {"t.yaml": trait(questions={"extract": ["A?", "B?", "A?"], "eval": ["C?"]})}, "question 'A?' is listed twice (fix: keep each question once)"),
    ("trait-dup-eval", ["traits", "validate", "t.yaml"], {"t.yaml": trait(questions={"extract": ["A?"], "eval": ["C?", " C?"]})}, "questions.eval: question ' C?' is listed twice"),
    ("trait-shared-question", ["traits", "validate", "t.yaml"], {"t.yaml": trait(questions={"extract": ["A?"], "eval": ["A?"]})}, "keep each question in one list only"),
    ("trait-extra-placeholder", ["traits", "validate", "t.yaml"], {"t.yaml": trait(judge={"rubric": "Q {question} A {answer} trait {trait}"})}, "the rubric uses {trait}, which the judge does not fill"),
    ("trait-missing-placeholder", ["traits", "validate", "t.yaml"], {"t.yaml": trait(judge={"rubric": "Rate {answer}"})}, "the rubric must contain {question}"),
    ("trait-dup-key", ["traits", "validate", "t.yaml"], {"t.yaml": trait() + "name: other\n"}, "duplicate key 'name'"),
    ("trait-schema-newer", ["traits", "validate", "t.yaml"], {"t.yaml": trait(schema_version=9)}, "upgrade personascope"),
    ("trait-same-pair", ["traits", "validate", "t.yaml"], {"t.yaml": trait(instructions=[{"pos": "x", "neg": "x"}])}, "make neg ask for the opposite of pos"),
    ("trait-bad-name", ["traits", "validate", "t.yaml"], {"t.yaml": trait(name="Mine Trait")}, "use lower-case letters"),
    ("trait-extra-field", ["traits", "validate", "t.yaml"], {"t.yaml": trait(scorer=["x"])}, "remove it or use one of:"),
    ("trait-latin1", ["traits", "validate", "t.yaml"], {"t.yaml": "name: caf\xe9\n".encode("latin-1")}, "not a text file (fix: save the spec as UTF-8"),
    ("trait-binary", ["traits", "validate", "t.yaml"], {"t.yaml": b"\x00\x00\x00"}, "a binary file"),
    ("trait-bad-json", ["traits", "validate", "t.json"], {"t.json": "{oops"}, "not valid JSON"),
    ("trait-missing", ["traits", "validate", "nope.yaml"], {}, "no such trait file"),
    ("trait-show-unknown", ["traits", "show", "nosuch"], {}, "unknown trait 'nosuch'"),
    ("trait-import-format", ["traits", "import", "x.json", "--format", "zz"], {"x.json": "{}"}, "unknown import format 'zz'"),
    ("trait-import-missing", ["traits", "import", "nope.json", "--format", "persona-vectors"], {}, "no such file"),
    ("trait-import-mwe-eval", ["traits", "import", "x.jsonl", "--format", "mwe", "--eval", "x.jsonl"], {"x.jsonl": "{}\n"}, "--eval is for persona-vectors"),
    ("trait-import-bad-json", ["traits", "import", "x.json", "--format", "persona-vectors"], {"x.json": "{oops"}, "not valid JSON"),
    # -- eval options ---------------------------------------------------------
    ("eval-unknown-option", ["eval", "trait", "-T", "trait=evil", "-T", "bogus=1"], {}, "bogus: not an option of this suite"),
    ("eval-option-form", ["eval", "trait", "-T", "trait"], {}, "-T takes key=value"),
    ("eval-unknown-suite", ["eval", "nosuch"], {}, "unknown suite 'nosuch'"),
    ("eval-samples", ["eval", "trait", "-T", "trait=evil", "--samples", "3"], {}, "set temperature > 0"),
    ("eval-limit", ["eval", "trait", "-T", "trait=evil", "--limit", "0"], {}, "limit"),
    ("eval-bad-steer", ["eval", "trait", "-T", "trait=evil", "--steer", "nope"], {}, "missing '@'; write VECTOR@LAYERS"),
    # -- vectors project: --score-field and records ---------------------------
    ("project-score-field", ["vectors", "project", "vec", "-i", "r.jsonl", "--score-field", "scroe"], {"r.jsonl": json.dumps({"prompt": "a", "response": "b", "score": 1}) + "\n", **VEC}, "--score-field 'scroe': no record in r.jsonl has that field (fix: use one of: prompt, response, score)"),
    ("project-judge-and-field", ["vectors", "project", "vec", "-i", "r.jsonl", "--judge", "--score-field", "s"], {"r.jsonl": "{}\n"}, "give --judge or --score-field, not both"),
    ("project-records-missing", ["vectors", "project", "vec", "-i", "nope.jsonl"], {}, "no such records file"),
    ("project-records-latin1", ["vectors", "project", "vec", "-i", "r.jsonl"], {"r.jsonl": b'{"prompt": "caf\xe9"}\n'}, "not UTF-8 text"),
    ("project-records-list", ["vectors", "project", "vec", "-i", "r.jsonl"], {"r.jsonl": "[1]\n"}, "is not a JSON object"),
    # -- drift families -------------------------------------------------------
    ("drift-script-missing", ["drift", "run", "--script", "nope.yaml"], {}, "no such families file"),
    ("drift-script-dup", ["drift", "run", "--script", "f.yaml", "-f", "x"], {"f.yaml": "families:\n  x:\n    conversations: [[hi]]\n  x:\n    conversations: [[yo]]\n"}, "duplicate key 'x'"),
    ("drift-script-typo", ["drift", "run", "--script", "f.yaml", "-f", "x"], {"f.yaml": "families:\n  x:\n    conversations:\n      - - {user: hi, sytem: oops}\n"}, "sytem"),
    ("drift-script-short", ["drift", "run", "--script", "f.yaml", "-f", "x", "--turns", "3", "--conversations", "1"], {"f.yaml": "families:\n  x:\n    conversations: [[hi, more]]\n"}, "has 2 scripted user turns but turns is 3"),
    ("drift-script-latin1", ["drift", "run", "--script", "f.yaml", "-f", "x"], {"f.yaml": "families: caf\xe9\n".encode("latin-1")}, "not UTF-8 text"),
    ("drift-unknown-family", ["drift", "run", "-f", "nosuch"], {}, "unknown conversation family 'nosuch'"),
    # -- therapy, self-chat, rtt, chat, demo, vectors ------------------------------
    ("therapy-script-missing", ["therapy", "run", "--script", "nope.yaml"], {}, "no such therapy script"),
    ("therapy-script-shape", ["therapy", "run", "--script", "t.yaml"], {"t.yaml": "- a\n"}, "a therapy script is a mapping"),
    ("therapy-script-dup", ["therapy", "run", "--script", "t.yaml"], {"t.yaml": "framing: a\nframing: b\n"}, "t.yaml:2: duplicate key 'framing'"),
    ("therapy-option", ["therapy", "run", "-T", "bogus=1"], {}, "bogus: not an option of this suite"),
    ("selfchat-turns", ["selfchat", "run", "--turns", "0"], {}, "turns: Input should be greater than or equal to 1"),
    ("selfchat-greedy", ["selfchat", "run", "--temperature", "0"], {}, "set temperature > 0 or seeds 1"),
    ("rtt-candidate", ["rtt", "run", "-c", "noequals"], {}, "--candidate takes NAME=SYSTEM_PROMPT"),
    ("chat-bad-steer", ["chat", "--steer", "nope"], {}, "malformed steer"),
    ("chat-max-tokens", ["chat", "--max-tokens", "0"], {}, "--max-tokens 0"),
    ("demo-max-tokens", ["demo", "--max-tokens", "0"], {}, "give a whole number of at least 1"),
    ("vectors-show-missing", ["vectors", "show", "nope"], {}, "no vector at nope"),
    ("vectors-compare-missing", ["vectors", "compare", "nope"], {}, "no vector at nope"),
    ("vectors-space-roles-dup", ["vectors", "space", "-o", "out", "--roles", "r.yaml"], {"r.yaml": "a: x\na: y\n"}, "r.yaml:2: duplicate key 'a'"),
    ("vectors-space-roles-missing", ["vectors", "space", "-o", "out", "--roles", "nope.yaml"], {}, "no such roles file"),
    ("traits-generate-questions", ["traits", "generate", "x", "-m", "smollm2", "-o", "t.yaml", "--questions", "0"], {}, "must be at least 1"),
    ("trait-json-dup", ["traits", "validate", "t.json"], {"t.json": '{"name": "a", "name": "b"}'}, "duplicate key 'name' in a JSON object"),
    ("eval-items-file-dup", ["eval", "psychometrics", "-T", "instruments=[x.yaml]"], {"x.yaml": "a: 1\na: 2\n"}, "x.yaml:2: duplicate key 'a'"),
    ("eval-mwe-no-path", ["eval", "mwe"], {}, "needs option path"),
    ("study-eval-items-missing", ["study", "validate", "s.yaml"], {"s.yaml": study("  - id: e\n    type: eval\n    suite: mwe\n")}, "needs option path"),
    ("study-drift-short", ["study", "validate", "s.yaml"], {"s.yaml": study("  - id: d\n    type: drift\n    script: f.yaml\n    families: [x]\n    conversations: 1\n"), "f.yaml": "families: {x: {conversations: [[a, b]]}}\n"}, "scripted user turns but turns is 6"),
    ("study-therapy-script", ["study", "validate", "s.yaml"], {"s.yaml": study("  - id: t\n    type: therapy\n    script: t.yaml\n"), "t.yaml": "framing: [\n"}, "t.yaml:2: not valid YAML"),
    # -- runs and report ------------------------------------------------------
    ("runs-show-missing", ["runs", "show", "nosuch"], {}, "nosuch"),
    ("report-missing", ["report", "nosuch"], {}, "nosuch"),
]


@pytest.mark.parametrize("args,files,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_error(tmp_path, monkeypatch, args, files, expected):
    run_case(tmp_path, monkeypatch, args, files, expected)


def test_the_table_is_wide():
    assert len(CASES) >= 90
    assert len({c[0] for c in CASES}) == len(CASES)
