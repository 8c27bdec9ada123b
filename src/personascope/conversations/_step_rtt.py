"""`rtt`: the reverse Turing test, can a model pick out a copy of itself (docs/rtt.md)."""

from typing import Any, ClassVar

from personascope.conversations._rtt import RTTConfig, RTTResult
from personascope.errors import PersonascopeError
from personascope.protocol import Step, step_type


@step_type("rtt")
class RTTStep(Step, RTTConfig):
    """The reverse Turing test on each model. A candidate's `model` (and `judge_model`)
    may be an alias from the study's `models`; set this step's `model` to the target's
    alias so that the other aliases serve as candidates only."""

    result_name: ClassVar[str] = "rtt"

    def _others(self) -> list[str]:
        return [m for m in [*(c.model for c in self.candidates), self.judge_model] if m]

    def cache_parts(self, ctx) -> dict:
        """The built-in prompts and strategies, and the other models' fingerprints."""
        import hashlib
        from importlib import resources

        data = (resources.files("personascope.conversations") / "data" / "rtt.yaml").read_bytes()
        models = {name: ctx.model(name).fingerprint() for name in self._others()}
        return {"rtt": hashlib.sha256(data).hexdigest(), "models": models}

    def execute(self, model, env) -> RTTResult:
        import time

        from personascope.conversations._rtt import (
            Candidate, Trial, _history, _judge, _norm, _read, ask_prompt, classify_question, clean_question, orders,
            verdict_prompt,
        )
        from personascope.engine import GenerateConfig
        from personascope.judges._choice import letters

        start = time.perf_counter()
        config = RTTConfig(**self.model_dump(include=set(RTTConfig.model_fields)))
        seed, steps = env.seed, env.progress
        pool: dict[str, Any] = {}

        def open_model(name: str | None):
            # Through the env: a study alias keeps its whole config; one Model per name,
            # so a candidate model's answers go out in one batched call.
            if name is None:
                return model
            if name not in pool:
                pool[name] = env.model(name)
            return pool[name]

        cands, twin = config.candidates, config.twin()
        for c in cands:
            if c is not cands[twin] and open_model(c.model).name == model.name and config.system_of(c) == _norm(config.system):
                raise PersonascopeError(f"candidate {c.name!r} is the target itself ({model.name}, same system prompt), "
                                        f"as is {cands[twin].name!r}: keep one")
        labels = letters(len(cands))
        trials, by_letter = [], []
        for t, order in enumerate(orders(len(cands), twin, config.trials, seed)):
            trials.append(Trial(t, [cands[i].name for i in order], labels[order.index(twin)], answers={x: [] for x in labels}))
            by_letter.append(dict(zip(labels, (cands[i] for i in order))))
        gen = GenerateConfig(max_new_tokens=config.max_tokens, temperature=config.temperature,
                             seed=seed if config.temperature > 0 else None, batch_size=config.batch_size)
        total = config.trials * (config.questions * (len(cands) + 1) + 1)
        with steps("rtt: interviews", total) as advance:
            for _ in range(config.questions):
                asked = model.generate([ask_prompt(config, t, labels) for t in trials], gen, system=config.system,
                                       progress=advance)
                for trial, g in zip(trials, asked):
                    trial.questions.append(clean_question(g.text))
                # One batched call per candidate model over every trial and letter.
                groups: dict[int, tuple[Any, list[tuple[Trial, str, Candidate]]]] = {}
                for trial, cast in zip(trials, by_letter):
                    for x, c in cast.items():
                        m = open_model(c.model)
                        groups.setdefault(id(m), (m, []))[1].append((trial, x, c))
                for m, items in groups.values():
                    prompts = [_history(config.system_of(c), t.questions, t.answers[x]) for t, x, c in items]
                    for (t, x, _), g in zip(items, m.generate(prompts, gen, progress=advance)):
                        t.answers[x].append(g.text.strip())
            prompts = [verdict_prompt(config, t, labels) for t in trials]
            for trial, (probs, method) in zip(trials, _read(model, prompts, labels, config.system, advance)):
                trial.probs, trial.method = probs, method
                trial.picked = max(probs, key=probs.get) if probs else None
                trial.correct = trial.picked == trial.twin
        for trial in trials:
            trial.strategies = [classify_question(q) for q in trial.questions]
        if config.judge_model:
            _judge(open_model(config.judge_model), trials, steps)
        return RTTResult.build(model.name, config, trials, model.white_box, seed, time.perf_counter() - start)
