"""The Pinecone store over a local wire-format fake of Pinecone (tests/fake_pinecone.py): what the
contract tests cannot show — the SDK's headers, describe_index, batching limits, oversize metadata,
a second app instance, failures (401, missing index, dimension mismatch, 429, a stalled server) and
a key that never leaks."""

from __future__ import annotations

import json
import logging
import time

import numpy as np
import pytest
from fake_pinecone import FakePinecone

from rag_core.embeddings.hashing import HashingEmbedder
from rag_core.core.errors import ConfigError, IndexMismatchError, StoreError
from rag_core.index.index import Index
from rag_core.stores import create_store
from rag_core.stores.pinecone_store import (BATCH_MAX_BYTES, BATCH_MAX_RECORDS, PineconeSettings, PineconeStore,
                                            guard_typed_host, pinecone_indexes, settings_from)
from rag_core.index.saved_pinecone import attach
from rag_core.core.types import Chunk, Document

DIM = 16
KEY = "pc-test-key-0123456789abcdef"


def rows(n: int, seed: int = 0, text: str = "chunk") -> tuple[list[Chunk], np.ndarray]:
    rng = np.random.default_rng(seed)
    vecs = rng.standard_normal((n, DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return [Chunk(f"doc{i % 3}.txt", f"s{i}", f"{text} {i}", 0, 5, f"d{i}") for i in range(n)], vecs


def settings(fake: FakePinecone, **over) -> PineconeSettings:
    values = dict(api_key=KEY, index=fake.index, control_host=fake.url, timeout_s=3)
    values.update(over)
    return PineconeSettings(**values)


@pytest.fixture
def fake():
    with FakePinecone(api_key=KEY, dim=DIM) as f:
        yield f


def test_the_host_comes_from_describe_index_and_every_request_carries_the_sdk_headers(fake):
    store = PineconeStore(DIM, index_name="demo", pinecone=settings(fake))
    chunks, vecs = rows(10)
    store.add(chunks, vecs)
    hits = store.search(vecs[3], 3, sources=["doc0.txt"])
    assert hits[0].chunk == chunks[3] and {h.chunk.source for h in hits} == {"doc0.txt"}
    assert fake.log[0]["path"] == "/indexes/playground" and fake.log[0]["method"] == "GET"
    assert all(e["api_key"] == KEY and e["api_version"] == "2026-07" for e in fake.log)
    assert {e["namespace"] for e in fake.log if e["path"] != "/indexes/playground"} == {"demo", "__rag_manifests__"}
    query = [e for e in fake.log if e["path"] == "/query"][0]
    assert query["status"] == 200 and store.units["read"] >= 1 and store.units["write"] == 10


def test_upserts_are_batched_within_1000_records_and_2_mb(fake):
    store = PineconeStore(DIM, index_name="big", pinecone=settings(fake))
    chunks, vecs = rows(2500)
    store.add(chunks, vecs)
    upserts = [e for e in fake.log if e["path"] == "/vectors/upsert"]
    assert [e["records"] for e in upserts] == [1000, 1000, 500]
    fake.log.clear()
    heavy = [Chunk("heavy.txt", "s", "x" * 30_000 + str(i), 0, 30_001, f"h{i}") for i in range(150)]
    store.add(heavy, rows(150, seed=1)[1])
    sizes = [e["bytes"] for e in fake.log if e["path"] == "/vectors/upsert"]
    assert len(sizes) >= 3 and max(sizes) <= 2 * 1024 * 1024 and sum(sizes) > BATCH_MAX_BYTES
    assert store.count() == 2650 and BATCH_MAX_RECORDS == 1000


def test_a_chunk_over_40_kb_of_metadata_is_reported_not_truncated(fake):
    store = PineconeStore(DIM, index_name="oversize", pinecone=settings(fake))
    chunks, vecs = rows(3)
    chunks[1] = Chunk("huge.pdf", "appendix", "y" * 41_000, 0, 41_000, "d")
    with pytest.raises(StoreError, match=r"huge\.pdf.*40 KB.*smaller chunk size"):
        store.add(chunks, vecs)
    assert not [e for e in fake.log if e["path"] == "/vectors/upsert"]


def test_429_and_503_are_retried_then_succeed(fake):
    store = PineconeStore(DIM, index_name="retry", pinecone=settings(fake))
    chunks, vecs = rows(10)
    store.add(chunks[:5], vecs[:5])
    fake.log.clear()
    fake.fail_next = [429, 503]
    store.add(chunks[5:], vecs[5:])
    statuses = [e["status"] for e in fake.log if e["path"] == "/vectors/upsert"]
    assert statuses == [429, 503, 200] and store.count() == 10


def test_rate_limiting_that_does_not_stop_is_a_clear_error(fake):
    store = PineconeStore(DIM, index_name="limited", pinecone=settings(fake, max_retries=1))
    store.count()
    fake.fail_next = [429] * 5
    with pytest.raises(StoreError, match="rate-limiting.*429"):
        store.add(*rows(2))
    assert [e["status"] for e in fake.log].count(429) == 2  # the first try and one retry, then it says so


def test_a_stalled_server_hits_the_deadline(fake):
    store = PineconeStore(DIM, index_name="stall", pinecone=settings(fake, timeout_s=0.5, max_retries=0,
                                                                       host=fake.url))
    fake.stall = 5
    started = time.perf_counter()
    with pytest.raises(StoreError, match="did not answer .* within 0.5 s"):
        store.search(rows(1)[1][0], 3)
    assert time.perf_counter() - started < 2.5
    assert len(fake.log) == 1


def test_wrong_key_missing_index_and_dimension_mismatch_say_what_to_do(fake, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "pc-wrong-key-abcdefghijklmnop"
    errors = []
    with pytest.raises(StoreError, match="refused the API key") as e:
        PineconeStore(DIM, pinecone=settings(fake, api_key=wrong)).search(rows(1)[1][0], 3)
    errors.append(str(e.value))
    with pytest.raises(StoreError, match="no index 'nope'.*create it once") as e:
        PineconeStore(DIM, pinecone=settings(fake, index="nope")).search(rows(1)[1][0], 3)
    errors.append(str(e.value))
    with pytest.raises(IndexMismatchError, match="holds 16-d vectors, not 8") as e:
        PineconeStore(8, pinecone=settings(fake)).search(np.ones(8, np.float32) / 8 ** 0.5, 3)
    errors.append(str(e.value))
    direct = PineconeStore(8, pinecone=settings(fake, host=fake.url))  # no describe: the server refuses
    with pytest.raises(IndexMismatchError, match="dimension") as e:
        direct.search(np.ones(8, np.float32) / 8 ** 0.5, 3)
    errors.append(str(e.value))
    for text in errors + [caplog.text]:
        assert KEY not in text and wrong not in text


def test_the_key_is_never_in_reprs_pointer_files_or_exports(fake, tmp_path):
    s = settings(fake)
    assert KEY not in repr(s) and KEY not in str(s)
    index = Index.create(tmp_path / "keyless", HashingEmbedder(DIM), "pinecone", credentials=None)
    index.store.settings = s
    index.ingest([Document("a.txt", "a", "some text about apples " * 20)])
    index.save()
    for path in (tmp_path / "keyless").rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(errors="replace")


def test_reingest_deletes_the_source_and_a_second_instance_sees_the_index_and_refuses_another_embedder(
        fake, tmp_path, monkeypatch):
    from rag_core.stores import pinecone_store

    monkeypatch.setattr(pinecone_store, "_OVERRIDE", [settings(fake)])
    first = Index.create(tmp_path / "one" / "shared", HashingEmbedder(DIM), "pinecone")
    first.ingest([Document(f"f{i}.txt", "t", f"document {i} about topic {i} " * 30) for i in range(4)])
    first.save()
    before = first.store.count()
    again = Index.open(tmp_path / "one" / "shared", embedder=HashingEmbedder(DIM))
    again.ingest([Document("f1.txt", "t", "changed text for file one " * 10)])
    again.save()
    assert [c.source for c in again.store.chunks()].count("f1.txt") < before / 4 + 1
    assert any(e["path"] == "/vectors/delete" for e in fake.log)
    # instance two: its own directory, attached from the manifest record in Pinecone
    listed = {i.name: i for i in pinecone_indexes(settings(fake))}
    assert listed["shared"].count == again.store.count() and listed["shared"].dim == DIM
    assert any(e["path"] == "/describe_index_stats" for e in fake.log)
    local = attach(tmp_path / "two" / "shared", "shared", settings(fake))
    second = Index.open(local, embedder=HashingEmbedder(DIM))
    assert second.manifest.sources == again.manifest.sources
    q = first.embedder.embed_query("topic 3")
    assert [h.chunk for h in second.store.search(q, 4)] == [h.chunk for h in again.store.search(q, 4)]
    with pytest.raises(IndexMismatchError):
        Index.open(local, embedder=HashingEmbedder(8))
    with pytest.raises(StoreError, match="already holds a playground index shared"):  # never written into blindly
        Index.create(tmp_path / "three" / "shared", HashingEmbedder(DIM), "pinecone").ingest(
            [Document("z.txt", "z", "zzz " * 20)])
    assert {i.name: i.count for i in pinecone_indexes(settings(fake))}["shared"] == listed["shared"].count


def test_a_typed_key_goes_only_to_a_host_the_address_guard_allows(fake):
    typed = PineconeSettings(api_key="pc-typed-key-000000000000", host=fake.url, typed=True)
    with pytest.raises(ConfigError, match="not allowed|https"):
        PineconeStore(DIM, pinecone=typed).search(rows(1)[1][0], 3)
    assert fake.log == []  # not one request left with the typed key
    with pytest.raises(ConfigError, match="private address"):
        guard_typed_host("https://10.0.0.7")
    public = guard_typed_host("https://idx-abc.svc.pinecone.io", resolver=lambda h, p: ["34.1.2.3"])
    assert public == "https://idx-abc.svc.pinecone.io"


def test_settings_come_from_what_the_entry_point_read():
    s = settings_from({"PINECONE_API_KEY": KEY, "PINECONE_INDEX": "playground", "RAG_PINECONE_TIMEOUT_S": "4"})
    assert s.configured and s.timeout_s == 4 and s.host is None
    assert "PINECONE_API_KEY" in settings_from({}).needs()
    with pytest.raises(ConfigError, match="PINECONE_API_KEY"):
        create_store("pinecone", DIM, pinecone=settings_from({})).search(np.ones(DIM, np.float32), 1)


def test_request_log_for_one_ingest_and_one_query(fake, tmp_path, monkeypatch):
    """The acceptance log: what the SDK sent for one ingest and one query (printed with -s)."""
    from rag_core.stores import pinecone_store

    monkeypatch.setattr(pinecone_store, "_OVERRIDE", [settings(fake)])
    index = Index.create(tmp_path / "logged", HashingEmbedder(DIM), "pinecone")
    index.ingest([Document("a.txt", "a", "alpha beta gamma " * 40), Document("b.txt", "b", "delta " * 50)])
    index.save()
    ingest_log = list(fake.log)
    fake.log.clear()
    index.store.search(index.embedder.embed_query("alpha"), 3)
    print(json.dumps({"ingest": ingest_log, "query": fake.log}, indent=1).replace(KEY, "<key>"))
    assert [e["path"] for e in fake.log] == ["/query"]
    assert {"/indexes/playground", "/vectors/upsert"} <= {e["path"] for e in ingest_log}


def test_neighbours_and_mmr_work_over_pinecone(pinecone_env, tmp_path):
    from helpers import hashing_index

    from rag_core.retrieval import Retriever
    from rag_core.core.types import ChunkingConfig, RetrievalSettings

    doc = Document("story.md", "story", " ".join(f"Sentence number {i} of the long story." for i in range(60)))
    index = hashing_index(tmp_path / "story", store="pinecone", documents=[doc],
                          chunking=ChunkingConfig(size=200, overlap=0))
    wide = Retriever(index).retrieve("Sentence number 30", RetrievalSettings(top_k=1, mode="bm25", neighbours=1))
    assert len(wide.context) == 3 and [h.chunk.start for h in wide.context] == sorted(h.chunk.start for h in wide.context)
    mmr = Retriever(index).retrieve("Sentence number 30", RetrievalSettings(top_k=4, mode="hybrid", mmr_lambda=0.5))
    assert len(mmr.hits) == 4 and all(h.score_kind == "mmr λ=0.5" for h in mmr.hits)
    assert any(e["path"] == "/vectors/fetch" for e in pinecone_env.log)  # MMR read candidates' vectors


def test_a_turn_records_pinecone_read_units_as_a_priced_stage(pinecone_env, tmp_path):
    from helpers import hashing_index

    from rag_core.costs.prices import DEFAULT_PRICES, PINECONE_READ_UNITS
    from rag_core.costs.record import STORE_READS
    from rag_core.llm import create_llm
    from rag_core.answer.pipeline import Pipeline
    from rag_core.core.types import RetrievalSettings

    index = hashing_index(tmp_path / "costed", store="pinecone",
                          documents=[Document("a.txt", "a", "Paris is the capital of France. " * 20)])
    turn = Pipeline(index, create_llm("extractive")).ask("capital of France", RetrievalSettings(top_k=2, mode="dense"))
    list(turn)
    stage = turn.costs.stage(STORE_READS)
    queried = [e for e in pinecone_env.log if e["path"] == "/query"]
    assert stage is not None and stage.reported_tokens == len(queried) >= 1  # the fake reports 1 unit a query
    price = DEFAULT_PRICES.get(PINECONE_READ_UNITS).input_per_mtok
    assert stage.cost_usd == pytest.approx(stage.reported_tokens * price / 1e6) and stage.model == PINECONE_READ_UNITS
    assert turn.costs.total_usd >= stage.cost_usd


def test_index_page_offers_pinecone_only_when_configured_and_builds_there(app_root, pinecone_fake, monkeypatch):
    from pathlib import Path

    from helpers import app_errors
    from streamlit.testing.v1 import AppTest

    from rag_core.stores import pinecone_store

    monkeypatch.setattr(pinecone_store, "_OVERRIDE", [None])  # the operator's settings, not a test's
    for var in ("PINECONE_API_KEY", "PINECONE_INDEX", "PINECONE_HOST"):
        monkeypatch.delenv(var, raising=False)
    app = str(Path(__file__).resolve().parents[2] / "app.py")
    at = AppTest.from_file(app, default_timeout=60)
    at.switch_page("pages/index.py").run()
    assert not app_errors(at)
    assert "pinecone" not in at.selectbox(key="w:store").options
    assert any("Pinecone needs PINECONE_API_KEY" in c.value for c in at.caption)
    monkeypatch.setenv("PINECONE_API_KEY", pinecone_fake.api_key)
    monkeypatch.setenv("PINECONE_HOST", pinecone_fake.url)
    at = AppTest.from_file(app, default_timeout=60)
    at.switch_page("pages/index.py").run()
    assert "pinecone" in at.selectbox(key="w:store").options
    assert not any("Pinecone needs" in c.value for c in at.caption)
    at.selectbox(key="w:embedder").set_value("hashing")
    at.selectbox(key="w:store").set_value("pinecone")
    at.text_input(key="w:index_name").set_value("onpinecone")
    at.button(key="build").click().run()
    assert not app_errors(at), app_errors(at)
    assert "Built onpinecone" in at.success[0].value
    assert any(e["path"] == "/vectors/upsert" and e["namespace"] == "onpinecone" for e in pinecone_fake.log)
    assert all(pinecone_fake.api_key not in str(e.value) for e in [*at.markdown, *at.caption, *at.success])


def test_cli_ingest_and_query_on_pinecone_from_the_environment(tmp_path, monkeypatch, capsys):
    from rag_core.embeddings import create_embedder

    with FakePinecone(dim=create_embedder("hashing").dim) as fake:  # describe_index reports its dimension
        _cli_round_trip(fake, tmp_path, monkeypatch, capsys)


def _cli_round_trip(pinecone_fake, tmp_path, monkeypatch, capsys) -> None:
    from helpers import FACTS

    from rag_core.cli import main
    from rag_core.stores import pinecone_store


    monkeypatch.setattr(pinecone_store, "_OVERRIDE", [None])  # the operator's settings, not a test's
    monkeypatch.setenv("PINECONE_API_KEY", pinecone_fake.api_key)
    monkeypatch.setenv("PINECONE_INDEX", pinecone_fake.index)
    monkeypatch.setenv("PINECONE_CONTROLLER_HOST", pinecone_fake.url)
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in FACTS.items():
        (docs / name).write_text(f"# {name}\n\n{text}\n")
    index = tmp_path / "clipc"
    assert main(["ingest", str(docs), "--index", str(index), "--embedder", "hashing", "--store", "pinecone",
                 "--json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["store"] == "pinecone"
    assert main(["query", "--index", str(index), "What is the capital of Kenya?", "--json", "--top-k", "2",
                 "--retriever", "dense"]) == 0
    hit = json.loads(capsys.readouterr().out)["hits"][0]
    assert hit["source"].endswith("kenya.md") and hit["score_kind"] == "cosine"
    monkeypatch.setenv("PINECONE_API_KEY", "pc-revoked-key-000000000000")
    assert main(["query", "--index", str(index), "capital", "--json"]) != 0
    err = capsys.readouterr().err
    assert "refused the API key" in err and "pc-revoked-key" not in err and pinecone_fake.api_key not in err
