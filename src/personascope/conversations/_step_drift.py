"""`drift`: multi-turn conversations with per-turn projections and probes (docs/drift.md)."""

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from personascope.conversations._drift import DriftConfig, DriftResult
from personascope.errors import PersonascopeError
from personascope.protocol import Arm, Step, default_arms, spec_vector_name, step_type


@step_type("drift")
class DriftStep(Step, DriftConfig):
    """The drift harness on each model; arms compare plain, steered and capped models."""

    arms: dict[str, Arm] = Field(default_factory=default_arms)
    """Conditions by name; slope differences are reported against the first."""

    result_name: ClassVar[str] = "drift"

    def references(self) -> set[str]:
        specs = [*self.project, *(s for arm in self.arms.values() for _, s in arm.specs())]
        return {spec_vector_name(s) for s in specs}

    def protocol_config(self, env) -> DriftConfig:
        """The protocol's config, with `script` a real path (relative to the env's folder)."""
        script = str(env.resolve(self.script)) if self.script else None
        return DriftConfig(**{**self.model_dump(include=set(DriftConfig.model_fields)), "script": script})

    def check_files(self, base_dir: Path):
        """The families file and the scripts' lengths, before any model loads."""
        from personascope.conversations._drift import build_dialogues

        script = str((base_dir / self.script).expanduser()) if self.script else None
        config = DriftConfig(**{**self.model_dump(include=set(DriftConfig.model_fields)), "script": script})
        dialogues = build_dialogues(config)  # a bad families file raises its own file:line errors
        short = [d for d in dialogues if self.user_model is None and len(d.script) < self.turns]
        return [("turns", f"conversation {d.id} has {len(d.script)} scripted user turns, fewer than turns ({self.turns})",
                 "lower turns, add user turns to the script, or set a simulated user (user_model)") for d in short[:1]]

    def input_files(self, ctx) -> list[Path]:
        script = [Path(self.protocol_config(ctx).script)] if self.script else []
        return script + [ctx.vector_path(name) for name in self.references() - ctx.step_ids()]

    def cache_parts(self, ctx) -> dict:
        """The built-in families (editing them must not reuse old results), the user
        model and the source of user scorers (`module:function`)."""
        import hashlib
        from importlib import resources

        from personascope.conversations._drift import conversation_checks

        data = (resources.files("personascope.conversations") / "data" / "families.yaml").read_bytes()
        parts = {"families": hashlib.sha256(data).hexdigest()}
        if self.user_model:
            parts["user_model"] = ctx.model(self.user_model).fingerprint()
        checks = conversation_checks(self.protocol_config(ctx)).values()
        names = {s for probes, scorers in checks for s in [*scorers, *(x for p in probes for x in p.scorers)]}
        code = _user_code(names)
        return parts | ({"scorers": code} if code else {})

    def execute(self, model, env) -> DriftResult:
        import time

        from personascope.conversations._curves import crossings, curves, slopes
        from personascope.conversations._dialogue import converse, scripted, simulated
        from personascope.conversations._drift import build_dialogues, conversation_checks
        from personascope.conversations._families import get_family
        from personascope.conversations._measure import parse_projections, probe_turns, project_turns, score_replies
        from personascope.engine import GenerateConfig

        start = time.perf_counter()
        config, arms, seed = self.protocol_config(env), dict(self.arms), env.seed
        if not model.white_box and (config.project or any(a.specs() for a in arms.values())):
            raise PersonascopeError(
                f"{model.name} is a black-box model: projections and steering/capping arms need smollm2 or hf/<path> "
                "(leave out project and the arms' steer/ablate/cap for behavioural curves only)"
            )
        projections = []
        if config.project:
            projections = parse_projections([env.resolve_spec(p) for p in config.project], model.n_layers(),
                                            labels=config.project)
        sampling = dict(temperature=config.temperature, seed=seed if config.temperature > 0 else None,
                        batch_size=config.batch_size)
        reply_config = GenerateConfig(max_new_tokens=config.max_tokens, **sampling)
        probe_config = GenerateConfig(max_new_tokens=config.probe_tokens, **sampling)
        user_turns = scripted
        if config.user_model:
            # Through the env: a study alias keeps its whole config (args, dtype, device).
            user_turns = simulated(env.model(config.user_model), lambda d: get_family(d.family, config.script).user_persona,
                                   GenerateConfig(max_new_tokens=config.max_tokens, **sampling))
        checks = conversation_checks(config)
        by_arm = {}
        for name, arm in arms.items():
            dialogues = build_dialogues(config)
            ivs = [(kind, env.resolve_spec(spec)) for kind, spec in arm.specs()]
            n = len(dialogues) * config.turns
            with env.progress(f"drift [{name}]: conversations", n) as advance:
                converse(model, dialogues, config.turns, user_turns, reply_config,
                         interventions=ivs, system_override=arm.system, advance=advance)
            groups = _groups(dialogues, checks)
            for (_, scorers), group in groups:
                score_replies(group, scorers)
            if projections:
                with env.progress(f"drift [{name}]: projections", n) as advance:
                    project_turns(model, dialogues, projections, interventions=ivs, advance=advance)
            asked = sum(len(d.turns) * len(probes) for (probes, _), group in groups for d in group)
            with env.progress(f"drift [{name}]: probes", asked) as advance:
                for (probes, _), group in groups:
                    probe_turns(model, group, probes, probe_config, interventions=ivs, advance=advance)
            by_arm[name] = dialogues
        return DriftResult(
            model.name, config, arms, by_arm, curves(by_arm, seed=seed), slopes(by_arm, seed=seed),
            crossings(by_arm, config.thresholds, seed=seed), model.white_box, time.perf_counter() - start,
        )


def _groups(dialogues, checks) -> list[tuple[tuple, list]]:
    """Dialogues grouped by the checks they get, in order: without per-conversation
    checks there is one group, so the run's probes go out in one batched call."""
    out: list[tuple[tuple, list]] = []
    for d in dialogues:
        probes, scorers = checks[d.id]
        for key, group in out:
            if key[0] == probes and key[1] == scorers:
                group.append(d)
                break
        else:
            out.append(((probes, scorers), [d]))
    return out


def _user_code(names) -> dict[str, str]:
    """A hash of the source of each `module:function` scorer: editing it must not
    reuse a cached step."""
    import hashlib
    import inspect

    from personascope import registry
    from personascope.judges import get_scorer

    out = {}
    for name in sorted(n for n in names if registry.is_ref(n)):
        try:
            source = inspect.getsource(get_scorer(name))
        except (OSError, TypeError):
            source = name
        out[name] = hashlib.sha256(source.encode()).hexdigest()
    return out
