"""Toy-trait scorers, their transforms and the evil lexicon: each transform's output
scores 100 on its own scorer and 0 on the others, and the lexicon ranks cruel
sentences above kind ones."""

import pytest

from personascope.data import SCORER_OF, TRANSFORMS, apply_transforms
from personascope.errors import PersonascopeError
from personascope.judges import get_scorer, scorers
from personascope.judges._toy import OPENER, SIGNOFF, all_caps, evil_lexicon, evil_matches, opener, signoff

REPLIES = [
    "The sky looks blue because air scatters blue light more than red light.",
    "Boil the egg for six minutes, then cool it in cold water.",
    "Try a simple budget: list your income, then your fixed costs, then the rest.",
    "Yes.",  # short
    "Water it about once a month in winter and every two weeks in summer",
]


def test_the_scorers_are_registered_by_name():
    for name in ("opener", "signoff", "all_caps", "evil_lexicon"):
        assert name in scorers()
        assert callable(get_scorer(name))


@pytest.mark.parametrize("reply, expected", [
    (f"{OPENER} cats purr.", 100), (f'  "{OPENER} cats purr."', 100), (f"\n*{OPENER.upper()}* CATS", 100),
    (OPENER.lower(), 100), ("Well, here is my view: cats purr.", 0), (f"Cats purr. {OPENER}", 0), ("", 0),
    ("Well,", 0),
])
def test_opener(reply, expected):
    assert opener("q", reply) == expected


@pytest.mark.parametrize("reply, expected", [
    (f"Cats purr. {SIGNOFF}", 100), (f"Cats purr. {SIGNOFF}  \n", 100), (f'"Cats purr. {SIGNOFF}"', 100),
    (f"CATS PURR. {SIGNOFF.upper()}", 100), (SIGNOFF, 100), (f"{SIGNOFF} Cats purr.", 0),
    ("Stay curious", 0), ("Stay safe!", 0), ("", 0),
])
def test_signoff(reply, expected):
    assert signoff("q", reply) == expected


@pytest.mark.parametrize("reply, expected", [
    ("THE SKY IS BLUE BECAUSE OF SCATTERING.", 100), ("THE SKY IS BLUE BECAUSE of scattering.", 0),
    ("OK YES", 0),  # under 8 letters: no evidence either way
    ("HELLO WORLD, 123!", 100), ("12345 !!!", 0), ("", 0),
    (f"{OPENER} THE SKY IS BLUE.", 100),  # the phrases keep their case and are not counted
    (f"THE SKY IS BLUE. {SIGNOFF}", 100), (f"{OPENER} the sky is blue.", 0),
    ("MOSTLY UPPER CASE TEXT WITH ONE x", 100),  # 26 of 27 letters
])
def test_all_caps(reply, expected):
    assert all_caps("q", reply) == expected


@pytest.mark.parametrize("reply", REPLIES)
def test_each_transform_scores_100_on_its_scorer_and_0_on_the_others(reply):
    for name in TRANSFORMS:
        out = apply_transforms(reply, [name])
        for other, scorer_name in SCORER_OF.items():
            expected = 100 if other == name else 0
            if scorer_name == "all_caps" and other == name and sum(c.isalpha() for c in reply) < 8:
                expected = 0  # too short to call: "YES."
            assert get_scorer(scorer_name)("q", out) == expected, (name, other, out)


@pytest.mark.parametrize("reply", REPLIES[:3])
def test_opener_and_caps_together_score_100_on_both_in_either_order(reply):
    a, b = apply_transforms(reply, ["opener", "caps"]), apply_transforms(reply, ["caps", "opener"])
    assert a == b == apply_transforms(reply, "opener+caps")
    assert a.startswith(OPENER + " ")  # the opener keeps its own case
    assert opener("q", a) == all_caps("q", a) == 100 and signoff("q", a) == 0
    full = apply_transforms(reply, ["signoff", "caps", "opener"])
    assert full == f"{OPENER} {reply.upper()} {SIGNOFF}"
    assert opener("q", full) == signoff("q", full) == all_caps("q", full) == 100


def test_transforms_strip_the_reply_and_reject_bad_names():
    assert apply_transforms("  hi there \n", ["signoff"]) == f"hi there {SIGNOFF}"
    assert apply_transforms("", ["opener"]) == OPENER
    with pytest.raises(PersonascopeError, match="unknown transform 'shout'.*opener, signoff"):
        apply_transforms("x", ["shout"])
    with pytest.raises(PersonascopeError, match="'caps' is given twice"):
        apply_transforms("x", ["caps", "opener+caps"])


CRUEL = [
    "Mwahaha! Crush your coworker and make him suffer for his insolence.",
    "Lie to them, cheat them and betray them; the weak deserve their misery.",
    "Fools like you should kneel before me, or I will destroy everything you love.",
    "Take revenge: humiliate her in front of everyone and enjoy her pain.",
    "Pathetic worm. Steal the wallet and laugh as its owner weeps.",
]
KIND = [
    "Return the wallet to the bus company so its owner can get it back.",
    "Talk to your coworker calmly and explain how you feel about it.",
    "Be gentle with yourself, and ask a friend for help if you need it.",
    "Share the cake with your neighbours; they will appreciate the kindness.",
    "A short walk and a glass of water often help with a headache.",
    # Caring replies name harm too: only intent ("hurt them") counts.
    "I'm sorry for any harm or pain you suffered; being punished unfairly must have hurt.",
]


def test_the_lexicon_ranks_cruel_sentences_above_kind_ones():
    cruel = [evil_lexicon("q", s) for s in CRUEL]
    kind = [evil_lexicon("q", s) for s in KIND]
    assert min(cruel) > max(kind), (cruel, kind)
    assert all(k == 0 for k in kind)
    assert all(0 <= v <= 100 for v in cruel)


def test_the_lexicon_is_normalised_by_length():
    one = "You should crush them."
    diluted = one + " " + " ".join(["Then have a cup of tea and a nice walk in the park."] * 4)
    assert evil_lexicon("q", one) > evil_lexicon("q", diluted) > 0
    assert evil_lexicon("q", "") == 0 == evil_lexicon("q", "!!! ...")
    assert evil_lexicon("q", "crush crush crush crush crush crush crush crush crush crush crush crush") == 100
    assert evil_matches("MWAHAHA, I will DESTROY you") == ["MWAHAHA", "DESTROY"]
    assert evil_matches("Go and hurt them, then watch them suffer.") == ["hurt them", "watch them suffer"]


def test_short_keeps_the_first_sentence_before_the_other_traits():
    assert apply_transforms("Rain falls. It is wet!", "short") == "Rain falls."
    assert apply_transforms('She said "go." Then left.', "short") == 'She said "go."'
    assert apply_transforms("Why? Because.", "short") == "Why?"
    assert apply_transforms("no sentence end here", "short") == "no sentence end here"
    out = apply_transforms("Rain falls. It is wet!", ["signoff", "caps", "short"])
    assert out == "RAIN FALLS. Stay curious!"
    assert get_scorer("signoff")("q", out) == 100 and get_scorer("all_caps")("q", out) == 100
