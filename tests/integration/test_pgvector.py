"""The pgvector store on a real embedded PostgreSQL: what the contract tests cannot show —
two app instances on one database, concurrent writers, kill -9 and a lost connection mid-ingest,
HNSW settings, errors that say what to do, and a password that never leaks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag_core.core.errors import IndexMismatchError, StoreError
from rag_core.core.types import Chunk, Document

ROOT = Path(__file__).resolve().parents[2]
DIM = 32


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def rows(n: int, seed: int = 0, source_count: int = 4, tag: str = "v1") -> tuple[list[Chunk], np.ndarray]:
    rng = np.random.default_rng(seed)
    vecs = rng.standard_normal((n, DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    chunks = [Chunk(f"doc{i % source_count}.txt", f"s{i}", f"{tag} chunk {i}", 0, 10, f"d{i}") for i in range(n)]
    return chunks, vecs


def store(kind: str = "exact", dim: int = DIM, **options):
    from rag_core.stores.pgvector_store import PgVectorStore

    return PgVectorStore(kind, dim, **options)


def saved(pg_dsn, tmp_path, n: int = 200, kind: str = "exact"):
    """A committed index with n rows; returns (name, pointer dir, chunks, vectors)."""
    name = unique()
    s = store(kind, index_name=name, dsn=pg_dsn)
    chunks, vecs = rows(n)
    s.add(chunks, vecs)
    s.save(str(tmp_path / name))
    return name, tmp_path / name, chunks, vecs


def opened(pg_dsn, name: str, kind: str = "exact", dim: int = DIM):
    s = store(kind, dim, dsn=pg_dsn)
    s.open(name)
    return s


# ---- two app instances on one database ------------------------------------------------


def test_a_second_store_object_sees_the_index_and_refuses_another_dimension(pg_dsn, tmp_path):
    name, _, chunks, vecs = saved(pg_dsn, tmp_path)
    other = opened(pg_dsn, name)
    assert other.count() == 200 and other.chunks() == chunks
    np.testing.assert_array_equal(other.vectors(), vecs)
    with pytest.raises(IndexMismatchError, match="32-d"):
        opened(pg_dsn, name, dim=16)


def test_a_new_index_with_a_taken_name_is_refused_and_changes_nothing(pg_dsn, tmp_path):
    name, _, chunks, _ = saved(pg_dsn, tmp_path)
    newcomer = store(index_name=name, dsn=pg_dsn)
    with pytest.raises(StoreError, match="already exists in the database"):
        newcomer.add(*rows(5, seed=9))
    assert opened(pg_dsn, name).chunks() == chunks


def _docs(tag: str) -> list[Document]:
    return [Document(f"file{i}.txt", "intro", f"{tag} document {i} about topic {i} " * 20) for i in range(6)]


def test_second_app_instance_opens_the_index_and_refuses_a_mismatched_embedder(pg_env, tmp_path):
    from rag_core.embeddings.hashing import HashingEmbedder
    from rag_core.index.index import Index
    from rag_core.index.saved_pg import attach, database_indexes

    name = unique("idx")
    first = Index.create(tmp_path / "one" / name, HashingEmbedder(64), "pgvector-hnsw")
    first.ingest(_docs("a"))
    first.save()
    assert name in {d.name for d in database_indexes()}
    local = attach(tmp_path / "two" / name, name)  # instance two: another machine, its own index root
    second = Index.open(local, embedder=HashingEmbedder(64))
    assert second.manifest.sources == first.manifest.sources
    q = first.embedder.embed_query("document 3 topic 3")
    assert [h.chunk for h in second.store.search(q, 5)] == [h.chunk for h in first.store.search(q, 5)]
    with pytest.raises(IndexMismatchError):
        Index.open(local, embedder=HashingEmbedder(32))
    # instance one ingests more; instance two's manifest (read from the database) follows
    again = Index.open(tmp_path / "one" / name, embedder=HashingEmbedder(64))
    again.ingest(_docs("a") + [Document("new.txt", "x", "a brand new file " * 30)])
    again.save()
    assert "new.txt" in Index.open(local, embedder=HashingEmbedder(64)).manifest.sources


def test_the_manifest_lives_in_the_database_and_the_password_nowhere(pg_dsn, tmp_path, monkeypatch):
    from rag_core.embeddings.hashing import HashingEmbedder
    from rag_core.index.index import Index
    from rag_core.index.saved_pg import database_indexes, location

    host = pg_dsn.split("host=", 1)[1]  # the test server trusts local users: any password connects
    monkeypatch.setenv("RAG_PG_DSN", f"postgresql://postgres:{SECRET}@/postgres?host={host}")
    name = unique("idx")
    index = Index.create(tmp_path / name, HashingEmbedder(64), "pgvector")
    index.ingest(_docs("a"))
    index.save()
    assert '"embedder": "hashing' in index.store.stored_manifest()
    written = "".join(p.read_bytes().decode("utf-8", "replace") for p in (tmp_path / name).rglob("*") if p.is_file())
    assert name in written and SECRET not in written
    shown = [d.where for d in database_indexes()] + [location(tmp_path / name, "pgvector").where, index.store.where]
    assert all(SECRET not in w and "***" in w for w in shown), shown
    assert SECRET not in index.store.stored_manifest() + repr(index.manifest)


# ---- writers ---------------------------------------------------------------------------


def test_two_writers_at_once_the_second_gets_a_clear_error_and_nothing_is_overwritten(pg_dsn, tmp_path):
    name, _, chunks, _ = saved(pg_dsn, tmp_path)
    a, b = opened(pg_dsn, name), opened(pg_dsn, name)
    a.delete("doc0.txt")
    with pytest.raises(StoreError, match="another writer is adding to index"):
        b.add(*rows(3, seed=5, tag="b"))
    with pytest.raises(StoreError, match="another writer"):
        b.delete("doc1.txt")
    a.add(*rows(3, seed=6, tag="a"))
    a.commit()
    with pytest.raises(StoreError, match="changed by another writer since it was opened"):
        b.add(*rows(3, seed=5, tag="b"))  # b's view is stale: refused, not merged blindly
    texts = [c.text for c in opened(pg_dsn, name).chunks()]
    assert len(texts) == 150 + 3 and not any(t.startswith("b ") for t in texts)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_infinite_vectors_are_refused_and_nothing_is_written(pg_dsn, tmp_path, bad):
    name, _, chunks, _ = saved(pg_dsn, tmp_path)
    s = opened(pg_dsn, name)
    vecs = rows(3, seed=2)[1]
    vecs[1, 4] = bad
    with pytest.raises(StoreError, match="NaN or infinite"):
        s.add(rows(3, seed=2)[0], vecs)
    assert s.count() == 200 and opened(pg_dsn, name).chunks() == chunks


def test_replacing_a_file_is_one_transaction_readers_see_old_then_new(pg_dsn, tmp_path):
    name, _, chunks, _ = saved(pg_dsn, tmp_path)
    writer, reader = opened(pg_dsn, name), opened(pg_dsn, name)
    new_chunks, new_vecs = rows(10, seed=7, source_count=1, tag="v2")  # all doc0.txt
    assert writer.delete("doc0.txt") == 50
    writer.add(new_chunks, new_vecs)
    assert reader.chunks() == chunks  # mid-replace: the old file, whole
    assert writer.count() == 160  # the writer sees its own writes
    writer.commit()
    after = reader.chunks()
    assert len(after) == 160 and [c for c in after if c.source == "doc0.txt"] == new_chunks


KILLED_WRITER = """
import sys, time
import numpy as np
from rag_core.stores.pgvector_store import PgVectorStore
from rag_core.core.types import Chunk
s = PgVectorStore("hnsw", 32, dsn=sys.argv[1])
s.open(sys.argv[2])
s.delete("doc0.txt")
rng = np.random.default_rng(1)
for batch in range(10**6):
    v = rng.standard_normal((64, 32)).astype(np.float32)
    s.add([Chunk("doc0.txt", "new", f"new {batch} {i}", 0, 5, "dn") for i in range(64)], v / np.linalg.norm(v, axis=1, keepdims=True))
    if batch == 70:  # past FLUSH_ROWS: rows are on the server, uncommitted
        print("WRITING", flush=True)
    time.sleep(0.01)
"""


def test_kill_9_mid_ingest_leaves_the_previous_state_queryable(pg_dsn, tmp_path):
    name, _, chunks, vecs = saved(pg_dsn, tmp_path, kind="hnsw")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, pg_dsn, name], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "WRITING", proc.stderr.read()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(30)
    survivor = opened(pg_dsn, name, kind="hnsw")
    assert survivor.chunks() == chunks
    hits = survivor.search(vecs[7], 5)
    assert hits[0].chunk == chunks[7] and hits[0].score == pytest.approx(1.0, abs=1e-5)
    deadline = time.monotonic() + 20  # the server notices the dead client and frees the lock
    while True:
        try:
            survivor.add(*rows(2, seed=11, tag="after"))
            break
        except StoreError:
            if time.monotonic() > deadline:
                raise
            survivor = opened(pg_dsn, name, kind="hnsw")
            time.sleep(0.2)
    survivor.commit()
    assert opened(pg_dsn, name, kind="hnsw").count() == 202


def test_lost_connection_mid_ingest_says_so_and_writes_nothing(pg_dsn, tmp_path):
    import psycopg

    name, _, chunks, _ = saved(pg_dsn, tmp_path)
    writer = opened(pg_dsn, name)
    writer.delete("doc2.txt")
    pid = writer._writer.conn.info.backend_pid
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(StoreError, match="lost the connection.*nothing was written"):
        writer.add(*rows(3, seed=3))
        writer.commit()
    assert opened(pg_dsn, name).chunks() == chunks
    fresh = opened(pg_dsn, name)  # the pool replaced the dead connection
    fresh.add(*rows(1, seed=4, tag="x"))
    fresh.commit()
    assert fresh.count() == 201


# ---- search ----------------------------------------------------------------------------


def test_hnsw_is_built_with_the_chosen_m_and_ef_construction_and_ef_search_is_per_query(pg_dsn, tmp_path):
    import psycopg

    name = unique()
    s = store("hnsw", index_name=name, dsn=pg_dsn, hnsw_m=8, ef_construction=32, ef_search=20)
    s.add(*rows(300))
    s.save(str(tmp_path / name))
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        (definition,) = conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexdef LIKE "
                                     "'%%hnsw%%'", (s.table,)).fetchone()
    assert "vector_cosine_ops" in definition and "m='8'" in definition and "ef_construction='32'" in definition
    plan = s._read(f'EXPLAIN SELECT id FROM "{s.table}" ORDER BY embedding <=> %s LIMIT 5', (rows(1)[1][0],),
                   settings=["SET LOCAL hnsw.ef_search = 20"])
    assert "hnsw" in " ".join(r[0] for r in plan)
    s.search(rows(1)[1][0], 5)
    from rag_core.stores import pg_server

    with pg_server.get_pool(pg_dsn).connection() as conn:  # SET LOCAL: nothing leaked into the pool
        assert conn.execute("SHOW hnsw.ef_search").fetchone()[0] == "40"


def test_filtered_hnsw_search_over_a_big_index_returns_k_from_the_source(pg_dsn, tmp_path, monkeypatch):
    from rag_core.stores import pgvector_store

    monkeypatch.setattr(pgvector_store, "EXACT_FILTER_MAX", 100)  # force the graph walk with a filter
    name = unique()
    s = store("hnsw", index_name=name, dsn=pg_dsn, ef_search=10)
    chunks, vecs = rows(3000, source_count=30)
    s.add(chunks, vecs)
    s.save(str(tmp_path / name))
    for q in vecs[:5]:
        hits = s.search(q, 10, sources=["doc3.txt", "doc4.txt"])
        assert len(hits) == 10 and {h.chunk.source for h in hits} <= {"doc3.txt", "doc4.txt"}


# ---- configuration and errors ----------------------------------------------------------


def test_no_dsn_means_the_embedded_server_under_the_app_home(pg_dsn, pg_data_dir, tmp_path, monkeypatch):
    from rag_core.stores import pg_server

    monkeypatch.delenv("RAG_PG_DSN", raising=False)
    monkeypatch.chdir(tmp_path)  # no .streamlit/secrets.toml here
    monkeypatch.setenv("RAG_PLAYGROUND_HOME", str(pg_data_dir.parent.parent))
    assert pg_server.configured_dsn() is None
    assert pg_server.embedded_data_dir() == pg_data_dir
    assert pg_server.resolve_dsn() == pg_dsn


def test_dsn_from_flag_env_and_secrets_toml_in_that_order(tmp_path, monkeypatch):
    from rag_core.providers import load_credentials
    from rag_core.stores import pg_server

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text('RAG_PG_DSN = "postgresql://s:pw@secrets/db"\n')
    monkeypatch.delenv("RAG_PG_DSN", raising=False)
    assert pg_server.configured_dsn() == "postgresql://s:pw@secrets/db"
    assert pg_server.configured_dsn(None, load_credentials()) == "postgresql://s:pw@secrets/db"
    monkeypatch.setenv("RAG_PG_DSN", "postgresql://e:pw@env/db")
    assert pg_server.configured_dsn() == "postgresql://e:pw@env/db"
    assert pg_server.configured_dsn("postgresql://f@flag/db") == "postgresql://f@flag/db"


SECRET = "Sup3r-s3cret-pw"


@pytest.mark.parametrize("dsn, says", [
    (f"postgresql://bob:{SECRET}@127.0.0.1:1/rag", "is the server running"),
    (f"postgresql://bob:{SECRET}@127.0.0.1:1/rag?sslmode=nope", "DSN is not valid"),
    (f"host=127.0.0.1 port=1 user=bob password={SECRET} dbname=rag bogus_option=1", "DSN is not valid"),
])
def test_unreachable_or_malformed_dsn_says_what_to_do_without_the_password(dsn, says, tmp_path):
    s = store(index_name=unique(), dsn=dsn)
    with pytest.raises(StoreError) as info:
        s.add(*rows(2))
    assert says in str(info.value) and SECRET not in str(info.value)
    assert "***" in str(info.value)


def test_a_query_over_the_statement_timeout_is_cancelled_with_a_clear_error(pg_dsn, tmp_path, monkeypatch):
    from rag_core.stores import pg_server

    from dataclasses import replace

    monkeypatch.setattr(pg_server, "_LIMITS", [replace(pg_server.limits(), statement_ms=200)])
    dsn = pg_dsn + "&application_name=short-timeout"  # its own pool, with the short timeout
    name, _, _, _ = saved(dsn, tmp_path, n=10)
    s = opened(dsn, name)
    try:
        with pytest.raises(StoreError, match="longer than the statement timeout \\(200 ms\\)"):
            s._read("SELECT pg_sleep(2)")
    finally:
        pg_server.forget_pool(dsn)


def test_a_server_that_never_answers_hits_the_connect_timeout(monkeypatch):
    import socket

    from rag_core.stores import pg_server

    from dataclasses import replace

    monkeypatch.setattr(pg_server, "_LIMITS", [replace(pg_server.limits(), connect_s=1)])
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the TCP connection, never speaks PostgreSQL
    try:
        port = listener.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(StoreError, match="connect timeout") as info:
            store(index_name=unique(), dsn=f"postgresql://bob:{SECRET}@127.0.0.1:{port}/rag").add(*rows(1))
        assert time.monotonic() - started < 30 and SECRET not in str(info.value)
    finally:
        listener.close()


def test_missing_database_and_missing_extension_say_how_to_fix_it(pg_dsn):
    import psycopg

    from rag_core.stores import pg_server

    host = pg_dsn.split("host=", 1)[1]
    with pytest.raises(StoreError, match="database does not exist"):
        store(index_name=unique(), dsn=f"postgresql://postgres:{SECRET}@/no_such_db?host={host}").add(*rows(1))
    db, role = f"noext_{uuid.uuid4().hex[:6]}", f"plain_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"CREATE DATABASE {db} OWNER postgres")
    try:
        with pytest.raises(StoreError, match=r"superuser run `CREATE EXTENSION vector;` in " + db) as info:
            store(index_name=unique(), dsn=f"postgresql://{role}:{SECRET}@/{db}?host={host}").add(*rows(1))
        assert SECRET not in str(info.value)
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {db}")
            admin.execute(f"DROP ROLE {role}")
    assert pg_server  # imported for the pool it keeps


def test_a_user_without_create_on_the_schema_is_told_which_grant_is_missing(pg_dsn):
    import psycopg

    host = pg_dsn.split("host=", 1)[1]
    db, role = f"noschema_{uuid.uuid4().hex[:6]}", f"reader_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"CREATE DATABASE {db}")
    try:
        with psycopg.connect(pg_dsn.replace("/postgres?", f"/{db}?"), autocommit=True) as admin:
            admin.execute("CREATE EXTENSION vector")  # done once by a superuser, as the README says
        with pytest.raises(StoreError, match=f"GRANT CREATE ON SCHEMA public TO {role}") as info:
            store(index_name=unique(), dsn=f"postgresql://{role}:{SECRET}@/{db}?host={host}").add(*rows(1))
        assert SECRET not in str(info.value)
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {db}")
            admin.execute(f"DROP ROLE {role}")


def test_an_index_missing_from_the_database_names_the_server_to_use(pg_dsn, tmp_path):
    with pytest.raises(StoreError, match="not in the database.*RAG_PG_DSN"):
        opened(pg_dsn, unique("never-built"))


@pytest.mark.parametrize("dsn", [
    "postgresql://bob:{pw}@db.example:5432/rag",
    "postgres://bob:{pw}@db/rag?sslmode=require",
    "postgresql://bob@db/rag?password={pw}",
    "host=db user=bob password={pw} dbname=rag",
    "host=db password='{pw}' dbname=rag",
])
def test_redact_dsn_hides_every_password_form(dsn):
    from rag_core.stores.pg_server import redact_dsn, redact_text

    text = dsn.format(pw=SECRET)
    assert SECRET not in redact_dsn(text) and "***" in redact_dsn(text)
    assert SECRET not in redact_text(f"failed: {text} ({SECRET})", text)


@settings(max_examples=200, deadline=None)
@given(pw=st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="@/?#%"),
                  min_size=3, max_size=30).filter(lambda p: p.strip() == p and ":" not in p and " " not in p),
       user=st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True))
def test_redacted_url_dsns_never_contain_the_password(pw, user):
    from rag_core.stores.pg_server import redact_dsn, redact_text

    dsn = f"postgresql://{user}:{pw}@host:5432/db"
    assert pw not in redact_dsn(dsn).replace(user, "", 1).replace("host:5432/db", "")
    assert pw not in redact_text(f"could not connect with {dsn}: boom {pw}", dsn).replace(user, "", 1).replace(
        "host:5432/db", "")


# ---- the command line ------------------------------------------------------------------


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "rag_core", *args], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})), timeout=240)


def test_cli_ingest_and_query_with_store_pgvector_and_dsn(pg_dsn, tmp_path):
    from helpers import FACTS

    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in FACTS.items():
        (docs / name).write_text(f"# {Path(name).stem}\n\n{text}\n")
    index = tmp_path / unique("cli")
    out = _cli("ingest", str(docs), "--index", str(index), "--embedder", "hashing", "--store", "pgvector-hnsw",
               "--dsn", pg_dsn, "--chunk-size", "400", "--chunk-overlap", "40", "--json", "--quiet")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["store"] == "pgvector-hnsw" and report["chunks_total"] >= 4
    out = _cli("query", "--index", str(index), "What is the capital of Kenya?", "--json", "--top-k", "2",
               "--retriever", "dense", env={"RAG_PG_DSN": pg_dsn})  # the DSN from the environment this time
    assert out.returncode == 0, out.stderr
    hit = json.loads(out.stdout)["hits"][0]
    assert hit["source"].endswith("kenya.md") and hit["score_kind"] == "cosine"
    again = _cli("ingest", str(docs), "--index", str(index), "--dsn", pg_dsn, "--json", "--quiet")
    assert json.loads(again.stdout)["unchanged"] == 4


def test_cli_unreachable_server_is_one_line_without_the_password(tmp_path):
    from helpers import FACTS

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(next(iter(FACTS.values())))
    out = _cli("ingest", str(docs), "--index", str(tmp_path / "i"), "--embedder", "hashing", "--store", "pgvector",
               "--dsn", f"postgresql://bob:{SECRET}@127.0.0.1:1/rag", "--quiet")
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert out.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: cannot use PostgreSQL")
    assert SECRET not in out.stderr + out.stdout


# ---- the app -----------------------------------------------------------------------------


def test_index_page_builds_a_pgvector_index_and_shows_where_it_lives(app_root, pg_env):
    from helpers import app_errors
    from streamlit.testing.v1 import AppTest

    from rag_core.index.saved_pg import database_indexes

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/index.py").run()
    assert "pgvector" in at.selectbox(key="w:store").options
    name = unique("app")
    at.selectbox(key="w:embedder").set_value("hashing")
    at.selectbox(key="w:store").set_value("pgvector-hnsw")
    at.text_input(key="w:index_name").set_value(name)
    at.button(key="build").click().run()
    assert not app_errors(at), app_errors(at)
    assert f"Built {name}" in at.success[0].value
    frame = at.dataframe[0].value
    row = frame[frame["name"] == name].iloc[0]
    assert row["lives in"].startswith("database: ") and "table rag_app_" in row["lives in"]
    assert row["size"].endswith(("KB", "MB")) and SECRET not in row["lives in"]
    assert name in {d.name for d in database_indexes()}
    at.checkbox(key=f"sure:{name}").check().run()
    at.button(key=f"delete:{name}").click().run()
    assert not app_errors(at), app_errors(at)
    assert name not in {d.name for d in database_indexes()}  # dropped in the database too


def test_a_second_app_instance_lists_the_index_another_one_built(app_root, pg_env, tmp_path):
    from helpers import app_errors
    from streamlit.testing.v1 import AppTest

    from rag_core.embeddings.hashing import HashingEmbedder
    from rag_core.index.index import Index

    name = unique("other")
    built = Index.create(tmp_path / "elsewhere" / name, HashingEmbedder(64), "pgvector")  # instance one
    built.ingest(_docs("a"))
    built.save()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/index.py").run()  # instance two: an empty index root, the same database
    assert not app_errors(at), app_errors(at)
    frame = at.dataframe[0].value
    row = frame[frame["name"] == name].iloc[0]
    assert row["store"] == "pgvector" and row["lives in"].startswith("database: ")
    assert Index.open(app_root / name, embedder=HashingEmbedder(64)).store.count() == built.store.count()


def test_an_unreachable_database_is_a_warning_and_local_indexes_still_list(app_root, monkeypatch):
    from helpers import app_errors
    from streamlit.testing.v1 import AppTest

    from rag_core.embeddings.hashing import HashingEmbedder
    from rag_core.index.index import Index

    local = Index.create(app_root / "local", HashingEmbedder(64), "numpy")
    local.ingest(_docs("a"))
    local.save()
    monkeypatch.setenv("RAG_PG_DSN", f"postgresql://bob:{SECRET}@127.0.0.1:1/rag")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/index.py").run()
    assert not app_errors(at), app_errors(at)
    assert any("Could not look for indexes in PostgreSQL" in w.value for w in at.warning)
    assert all(SECRET not in w.value for w in at.warning)
    assert list(at.dataframe[0].value["name"]) == ["local"]


def test_a_renamed_local_pointer_is_not_attached_a_second_time(app_root, pg_env, tmp_path):
    from rag_core.embeddings.hashing import HashingEmbedder
    from rag_core.index.index import Index
    from rag_core.index import saved as paths

    name = unique("ren")
    built = Index.create(app_root / name, HashingEmbedder(64), "pgvector")
    built.ingest(_docs("a"))
    built.save()
    paths.rename_index(name, "renamed-here")
    assert name not in paths.attach_database_indexes()
    assert not (app_root / name).exists()
