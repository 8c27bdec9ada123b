"""`selfchat`: two copies of each model talk freely; end states over seeds (docs/selfchat.md)."""

from pathlib import Path
from typing import ClassVar

from personascope.conversations._selfchat import SelfChatConfig, SelfChatResult
from personascope.errors import PersonascopeError
from personascope.protocol import Step, spec_vector_name, step_type


@step_type("selfchat")
class SelfChatStep(Step, SelfChatConfig):
    """Self-chat attractors: where free conversations of a model with itself end up."""

    result_name: ClassVar[str] = "selfchat"

    def references(self) -> set[str]:
        return {spec_vector_name(s) for s in self.project}

    def protocol_config(self, env) -> SelfChatConfig:
        """The protocol's config, with `data` a real path (relative to the env's folder)."""
        data = str(env.resolve(self.data)) if self.data else None
        return SelfChatConfig(**{**self.model_dump(include=set(SelfChatConfig.model_fields)), "data": data})

    def input_files(self, ctx) -> list[Path]:
        data = [Path(self.protocol_config(ctx).data)] if self.data else []
        return data + [ctx.vector_path(name) for name in self.references() - ctx.step_ids()]

    def cache_parts(self, ctx) -> dict:
        """The built-in setup (editing it must not reuse old results) and the judge model."""
        import hashlib
        from importlib import resources

        data = (resources.files("personascope.conversations") / "data" / "selfchat.yaml").read_bytes()
        parts = {"selfchat": hashlib.sha256(data).hexdigest()}
        if self.judge_model:
            parts["judge"] = ctx.model(self.judge_model).fingerprint()
        return parts

    def execute(self, model, env) -> SelfChatResult:
        import time

        from personascope.conversations._measure import parse_projections
        from personascope.conversations._selfchat import Conversation, _activations, end_state, summarise, view
        from personascope.conversations._selfchat_data import Lexicon, bliss_score, repeat_score
        from personascope.engine import GenerateConfig
        from personascope.judges import ChoiceJudge

        start = time.perf_counter()
        config, seed, steps = self.protocol_config(env), env.seed, env.progress
        if not model.white_box and config.project:
            raise PersonascopeError(f"{model.name} is a black-box model: projections need smollm2 or hf/<path> (leave out project)")
        setup = config.setup()
        projections = (parse_projections([env.resolve_spec(p) for p in config.project], model.n_layers(), labels=config.project)
                       if config.project else [])
        layer = None
        if model.white_box:
            layer = config.embed_layer if config.embed_layer is not None else model.n_layers() // 2
            if layer >= model.n_layers():
                raise PersonascopeError(f"embed_layer {layer} is out of range: {model.name} has layers 0-{model.n_layers() - 1}")
        convs = [Conversation(seed + k) for k in range(config.seeds)]
        texts = [[setup["opening"]] for _ in convs]
        with steps("selfchat: conversations", config.seeds * config.turns) as advance:
            for turn in range(1, config.turns + 1):
                for conv, history in zip(convs, texts):
                    # One call per seed: identical prompts in one call would be sampled once.
                    gen = GenerateConfig(max_new_tokens=config.max_tokens, temperature=config.temperature,
                                         seed=conv.seed if config.temperature > 0 else None)
                    history.append(model.generate([view(history, turn, setup["system"])], gen)[0].text.strip())
                    advance(1)
        lexicon = Lexicon.model_validate(setup["lexicon"])
        for conv, history in zip(convs, texts):
            conv.messages = history[1:]
            conv.bliss = [bliss_score(m, lexicon) for m in conv.messages]
            conv.repeat = [repeat_score(m, before) for m, before in zip(history[1:], history)]
            conv.projections = [{} for _ in conv.messages]
        # Through the env: a study alias keeps its whole config (args, dtype, device).
        judge_model = env.model(config.judge_model) if config.judge_model else model
        cats = setup["categories"]
        orders = [cats, dict(reversed(cats.items()))] if config.both_orders else [cats]
        ends = [end_state(c, config.end_turns) for c in convs]
        with steps("selfchat: judge end states", len(convs) * len(orders)) as advance:
            reads = [ChoiceJudge(judge_model, setup["judge"], options, name="selfchat end state")
                     .classify([setup["opening"]] * len(convs), ends, progress=advance) for options in orders]
        for conv, choices in zip(convs, zip(*reads)):
            found = [c.probs for c in choices if c.probs]
            conv.judge_method = choices[0].method
            if found:
                conv.probs = {name: sum(p[name] for p in found) / len(found) for name in cats}
                top = sorted(conv.probs.values(), reverse=True)
                # A tie is a judge that contradicts itself across orders: no category.
                if len(top) < 2 or top[0] - top[1] > 1e-9:
                    conv.category = max(conv.probs, key=conv.probs.get)
        if model.white_box:
            _activations(model, convs, texts, setup["system"], config, projections, layer, seed, steps)
        return summarise(model.name, config, setup, convs, judge_model.name, model.white_box, layer, seed,
                         time.perf_counter() - start)
