"""Issue 17 item 11, the smaller findings, in AppTest: earlier Compare turns fold, an empty Chat
says what to do, the heatmap's colours fit the data, a refused DSN can be dismissed, and Evaluate's
table and CSV name the retriever with no "None" in the drill-down."""

from __future__ import annotations

from helpers import app_errors as errors
from streamlit.testing.v1 import AppTest
from test_app_compare import QUESTION, ROOT, chat_page  # noqa: F401  (the Chat page over a small index)
from test_app_evaluate import frame, indexes, open_page, run_eval, ui_evaluate, ui_evaluate_session  # noqa: F401

from ui import eval_charts

DIFF = '<div class="rag-diff"'


def test_earlier_compare_turns_fold(chat_page):
    at = chat_page
    at.toggle(key="w:compare").set_value(True).run()
    for q in (QUESTION, "Who developed relativity?", "What is the capital of Kenya?"):
        at.chat_input[0].set_value(q).run()
    at.run()  # drawn from the history
    assert not errors(at), errors(at)
    assert len([m for m in at.markdown if m.value.startswith(DIFF)]) == 1  # only the latest is whole
    folds = [t for t in at.toggle if (t.key or "").startswith("cmp_unfold_")]
    assert [t.label for t in folds] == [f"Turn 1: {QUESTION}", "Turn 2: Who developed relativity?"]
    folds[0].set_value(True).run()
    assert len([m for m in at.markdown if m.value.startswith(DIFF)]) == 2


def test_an_empty_chat_says_what_to_do(chat_page):
    at = chat_page
    hint = [i.value for i in at.info]
    assert hint and "Ask a question" in hint[0] and "box at the bottom" in hint[0]
    at.chat_input[0].set_value(QUESTION).run()
    assert not any("box at the bottom" in i.value for i in at.info)


def test_heatmap_colours_fit_the_data():
    assert eval_charts.colour_range([[0.78, 0.89], [None, 0.81]]) == (0.78, 0.89)
    assert eval_charts.colour_range([[0.5, 0.5]]) == (0.49, 0.51)
    assert eval_charts.colour_range([[1.0]]) == (0.99, 1.0)
    assert eval_charts.colour_range([[None]]) == (0.0, 1.0)
    fig = eval_charts.heatmap(["a", "b"], ["x"], [[0.78], [0.89]], "mrr", "t")
    assert (fig.data[0].zmin, fig.data[0].zmax) == (0.78, 0.89)


def test_a_refused_dsn_message_can_be_dismissed(app_root):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/settings.py").run()
    at.text_input(key="dsn_input").set_value("postgresql://u:p@169.254.169.254:5432/x").run()
    assert at.error and not at.text_input(key="dsn_input").value
    at.button(key="dismiss_dsn").click().run()
    assert not at.error and not errors(at)


def test_evaluate_table_and_csv_name_the_retriever_and_the_drill_down_shows_no_none(indexes):
    at = open_page()
    at.multiselect(key="w:eval_top_ks").set_value([1]).run()
    at.multiselect(key="w:eval_rerankers").set_value(["none"]).run()
    at.multiselect(key="w:eval_methods").set_value(["dense", "hybrid (rrf)"]).run()
    at = run_eval(at)
    assert sorted(frame(at, "best")["retriever"]) == ["dense", "hybrid rrf k=10"]
    with ui_evaluate_session(at):
        csv_text = ui_evaluate.results_csv(at.session_state["eval_run"])
    assert '"retriever"' in csv_text.splitlines()[0].split(",")
    at.toggle(key="w:eval_only_misses").set_value(False).run()
    drill = frame(at, "first relevant rank")
    assert "None" not in drill.astype(str).to_numpy().ravel().tolist()
    assert not any("None" in m.value for m in [*at.markdown, *at.caption])
