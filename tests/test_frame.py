"""Document frames: how base models (no chat template) are prompted."""

import importlib.util

import pytest

from personascope.engine import DocumentFrame
from personascope.errors import PersonascopeError


def test_frame_writes_a_transcript_that_ends_with_the_assistant_label():
    frame = DocumentFrame()
    text = frame.render(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
         {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Who are you?"}],
        bos="<bos>",
    )
    assert text == (
        "<bos>The following is a conversation between a user and an AI assistant.\n\n"
        "System: Be brief.\nUser: Hi\nAssistant: Hello.\nUser: Who are you?\nAssistant:"
    )
    custom = DocumentFrame(header="", user="Q", assistant="A")
    assert custom.render([{"role": "user", "content": "x"}]) == "Q: x\nA:"
    with pytest.raises(ValueError):
        DocumentFrame(speaker="x")


def _base_engine(frame):
    from personascope.engine import Engine
    from personascope.testing import tiny_model

    model, tok = tiny_model("llama", n_layers=2)
    tok.chat_template = None  # a base model
    return Engine(model, tok, name="tiny-base", frame=frame)


def test_engine_prompts_score_and_capture_in_the_frame():
    engine = _base_engine(DocumentFrame())
    text = engine.prompt_text("Hi", system="Be brief.")
    assert text == DocumentFrame().render(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    )
    assert "<|im_start|>" not in text and "assistant:" not in text  # neither ChatML nor the fallback
    ids = engine.encode_prompts(["Hi"])[0]
    assert engine.tokenizer.decode(ids) == engine.prompt_text("Hi")  # this tokenizer adds no BOS
    acts = engine.capture(["Hi"], ["Hello."], layers=[0], poolings=["last_prompt"])
    assert acts.data["last_prompt"].shape[0] == 1


def test_frame_stop_strings_end_the_reply():
    """Greedy decoding under one frame, then the same prompt with a stop string taken
    from that reply: the reply ends before it."""
    frame = DocumentFrame(stop=())
    free = _base_engine(frame).generate(["Hi"], max_new_tokens=16)[0]
    assert free.finish_reason == "length" and len(free.text) >= 6
    marker = free.text[3:6]
    cut = _base_engine(frame.model_copy(update={"stop": (marker,)})).generate(["Hi"], max_new_tokens=16)[0]
    assert cut.finish_reason == "stop"
    assert cut.text == free.text[: free.text.find(marker)]


def test_model_config_frame_reaches_engine_fingerprint_and_show(tmp_path):
    from personascope.models import ModelConfig, get_model, model_info
    from personascope.testing import tiny_checkpoint

    tiny_checkpoint(tmp_path / "m")
    frame = DocumentFrame(header="A transcript.\n\n")
    framed = get_model(ModelConfig(name=f"hf/{tmp_path / 'm'}", frame=frame, device="cpu"))
    plain = get_model(ModelConfig(name=f"hf/{tmp_path / 'm'}", device="cpu"))
    assert framed.fingerprint()["frame"]["header"] == "A transcript.\n\n"
    assert "frame" not in plain.fingerprint()  # chat-template models keep their cache keys
    info = model_info(framed.engine)
    assert info["frame"]["header"] == "A transcript.\n\n" and info["chat_template"] is False
    assert framed.engine.prompt_text("Hi").startswith("A transcript.\n\nUser: Hi\nAssistant:")
    with pytest.raises(ValueError):
        ModelConfig(name="smollm2", frame={"header": "x", "bogus": 1})


def test_gemma3_base_is_an_embedded_name_with_a_default_frame(monkeypatch):
    from personascope.models import _gemma, parse_model_name
    from personascope.models._load import default_frame

    assert parse_model_name("gemma3-base").kind == "embedded"
    assert default_frame("gemma3-base") == DocumentFrame() and default_frame("smollm2") is None
    real = importlib.util.find_spec
    monkeypatch.setattr(_gemma.importlib.util, "find_spec", lambda n, *a: None if n.startswith("gemma3_270m") else real(n, *a))
    with pytest.raises(PersonascopeError, match="make gemma3-base"):
        _gemma.chunk_paths()


def test_scored_and_captured_replies_follow_the_label_as_generated():
    """In a frame a reply follows `Assistant:` after a space: scoring 'Hello' scores
    the tokens of ' Hello', the text a generation would hold."""
    engine = _base_engine(DocumentFrame())
    assert engine.reply_text("Hello") == " Hello" and engine.reply_text(" Hello") == " Hello"
    a, b = engine.score(["Hi", "Hi"], ["Hello", " Hello"])
    assert a.token_ids == b.token_ids and a.total == pytest.approx(b.total, abs=1e-5)
    plain = _base_engine(None)
    assert plain.reply_text("Hello") == "Hello"
