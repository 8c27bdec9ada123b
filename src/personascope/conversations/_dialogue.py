"""Multi-turn conversations, advanced in lock-step: every conversation of a batch
takes its next user turn, then every one gets its assistant reply in one batched,
cached generate call.

The cache is what makes a killed run resume: each reply is keyed by the whole
history before it, so a rerun replays finished turns from the cache and picks up
at the first turn it never reached.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from personascope.engine import GenerateConfig
    from personascope.models import Model

Interventions = Sequence[tuple[str, str]]


@dataclass
class Turn:
    """One exchange: the user's message and the model's reply, with what was measured on it."""

    user: str
    reply: str = ""
    system: str | None = None
    """The system prompt the reply was generated under (a script may switch it mid-way)."""
    projections: dict[str, float] = field(default_factory=dict)
    """Mean projection of the reply's tokens on each vector (`VECTOR@LAYER` label)."""
    scores: dict[str, float] = field(default_factory=dict)
    """Programmatic scores of the reply itself."""
    probes: dict[str, dict] = field(default_factory=dict)
    """Probe name -> {"question", "answer", "scores"}: answers to a question asked on a fork here."""


@dataclass
class Dialogue:
    """One conversation of a family (its script, if any, gives the user turns)."""

    id: str
    family: str
    system: str | None = None
    script: list[dict] = field(default_factory=list)
    """Scripted user turns: `{"user": text, "system": optional new system prompt}`."""
    turns: list[Turn] = field(default_factory=list)

    def history(self, upto: int | None = None, *, with_reply: bool = True) -> list[dict]:
        """Messages of turns [0, upto) (all turns by default), the system prompt of
        the last included turn first; `with_reply=False` leaves out the last reply."""
        turns = self.turns[:upto]
        messages: list[dict] = []
        system = turns[-1].system if turns else self.system
        if system:
            messages.append({"role": "system", "content": system})
        for k, turn in enumerate(turns):
            messages.append({"role": "user", "content": turn.user})
            if with_reply or k < len(turns) - 1:
                messages.append({"role": "assistant", "content": turn.reply})
        return messages

    def current_system(self) -> str | None:
        return self.turns[-1].system if self.turns else self.system


UserTurns = Callable[[list[Dialogue], int], list[dict]]
"""Given the dialogues and the turn index, each dialogue's next `{"user", "system"?}`."""


def scripted(dialogues: list[Dialogue], turn: int) -> list[dict]:
    """The next scripted user turn of each dialogue."""
    out = []
    for d in dialogues:
        if turn >= len(d.script):
            from personascope.errors import PersonascopeError

            raise PersonascopeError(
                f"conversation {d.id} has {len(d.script)} scripted user turns but {turn + 1} were asked for: "
                "lower turns, or use a simulated user (user_model)"
            )
        out.append(d.script[turn])
    return out


def simulated(user_model: "Model", persona: Callable[[Dialogue], str], config: "GenerateConfig") -> UserTurns:
    """User turns written by `user_model` playing the user: it sees the conversation
    with roles swapped (the target's replies are its 'user' messages). The first turn
    comes from the script when there is one, so every run opens the same way."""

    def next_turns(dialogues: list[Dialogue], turn: int) -> list[dict]:
        out: list[dict | None] = [None] * len(dialogues)
        todo = []
        for i, d in enumerate(dialogues):
            if turn < len(d.script) and (turn == 0 or not d.turns):
                out[i] = d.script[turn]
            else:
                todo.append(i)
        if todo:
            prompts = [_swapped(dialogues[i], persona(dialogues[i])) for i in todo]
            gens = user_model.generate(prompts, config)
            for i, g in zip(todo, gens):
                out[i] = {"user": g.text.strip() or "Please go on."}
        return out  # type: ignore[return-value]

    return next_turns


def _swapped(d: Dialogue, persona: str) -> list[dict]:
    """The conversation from the simulated user's side."""
    messages = [{"role": "system", "content": persona}]
    for turn in d.turns:
        messages.append({"role": "assistant", "content": turn.user})
        messages.append({"role": "user", "content": turn.reply})
    return messages


def converse(
    model: "Model",
    dialogues: list[Dialogue],
    turns: int,
    user_turns: UserTurns,
    config: "GenerateConfig",
    *,
    interventions: Interventions = (),
    system_override: str | None = None,
    advance: Callable[[int], None] | None = None,
) -> list[Dialogue]:
    """Run `turns` exchanges on every dialogue (continuing from the turns it has).

    `system_override` replaces the dialogues' system prompts (an arm's own prompt);
    a scripted system switch still applies from its turn on.
    """
    for turn in range(len(dialogues[0].turns) if dialogues else 0, turns):
        for d, nxt in zip(dialogues, user_turns(dialogues, turn)):
            base = d.current_system() if d.turns else (system_override if system_override is not None else d.system)
            d.turns.append(Turn(user=nxt["user"], system=nxt.get("system") or base))
        prompts = [d.history(with_reply=False) for d in dialogues]
        gens = model.generate(prompts, config, interventions=interventions)
        for d, g in zip(dialogues, gens):
            d.turns[-1].reply = g.text.strip()
        if advance:
            advance(len(dialogues))
    return dialogues
