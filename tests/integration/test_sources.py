"""Sources name what was ingested, never the server's paths; they are unique, unambiguous,
printable, stable across runs, and question sets match them the same way in the app and the
CLI (issue 9: new user 1, hostile 12)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from helpers import hashing_index

from rag_core.cli import advice as cli_advice
from rag_core.core.errors import ConfigError
from rag_core.evaluation.evaluate import EvalQuestion, QuestionSet, check_coverage, evaluate
from rag_core.ingest.loaders import load_bytes, load_paths
from rag_core.ingest.loaders.sources import distinct, match_sources, member_source, name_source, path_source, printable
from rag_core.core.types import RetrievalSettings

ROOT = Path(__file__).resolve().parents[2]
TEXT = {
    "faq.md": "# FAQ\n\nThe office opens at nine in the morning and closes at six in the evening every weekday.",
    "guide/install.md": "# Install\n\nRun the installer, accept the licence and restart the computer when asked.",
}


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "rag_core", *args], cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=240)


# ---- naming ---------------------------------------------------------------------------------


def test_folder_files_are_named_relative_to_the_folder_and_a_file_by_its_name(tmp_path):
    docs = write(tmp_path / "my_docs", TEXT)
    report = load_paths([docs])
    assert sorted(d.source for d in report.documents) == ["faq.md", "guide/install.md"]
    assert not any(str(tmp_path) in f.source or str(tmp_path) in f.reason for f in report.files)
    assert [d.source for d in load_paths([docs / "guide" / "install.md"]).documents] == ["install.md"]


def test_colliding_inputs_get_distinct_deterministic_names_with_a_note(tmp_path):
    a = write(tmp_path / "a", {"faq.md": TEXT["faq.md"]})
    b = write(tmp_path / "b", {"faq.md": TEXT["faq.md"] + " Also on Saturdays until noon."})
    runs = [load_paths([a, b]) for _ in range(2)]
    assert runs[0] == runs[1]
    assert [f.source for f in runs[0].files] == ["faq.md", "faq (2).md"]
    assert "another file given is also faq.md" in runs[0].files[1].reason
    assert distinct(["x.md", "x.md", "x (2).md"]) == ["x.md", "x (3).md", "x (2).md"]


def test_reingesting_the_same_folder_replaces_its_files_from_any_directory(tmp_path, monkeypatch):
    docs = write(tmp_path / "docs", TEXT)
    index = hashing_index(tmp_path / "idx", documents=list(load_paths([docs]).documents))
    before = index.manifest.n_chunks
    (docs / "faq.md").write_text(TEXT["faq.md"].replace("nine", "ten"))
    monkeypatch.chdir(docs)  # another spelling of the same folder
    result = index.ingest(list(load_paths(["."]).documents))
    assert result.replaced == ("faq.md",) and result.unchanged == ("guide/install.md",)
    assert index.manifest.n_chunks == before and set(index.manifest.sources) == {"faq.md", "guide/install.md"}


def test_a_zip_member_and_a_real_file_never_share_a_source(tmp_path):
    folder = tmp_path / "in"
    write(folder, {"a.zip!/b.txt": "A real file in a folder whose name ends with an exclamation mark, long enough."})
    with zipfile.ZipFile(folder / "a.zip", "w") as archive:
        archive.writestr("b.txt", "A zip member with different words, long enough to pass any content filter.")
    sources = sorted(d.source for d in load_paths([folder]).documents)
    assert sources == ["a.zip!!/b.txt", "a.zip!/b.txt"]
    # the folder first, then the zip again (changed) on its own: the real file's chunks stay
    index = hashing_index(tmp_path / "idx", documents=list(load_paths([folder]).documents))
    with zipfile.ZipFile(folder / "a.zip", "w") as archive:
        archive.writestr("b.txt", "The zip member now says something else, still long enough for the filter.")
    result = index.ingest(list(load_paths([folder / "a.zip"]).documents))
    assert result.replaced == ("a.zip!/b.txt",)
    assert {c.source for c in index.store.chunks()} == {"a.zip!!/b.txt", "a.zip!/b.txt"}
    assert path_source(["x!!", "y!", "z"]) == "x!!!!/y!!/z" and member_source("a.zip", "q!/r") == "a.zip!/q!!/r"


def test_control_characters_in_file_and_member_names_are_escaped(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "evil\x1b[31m.txt").write_text("A file whose name carries a terminal escape sequence to colour output.")
    with zipfile.ZipFile(folder / "z.zip", "w") as archive:
        archive.writestr("\x1b]0;pwned\x07\u202e.txt", "A zip member whose name sets the terminal title if printed.")
        archive.writestr("../\x1b[2J.txt", "refused member")
    report = load_paths([folder])
    shown = [f.source + f.reason for f in report.files] + [d.source for d in report.documents]
    assert all(printable(s) == s for s in shown), shown
    assert "evil\\x1b[31m.txt" in {f.source for f in report.files}
    assert "z.zip!/\\x1b]0;pwned\\x07\\u202e.txt" in {f.source for f in report.files}
    assert name_source("a\\b/c.txt") == "a/b/c.txt" and printable("ok") == "ok"
    out = cli("estimate", str(folder), "--min-words", "0", "--min-chars", "0")
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout + out.stderr and "\\x1b" in out.stdout


def test_upload_names_follow_the_same_rules():
    from ui.data import Upload, read_uploads

    text = TEXT["faq.md"].encode()
    report = read_uploads([Upload("faq.md", text), Upload("faq.md", text + b" More."), Upload("bad\x1b.md", text)])
    assert [f.source for f in report.files] == ["faq.md", "faq (2).md", "bad\\x1b.md"]


# ---- question sets ----------------------------------------------------------------------------


def test_match_sources_by_name_or_unique_path_suffix_never_ambiguously():
    known = {"faq.md", "guide/install.md", "a/notes.md", "b/notes.md", "site.zip!/docs/help.md"}
    found = match_sources(["faq.md", "install.md", "docs/guide/install.md", "/home/me/my_docs/faq.md",
                           "notes.md", "help.md", "nope.md", "./faq.md", "guide\\install.md"], known)
    assert found.found == {"faq.md": "faq.md", "install.md": "guide/install.md",
                           "docs/guide/install.md": "guide/install.md", "/home/me/my_docs/faq.md": "faq.md",
                           "help.md": "site.zip!/docs/help.md", "./faq.md": "faq.md",
                           "guide\\install.md": "guide/install.md"}
    assert found.ambiguous == {"notes.md": ("a/notes.md", "b/notes.md")}
    assert found.missing(["nope.md", "notes.md", "faq.md"]) == ("nope.md", "notes.md")


@pytest.mark.parametrize("relevant", ["faq.md", "my_docs/faq.md", "/home/someone/my_docs/faq.md"])
def test_a_question_set_scores_a_folder_index_however_it_names_the_file(tmp_path, relevant):
    docs = write(tmp_path / "my_docs", TEXT)
    index = hashing_index(tmp_path / "idx", documents=list(load_paths([docs]).documents))
    questions = QuestionSet("q", (EvalQuestion("When does the office open in the morning?", (relevant,)),))
    result = evaluate(index, questions, RetrievalSettings(top_k=2))
    assert result.missing_sources == () and result.hit_rate == 1.0
    assert result.questions[0].relevant_sources == ("faq.md",)


def test_nothing_matching_lists_the_index_sources(tmp_path):
    index = hashing_index(tmp_path / "idx", documents=list(load_paths([write(tmp_path / "d", TEXT)]).documents))
    with pytest.raises(ConfigError) as error:
        check_coverage(index, QuestionSet("q", (EvalQuestion("?", ("/srv/other/readme.md",)),)))
    assert "faq.md" in str(error.value) and "guide/install.md" in str(error.value)
    assert error.value.kind == "unknown_sources" and "info --sources" not in str(error.value)
    assert "info --sources" in cli_advice.error_text(error.value, str(error.value))  # the CLI's words


def test_cli_ingest_stores_relative_sources_and_info_lists_them(tmp_path):
    docs = write(tmp_path / "my_docs", TEXT)
    index = tmp_path / "idx"
    out = cli("ingest", str(docs), "--index", str(index), "--embedder", "hashing", "--json", "--quiet",
              "--min-words", "0", "--min-chars", "0")
    assert out.returncode == 0, out.stderr
    info = cli("info", "--index", str(index), "--sources")
    assert info.returncode == 0 and "  - faq.md" in info.stdout and "  - guide/install.md" in info.stdout
    assert str(tmp_path) not in info.stdout.replace(str(index), "")
    assert set(json.loads(cli("info", "--index", str(index), "--json").stdout)["sources"]) == {
        "faq.md", "guide/install.md"}
    qfile = tmp_path / "q.jsonl"
    qfile.write_text(json.dumps({"question": "When does the office open?", "relevant_sources": ["faq.md"]}) + "\n")
    evaluated = cli("eval", "--index", str(index), "--questions", str(qfile), "--json")
    assert evaluated.returncode == 0, evaluated.stderr


def test_zip_upload_members_are_named_inside_the_upload():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("docs/faq.md", TEXT["faq.md"])
    assert [d.source for d in load_bytes("site.zip", out.getvalue()).documents] == ["site.zip!/docs/faq.md"]


_PART = st.text(alphabet="ab!.z\x1b/", min_size=1, max_size=6).filter(lambda p: "/" not in p and p not in (".", ".."))


@settings(max_examples=300, deadline=None)
@given(real=st.lists(_PART, min_size=1, max_size=4), archive=st.lists(_PART, min_size=1, max_size=3),
       member=st.lists(_PART, min_size=1, max_size=3))
def test_no_real_path_source_equals_a_zip_member_source(real, archive, member):
    zip_source = path_source([*archive[:-1], archive[-1] + ".zip"])
    assert path_source(real) != member_source(zip_source, "/".join(member))
    assert printable(path_source(real)) == path_source(real)  # always safe to print


def test_section_labels_carry_no_control_characters():
    (doc,) = load_bytes("a.md", b"# Head\x1b[31ming\tone\n\nbody text").documents
    assert doc.section == "Head[31ming one"
