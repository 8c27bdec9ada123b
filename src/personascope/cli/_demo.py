import time

import typer

from personascope.cli._common import console, model_text, quiet


def demo_command(
    model: str = typer.Option("smollm2", "--model", "-m", help="A white-box model name."),
    layer: int | None = typer.Option(None, help="Layer to steer (default: the middle)."),
    coef: float = typer.Option(1.0, help="Steering coefficient (multiple of the raw vector)."),
    max_tokens: int = typer.Option(48),
) -> None:
    """Build a steering vector from two contrasting system prompts and show replies
    without and with steering, with their projections on the vector."""
    if max_tokens < 1:
        from personascope.errors import PersonascopeError

        raise PersonascopeError(f"--max-tokens {max_tokens}: too few (fix: give a whole number of at least 1)")
    from rich.table import Table

    from personascope.demo import demo
    from personascope.models import get_model, model_info

    quiet()
    start = time.time()
    engine = get_model(model).engine
    info = model_info(engine)
    console.print(
        f"[bold]{info['name']}[/bold]: {info['architecture']}, {info['layers']} layers, "
        f"hidden {info['hidden_size']}, {info['dtype']} on {info['device']}",
        highlight=False,
    )
    console.print("building a cheerful-minus-gloomy vector from 8 questions x 2 system prompts ...")
    result = demo(engine, layer=layer, coef=coef, max_new_tokens=max_tokens, progress=True)
    for i, question in enumerate(result.questions):
        table = Table(title=f"Q: {question}", title_justify="left", show_lines=True, expand=True)
        table.add_column("arm", no_wrap=True)
        table.add_column("projection", justify="right")
        table.add_column("reply")
        for arm, replies in result.replies.items():
            table.add_row(arm, f"{result.projections[arm][i]:+.1f}", model_text(replies[i]))
        console.print(table)
    means = ", ".join(f"{arm} {result.mean_projection(arm):+.1f}" for arm in result.replies)
    console.print(f"mean projection on the vector at layer {result.layer}: {means}", highlight=False)
    console.print(f"[dim]done in {time.time() - start:.0f} s[/dim]")
