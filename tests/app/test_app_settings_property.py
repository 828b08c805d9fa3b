"""One source of truth for Chat's settings (issue 17), as a property: after any sequence of changes - a widget,
"Use the best in Chat" on Evaluate, an experiment's "Use in Chat", a configuration import, opening
the page's own link in a new session, leaving the page and coming back - the settings the next
turn runs with (the Answer's recorded settings) equal the widgets' values, the URL's query params
and the TOML download's. Driven through AppTest over app.py, on two hashing-embedder indexes."""

from __future__ import annotations

import typing
from dataclasses import fields, replace
from pathlib import Path

import pytest
import streamlit
from helpers import app_errors as errors
from helpers import fact_documents, hashing_index
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from rag_core.answer import config as rconfig
from rag_core.embeddings import create_embedder
from rag_core.evaluation.evaluate import best, compare_indexes, parse_question_set
from rag_core.evaluation.experiments import run_experiment
from rag_core.index.index import Index
from rag_core.core.types import ChunkingConfig, RetrievalSettings
from ui import evaluate as ui_evaluate
from ui.state import METHODS

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ("question,relevant_sources\n"
             "What is the capital of Kenya?,kenya.md\n"
             "Which is the capital of Japan with Mount Fuji?,japan.md\n"
             "Who developed the theory of relativity?,einstein.md\n").encode()
LOCAL_RERANKERS = ("none", "pool-bm25", "pool-rrf")
#: Chat's retriever choices as the settings they run: label -> (mode, fusion)
RETRIEVERS = [RetrievalSettings(top_k=k, mode=m, fusion=f, reranker=r)
              for k in (2, 4) for (m, f) in METHODS.values() for r in (None, "pool-bm25")]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """Two indexes, an Evaluate run over every Chat retriever, and a chunking experiment: built once."""
    root = tmp_path_factory.mktemp("sync") / "indexes"
    hashing_index(root / "a")
    hashing_index(root / "b", chunking=ChunkingConfig(size=120, overlap=10))
    questions = parse_question_set(QUESTIONS, "facts.csv")
    opened = {name: Index.open(root / name) for name in ("a", "b")}
    results = tuple(compare_indexes(opened, questions, RETRIEVERS))
    grid = [RetrievalSettings(top_k=3, mode=m, reranker=r) for m in ("dense", "bm25", "hybrid") for r in (None, "pool-rrf")]
    experiment = run_experiment("exp", fact_documents(), [ChunkingConfig(size=200, overlap=20),
                                                          ChunkingConfig(size=500, overlap=50)],
                                grid, questions, create_embedder("hashing"), "numpy", root=root)
    return root, results, questions, experiment


@pytest.fixture
def app(prepared, monkeypatch, tmp_path):
    """The app on the prepared indexes; downloads recorded by key (what the browser would get)."""
    root = prepared[0]
    monkeypatch.setenv("RAG_PLAYGROUND_INDEXES", str(root))
    monkeypatch.chdir(ROOT)
    real, seen = streamlit.download_button, {}

    def record(label, data, *args, **kwargs):
        seen[kwargs.get("key")] = data
        return real(label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", record)
    return seen


def open_chat(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page("pages/chat.py").run()
    assert not errors(at), errors(at)
    return at


# ---- the three views of "the settings", read independently ------------------------------------


def from_widgets(at: AppTest) -> tuple[str, RetrievalSettings]:
    """What the sidebar shows, as settings: a field whose widget the form hides (α for a dense
    retriever, rewriting for the extractive answerer) is taken as it does not apply (`applicable`)."""
    sb = at.sidebar
    shown = {w.key: w.value for kind in ("selectbox", "slider", "checkbox", "number_input")
             for w in sb.get(kind) if (w.key or "").startswith("w:")}
    mode, fusion = METHODS[shown["w:method"]]
    reranker = shown["w:reranker"]
    d = RetrievalSettings()
    retrieval = RetrievalSettings(
        top_k=shown["w:top_k"], reranker=None if reranker == "none" else reranker, mode=mode, fusion=fusion,
        score_threshold=shown["w:threshold"] if shown["w:use_threshold"] else None,
        alpha=shown.get("w:alpha", d.alpha), normalise=shown.get("w:normalise", d.normalise),
        rrf_k=float(shown.get("w:rrf_k", d.rrf_k)), depth=int(shown.get("w:depth", d.depth)),
        mmr_lambda=shown["w:mmr"] if shown["w:use_mmr"] else None, neighbours=shown["w:neighbours"])
    return shown["w:index"], applicable(retrieval)


def applicable(r: RetrievalSettings) -> RetrievalSettings:
    """`r` with the fields that do not apply to its retriever at their defaults: α and
    normalisation outside weighted hybrid, RRF k outside rrf, depth outside hybrid, and rewriting
    (the extractive answerer never rewrites); `sources` has no Chat widget."""
    d = RetrievalSettings()
    weighted, rrf = r.mode == "hybrid" and r.fusion == "weighted", r.mode == "hybrid" and r.fusion == "rrf"
    return replace(r, alpha=r.alpha if weighted else d.alpha, normalise=r.normalise if weighted else d.normalise,
                   rrf_k=r.rrf_k if rrf else d.rrf_k, depth=r.depth if r.mode == "hybrid" else d.depth,
                   fusion=r.fusion if r.mode == "hybrid" else d.fusion,
                   sources=None, rewrite=None, rewrites=d.rewrites)


def from_url(at: AppTest) -> tuple[str, RetrievalSettings]:
    params = dict(at.query_params)
    hints = typing.get_type_hints(RetrievalSettings)
    values = {}
    for f in fields(RetrievalSettings):
        key = "threshold" if f.name == "score_threshold" else f.name
        raw = params.get(key)
        if raw is None or raw == "none":
            values[f.name] = None if raw == "none" or f.default is None else f.default
            continue
        kind = [a for a in typing.get_args(hints[f.name]) if a is not type(None)] or [hints[f.name]]
        values[f.name] = kind[0](raw) if kind[0] in (int, float) else raw
    return params["index"], RetrievalSettings(**values)


def from_download(downloads) -> tuple[str, RetrievalSettings]:
    data = downloads["config_toml"]
    config = rconfig.loads(data() if callable(data) else data, "toml")
    return config.index.name, config.retrieval


def check(at: AppTest, downloads, ask: bool) -> tuple[str, RetrievalSettings]:
    """Every view agrees; with `ask`, a turn is run and its recorded settings agree too."""
    assert not errors(at), errors(at)
    url, download, shown = from_url(at), from_download(downloads), from_widgets(at)
    assert url == download, (url, download)
    assert shown == (url[0], applicable(url[1])), (shown, url)
    if ask and not at.session_state["w:compare"]:
        turns = len(at.session_state["chat_history"]) if "chat_history" in at.session_state else 0
        at.chat_input[0].set_value("What is the capital of Kenya?").run()
        assert not errors(at), errors(at)
        entry = at.session_state["chat_history"][turns]
        assert (entry.index, entry.answer.settings) == url, ((entry.index, entry.answer.settings), url)
        assert from_url(at) == url and from_download(downloads) == url  # asking changes nothing
    return url


# ---- the actions --------------------------------------------------------------------------


def widget(draw) -> tuple:
    return draw(st.sampled_from([
        ("slider", "w:top_k", draw(st.integers(1, 20))),
        ("selectbox", "w:method", draw(st.sampled_from(list(METHODS)))),
        ("slider", "w:alpha", draw(st.sampled_from([0.0, 0.25, 0.5, 0.8, 1.0]))),
        ("selectbox", "w:normalise", draw(st.sampled_from(["zscore", "minmax"]))),
        ("number_input", "w:rrf_k", draw(st.sampled_from([10.0, 60.0]))),
        ("number_input", "w:depth", draw(st.sampled_from([20, 100]))),
        ("checkbox", "w:use_mmr", draw(st.booleans())),
        ("slider", "w:mmr", draw(st.sampled_from([0.3, 0.7, 0.9]))),
        ("slider", "w:neighbours", draw(st.integers(0, 2))),
        ("checkbox", "w:use_threshold", draw(st.booleans())),
        ("slider", "w:threshold", draw(st.sampled_from([-0.2, 0.0, 0.1]))),
        ("selectbox", "w:reranker", draw(st.sampled_from(LOCAL_RERANKERS))),
        ("selectbox", "w:index", draw(st.sampled_from(["a", "b"]))),
    ]))


@st.composite
def actions(draw):
    kinds = st.sampled_from(["widget", "widget", "widget", "compare_on", "use_best", "use_in_chat", "import",
                             "link", "leave"])
    out = []
    for _ in range(draw(st.integers(3, 6))):
        kind = draw(kinds)
        if kind == "widget":
            out.append(("widget", widget(draw)))
        elif kind == "use_best":
            out.append(("use_best", tuple(sorted(draw(st.sets(st.integers(0, 2 * len(RETRIEVERS) - 1),
                                                              min_size=1, max_size=4))))))
        elif kind == "import":
            out.append(("import", (draw(st.sampled_from(["a", "b"])), draw(st.sampled_from(RETRIEVERS)),
                                   draw(st.sampled_from([None, 0.05])), draw(st.sampled_from([None, 0.5])))))
        else:
            out.append((kind, None))
    return out


def act(at: AppTest, action, prepared) -> AppTest:
    kind, arg = action
    _, results, _, experiment = prepared
    if kind == "widget":
        element, key, value = arg
        shown = [w for w in getattr(at.sidebar, element) if w.key == key]
        if shown and not shown[0].disabled:  # a person cannot change a hidden or greyed-out widget either
            shown[0].set_value(value).run()
    elif kind == "compare_on":
        at.toggle(key="w:compare").set_value(True).run()
        at.toggle(key="w:cmp_blind").set_value(True).run()
    elif kind == "use_best":
        at.session_state["eval_run"] = ui_evaluate.EvalRun(tuple(results[i] for i in arg), "facts", 3)
        at.switch_page("pages/evaluate.py").run()
        assert not errors(at), errors(at)
        at.button(key="eval_use_best").click().run()
        assert at.title[0].value.endswith("Chat")
        at.switch_page("pages/chat.py")  # AppTest's next run() would redo the page it was on; the browser's is Chat
        assert not at.session_state["w:compare"] and not at.session_state["w:cmp_blind"]  # item 4
    elif kind == "use_in_chat":
        at.session_state["experiment"] = experiment
        at.switch_page("pages/index.py").run()
        assert not errors(at), errors(at)
        at.button(key="exp_use_best").click().run()
        assert at.title[0].value.endswith("Chat")
        at.switch_page("pages/chat.py")  # AppTest's next run() would redo the page it was on; the browser's is Chat
        assert not at.session_state["w:compare"] and not at.session_state["w:cmp_blind"]
    elif kind == "import":
        index, retrieval, threshold, mmr = arg
        config = rconfig.PlaygroundConfig(index=rconfig.IndexConfig(name=index),
                                          retrieval=replace(retrieval, score_threshold=threshold, mmr_lambda=mmr))
        text = rconfig.dumps(config, "toml").encode()
        at.sidebar.file_uploader(key="config_upload").set_value(("setup.toml", text, "application/toml")).run()
        assert any("Imported" in s.value for s in at.success), [s.value for s in at.success]
    elif kind == "link":
        return open_chat(dict(at.query_params))  # a copied link, opened in a fresh session
    elif kind == "leave":
        at.switch_page("pages/settings.py").run()
        at.switch_page("pages/chat.py").run()
    return at


def expected_after(action, before, prepared):
    """What the settings must be after `action` (None: whatever the widget change made them)."""
    kind, arg = action
    _, results, _, experiment = prepared
    if kind == "use_best":
        top = best([results[i] for i in arg], "mrr")
        return top.index, top.settings
    if kind == "use_in_chat":
        top = experiment.best("mrr")
        return top.index, top.settings
    if kind == "import":
        index, retrieval, threshold, mmr = arg
        return index, replace(retrieval, score_threshold=threshold, mmr_lambda=mmr)
    if kind in ("link", "leave", "compare_on"):
        return before
    return None


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=actions())
def test_every_view_of_the_chat_settings_is_the_one_that_runs(app, prepared, steps):
    at = open_chat()
    now = check(at, app, ask=False)
    for n, step in enumerate(steps):
        at = act(at, step, prepared)
        wanted = expected_after(step, now, prepared)
        now = check(at, app, ask=n % 2 == 1 or step[0] != "widget")
        if wanted is not None:
            assert now == wanted, (step, now, wanted)


def test_an_experiments_use_in_chat_applies_its_retriever_and_leaves_compare(app, prepared):
    """Finding 1 (third case) and 4: Chat on hybrid rrf with Compare and Blind on, then the
    experiment's best (a dense or bm25 or weighted hybrid cell) is used in Chat."""
    at = open_chat()
    at.sidebar.selectbox(key="w:method").set_value("hybrid (rrf)").run()
    act(at, ("compare_on", None), prepared)
    act(at, ("use_in_chat", None), prepared)
    top = prepared[3].best("mrr")
    assert check(at, app, ask=True) == (top.index, top.settings)
