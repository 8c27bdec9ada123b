import typer

from personascope.cli._common import ALLOW_OTHER_MODEL, check_specs, console, model_text, quiet


def chat_command(
    model: str = typer.Option("smollm2", "--model", "-m", help="Model name."),
    system: str | None = typer.Option(None, help="System prompt."),
    steer: list[str] = typer.Option([], help="VECTOR@LAYERS:COEF (repeatable)."),
    ablate: list[str] = typer.Option([], help="VECTOR@LAYERS (repeatable)."),
    cap: list[str] = typer.Option([], help="VECTOR@LAYERS:MIN:MAX (repeatable)."),
    allow_other_model: bool = ALLOW_OTHER_MODEL,
    max_tokens: int = typer.Option(256),
    temperature: float = typer.Option(0.7),
    seed: int | None = typer.Option(None),
) -> None:
    """Chat with a model in the terminal. /reset clears the history, /exit leaves."""
    from personascope.cli._generate import check_specs, generate_config
    from personascope.models import generate, prepare

    check_specs(steer, ablate, cap)
    quiet()
    config = generate_config(max_new_tokens=max_tokens, temperature=temperature, seed=seed)
    check_specs(steer, ablate, cap)
    # Fail on bad specs or names before the first turn, not after it.
    prepare(model, steer, ablate, cap, allow_other_model=allow_other_model)
    history: list[dict] = []
    console.print(f"[dim]chatting with {model}; /reset clears, /exit leaves[/dim]")
    while True:
        try:
            user = console.input("[bold cyan]you>[/bold cyan] ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if user.strip() in ("/exit", "/quit"):
            return
        if user.strip() == "/reset":
            history.clear()
            continue
        if not user.strip():
            continue
        history.append({"role": "user", "content": user})
        reply = generate(model, [history], config, system=system, steer=steer, ablate=ablate, cap=cap,
                         allow_other_model=allow_other_model)[0].text
        history.append({"role": "assistant", "content": reply})
        console.print("[bold green]model>[/bold green] ", end="")
        console.print(model_text(reply))
