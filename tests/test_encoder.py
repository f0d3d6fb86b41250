"""The serving encoder (onnxruntime, exported at build time) against sentence-transformers, the reference: the same
vectors, the same answers, and no torch in the serving process."""
import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

from kg.encoder import MAX_COSINE_DISTANCE, OnnxEmbedder
from kg.evaluation import load_questions
from kg.qa.answerer import Answerer
from kg.search import SentenceTransformerEmbedder
from kg.config import ROOT
from tests.conftest import server_process

DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def embedders(built):
    settings, _ = built
    return OnnxEmbedder(settings.build_dir), SentenceTransformerEmbedder(settings.embedding_model)


def questions(name: str) -> list[str]:
    return [q["question"] for q in load_questions(DATA / f"questions-{name}.json")]


def test_question_vectors_equal_sentence_transformers(embedders):
    onnx, reference = embedders
    texts = questions("dev") + questions("dev2") + ["", "x", "TACE " * 400]  # empty, tiny, past 256 tokens
    a, b = onnx.embed_batch(texts), reference.embed_batch(texts)
    assert a.shape == b.shape and a.dtype == np.float32
    assert float((1 - (a * b).sum(axis=1)).max()) <= MAX_COSINE_DISTANCE
    alone = np.stack([onnx.embed(t) for t in texts])  # alone or packed among others: the same bits
    assert np.array_equal(alone, a)


def test_concurrent_callers_share_runs_and_get_the_vectors_they_get_alone(embedders):
    onnx, _ = embedders
    texts = questions("dev2")
    alone = {t: onnx.embed(t) for t in texts}
    runs = []
    encode = onnx._encode
    onnx._encode = lambda encodings: runs.append(len(encodings)) or encode(encodings)
    try:
        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(lambda i: onnx.embed_batch(texts[i:i + 2]), range(0, len(texts), 2)))
    finally:
        del onnx._encode
    assert all(np.array_equal(v, alone[t]) for i, vs in zip(range(0, len(texts), 2), got)
               for t, v in zip(texts[i:i + 2], vs))
    assert max(runs) > 2  # callers waiting together went into one call


def test_answers_on_the_dev_set_are_those_of_the_torch_path(built, embedders):
    settings, _ = built
    onnx_answerer = Answerer.from_build(settings)
    torch_answerer = Answerer(onnx_answerer.store, onnx_answerer.index, embedders[1], onnx_answerer.catalog,
                              onnx_answerer.classifier, onnx_answerer.assessor, tables=onnx_answerer.tables)
    for q in questions("dev"):
        a, b = onnx_answerer.ask(q), torch_answerer.ask(q)
        assert (a["answered"], [f["iri"] for f in a["facts"]]) == (b["answered"], [f["iri"] for f in b["facts"]]), q


def test_the_build_records_the_check_and_the_server_runs_without_torch(built):
    settings, report = built
    assert report.encoder["max_cosine_distance"] <= MAX_COSINE_DISTANCE and report.encoder["checked_texts"] >= 100
    with server_process(settings.build_dir) as (base, proc):
        assert httpx.post(base + "/ask", json={"question": "What is TACE?"}, timeout=60).status_code == 200
        maps = open(f"/proc/{proc.pid}/maps").read()
        assert "libtorch" not in maps and "onnxruntime" in maps
    saved = json.loads((settings.build_dir / "report.json").read_text())
    assert saved["encoder"] == report.encoder
