"""The training dataset format: both line shapes read into one `Example`, bad lines
are errors naming file:line and the fix, and the sidecar records provenance."""

import json

import pytest

from personascope.data import Example, meta_path, parse_example, read_dataset, read_provenance, write_dataset
from personascope.errors import PersonascopeError


def test_messages_and_prompt_completion_lines_read_alike():
    a = parse_example({"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"},
                                    {"role": "assistant", "content": "A"}], "id": 3})
    b = parse_example({"prompt": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}],
                       "completion": [{"role": "assistant", "content": "A"}], "id": 3})
    assert a == b
    assert a.system == "S" and a.completion == "A" and a.meta == {"id": 3}
    assert parse_example({"prompt": "Q", "completion": "A"}).messages() == [
        {"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]


def test_system_and_user_prefix_variants():
    ex = parse_example({"prompt": "Q", "completion": "A"})
    assert ex.with_system("S").system == "S"
    assert ex.with_system("S").with_system(None).system is None
    assert ex.with_user_prefix("P").prompt[-1].content == "P\n\nQ"


@pytest.mark.parametrize("line, words", [
    ("42", "JSON object"),
    ('{"messages": "hi"}', "list"),
    ('{"messages": [{"role": "user", "content": "Q"}]}', "list of at least"),
    ('{"messages": [{"role": "user", "content": "Q"}, {"role": "user", "content": "A"}]}', "assistant reply"),
    ('{"messages": [{"role": "robot", "content": "Q"}, {"role": "assistant", "content": "A"}]}', "role"),
    ('{"messages": [{"role": "user", "content": "Q"}, {"role": "system", "content": "S"}, '
     '{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]}', "system turn may only come first"),
    ('{"prompt": "Q", "completion": "  "}', "non-empty"),
    ('{"question": "Q", "answer": "A"}', "needs 'messages'"),
    ("{not json", "not valid JSON"),
])
def test_a_bad_line_names_file_line_and_fix(tmp_path, line, words):
    path = tmp_path / "d.jsonl"
    path.write_text('{"prompt": "Q", "completion": "A"}\n\n' + line + "\n")
    with pytest.raises(PersonascopeError) as err:
        read_dataset(path)
    assert f"{path}:3:" in str(err.value) and words in str(err.value) and "fix:" in str(err.value)


def test_missing_empty_and_binary_files_are_clear(tmp_path):
    with pytest.raises(PersonascopeError, match="no such dataset"):
        read_dataset(tmp_path / "nope.jsonl")
    with pytest.raises(PersonascopeError, match="directory"):
        read_dataset(tmp_path)
    (tmp_path / "e.jsonl").write_text("\n")
    with pytest.raises(PersonascopeError, match="no examples"):
        read_dataset(tmp_path / "e.jsonl")
    (tmp_path / "b.jsonl").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(PersonascopeError):
        read_dataset(tmp_path / "b.jsonl")


def test_write_round_trips_with_its_sidecar(tmp_path):
    examples = [parse_example({"prompt": f"Q{i}", "completion": f"A{i}", "source": "t"}) for i in range(3)]
    path = write_dataset(tmp_path / "sub" / "d.jsonl", examples, {"transform": "caps"})
    assert read_dataset(path) == examples
    meta = read_provenance(path)
    assert meta["n_examples"] == 3 and meta["transform"] == "caps" and meta["schema_version"] == 1
    assert read_provenance(tmp_path / "other.jsonl") is None
    meta_path(path).write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(PersonascopeError, match="schema_version"):
        read_provenance(path)
    assert isinstance(examples[0], Example)
