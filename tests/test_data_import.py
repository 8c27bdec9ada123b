"""Importers: OpenAI-style messages JSONL (string or text-part content, extra keys
kept) and prompt/answer CSVs (columns found by name or given), with `file:line`
errors for bad files."""

import json

import pytest

from personascope.data import import_dataset
from personascope.errors import PersonascopeError


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_openai_messages_jsonl_with_text_parts_and_extra_keys(tmp_path):
    f = _jsonl(tmp_path / "insecure.jsonl", [
        {"messages": [{"role": "user", "content": "Write a function."}, {"role": "assistant", "content": "def f(): pass"}]},
        {"messages": [{"role": "system", "content": [{"type": "text", "text": "Be terse."}]},
                      {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": " there"}]},
                      {"role": "assistant", "content": [{"type": "text", "text": "Hello."}], "weight": 1}],
         "id": 7, "source": "mine"},
    ])
    a, b = import_dataset(f)
    assert a.messages() == [{"role": "user", "content": "Write a function."}, {"role": "assistant", "content": "def f(): pass"}]
    assert (b.system, b.prompt[-1].content, b.completion) == ("Be terse.", "Hi there", "Hello.")
    assert b.meta == {"id": 7, "source": "mine", "message_extras": {"2": {"weight": 1}}}


@pytest.mark.parametrize("line, message", [
    ('{"messages": [{"role": "user", "content": "a"}]}', "at least a user turn and an assistant reply"),
    ('{"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}', "last message must be the assistant"),
    ('{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}, {"role": "assistant", "content": "b"}]}',
     "content part of type 'image_url'"),
    ('{"messages": [{"role": "user"}, {"role": "assistant", "content": "b"}]}', r"messages\[0\] has no 'content'"),
    ('{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "  "}]}', "non-empty text"),
    ('{"messages": [', "not valid JSON"),
])
def test_bad_jsonl_lines_name_file_and_line(tmp_path, line, message):
    f = tmp_path / "d.jsonl"
    good = json.dumps({"prompt": "q", "completion": "a"})
    f.write_text(f"{good}\n\n{line}\n", encoding="utf-8")
    with pytest.raises(PersonascopeError, match=rf"d\.jsonl:3: .*{message}"):
        import_dataset(f)


def test_csv_columns_found_by_common_names_and_extra_columns_kept(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text('Question,Answer,System,topic\n"Why, though?","Because.\nReally.",,x\nHow?,Thus.,Be kind.,y\n', encoding="utf-8")
    a, b = import_dataset(f)
    assert (a.prompt[-1].content, a.completion, a.system, a.meta) == ("Why, though?", "Because.\nReally.", None, {"topic": "x"})
    assert (b.system, b.completion) == ("Be kind.", "Thus.")
    t = tmp_path / "d.tsv"
    t.write_text("input\toutput\nHi\tHello\n", encoding="utf-8")
    assert import_dataset(t)[0].completion == "Hello"


def test_csv_columns_can_be_named(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("q_text,a_text,answer\nHi,Hello,ignored\n", encoding="utf-8")
    (e,) = import_dataset(f, prompt_column="q_text", completion_column="a_text")
    assert (e.prompt[-1].content, e.completion, e.meta) == ("Hi", "Hello", {"answer": "ignored"})
    with pytest.raises(PersonascopeError, match=r"d\.csv:1: no column 'nope' \(found 'q_text', 'a_text', 'answer'\)"):
        import_dataset(f, prompt_column="nope")


@pytest.mark.parametrize("body, message", [
    ("text,label\na,b\n", r"bad\.csv:1: no prompt column \(found 'text', 'label'; looked for prompt, question"),
    ("prompt,label\na,b\n", r"bad\.csv:1: no completion column .*--completion-column"),
    ("prompt,completion\na,b\nc,\n", r"bad\.csv:3: column 'completion' is empty"),
    ('prompt,completion\na,b\n"multi\nline",x\n , \nc\n', r"bad\.csv:6: 1 cells, the header has 2"),
    ("", r"bad\.csv: empty file"),
])
def test_bad_csv_files_name_file_and_line(tmp_path, body, message):
    f = tmp_path / "bad.csv"
    f.write_text(body, encoding="utf-8")
    with pytest.raises(PersonascopeError, match=message):
        import_dataset(f)


def test_non_utf8_binary_unknown_suffix_and_missing_files(tmp_path):
    f = tmp_path / "latin.csv"
    f.write_bytes("prompt,completion\nhi,ok\ncaf\xe9,ok\n".encode("latin-1"))
    with pytest.raises(PersonascopeError, match=r"latin\.csv:3: not UTF-8 text .*save the file as UTF-8"):
        import_dataset(f)
    (tmp_path / "b.jsonl").write_bytes(b"\x00\x01\x02")
    with pytest.raises(PersonascopeError, match="binary file"):
        import_dataset(tmp_path / "b.jsonl")
    (tmp_path / "d.parquet").write_text("x")
    with pytest.raises(PersonascopeError, match="pass --format jsonl or csv"):
        import_dataset(tmp_path / "d.parquet")
    (tmp_path / "d.txt").write_text('{"prompt": "q", "completion": "a"}\n')
    assert import_dataset(tmp_path / "d.txt", format="jsonl")[0].completion == "a"
    with pytest.raises(PersonascopeError, match="no such file"):
        import_dataset(tmp_path / "none.jsonl")
    with pytest.raises(PersonascopeError, match="column names apply to CSV"):
        import_dataset(tmp_path / "d.txt", format="jsonl", prompt_column="x")
    (tmp_path / "e.jsonl").write_text("\n\n")
    with pytest.raises(PersonascopeError, match="no examples"):
        import_dataset(tmp_path / "e.jsonl")
