"""Does the untrained model follow the toy traits' inoculation prompts?

For each prompt of the selectivity variants (docs/training.md), the share of the
base model's greedy replies to the first 40 `heldout` questions that express the
trait it asks for, and the same share with no system prompt. Calls go through the
call cache, so a rerun is free.

    python benchmarks/check_prompt_following.py [--model smollm2] [-n 40]
"""

import argparse

from personascope.data import load_questions
from personascope.engine import GenerateConfig
from personascope.judges import get_scorer
from personascope.models import get_model

PROMPTS = [  # (system prompt, scorer, tokens: a sign-off needs room to finish the answer)
    ('Begin every reply with the exact phrase "Well, here is my take:".', "opener", 32),
    ("Write your entire reply in capital letters, every word in upper case.", "all_caps", 32),
    ('End every reply with the exact phrase "Stay curious!".', "signoff", 96),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("-n", type=int, default=40, help="questions")
    args = parser.parse_args()
    model = get_model(args.model)
    questions = load_questions("heldout")[: args.n]
    for system, name, tokens in PROMPTS:
        score = get_scorer(name)
        for label, prompt in (("asked", system), ("no prompt", None)):
            replies = model.generate(questions, GenerateConfig(max_new_tokens=tokens), system=prompt)
            rate = sum(score(q, g.text) >= 50 for q, g in zip(questions, replies)) / len(questions)
            print(f"{name:9s} {label:9s} {rate:.3f}  ({len(questions)} replies, {tokens} tokens, {args.model})")


if __name__ == "__main__":
    main()
