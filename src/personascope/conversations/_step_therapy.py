"""`therapy`: therapy-style sessions, then psychometric questionnaires (docs/therapy.md)."""

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from personascope.conversations._therapy import TherapyConfig, TherapyResult
from personascope.errors import PersonascopeError
from personascope.protocol import Arm, Step, default_arms, spec_vector_name, step_type


@step_type("therapy")
class TherapyStep(Step, TherapyConfig):
    """Sessions with a therapist, then the psychometrics suite with and without their history."""

    arms: dict[str, Arm] = Field(default_factory=default_arms)
    """Conditions the whole protocol runs under (plain, steered, capped, own system prompt)."""

    result_name: ClassVar[str] = "therapy"

    def references(self) -> set[str]:
        return {spec_vector_name(s) for arm in self.arms.values() for _, s in arm.specs()}

    def protocol_config(self, env) -> TherapyConfig:
        """The config with file paths (script, instrument files, items file) taken
        relative to the env's folder (a study's: its config file's); built-in names
        stay as they are."""

        def resolve(value):
            if isinstance(value, str) and value and env.resolve(value).exists():
                return str(env.resolve(value))
            return value

        fields = self.model_dump(include=set(TherapyConfig.model_fields))
        fields["script"] = str(env.resolve(self.script)) if self.script else None
        fields["instruments"] = [resolve(v) for v in self.instruments]
        if self.options.get("items"):
            fields["options"] = {**self.options, "items": resolve(self.options["items"])}
        return TherapyConfig(**fields)

    def check_files(self, base_dir: Path):
        """The script is read before any model loads (its errors name its own lines)."""
        from personascope.conversations._therapy import load_therapy_script

        if self.script:
            load_therapy_script(str((base_dir / self.script).expanduser()))
        return []

    def input_files(self, ctx) -> list[Path]:
        config = self.protocol_config(ctx)
        paths = [config.script, *config.instruments, config.options.get("items")]
        files = [Path(p) for p in paths if isinstance(p, str) and Path(p).is_absolute() and Path(p).is_file()]
        return files + [ctx.vector_path(name) for name in self.references() - ctx.step_ids()]

    def cache_parts(self, ctx) -> dict:
        """The built-in script, the code that asks and scores, and the suites' data:
        editing any of them must not reuse old results."""
        import hashlib
        import inspect
        from importlib import resources

        from personascope.conversations import _step_therapy, _therapy
        from personascope.evals.suites import distress, psychometrics

        h = hashlib.sha256((resources.files("personascope.conversations") / "data" / "therapy.yaml").read_bytes())
        for module in (_therapy, _step_therapy, psychometrics, distress):
            h.update(inspect.getsource(module).encode())
        data = resources.files("personascope.evals") / "data"
        for path in sorted([data / "distress.yaml", *(data / "instruments").iterdir()], key=lambda p: p.name):
            h.update(path.name.encode() + path.read_bytes())
        return {"therapy": h.hexdigest()}

    def execute(self, model, env) -> TherapyResult:
        import time

        from personascope.conversations._dialogue import converse, scripted
        from personascope.conversations._therapy import build_dialogues, history, lexicon_rows, scale_rows
        from personascope.engine import GenerateConfig
        from personascope.evals import run_eval
        from personascope.evals._instruments import load_instrument

        start = time.perf_counter()
        config, arms, seed, steps = self.protocol_config(env), dict(self.arms), env.seed, env.progress
        if not model.white_box and any(a.specs() for a in arms.values()):
            raise PersonascopeError(f"{model.name} is a black-box model: steering, ablation and capping need smollm2 or hf/<path>")
        opts = config.psychometrics()
        instruments = [load_instrument(spec, opts["items"]) for spec in config.instruments]  # fails before any model call
        conditions = config.conditions()
        q, turns = config.questions, config.sessions * config.questions
        by_arm, answers, lexicon = {}, [], []
        for name, arm in arms.items():
            arm = arm.model_copy(update={k: [env.resolve_spec(s) for s in getattr(arm, k)] for k in ("steer", "ablate", "cap")})
            dialogues = build_dialogues(config)
            with steps(f"therapy [{name}]: sessions", turns * len(dialogues)) as advance:
                # Each course its own seed: identical prompts in one call would be answered once.
                for c, d in enumerate(dialogues):
                    reply = GenerateConfig(max_new_tokens=config.max_tokens, temperature=config.temperature,
                                           seed=seed + c if config.temperature > 0 else None, batch_size=config.batch_size)
                    converse(model, [d], turns, scripted, reply, interventions=arm.specs(), system_override=arm.system,
                             advance=advance)
            lexicon += lexicon_rows(name, dialogues, config, seed)
            for c, d in enumerate(dialogues):
                for cond, n in conditions.items():
                    show = lambda desc, total, cond=cond: steps(f"therapy [{cond}] {desc}", total)  # noqa: E731
                    result = run_eval("psychometrics", model, options=opts, arms={name: arm}, limit=config.limit,
                                      max_tokens=config.answer_tokens, temperature=config.temperature, seed=seed + c,
                                      cache=model.cache, progress=show, prefix=history(d, n, q))
                    answers += [{
                        "arm": name, "condition": cond, "history_turns": n * q, "conversation": d.id, "item": row.item.id,
                        "item_id": row.item.meta.get("item"), "kind": row.item.meta.get("kind"),
                        "instrument": row.item.group, "subscale": row.item.meta.get("subscale"),
                        "question": row.item.question, "text": row.response.text, "raw": row.scores.get("raw"),
                        "value": row.scores.get("value"), "parse": row.scores.get("parse"),
                    } for row in result.rows[name]]
            by_arm[name] = dialogues
        scales, diffs = scale_rows(answers, instruments, list(conditions), min_answered=opts["min_answered"], seed=seed)
        return TherapyResult(model.name, config, arms, by_arm, answers, scales, diffs, lexicon, time.perf_counter() - start)
