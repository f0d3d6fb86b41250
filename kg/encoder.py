"""The question encoder at serve time: the build's sentence-transformers model exported to ONNX and run with
onnxruntime and `tokenizers`, so the serving process never imports torch (start-up in seconds, a third of the RSS).

Texts run packed: several texts end to end in one sequence, each with its own positions and attending only to
itself (a block-diagonal mask), so that one run streams the model's 42 MB of weights once for all of them. A text's
vector is the same, bit for bit, whatever it runs with: the softmax's sums are taken by the attention's own matmul,
whose sums run in token order (onnxruntime's Softmax and a matmul by a ones vector sum in SIMD lanes that shift with
a text's place in the run, and 1e-7 moved the facts of 10 of 649 questions). Concurrent requests share runs: one
encoder thread per process takes every text waiting when it is free (measured on one thread: 8.6 ms a text alone,
4.9 ms in runs of three or four). The build exports the installed model (never a download) into build/encoder/
and checks that the ONNX vectors of the index's own texts are within MAX_COSINE_DISTANCE of sentence-transformers'
(the reference); otherwise the build fails. Pooling (mean over a text's tokens) and normalization are numpy, as
the model's modules.json says.
"""
import json
import logging
import math
import os
import queue
import shutil
import sys
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

DIR = "encoder"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "encoder.json"
MAX_COSINE_DISTANCE = 1e-4
INPUTS = ("input_ids", "position_ids", "segment_ids")
FORMAT = "packed-2"  # what encoder.json says of the export; another one (an older build) asks for a rebuild
# Tokens in one packed run: past ~128 the attention's quadratic share makes a text dearer again (4.9 ms a text in
# runs of 3-6 questions, 5.6 ms in runs of 8). A longer text runs alone.
RUN_TOKENS = 128
# How much nicer the encoder thread is than the request threads: on a worker's core it then waits for the requests
# in flight to do their Python before it runs, and takes more of them together. With 8 clients on --workers 2 a
# run took 2.0 requests instead of 1.55 (4.6 ms a text instead of 4.9) and answers a second rose 7% (nice 5 and 0 in
# turn, 6 windows each, same server; nice 10 and 19 gained 8-10%). Not higher: against another process on its core
# (a SPARQL query) the encoder keeps a quarter of the core at nice 5, a tenth at 10.
NICE = 5


@dataclass
class _Job:
    """Texts of one caller, encoded (tokens), waiting for their vectors."""
    encodings: list
    vectors: np.ndarray | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


class OnnxEmbedder:
    """Unit-length float32 vectors, equal to sentence-transformers' within MAX_COSINE_DISTANCE."""

    def __init__(self, build_dir: Path, threads: int = 1):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = build_dir / DIR
        meta_path = folder / META_FILE
        if not meta_path.exists():
            raise RuntimeError(f"{meta_path} not found: run `hcc-kg build` to export the encoder")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise RuntimeError(f"{folder} holds an encoder exported by an older hcc-kg: run `hcc-kg build`")
        self.name, self.dim = meta["model"], meta["dim"]
        self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self._tokenizer.enable_truncation(meta["max_seq_length"])
        self._tokenizer.no_padding()  # tokenizer.json pads to 128 tokens; packed texts take their own length
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"])
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="hcc-kg-encoder", daemon=True).start()

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Vectors of `texts`, in their order; runs shared with whatever other threads ask for meanwhile."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        job = _Job(self._tokenizer.encode_batch(texts))
        self._jobs.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.vectors

    def embed(self, text: str) -> np.ndarray:
        return self.embed_batch([text])[0]

    def _serve(self):
        """The encoder thread: every job waiting when it is free goes into the same runs."""
        _lower_priority(NICE)
        while True:
            jobs = [self._jobs.get()]
            tokens = sum(len(e.ids) for e in jobs[0].encodings)
            while tokens < RUN_TOKENS:
                try:
                    jobs.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
                tokens += sum(len(e.ids) for e in jobs[-1].encodings)
            try:
                vectors = self._encode([e for job in jobs for e in job.encodings])
                at = 0
                for job in jobs:
                    job.vectors, at = vectors[at:at + len(job.encodings)], at + len(job.encodings)
            except BaseException as e:  # the callers raise it; the thread goes on
                for job in jobs:
                    job.error = e
            for job in jobs:
                job.done.set()

    def _encode(self, encodings: list) -> np.ndarray:
        """Vectors of tokenized texts, in packed runs of up to RUN_TOKENS tokens."""
        out, run, size = [], [], 0
        for e in encodings:
            if run and size + len(e.ids) > RUN_TOKENS:
                out.append(self._run(run))
                run, size = [], 0
            run.append(e)
            size += len(e.ids)
        out.append(self._run(run))
        return np.concatenate(out)

    def _run(self, encodings: list) -> np.ndarray:
        lengths = np.array([len(e.ids) for e in encodings])  # never 0: [CLS] and [SEP] at least
        ids = np.concatenate([np.array(e.ids, dtype=np.int64) for e in encodings])[None, :]
        positions = np.concatenate([np.arange(n, dtype=np.int64) for n in lengths])[None, :]
        segments = np.repeat(np.arange(len(encodings), dtype=np.int64), lengths)[None, :]
        hidden = self._session.run(None, {"input_ids": ids, "position_ids": positions, "segment_ids": segments})[0][0]
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        pooled = np.add.reduceat(hidden, starts, axis=0) / lengths[:, None]
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)


def _lower_priority(by: int):
    """Raise the calling thread's nice value `by` steps above the process's own (a server started under `nice` keeps
    the gap, and raising needs no privilege). Linux only: there a thread is a task of its own; elsewhere
    PRIO_PROCESS would take the whole process, so nothing is done."""
    if not sys.platform.startswith("linux"):
        return
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + by))
    except OSError as e:  # a sandbox that forbids it: the encoder works the same, in smaller runs
        log.warning("could not lower the encoder thread's priority: %s", e)


def export(model: str, build_dir: Path, check_texts: list[str], reference) -> dict:
    """Export `model` (an installed sentence-transformers model) to build/encoder/ for packed runs and check it
    against `reference` (the sentence-transformers embedder) on `check_texts`; returns what was measured."""
    import torch
    from transformers import AutoModel

    from .errors import BuildError
    from .search import resolve_model_path

    source = Path(resolve_model_path(model))
    folder = build_dir / DIR
    folder.mkdir(parents=True, exist_ok=True)
    bert = AutoModel.from_pretrained(str(source), attn_implementation="eager", local_files_only=True).eval()

    heads = bert.config.num_attention_heads

    class Packed(torch.nn.Module):
        """BERT over texts end to end, each token attending to its own text's tokens: the layers' own modules,
        with the softmax's sums taken by the attention's matmul (e @ [v | 1]) so that each sums in token order."""
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, position_ids, segment_ids):
            x = self.inner.embeddings(input_ids=input_ids, position_ids=position_ids,
                                      token_type_ids=torch.zeros_like(input_ids))[0]
            tokens, width = x.shape
            size = width // heads
            same = segment_ids[0][:, None] == segment_ids[0][None, :]
            ones = torch.ones(heads, tokens, 1)
            for layer in self.inner.encoder.layer:
                a = layer.attention
                q, k, v = (f(x).view(tokens, heads, size).transpose(0, 1)
                           for f in (a.self.query, a.self.key, a.self.value))
                scores = torch.where(same, torch.matmul(q, k.transpose(1, 2)) / math.sqrt(size), -1e4)
                e = torch.exp(scores - torch.amax(scores, dim=-1, keepdim=True))  # 0 outside the text
                r = torch.matmul(e, torch.cat([v, ones], dim=-1))
                context = (r[..., :size] / r[..., size:]).transpose(0, 1).reshape(tokens, width)
                x = a.output.LayerNorm(a.output.dense(context) + x)
                x = layer.output.LayerNorm(layer.output.dense(layer.intermediate(x)) + x)
            return x[None]

    sample = (torch.tensor([[101, 2054, 2003, 102, 101, 102]]), torch.tensor([[0, 1, 2, 3, 0, 1]]),
              torch.tensor([[0, 0, 0, 0, 1, 1]]))
    axes = {name: {1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation and tracer notes; the check below decides
        torch.onnx.export(Packed(bert), sample, str(folder / MODEL_FILE), input_names=list(INPUTS),
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)
    shutil.copyfile(source / TOKENIZER_FILE, folder / TOKENIZER_FILE)
    st_config = json.loads((source / "sentence_bert_config.json").read_text(encoding="utf-8"))
    meta = {"model": model, "format": FORMAT, "dim": int(bert.config.hidden_size),
            "max_seq_length": st_config["max_seq_length"], "pooling": "mean", "normalize": True}
    (folder / META_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")
    onnx_vectors = OnnxEmbedder(build_dir).embed_batch(check_texts)
    distance = float((1 - (onnx_vectors * reference.embed_batch(check_texts)).sum(axis=1)).max())
    if distance > MAX_COSINE_DISTANCE:
        raise BuildError(f"the ONNX encoder's vectors differ from sentence-transformers' (cosine distance "
                         f"{distance:.2e} > {MAX_COSINE_DISTANCE:.0e} on {len(check_texts)} texts)")
    log.info("exported the encoder to %s: max cosine distance to sentence-transformers %.1e on %d texts",
             folder, distance, len(check_texts))
    return {"checked_texts": len(check_texts), "max_cosine_distance": distance}
