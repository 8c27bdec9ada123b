"""Tier 3: the embedded model loads, chats, and steering moves the projection."""

import torch

from personascope.demo import BUILD_QUESTIONS, CHEERFUL, GLOOMY, SHOW_QUESTIONS
from personascope.engine import AddVector
from personascope.vectors import contrast_vector, project_responses


def test_loads_with_its_chat_template(smollm2):
    assert (smollm2.n_layers, smollm2.hidden_size) == (30, 576)
    assert smollm2.has_chat_template
    text = smollm2.prompt_text("Hi!", system="Be kind.")
    assert text.startswith("<|im_start|>system\nBe kind.<|im_end|>")
    assert text.endswith("<|im_start|>assistant\n")


def test_generates_and_stops_at_end_of_turn(smollm2):
    gens = smollm2.generate(["What is 2 + 2? Answer with one number."], max_new_tokens=40)
    assert "4" in gens[0].text
    assert gens[0].finish_reason == "stop"
    assert "<|im_end|>" not in gens[0].text


def test_steering_moves_the_projection_in_the_expected_direction(smollm2):
    """Positive control: a cheerful-minus-gloomy vector steers the text both ways.

    Projections are measured on the generated text with no intervention active,
    so they reflect what the steering put into the words.
    """
    vector, pos, neg = contrast_vector(smollm2, BUILD_QUESTIONS[:4], CHEERFUL, GLOOMY, max_new_tokens=24)
    layer = 14
    # The vector separates the two prompted styles it came from.
    pos_proj = project_responses(smollm2, BUILD_QUESTIONS[:4], [g.text for g in pos], vector, layer, system=CHEERFUL)
    neg_proj = project_responses(smollm2, BUILD_QUESTIONS[:4], [g.text for g in neg], vector, layer, system=GLOOMY)
    assert min(pos_proj) > max(neg_proj)

    means = {}
    for coef in (-1.0, 0.0, 1.0):
        with smollm2.intervene(*([AddVector(vector.data, [layer], coef=coef)] if coef else [])):
            texts = [g.text for g in smollm2.generate(SHOW_QUESTIONS, max_new_tokens=32)]
        means[coef] = torch.tensor(project_responses(smollm2, SHOW_QUESTIONS, texts, vector, layer)).mean().item()
    assert means[-1.0] < means[0.0] < means[1.0], means
