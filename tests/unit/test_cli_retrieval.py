"""The CLI contract for retrieval: query/eval take --retriever, --fusion, --normalise, --alpha,
--rrf-k, --candidates, --mmr, --neighbours; ingest/demo take --headers; bad values exit 2 with
one `error:` line; query --json hits carry every score and a neighbour flag."""

import json

import pytest
from helpers import FACTS, hashing_index

from rag_core.cli import main
from rag_core.index.index import read_manifest
from rag_core.core.types import Document


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    long = Document("story.md", "story", " ".join(f"Sentence number {i} of the long story." for i in range(40)))
    directory = tmp_path_factory.mktemp("cli") / "idx"
    from helpers import fact_documents

    hashing_index(directory, documents=fact_documents() + [long])
    return str(directory)


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_query_json_hits_carry_every_score_and_the_default_label(index, capsys):
    out = _json(capsys, ["query", "Nobel Prize photoelectric", "--index", index, "--top-k", "2", "--json"])
    hit = out["hits"][0]
    assert {"rank", "score", "score_kind", "source", "text", "chunk_id", "scores", "neighbour"} <= set(hit)
    assert hit["score_kind"] == "hybrid z-score" and hit["neighbour"] is False
    assert [s["kind"] for s in hit["scores"]] == ["cosine", "bm25", "hybrid z-score"]
    assert all(set(s) == {"kind", "value", "rank"} for s in hit["scores"])


@pytest.mark.parametrize("flags,kind", [(["--retriever", "dense"], "cosine"), (["--retriever", "bm25"], "bm25"),
                                        (["--fusion", "rrf", "--rrf-k", "5"], "rrf"),
                                        (["--normalise", "minmax", "--alpha", "0.7"], "hybrid min-max"),
                                        (["--mmr", "0.5"], "mmr λ=0.5")])
def test_query_flags_choose_the_method(index, capsys, flags, kind):
    out = _json(capsys, ["query", "capital of Kenya", "--index", index, "--top-k", "2", "--json", *flags])
    assert out["hits"][0]["score_kind"] == kind


def test_query_neighbours_are_flagged_and_in_the_prompt(index, capsys):
    argv = ["query", "Sentence number 20", "--index", index, "--top-k", "1", "--retriever", "bm25", "--json"]
    plain = _json(capsys, argv)
    wide = _json(capsys, argv + ["--neighbours", "1"])
    flags = [h["neighbour"] for h in wide["hits"]]
    assert flags.count(False) == 1 and flags.count(True) >= 1
    assert all(h["neighbour_of"] == plain["hits"][0]["chunk_id"] for h in wide["hits"] if h["neighbour"])
    assert wide["usage"]["prompt_tokens"] > plain["usage"]["prompt_tokens"]


@pytest.mark.parametrize("flags", [["--alpha", "2"], ["--alpha", "nan"], ["--retriever", "sparse"],
                                   ["--fusion", "sum"], ["--normalise", "raw"], ["--mmr", "1.5"],
                                   ["--neighbours", "9"], ["--rrf-k", "-1"], ["--candidates", "0"]])
def test_bad_query_values_exit_2_with_one_line(index, capsys, flags):
    assert main(["query", "x", "--index", index, *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1


def test_eval_sweeps_retrievers_and_fusions_and_names_them(index, capsys, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "capital of Kenya", "relevant_sources": ["kenya.md"]}) + "\n")
    out = _json(capsys, ["eval", "--index", index, "--questions", str(questions), "--top-k", "1,3", "--retriever", "dense,bm25,hybrid",
                         "--fusion", "rrf,weighted", "--alpha", "0.4,0.6", "--json", "--quiet"])
    rows = out["results"]
    names = {r["retriever"] for r in rows}
    assert names == {"dense", "bm25", "hybrid rrf k=10", "hybrid z-score α=0.4", "hybrid z-score α=0.6"}
    assert len(rows) == 5 * 2
    assert all({"setting", "MRR", "hit@k", "top_k"} <= set(r) and r["retriever"] in r["setting"] for r in rows)


@pytest.mark.parametrize("flags", [["--retriever", "dense,foo"], ["--alpha", "0.5,2"], ["--fusion", "rrf,x"]])
def test_bad_eval_lists_exit_2(index, capsys, flags):
    assert main(["eval", "--index", index, *flags]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_old_reranker_names_still_work_with_a_deprecation_note(index, capsys):
    assert main(["query", "capital of Kenya", "--index", index, "--reranker", "rrf", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["hits"][0]["score_kind"] == "pool rrf"
    assert "'rrf' is deprecated: it is now 'pool-rrf'" in captured.err



def test_ingest_headers_is_an_index_option(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in FACTS.items():
        (docs / name).write_text(text)
    argv = ["ingest", str(docs), "--index", str(tmp_path / "i"), "--embedder", "hashing", "--quiet",
            "--min-words", "1", "--min-chars", "1", "--json"]
    assert _json(capsys, argv + ["--headers"])["headers"] is True
    assert read_manifest(tmp_path / "i").headers is True
    (docs / "extra.md").write_text("Another file about the moon and the tides of the sea.")
    assert _json(capsys, argv)["headers"] is True  # left out: the index keeps its option, never mixed
