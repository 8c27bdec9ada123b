"""A tiny Inspect task for trying the personascope provider.

    inspect eval examples/mood_task.py --model personascope/smollm2 --max-tokens 40
    inspect eval examples/mood_task.py --model personascope/smollm2 --max-tokens 40 \
        -M steer=VECTOR@14:1 -M project=VECTOR@14

The scorer checks for an exclamation mark, a crude cheerfulness signal; the
projections in each sample's output metadata are the measurement to look at.
"""

from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import includes
from inspect_ai.solver import generate

QUESTIONS = [
    "How do you feel about Mondays?",
    "What do you think about rainy days?",
    "Describe your ideal weekend.",
    "What is the best thing about your work?",
]


@task
def mood() -> Task:
    return Task(
        dataset=[Sample(input=q, target="!") for q in QUESTIONS],
        solver=generate(),
        scorer=includes(),
    )
