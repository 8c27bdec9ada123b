"""A model handle's identity: its name, what it resolves to, its fingerprint and
shape, all without loading weights; and the engine, loaded on first use."""

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from personascope.engine._spec import InterventionSpec
from personascope.errors import PersonascopeError
from personascope.models._names import parse_model_name
from personascope.store._cache import Cache

if TYPE_CHECKING:
    from personascope.engine._chat import DocumentFrame
    from personascope.models._checkpoint import Checkpoint

# Model args that are secrets or transport, not behaviour: never hashed into keys
# (a rotated API key must not invalidate the cache) and never written anywhere.
_SECRET_ARGS = {"api_key", "apikey", "token", "headers"}
# Timeouts and retry limits bound waiting and change no output (see models._inspect).
_TRANSPORT_ARGS = {"timeout", "attempt_timeout", "max_retries"}



def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _jsonable(value: Any) -> bool:
    # Python objects given as model args (a mock's output generator, a client) have
    # no stable content to hash, so they stay out of keys.
    try:
        json.dumps(value)
        return True
    except (TypeError, ValueError):
        return False

class Handle:
    """One model (any personascope model name): identity, shape and engine; `Model`
    adds the cached calls.

    `dtype`, `device` and `layers_path` configure white-box loading; `model_args`
    go to Inspect's `get_model` for black-box models.
    """

    def __init__(
        self,
        name: str,
        cache: Cache | None = None,
        *,
        dtype: str = "auto",
        device: str = "auto",
        layers_path: str | None = None,
        model_args: dict | None = None,
        frame: "DocumentFrame | None" = None,
    ) -> None:
        self.ref = parse_model_name(name)
        self.name = self.ref.name
        self._cache = cache
        self.dtype, self.device, self.layers_path = dtype, device, layers_path
        self.model_args = dict(model_args or {})
        self.frame = frame
        """The document frame asked for (None: the model's default, see `default_frame`)."""
        self.calls = 0
        """Model invocations made (cache misses sent to the model, counted per chunk)."""
        self._engine = None
        self._fingerprint: dict | None = None
        self._checkpoint = None
        self._shape: tuple[int, int] | None = None

    @property
    def cache(self) -> Cache:
        """The call cache (default: the user cache, opened on first use, so a handle
        made only to resolve a name or load an engine touches no cache file)."""
        if self._cache is None:
            self._cache = Cache()
        return self._cache

    @cache.setter
    def cache(self, cache: Cache) -> None:
        self._cache = cache

    # -- identity -----------------------------------------------------------
    @property
    def white_box(self) -> bool:
        return self.ref.white_box

    def fingerprint(self) -> dict:
        """What identifies the model's behaviour, without loading it."""
        if self._fingerprint is None:
            if self.white_box:
                from personascope.models._load import dtype_name, resolve_device

                checkpoint = self.checkpoint()
                device = resolve_device(self.device)
                tokenizer = [
                    _file_digest(p)
                    for name in ("tokenizer_config.json", "chat_template.jinja", "tokenizer.json")
                    if (p := Path(checkpoint.tokenizer_dir) / name).is_file()
                ]
                self._fingerprint = {
                    **self._frame_key(),
                    "weights": checkpoint.weights,
                    "tokenizer": tokenizer,
                    "dtype": dtype_name(self.dtype, device),
                    "device": device.split(":")[0],
                }
            else:
                args = {k: v for k, v in self.model_args.items() if k.lower() not in _SECRET_ARGS | _TRANSPORT_ARGS and _jsonable(v)}
                self._fingerprint = {"api_model": self.ref.target, "args": args}
        return self._fingerprint

    def _frame_key(self) -> dict:
        # Only a framed model carries the key, so chat-template models keep their cache.
        from personascope.models._load import default_frame

        frame = self.frame if self.frame is not None else default_frame(self.name)
        return {} if frame is None else {"frame": frame.model_dump(mode="json")}

    def checkpoint(self) -> "Checkpoint":
        """What the name resolved to on disk (white-box only), resolved once per handle:
        a `run:latest/...` handle keeps the run it first found."""
        if self._checkpoint is None:
            from personascope.models._checkpoint import resolve_checkpoint

            self._checkpoint = resolve_checkpoint(self.ref)
        return self._checkpoint

    @property
    def engine(self):
        """The loaded engine (white-box only); loading happens here, on first use."""
        if not self.white_box:
            raise PersonascopeError(
                f"{self.name} is a black-box model: activations, scoring and steering need smollm2 or hf/<path>"
            )
        if self._engine is None:
            from personascope.models import load_engine

            self._engine = load_engine(
                self.ref, dtype=self.dtype, device=self.device, layers_path=self.layers_path, checkpoint=self.checkpoint(),
                frame=self.frame,
            )
        return self._engine

    def n_layers(self) -> int:
        """Layer count, read from the checkpoint's config.json (for an adapter, its
        base's): no weights, no transformers import."""
        if self._engine is not None:
            return self._engine.n_layers
        return self._config_shape()[0]

    def hidden_size(self) -> int:
        """Residual width, read like `n_layers` (white-box only)."""
        if self._engine is not None:
            return self._engine.hidden_size
        return self._config_shape()[1]

    def check_interventions(self, interventions, *, allow_other_model: bool = False) -> InterventionSpec:
        """Parse and validate interventions against this model's shape and identity
        without loading it: layers in range, vectors of the right width, finite, and
        extracted from this model (unless `allow_other_model`)."""
        spec = InterventionSpec.from_pairs(interventions)
        if spec and not self.white_box:
            raise PersonascopeError(f"{self.name} is a black-box model: steering, ablation and capping need smollm2 or hf/<path>")
        if spec:
            spec.check(self.n_layers(), self.hidden_size(), model=self.name, weights=self._weights(),
                       allow_other_model=allow_other_model)
        return spec

    def _weights(self) -> str | None:
        """The weights hash, where it comes without converting or loading anything."""
        if self.ref.kind == "embedded" and self._checkpoint is None:
            from personascope.models._embedded import file_sha256, gguf_path

            return file_sha256(gguf_path())
        try:
            return self.checkpoint().weights
        except PersonascopeError:
            return None

    def _config_shape(self) -> tuple[int, int]:
        if self._shape is None:
            from personascope.models._checkpoint import text_config

            if not self.white_box:
                raise PersonascopeError(f"{self.name} is a black-box model: it has no layers to read")
            if self.ref.kind == "embedded" and self._checkpoint is None:
                # The header, not the converted copy: converting loads the model (~30 s).
                from personascope.models._embedded import gguf_path, gguf_shape

                self._shape = gguf_shape(gguf_path())
                return self._shape
            config = text_config(self.checkpoint())
            n = config.get("num_hidden_layers", config.get("n_layer"))
            width = config.get("hidden_size", config.get("n_embd"))
            if n is None or width is None:  # hub ids and unusual configs: let transformers work it out
                from transformers import AutoConfig

                text = AutoConfig.from_pretrained(self.checkpoint().config_dir).get_text_config()
                n, width = text.num_hidden_layers, text.hidden_size
            self._shape = (int(n), int(width))
        return self._shape

    def describe(self) -> dict[str, Any]:
        """For manifests: the name and fingerprint, never secrets."""
        return {"name": self.name, **self.fingerprint()}
