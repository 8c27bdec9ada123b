"""`personascope.models._generate`: one generate for white-box and black-box models."""

import json

import pytest

from personascope.errors import PersonascopeError
from personascope.models import generate, prepare, read_prompts


def _echo(messages, tools, tool_choice, config):
    """A mock model that repeats the conversation back, with usage set (mockllm would
    otherwise count tokens with tiktoken, which downloads its encoding)."""
    from inspect_ai.model import ModelOutput, ModelUsage

    out = ModelOutput.from_content("mockllm", " | ".join(f"{m.role}:{m.text}" for m in messages))
    out.usage = ModelUsage(input_tokens=len(messages), output_tokens=1, total_tokens=len(messages) + 1)
    return out


def test_black_box_generation_goes_through_inspect():
    prompts = ["hello", [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}, {"role": "user", "content": "ok"}]]
    gens = generate("mockllm/model", prompts, system="be brief", model_args={"custom_outputs": _echo})
    assert [g.text for g in gens] == [
        "system:be brief | user:hello",
        "system:be brief | user:hi | assistant:yo | user:ok",
    ]
    assert [g.prompt_tokens for g in gens] == [2, 4]
    assert all(g.finish_reason == "stop" for g in gens)


def test_black_box_models_refuse_interventions():
    with pytest.raises(PersonascopeError, match="black-box"):
        prepare("mockllm/model", steer=["v@1:1"])
    assert prepare("mockllm/model") == (None, [])


def test_read_prompts_formats(tmp_path):
    plain = tmp_path / "p.txt"
    plain.write_text("first\n\nsecond\n")
    assert [r["prompt"] for r in read_prompts(str(plain))] == ["first", "second"]
    jsonl = tmp_path / "p.jsonl"
    chat = {"messages": [{"role": "user", "content": "hi"}]}
    jsonl.write_text(json.dumps({"prompt": "a", "id": 1}) + "\n" + json.dumps(chat) + "\n")
    assert read_prompts(str(jsonl)) == [{"prompt": "a", "id": 1}, chat]
    jsonl.write_text(json.dumps({"messages": []}) + "\n")
    with pytest.raises(PersonascopeError, match=r"p.jsonl:1: messages: List should have at least 1 item"):
        read_prompts(str(jsonl))
    empty = tmp_path / "e.txt"
    empty.write_text("\n\n")
    with pytest.raises(PersonascopeError, match="has no prompts"):
        read_prompts(str(empty))
    wrong = tmp_path / "w.jsonl"
    wrong.write_text(json.dumps({"text": "a"}) + "\n")
    with pytest.raises(PersonascopeError, match=r"w.jsonl:1: needs a .prompt. string or a .messages. list"):
        read_prompts(str(wrong))
