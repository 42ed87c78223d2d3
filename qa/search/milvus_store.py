"""Dense search on Milvus: Milvus Lite in a file for one box, the same code on a cluster by URI.

The index folder stays the source of truth: its passage vectors are copied into a
collection named after the hash of dense.faiss (from the manifest), so the copy is made
once per index generation and re-made only when the vectors change. FLAT + inner product
keeps the search exact, like FAISS's IndexFlatIP; the primary key is the passage row.

    QA_VECTOR_STORE=milvus:./milvus.db              # Milvus Lite (pip install 'qa[milvus]')
    QA_VECTOR_STORE=milvus:http://host:19530        # a cluster; token from $QA_MILVUS_TOKEN
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import MissingDependencyError, VectorStoreError
from qa.index.passage_index import PassageIndex

from .dense_store import DenseStore, FaissStore

log = logging.getLogger(__name__)
STORE_ENV = "QA_VECTOR_STORE"
TOKEN_ENV = "QA_MILVUS_TOKEN"
INSERT_BATCH = 2000  # rows per insert: ~3 MB of float32 at 384 dimensions, under gRPC's 64 MB cap
MAX_TOPK = 16384  # Milvus refuses a larger limit


def open_store(spec: str | None, index: PassageIndex) -> DenseStore:
    """The dense store named by `spec` (default $QA_VECTOR_STORE, else FAISS) for `index`.

    Examples: "faiss", "milvus:./milvus.db", "milvus:http://host:19530".
    """
    spec = (spec if spec is not None else os.environ.get(STORE_ENV, "")).strip()
    if spec in ("", "faiss"):
        return FaissStore(index.dense)
    kind, _, target = spec.partition(":")
    if kind != "milvus" or not target:
        raise VectorStoreError(
            f"unknown vector store {spec!r}; use 'faiss' (the default), 'milvus:./milvus.db' "
            f"(Milvus Lite) or 'milvus:http://host:19530' (a cluster)"
        )
    return MilvusStore.for_index(index, target, token=os.environ.get(TOKEN_ENV, ""))


def collection_name(index: PassageIndex) -> str:
    """qa_<index folder>_<vectors>: the second part changes exactly when the passage vectors do."""
    key = f"{index.manifest.get('model_fingerprint')}:{index.vectors_key}:{index.dense.ntotal}"
    return f"{folder_prefix(index)}{hashlib.sha256(key.encode()).hexdigest()[:20]}"


def folder_prefix(index: PassageIndex) -> str:
    """qa_<hash of the index folder's path>_, shared by every copy made for that folder."""
    return f"qa_{hashlib.sha256(str(index.root.resolve()).encode()).hexdigest()[:8]}_"


class MilvusStore:
    """Exact top-k by inner product in one Milvus collection whose primary key is the passage row."""

    def __init__(self, client: Any, collection: str):
        self.client, self.collection = client, collection

    @classmethod
    def for_index(cls, index: PassageIndex, target: str, token: str = "") -> MilvusStore:
        """Connect to `target` (a .db file or a URI) and make sure it holds `index`'s vectors."""
        store = cls(connect(target, token), collection_name(index))
        # Copies of earlier generations are left alone: a chat or another process may still
        # be searching one (drop_stale removes them once none is).
        try:
            if store.count() != index.dense.ntotal:
                store.load(index.vectors())
        except Exception as ex:  # pymilvus raises its own types; users get one clear line
            raise VectorStoreError(
                f"Milvus at {target} could not hold the index's vectors ({type(ex).__name__}: "
                f"{str(ex)[:200]}); check the server and its permissions, or drop --vector-store"
            ) from None
        return store

    def count(self) -> int:
        """Rows in the collection; -1 if it does not exist."""
        if not self.client.has_collection(self.collection):
            return -1
        self.client.load_collection(self.collection)  # a server may have released it
        found = self.client.query(self.collection, filter="", output_fields=["count(*)"])
        return int(found[0]["count(*)"])

    def load(self, vectors: np.ndarray) -> None:
        """(Re)create the collection and insert `vectors`, row i with primary key i."""
        from pymilvus import DataType, MilvusClient

        log.info("copying %d vectors into Milvus collection %s", len(vectors), self.collection)
        if self.client.has_collection(self.collection):  # a copy cut short
            self.client.drop_collection(self.collection)
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("row", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=int(vectors.shape[1]))
        params = self.client.prepare_index_params()
        params.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
        self.client.create_collection(self.collection, schema=schema, index_params=params)
        for start in range(0, len(vectors), INSERT_BATCH):
            block = np.asarray(vectors[start : start + INSERT_BATCH], dtype=np.float32)
            rows = [{"row": start + i, "vector": v} for i, v in enumerate(block.tolist())]
            self.client.insert(self.collection, rows)
        self.client.flush(self.collection)
        self.client.load_collection(self.collection)

    def drop_stale(self, prefix: str) -> None:
        """Drop the copies of earlier generations of the same index folder."""
        for name in self.client.list_collections():
            if name.startswith(prefix) and name != self.collection:
                log.info("dropping %s, a copy of an earlier index generation", name)
                self.client.drop_collection(name)

    def search(
        self, queries: np.ndarray, k: int, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows), each (len(queries), k), best first; row -1 pads a short result."""
        if not 1 <= k <= MAX_TOPK:
            raise VectorStoreError(f"k={k} is out of range for Milvus; choose 1 to {MAX_TOPK}")
        extra: dict[str, Any] = {}
        if rows is not None:
            # A literal list: Milvus Lite does not take filter templates (filter_params).
            extra = {"filter": f"row in [{','.join(str(int(r)) for r in rows)}]"}
        try:
            found = self.client.search(
                self.collection,
                data=np.asarray(queries, dtype=np.float32).tolist(),
                limit=k,
                output_fields=["row"],
                search_params={"metric_type": "IP"},
                **extra,
            )
        except Exception as ex:  # pymilvus raises its own types; users get one clear line
            raise VectorStoreError(
                f"Milvus search in {self.collection} failed ({type(ex).__name__}: {str(ex)[:200]}); "
                "check the server, or drop --vector-store to search with FAISS"
            ) from None
        # Padded as FAISS pads a short result, so callers need not know which store answered.
        scores = np.full((len(queries), k), -np.finfo(np.float32).max, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        for q, hits in enumerate(found):
            for j, hit in enumerate(hits):
                scores[q, j], ids[q, j] = hit["distance"], hit["row"]
        return scores, ids

    def close(self) -> None:
        self.client.close()


def _lite_noise(record: logging.LogRecord) -> bool:
    # pymilvus asks for a timestamp Milvus Lite's in-process server does not serve, logs the
    # refusal as an ERROR, and carries on without it: nothing for a user to act on.
    return "Method not implemented" not in record.getMessage()


def connect(target: str, token: str = "") -> Any:
    """A MilvusClient for a Milvus Lite file (path) or a server (http://, https://, tcp://)."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise MissingDependencyError(
            "the Milvus vector store needs pymilvus (and milvus-lite for a local file); "
            "run `pip install 'qa[milvus]'`"
        ) from None
    remote = target.startswith(("http://", "https://", "tcp://", "grpc://"))
    uri = target if remote else str(Path(target).resolve())
    if not remote:
        logging.getLogger("grpc._server").addFilter(_lite_noise)
    try:
        return MilvusClient(uri=uri, token=token) if remote else MilvusClient(uri)
    except Exception as ex:  # pymilvus raises its own MilvusException, and OSError for Lite files
        hint = "is the server up and the token ($QA_MILVUS_TOKEN) right?" if remote else "is it writable?"
        raise VectorStoreError(f"cannot open Milvus at {target} ({str(ex)[:200]}); {hint}") from None
