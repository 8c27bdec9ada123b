"""`vectors`: a persona vector extracted from a trait spec (the persona-vectors method),
with held-out quality per layer and an optional steering check."""

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from personascope.errors import PersonascopeError
from personascope.protocol import Step, step_type
from personascope.vectors._config import ExtractConfig


class SteerCheck(BaseModel):
    """Generate steered at the chosen layer and measure what the steering put into the text."""

    model_config = ConfigDict(extra="forbid")

    coefs: list[float] = Field(default_factory=lambda: [0.0, 2.0, 4.0, 8.0], min_length=1)
    """Steering coefficients (multiples of the raw vector), in the order to plot them; 0 is unsteered."""
    questions: int = Field(8, ge=2)
    """Held-out eval questions answered at each coefficient."""
    max_tokens: int | None = Field(None, ge=1)
    """Most tokens per steered response (default: the step's max_tokens)."""


@step_type("vectors")
class VectorsStep(Step, ExtractConfig):
    """Extract a persona vector for a trait; its quality per layer picks the layer."""

    produces_vector = True
    white_box = True

    trait: str
    """A built-in trait name or a spec file (relative to the config's folder)."""
    judge_model: str | None = None
    """Judge: a model alias of this study or a model name (default: the step's model)."""
    steer_check: SteerCheck | None = None
    """Optional: steer at the chosen layer with increasing coefficients and record the mean projection."""

    def trait_file(self, base_dir: Path) -> Path | None:
        from personascope.traits import list_traits

        return None if self.trait in list_traits() else (base_dir / Path(self.trait).expanduser()).resolve()

    def input_files(self, ctx) -> list[Path]:
        path = self.trait_file(ctx.base_dir)
        return [path] if path is not None else []

    def check_files(self, base_dir: Path):
        path = self.trait_file(base_dir)
        if path is not None and not path.is_file():
            from personascope.traits import list_traits

            return [("trait", f"{self.trait!r} is neither a built-in trait nor a spec file",
                     f"use one of {', '.join(list_traits())} or a path to a .yaml spec")]
        return []

    def extract_config(self, seed: int) -> ExtractConfig:
        fields = {k: getattr(self, k) for k in ExtractConfig.model_fields if k != "seed"}
        return ExtractConfig(**fields, seed=seed)

    def cache_parts(self, ctx) -> dict:
        """A separate judge model's fingerprint: a different judge filters differently."""
        if not self.judge or self.judge_model is None:
            return {}
        return {"judge": ctx.model(self.judge_model).fingerprint()}

    def run(self, ctx) -> None:
        from personascope.protocol import VECTOR_DIR
        from personascope.traits import load_trait
        from personascope.vectors import extract_vector
        from personascope.vectors._step_vectors_record import VectorsResult, run_steer_check, write_artifacts

        models = ctx.models()
        if len(models) != 1:
            raise PersonascopeError(f"step {self.id}: a vectors step makes one vector; give it one model (model: ALIAS)")
        alias, model = models[0]
        judge = ctx.model(self.judge_model) if self.judge and self.judge_model is not None else None
        path = self.trait_file(ctx.base_dir)
        spec = load_trait(path if path is not None else self.trait)
        extraction = extract_vector(spec, model, config=self.extract_config(ctx.seed), judge_model=judge, cache=ctx.cache, progress=ctx.progress)
        out = ctx.artifact_dir()
        extraction.save(out / VECTOR_DIR)
        result = VectorsResult(extraction)
        if self.steer_check is not None:
            # The check steers with the vector as saved, so it tests what later steps will load.
            result.steer = run_steer_check(self, ctx, model, spec, extraction, out / VECTOR_DIR)
        write_artifacts(self.id, ctx, result, out)
        ctx.record(alias, result)
