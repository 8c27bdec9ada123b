"""Does the `evil_lexicon` scorer separate evil-prompted from assistant-prompted replies?

smollm2 answers the built-in `evil` trait's questions under its positive (evil)
instructions and under the `assistant` trait's positive instructions (a plain
helpful assistant), and with `--kind` under `evil`'s negative instructions (a
kind helper); one instruction per question, cycling. Each reply is scored with `evil_lexicon`, and
the AUROC of evil vs each other set is printed
(`personascope.stats.auroc`, the same number as sklearn's `roc_auc_score`). The lexicon was written and tuned
on the `extract` questions; the `eval` questions (the default) are the ones reported.

    python benchmarks/check_evil_lexicon.py                 # report: eval questions
    python benchmarks/check_evil_lexicon.py --split extract # the tuning split

Calls go through the call cache, so a rerun (e.g. after editing the lexicon) is free.
"""

import argparse
import json
import statistics

from personascope.engine import GenerateConfig
from personascope.judges import get_scorer
from personascope.judges._toy import evil_matches
from personascope.models import get_model
from personascope.stats import auroc
from personascope.traits import load_trait


def answers(model, questions: list[str], systems: list[str], max_tokens: int) -> list[str]:
    config = GenerateConfig(max_new_tokens=max_tokens)
    out = [""] * len(questions)
    for k, system in enumerate(systems):
        idx = [i for i in range(len(questions)) if i % len(systems) == k]
        for i, g in zip(idx, model.generate([questions[i] for i in idx], config, system=system or None)):
            out[i] = g.text
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--split", choices=("eval", "extract"), default="eval")
    parser.add_argument("-n", type=int, default=20, help="questions")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--show", type=int, default=0, help="print this many replies of each set")
    parser.add_argument("--kind", action="store_true", help="also compare with evil's negative (kind) instructions")
    parser.add_argument("--dump", help="write every reply with its score to this JSON file")
    args = parser.parse_args()

    evil, assistant = load_trait("evil"), load_trait("assistant")
    questions = getattr(evil.questions, args.split)[: args.n]
    model = get_model(args.model)
    score = get_scorer("evil_lexicon")
    sets = {
        "evil (evil pos)": [p.pos for p in evil.instructions],
        "assistant (assistant pos)": [p.pos for p in assistant.instructions],
    }
    if args.kind:
        sets["kind (evil neg)"] = [p.neg for p in evil.instructions]
    scored, dump = {}, []
    for label, systems in sets.items():
        replies = answers(model, questions, systems, args.max_tokens)
        scored[label] = [score(q, r) for q, r in zip(questions, replies)]
        s = scored[label]
        dump += [{"set": label, "question": q, "reply": r, "score": v} for q, r, v in zip(questions, replies, s)]
        print(f"{label:28s} n={len(s)}  mean={statistics.mean(s):5.1f}  nonzero={sum(v > 0 for v in s)}/{len(s)}")
        for q, r in list(zip(questions, replies))[: args.show]:
            print(f"   Q: {q}\n   A: {r!r}\n   matches: {evil_matches(r)}")
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as f:
            json.dump(dump, f, indent=1, ensure_ascii=False)
    pos = scored["evil (evil pos)"]
    for label in list(sets)[1:]:
        neg = scored[label]
        print(f"AUROC evil vs {label}: {auroc(pos, neg):.3f}  ({args.split} questions, {len(pos)} + {len(neg)} replies, "
              f"{args.max_tokens} tokens, {args.model})")


if __name__ == "__main__":
    main()
