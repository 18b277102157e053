"""Embedders served over HTTP: OpenAI's ``/embeddings`` protocol and Ollama's ``/api/embed``.

An :class:`HTTPEmbedder` sends texts through a provider's :class:`~purpose_agent_http.HTTPBackend`
(so keys, base URL, timeouts, retries with ``Retry-After`` and error mapping are the provider's
own) and returns what the kernel's :class:`purpose_agent.interfaces.Embedder` contract asks for:
float32 rows, L2-normalised, in input order, ``(0, dimension)`` for no texts.

Long texts are **truncated** to ``max_chars`` characters before they are sent (servers reject an
input over the model's token limit with a 400, or cut it themselves without saying where). The
cut is by characters because the client does not know the server's tokenizer: 8,000 characters
stays under the 8,191-token limit of OpenAI's embedding models even for text of one token per
character, and is about what a sentence-embedding model can represent anyway.

numpy is imported on the first :meth:`HTTPEmbedder.embed`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from purpose_agent.errors import ResponseFormatError
from purpose_agent.interfaces import is_loopback

#: Characters of one text sent to the server (see the module docstring).
DEFAULT_MAX_CHARS = 8000
#: Texts per request: OpenAI accepts 2,048 inputs per call; smaller batches keep one failed
#: request cheap to retry and bodies far below proxies' size limits.
DEFAULT_BATCH_SIZE = 64


def sends_off_machine(base_url: str) -> bool:
    """Whether texts sent to ``base_url`` leave this machine (anything but a loopback host)."""
    return not is_loopback(urlsplit(base_url).hostname or "")


class HTTPEmbedder:
    """Sentence embeddings from a model behind an HTTP API (subclasses speak the protocol).

    Args:
        client: the provider's backend, used only as the HTTP client (``post_json``).
        model: the embedding model's name on the server.
        dimension: the vector length, when known in advance (OpenAI's ``text-embedding-3-*``
            can also be asked for a shorter one: it is then sent as ``dimensions``). Unknown,
            it is learned from the first reply (embedding one short probe text if
            :attr:`dimension` is read before any :meth:`embed`).
        batch_size: texts per request.
        max_chars: each text is cut to this many characters before it is sent.
    """

    #: The request path, relative to the provider's base URL.
    path = "/embeddings"
    #: Fields of every request besides the model, the texts and the dimension.
    request_options: dict[str, Any] = {"encoding_format": "float"}
    #: The reply's key that holds the vectors.
    reply_key = "data"

    def __init__(self, client: Any, model: str, *, dimension: int | None = None,
                 batch_size: int = DEFAULT_BATCH_SIZE, max_chars: int = DEFAULT_MAX_CHARS,
                 request_dimension: bool = False) -> None:
        if not model:
            raise ValueError(f"{client.provider}: no embedding model is configured; set "
                             f"[plugins.{client.provider}] embedding_model = \"NAME\"")
        self._client = client
        self.model = model
        self._dimension = dimension
        self._request_dimension = request_dimension and dimension is not None
        self.batch_size = max(1, int(batch_size))
        self.max_chars = max(1, int(max_chars))
        self.provider = client.provider
        #: True when ``embed`` sends text off this machine: the kernel never picks such an
        #: embedder unless the configuration names it.
        self.remote = sends_off_machine(client.base_url)

    # ------------------------------------------------------------------ contract

    @property
    def model_id(self) -> str:
        """``provider:model`` (plus the requested dimension), with the host for a server that is
        not the provider's own: the same model name on two servers may be two different models."""
        ident = f"{self.provider}:{self.model}"
        if self._request_dimension:
            ident += f"@{self._dimension}d"
        default = getattr(type(self._client), "default_base_url", "")
        if self._client.base_url.rstrip("/") != str(default).rstrip("/"):
            ident += f"@{urlsplit(self._client.base_url).netloc}"
        return ident

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self.embed(["dimension probe"])
        assert self._dimension is not None
        return self._dimension

    def embed(self, texts: Sequence[str]) -> Any:
        import numpy as np

        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        rows: list[Any] = []
        for start in range(0, len(texts), self.batch_size):
            batch = [self._clip(text) for text in texts[start:start + self.batch_size]]
            reply = self._client.post_json(self.path, self.request_body(batch))
            rows.extend(self._checked(self.vectors_of(reply, len(batch)), len(batch)))
        matrix = np.asarray(rows, dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        if not np.all(norms > 0):
            raise self._bad_reply("a vector of length zero (cannot be normalised)")
        return matrix / norms

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ protocol (subclasses)

    def request_body(self, batch: list[str]) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "input": batch, **self.request_options}
        if self._request_dimension:
            body["dimensions"] = self._dimension
        return body

    def vectors_of(self, reply: Any, count: int) -> list[Any]:
        """The vectors of ``reply`` in input order (OpenAI's ``data`` items carry an ``index``)."""
        data = self._reply_list(reply)
        try:
            ordered = sorted(data, key=lambda item: int(item.get("index", 0)))
            return [item["embedding"] for item in ordered]
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise self._bad_reply(f"an item of 'data' has no usable 'index'/'embedding' ({exc})") from exc

    # ------------------------------------------------------------------ helpers

    def _reply_list(self, reply: Any) -> list[Any]:
        """The list under :attr:`reply_key` in ``reply``; a readable error when there is none."""
        found = reply.get(self.reply_key) if isinstance(reply, dict) else None
        if not isinstance(found, list):
            raise self._bad_reply(f"no {self.reply_key!r} list in the reply: {str(reply)[:120]!r}")
        return found

    def _clip(self, text: str) -> str:
        text = str(text)[: self.max_chars]
        # Servers reject an empty input; a single space embeds as "no content" everywhere.
        return text if text.strip() else " "

    def _checked(self, vectors: list[Any], count: int) -> list[Any]:
        if len(vectors) != count:
            raise self._bad_reply(f"{len(vectors)} vectors for {count} texts")
        for vector in vectors:
            if isinstance(vector, list) and vector and all(isinstance(x, list) for x in vector):
                raise self._bad_reply("one vector per token instead of one per text: the model does no pooling "
                                      "(a chat model, not a sentence-embedding model); serve an embedding model")
            if not isinstance(vector, list) or not vector or not all(
                isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in vector
            ):
                raise self._bad_reply("a vector that is not a non-empty list of finite numbers")
            if self._dimension is None:
                self._dimension = len(vector)
            elif len(vector) != self._dimension:
                raise self._bad_reply(f"a vector of {len(vector)} numbers where {self._dimension} were expected "
                                      "(a different model behind the same name? set embedding_dimensions)")
        return vectors

    def _bad_reply(self, what: str) -> ResponseFormatError:
        return ResponseFormatError(
            f"{self.provider}: the embeddings reply for model {self.model!r} has {what}; "
            "check that the server serves an embedding model at this base URL.",
            provider=self.provider,
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.provider}:{self.model} at {self._client.base_url}>"


class OpenAIEmbedder(HTTPEmbedder):
    """OpenAI's ``POST /embeddings`` (also served by llama.cpp, vLLM, LM Studio, Together, ...)."""


class OllamaEmbedder(HTTPEmbedder):
    """Ollama's ``POST /api/embed`` (``{"model", "input": [...]}`` -> ``{"embeddings": [...]}``).

    ``truncate`` is sent as true, so a text over the model's context is cut by Ollama too.
    """

    path = "/api/embed"
    request_options = {"truncate": True}
    reply_key = "embeddings"

    def vectors_of(self, reply: Any, count: int) -> list[Any]:
        return self._reply_list(reply)
