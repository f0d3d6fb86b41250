"""The question encoder at serve time: the build's sentence-transformers model exported to ONNX and run with
onnxruntime and `tokenizers`, so the serving process never imports torch (start-up in seconds, a third of the RSS).

The build exports the installed model (never a download) into build/encoder/ and checks that the ONNX vectors of
the index's own texts are within MAX_COSINE_DISTANCE of sentence-transformers' (the reference); otherwise the build
fails. The export keeps eager attention (the graph onnxruntime's CPU optimizer fuses) and the session runs with
every graph optimization; pooling (mean over tokens) and normalization are numpy, as the model's modules.json says.
"""
import json
import logging
import shutil
import warnings
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

DIR = "encoder"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "encoder.json"
MAX_COSINE_DISTANCE = 1e-4
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


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
        self.name, self.dim = meta["model"], meta["dim"]
        self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self._tokenizer.enable_truncation(meta["max_seq_length"])
        self._tokenizer.no_padding()  # tokenizer.json pads to 128 tokens; each text runs alone, at its own length
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"])

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """One run per text: a question's few texts are short and of unequal length, and on a CPU thread a padded
        batch cost more per text than runs one by one (measured: 10.7-12.4 against 8.7 ms a text)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._encode(e) for e in self._tokenizer.encode_batch(texts)])

    def _encode(self, encoded) -> np.ndarray:
        ids = np.array([encoded.ids], dtype=np.int64)
        mask = np.array([encoded.attention_mask], dtype=np.int64)
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask,
                                          "token_type_ids": np.zeros_like(ids)})[0]
        pooled = (hidden * mask[..., None]).sum(axis=1)[0] / max(int(mask.sum()), 1)
        return (pooled / np.linalg.norm(pooled)).astype(np.float32)

    def embed(self, text: str) -> np.ndarray:
        return self.embed_batch([text])[0]


def export(model: str, build_dir: Path, check_texts: list[str], reference) -> dict:
    """Export `model` (an installed sentence-transformers model) to build/encoder/ and check it against
    `reference` (the sentence-transformers embedder) on `check_texts`; returns what was measured."""
    import torch
    from transformers import AutoModel

    from .errors import BuildError
    from .search import resolve_model_path

    source = Path(resolve_model_path(model))
    folder = build_dir / DIR
    folder.mkdir(parents=True, exist_ok=True)
    bert = AutoModel.from_pretrained(str(source), attn_implementation="eager", local_files_only=True).eval()

    class LastHidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = torch.tensor([[101, 2054, 2003, 102]])
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation and tracer notes; the check below decides
        torch.onnx.export(LastHidden(bert), (sample, torch.ones_like(sample), torch.zeros_like(sample)),
                          str(folder / MODEL_FILE), input_names=list(INPUTS), output_names=["last_hidden_state"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)
    shutil.copyfile(source / TOKENIZER_FILE, folder / TOKENIZER_FILE)
    st_config = json.loads((source / "sentence_bert_config.json").read_text(encoding="utf-8"))
    meta = {"model": model, "dim": int(bert.config.hidden_size), "max_seq_length": st_config["max_seq_length"],
            "pooling": "mean", "normalize": True}
    (folder / META_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")
    onnx_vectors = OnnxEmbedder(build_dir).embed_batch(check_texts)
    distance = float((1 - (onnx_vectors * reference.embed_batch(check_texts)).sum(axis=1)).max())
    if distance > MAX_COSINE_DISTANCE:
        raise BuildError(f"the ONNX encoder's vectors differ from sentence-transformers' (cosine distance "
                         f"{distance:.2e} > {MAX_COSINE_DISTANCE:.0e} on {len(check_texts)} texts)")
    log.info("exported the encoder to %s: max cosine distance to sentence-transformers %.1e on %d texts",
             folder, distance, len(check_texts))
    return {"checked_texts": len(check_texts), "max_cosine_distance": distance}
