"""Arm, method and argument configs fail before any model loads."""

import math

import pytest
from pydantic import ValidationError

from personascope.errors import PersonascopeError
from personascope.train import Arm, Method, TrainArgs
from personascope.train._config import training_order


@pytest.mark.parametrize("bad", [{"r": 0}, {"alpha": -1}, {"target_modules": []}, {"layers": [-1]}, {"rank": 4}])
def test_bad_method(bad):
    with pytest.raises((ValidationError, PersonascopeError)):
        Method(**bad)


def test_full_needs_no_rank_and_alpha_defaults_to_twice_r():
    assert Method(kind="full", r=0).kind == "full"
    assert Method(r=8).lora_alpha == 16


@pytest.mark.parametrize("lr", [0, -1e-3, math.inf, math.nan])
def test_learning_rate_is_positive_and_finite(lr):
    with pytest.raises(ValidationError, match="learning_rate"):
        TrainArgs(learning_rate=lr)


def test_bad_steer_spec_and_kl_fail_at_parse():
    with pytest.raises((ValidationError, PersonascopeError), match="steer"):
        Arm(steer=["vec@1"])  # no coefficient
    with pytest.raises((ValidationError, PersonascopeError), match="positions"):
        Arm(steer=["vec@1:2:middle"])
    with pytest.raises(ValidationError):
        Arm(kl=math.inf)
    with pytest.raises(ValidationError):
        Arm(kl=-0.1)
    assert Arm(steer=["runs/evil@3-5:-2:response"]).steer


def test_overrides_merge_over_the_step_defaults():
    arm = Arm(method={"r": 16}, args={"learning_rate": 2e-4})
    method, args = arm.resolved(Method(r=8, dropout=0.1), TrainArgs(epochs=2))
    assert (method.r, method.dropout, args.learning_rate, args.epochs) == (16, 0.1, 2e-4, 2)
    with pytest.raises(ValidationError, match="unknown field"):
        Arm(args={"lr": 1})
    with pytest.raises(PersonascopeError, match="arm x: args"):
        Arm(args={"learning_rate": -1}).resolved(Method(), TrainArgs(), "x")


def test_init_from_order_unknown_and_loops():
    arms = {"b": Arm(init_from="a"), "a": Arm(), "c": Arm(init_from="b")}
    assert training_order(arms) == ["a", "b", "c"]
    with pytest.raises(PersonascopeError, match="no arm named 'z'"):
        training_order({"a": Arm(init_from="z")})
    with pytest.raises(PersonascopeError, match="loop"):
        training_order({"a": Arm(init_from="b"), "b": Arm(init_from="a")})
    with pytest.raises(PersonascopeError, match="loop"):
        training_order({"a": Arm(init_from="a")})
