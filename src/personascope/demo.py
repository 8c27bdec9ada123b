"""The demo `make run` shows: a steering vector built on the fly from two contrasting
system prompts, and replies without and with steering, with their projections."""

from dataclasses import dataclass, field

from personascope.engine import AddVector, Engine

# Written for the demo: everyday questions where mood shows in the answer.
BUILD_QUESTIONS = [
    "How was your weekend?",
    "What do you think about the future?",
    "Can you describe your morning?",
    "What's the weather like where you are?",
    "Tell me about your job.",
    "What do you think of people?",
    "How do you feel about Mondays?",
    "What is your favourite food?",
]
SHOW_QUESTIONS = [
    "What do you think about rainy days?",
    "How do you feel today?",
    "Tell me about your plans for tomorrow.",
]
CHEERFUL = (
    "You are an extremely cheerful, enthusiastic assistant. You love everything, see the "
    "bright side of every situation, and use lots of exclamation marks!"
)
GLOOMY = (
    "You are a gloomy, bitter and pessimistic assistant. You complain about everything, "
    "expect the worst and find life dull and miserable."
)


@dataclass
class DemoResult:
    layer: int
    coef: float
    questions: list[str]
    # arm name -> replies / projections (one per question)
    replies: dict[str, list[str]] = field(default_factory=dict)
    projections: dict[str, list[float]] = field(default_factory=dict)

    def mean_projection(self, arm: str) -> float:
        values = self.projections[arm]
        return sum(values) / len(values)


def demo(
    engine: Engine,
    *,
    layer: int | None = None,
    coef: float = 1.0,
    max_new_tokens: int = 48,
    progress: bool = False,
) -> DemoResult:
    """Build a cheerful-minus-gloomy vector, then answer `SHOW_QUESTIONS` with no
    system prompt: unsteered, steered by +coef and by -coef at `layer`.

    Projections are measured on the replies' text with no intervention active, so
    they show what the steering put into the words, not the added vector itself.
    """
    from personascope.vectors import contrast_vector, project_responses

    layer = engine.n_layers // 2 - 1 if layer is None else engine.check_layers([layer])[0]
    vector, _, _ = contrast_vector(
        engine, BUILD_QUESTIONS, CHEERFUL, GLOOMY, max_new_tokens=40, name="cheerful-vs-gloomy", progress=progress
    )
    result = DemoResult(layer=layer, coef=coef, questions=list(SHOW_QUESTIONS))
    for arm, c in (("unsteered", 0.0), (f"steered +{coef:g}", coef), (f"steered -{coef:g}", -coef)):
        with engine.intervene(*([AddVector(vector.data, [layer], coef=c)] if c else [])):
            gens = engine.generate(SHOW_QUESTIONS, max_new_tokens=max_new_tokens, progress=progress)
        texts = [g.text for g in gens]
        result.replies[arm] = texts
        result.projections[arm] = project_responses(engine, SHOW_QUESTIONS, texts, vector, layer)
    return result
