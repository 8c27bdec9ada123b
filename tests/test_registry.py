"""The one registry: duplicates, replacing, lazy entries, module:function
references, plugins through the `personascope.plugins` entry-point group, and the
kinds that sit on it (suites, scorers, judges, report sections)."""

import subprocess
import sys
import textwrap

import pytest

from personascope import registry
from personascope.errors import PersonascopeError


@pytest.fixture
def cleanup():
    """Names a test registers, removed afterwards so other tests see the built-ins only."""
    added: list[tuple[str, str]] = []
    yield added
    for kind, name in added:
        registry.unregister(kind, name)


def _shout(question: str, answer: str) -> float:
    return 100.0 if answer.isupper() else 0.0


def _whisper(question: str, answer: str) -> float:
    return 100.0 if answer.islower() else 0.0


def test_a_duplicate_name_is_an_error_naming_the_first_and_the_fix(cleanup):
    cleanup.append(("scorer", "test-loud"))
    registry.register("scorer", "test-loud", _shout)
    with pytest.raises(PersonascopeError, match=r"scorer 'test-loud' is already registered \(by .*:_shout\).*replace=True"):
        registry.register("scorer", "test-loud", _whisper)
    assert registry.get("scorer", "test-loud") is _shout
    registry.register("scorer", "test-loud", _shout)  # the same object again is no duplicate


def test_replace_true_replaces(cleanup):
    cleanup.append(("scorer", "test-quiet"))
    registry.register("scorer", "test-quiet", _shout)
    registry.register("scorer", "test-quiet", _whisper, replace=True)
    assert registry.get("scorer", "test-quiet") is _whisper


def test_a_clash_with_a_builtin_shows_at_registration_before_any_look_up():
    # In a fresh process nothing has looked sections or suites up yet (importing
    # personascope.report loads no section): the built-ins load before the check.
    code = textwrap.dedent("""
        from personascope.errors import PersonascopeError
        from personascope.evals import Suite, suite
        from personascope.report import section
        from personascope.report._registry import renderer_for
        for register, obj in ((section("eval"), lambda view: "mine"), (suite("trait"), type("T", (Suite,), {}))):
            try:
                register(obj)
            except PersonascopeError as exc:
                print("refused:", exc)
        section("eval", replace=True)(lambda view: "mine")
        print("drawn:", renderer_for("eval")(None))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "refused: report section 'eval' is already registered (by personascope.report._eval:eval_section)" in out
    assert "refused: eval suite 'trait' is already registered (by personascope.evals.suites.trait:TraitSuite)" in out
    assert "drawn: mine" in out


def test_unknown_kind_and_unknown_name_are_clear():
    with pytest.raises(PersonascopeError, match="unknown registry kind 'widget': choose from suite, scorer"):
        registry.get("widget", "x")
    with pytest.raises(PersonascopeError, match=r"unknown scorer 'nope': choose from .*sentiment.*module:attr"):
        registry.get("scorer", "nope")
    with pytest.raises(PersonascopeError, match="non-empty name"):
        registry.register("scorer", "", _shout)
    assert registry.find("scorer", "nope", "fallback") == "fallback"


def _write_module(tmp_path, name: str, text: str) -> None:
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(text))


def test_a_lazy_entry_imports_only_on_get_and_names_import_nothing(tmp_path, monkeypatch, cleanup):
    # The module registers the entry it is named by: filling in a lazy entry is no duplicate.
    _write_module(tmp_path, "ps_lazy_mod", """
        from personascope.judges import scorer

        @scorer("test-lazy")
        def loud(question, answer):
            return 42.0
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    cleanup.append(("scorer", "test-lazy"))
    registry.register("scorer", "test-lazy", "ps_lazy_mod:loud")
    assert "test-lazy" in registry.names("scorer")
    assert "ps_lazy_mod" not in sys.modules
    fn = registry.get("scorer", "test-lazy")
    assert "ps_lazy_mod" in sys.modules and fn("", "") == 42.0 and fn is sys.modules["ps_lazy_mod"].loud
    monkeypatch.delitem(sys.modules, "ps_lazy_mod")


def test_listing_builtins_imports_none_of_them():
    code = textwrap.dedent("""
        import sys
        from personascope import registry
        print(registry.names("step"), registry.names("suite"), registry.names("judge"))
        print(sorted(m for m in sys.modules if m.startswith(("personascope.evals", "personascope.vectors",
              "personascope.conversations", "personascope.judges._rubric", "personascope.judges._choice"))))
    """)
    lines = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert "'trait'" in lines[0] and "'eval'" in lines[0] and "'rubric'" in lines[0] and "'choice'" in lines[0]
    assert lines[1] == "[]"


def test_module_function_references_resolve_and_bad_ones_are_clear(tmp_path, monkeypatch):
    _write_module(tmp_path, "ps_refs_mod", """
        class Holder:
            @staticmethod
            def nested(question, answer):
                return 5.0

        def shouting(question, answer):
            return 100.0 if answer.isupper() else 0.0

        NOT_A_FUNCTION = 3
    """)
    _write_module(tmp_path, "ps_broken_mod", "raise RuntimeError('half written')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from personascope.judges import get_scorer

    assert get_scorer("ps_refs_mod:shouting")("", "HEY") == 100.0
    assert registry.get("scorer", "ps_refs_mod:Holder.nested")("", "") == 5.0
    assert registry.is_ref("ps_refs_mod:shouting") and not registry.is_ref("sentiment")
    assert not registry.is_ref("hf/org/model:rev") and not registry.is_ref("a b:c")
    with pytest.raises(PersonascopeError, match="cannot import 'ps_no_such_mod'.*PYTHONPATH"):
        get_scorer("ps_no_such_mod:f")
    with pytest.raises(PersonascopeError, match="'ps_refs_mod' has no 'missing'"):
        get_scorer("ps_refs_mod:missing")
    with pytest.raises(PersonascopeError, match="importing 'ps_broken_mod'.*RuntimeError: half written"):
        get_scorer("ps_broken_mod:f")
    with pytest.raises(PersonascopeError, match="not a function fn\\(question, answer\\)"):
        get_scorer("ps_refs_mod:NOT_A_FUNCTION")
    with pytest.raises(PersonascopeError, match="not a module:attr reference"):
        registry.resolve_ref("no_colon")


def test_suites_and_sections_by_reference_and_with_replace(tmp_path, monkeypatch, cleanup):
    from personascope.evals import Item, Suite, get_suite, suite
    from personascope.report import section
    from personascope.report._registry import renderer_for

    _write_module(tmp_path, "ps_suite_mod", """
        from personascope.evals import Item, Suite

        class Echo(Suite):
            def items(self, opts):
                return [Item("a", "hello")]

        class NotASuite:
            pass
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    s = get_suite("ps_suite_mod:Echo")
    assert [i.id for i in s.items(s.options())] == ["a"] and s.name == "ps_suite_mod:Echo"
    with pytest.raises(PersonascopeError, match="not a Suite subclass"):
        get_suite("ps_suite_mod:NotASuite")

    cleanup.append(("suite", "test-dup"))

    @suite("test-dup")
    class First(Suite):
        def items(self, opts):
            return [Item("1", "one")]

    with pytest.raises(PersonascopeError, match="eval suite 'test-dup' is already registered"):

        @suite("test-dup")
        class Second(Suite):
            pass

    assert type(get_suite("test-dup")) is First

    def plain(view):
        return "<p>plain</p>"

    original = renderer_for("eval")
    with pytest.raises(PersonascopeError, match="report section 'eval' is already registered.*replace=True"):
        section("eval")(plain)
    try:
        section("eval", replace=True)(plain)
        assert renderer_for("eval") is plain
    finally:
        section("eval", replace=True)(original)
    assert renderer_for("eval") is original and renderer_for("no-such-type").__name__ == "default_section"


def test_judge_kinds_are_the_judge_classes():
    from personascope.judges import RubricJudge
    from personascope.judges._choice import ChoiceJudge

    assert registry.get("judge", "rubric") is RubricJudge and registry.get("judge", "choice") is ChoiceJudge


def test_a_plugin_from_the_entry_point_group_registers_a_scorer_and_a_suite(tmp_path, monkeypatch, cleanup):
    _write_module(tmp_path, "mypkg_plugin", """
        from personascope.evals import Item, Suite, suite
        from personascope.judges import scorer

        @scorer("plugin-shouting")
        def shouting(question, answer):
            return 100.0 if answer.isupper() else 0.0

        @suite("plugin-echo")
        class Echo(Suite):
            def items(self, opts):
                return [Item("p", "from the plugin")]
    """)
    info = tmp_path / "mypkg_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mypkg-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{registry.ENTRY_POINT_GROUP}]\nmine = mypkg_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cleanup += [("scorer", "plugin-shouting"), ("suite", "plugin-echo")]
    registry._reset_plugins()
    try:
        assert "plugin-shouting" in registry.names("scorer")
        from personascope.evals import get_suite
        from personascope.judges import get_scorer

        assert get_scorer("plugin-shouting")("", "HEY") == 100.0
        assert [i.id for i in get_suite("plugin-echo").items(None)] == ["p"]
    finally:
        monkeypatch.delitem(sys.modules, "mypkg_plugin", raising=False)
        registry._reset_plugins()


def test_a_broken_plugin_names_itself(tmp_path, monkeypatch):
    _write_module(tmp_path, "ps_bad_plugin", "raise ImportError('needs numpy 3')\n")
    info = tmp_path / "ps_bad_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ps-bad-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{registry.ENTRY_POINT_GROUP}]\nbad = ps_bad_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry._reset_plugins()
    try:
        with pytest.raises(PersonascopeError, match="plugin 'bad' \\(ps_bad_plugin\\) failed to load: needs numpy 3"):
            registry.names("scorer")
    finally:
        registry._reset_plugins()  # the next look-up, after sys.path is restored, finds it gone


def _spec_with_scorers(tmp_path, scorers: list[str]):
    import yaml

    from personascope.traits import load_trait

    data = load_trait("optimistic").model_dump(mode="json")
    data["scorers"] = scorers
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_trait_spec_scorers_accept_references_and_malformed_ones_are_clear(tmp_path):
    from personascope.traits import TraitSpec, load_trait

    with pytest.raises(PersonascopeError, match=r"mine.yaml:\d+: scorers: scorer 'mychecks:' is neither a name nor a module:function"):
        load_trait(_spec_with_scorers(tmp_path, ["mychecks:"]))
    with pytest.raises(PersonascopeError, match=r"scorers: a scorer name is empty \(fix: delete the empty entry\)"):
        load_trait(_spec_with_scorers(tmp_path, ["sentiment", " "]))
    # A file's names must be registered when it is read; references are imported where they run.
    with pytest.raises(PersonascopeError, match=r"mine.yaml:\d+: scorers\[2\]: unknown scorer 'registered-later' \(fix: use one of: .*sentiment"):
        load_trait(_spec_with_scorers(tmp_path, ["sentiment", "mychecks:shouting", "registered-later"]))
    spec = load_trait(_spec_with_scorers(tmp_path, ["sentiment", "mychecks:shouting"]))
    assert spec.scorers == ["sentiment", "mychecks:shouting"]
    # In Python a spec may name a scorer registered after it is built.
    assert TraitSpec.model_validate({**spec.model_dump(), "scorers": ["registered-later"]}).scorers == ["registered-later"]


def test_a_referenced_scorer_scores_every_answer_of_a_trait_eval(tmp_path, monkeypatch):
    from personascope.evals import run_eval
    from personascope.models import Model
    from personascope.store import Cache
    from personascope.testing import mock_model_args

    _write_module(tmp_path, "ps_trait_checks2", """
        def shouting(question, answer):
            return 100.0 if answer.isupper() else 0.0
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    path = _spec_with_scorers(tmp_path, ["ps_trait_checks2:shouting"])
    reply = lambda prompt: "50" if "Answer:" in prompt else "I AM SO HAPPY"  # noqa: E731
    model = Model("mockllm/model", Cache(tmp_path / "c.sqlite"), model_args=mock_model_args(reply))
    result = run_eval("trait", model, options={"trait": str(path)}, limit=3, cache=model.cache, progress=False)
    rows = result.rows["default"]
    assert len(rows) == 3 and all(r.scores["ps_trait_checks2:shouting"] == 100.0 for r in rows)
