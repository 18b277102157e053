"""A tiny, deterministic llama-architecture GGUF written at test time with the ``gguf`` package.

The file is ~100 KB of F32, loads in tens of milliseconds and always answers the same way, so tests can assert
exact protocol facts (token counts, finish reasons, chunk counts) against a real llama.cpp.

How it works
------------
* Architecture ``llama``: 1 block, ``n_embd`` 32, 2 heads, ``n_ff`` 32, F32 tensors. Every
  attention and feed-forward weight is zero, so each block adds nothing to the residual stream
  and the hidden state at the last position is just that token's embedding: the model is a
  **bigram table**, the next token's logits depend only on the current token (the context is
  ignored, which is what makes it deterministic under any prompt).
* Embeddings: every token has a 1 in dimension 0 (a constant "bias" feature) and a 1 in exactly
  one "state" dimension (its own for the few tokens the table knows, a shared dead one for the
  rest). All embeddings have the same norm, so RMSNorm scales them identically and
  ``logit[next] = 4 * (BIAS[next] + TABLE[current][next])``.
* ``BIAS`` (column 0 of ``output.weight``) is a global preference: ``<|im_end|>`` > ``}`` >
  ``]`` > ``"`` > ``:`` > ``,`` > ``0`` > everything else (0) > whitespace (negative). Levels
  differ by at least 2x so the server's default ``repeat_penalty`` (1.1) cannot reorder them.
  Under a JSON grammar this makes greedy decoding finish: strings close, objects close, no
  whitespace, and an integer is ``0``.
* ``TABLE``: ``"\\n" -> p -> o -> n -> g``, then ``<|im_end|>`` wins on bias. A chat prompt ends
  with ``<|im_start|>assistant\\n``, so every plain chat reply is exactly ``pong`` (4 tokens,
  finish ``stop``). Inside a string, ``" -> x -> "``, so grammar-constrained JSON strings are
  ``"x"``: a tool call for ``{"city": string}`` is ``{"city":"x"}``; the schema
  ``{city: string, days: integer}`` gives ``{"city":"x","days":0}``.
* Tokenizer: ``gpt2`` byte-level BPE: the 256 byte tokens (GPT-2's byte-to-unicode alphabet,
  id = byte value), ``<|endoftext|>`` (256, BOS), ``<|im_start|>`` (257), ``<|im_end|>``
  (258, EOS/EOT), and one merge, ``Ġ Ġ`` (259, two spaces; llama.cpp requires a merges list).
  So ordinary text costs one token per byte (a double space is one token) and a ChatML prompt's
  token count can be computed exactly (:func:`chatml_prompt_tokens`).
* A ChatML ``tokenizer.chat_template``, so llama.cpp's own chat path works without a
  ``chat_format``; the server's ``chatml-function-calling`` format renders the same ChatML.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

N_EMBD = 32
N_HEAD = 2
N_FF = 32
N_LAYER = 1
N_CTX_TRAIN = 2048

BOS, IM_START, IM_END, DOUBLE_SPACE = 256, 257, 258, 259
SPECIALS = {BOS: "<|endoftext|>", IM_START: "<|im_start|>", IM_END: "<|im_end|>"}
N_VOCAB = 260

#: What greedy decoding answers to any chat prompt.
REPLY = "pong"
#: The arguments every grammar-constrained tool call gets for a ``{"city": string}`` schema.
TOOL_ARGUMENTS = '{"city":"x"}'

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

# Global preference of each token (see the module docstring); levels >= 2x apart.
BIAS: dict[int, float] = {IM_END: 64.0, ord("}"): 32.0, ord("]"): 24.0, ord('"'): 16.0,
                          ord(":"): 8.0, ord(","): 4.0, ord("0"): 2.0}
WHITESPACE_BIAS = -8.0
# Bigram table: current token -> (next token, weight). 128 beats every bias level.
TABLE: dict[int, int] = {ord("\n"): ord("p"), ord("p"): ord("o"), ord("o"): ord("n"), ord("n"): ord("g"),
                         ord('"'): ord("x"), ord("x"): ord('"')}
TABLE_WEIGHT = 128.0


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character map (what byte-level BPE vocabularies are written in)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars, strict=True)}


def vocabulary() -> list[str]:
    """Token texts by id."""
    alphabet = bytes_to_unicode()
    tokens = [alphabet[b] for b in range(256)]
    tokens += [SPECIALS[BOS], SPECIALS[IM_START], SPECIALS[IM_END], alphabet[32] * 2]
    assert len(tokens) == N_VOCAB
    return tokens


def weights() -> dict[str, np.ndarray]:
    """All tensors, in numpy (row-major, reversed ggml) shapes, as llama.cpp's ``llama`` arch names them."""
    states = sorted(TABLE)
    dead = N_EMBD - 1
    assert 1 + len(states) < dead
    state_dim = {token: 1 + i for i, token in enumerate(states)}

    embd = np.zeros((N_VOCAB, N_EMBD), dtype=np.float32)
    embd[:, 0] = 1.0
    for token in range(N_VOCAB):
        embd[token, state_dim.get(token, dead)] = 1.0

    output = np.zeros((N_VOCAB, N_EMBD), dtype=np.float32)
    for b in b" \t\n\r":
        output[b, 0] = WHITESPACE_BIAS
    output[DOUBLE_SPACE, 0] = WHITESPACE_BIAS
    for token, bias in BIAS.items():
        output[token, 0] = bias
    for current, following in TABLE.items():
        output[following, state_dim[current]] = TABLE_WEIGHT

    head_dim = N_EMBD // N_HEAD
    zeros = lambda *shape: np.zeros(shape, dtype=np.float32)  # noqa: E731
    ones = np.ones(N_EMBD, dtype=np.float32)
    tensors = {"token_embd.weight": embd, "output_norm.weight": ones.copy(), "output.weight": output}
    for i in range(N_LAYER):
        tensors |= {
            f"blk.{i}.attn_norm.weight": ones.copy(),
            f"blk.{i}.attn_q.weight": zeros(N_HEAD * head_dim, N_EMBD),
            f"blk.{i}.attn_k.weight": zeros(N_HEAD * head_dim, N_EMBD),
            f"blk.{i}.attn_v.weight": zeros(N_HEAD * head_dim, N_EMBD),
            f"blk.{i}.attn_output.weight": zeros(N_EMBD, N_HEAD * head_dim),
            f"blk.{i}.ffn_norm.weight": ones.copy(),
            f"blk.{i}.ffn_gate.weight": zeros(N_FF, N_EMBD),
            f"blk.{i}.ffn_up.weight": zeros(N_FF, N_EMBD),
            f"blk.{i}.ffn_down.weight": zeros(N_EMBD, N_FF),
        }
    return tensors


def write_tiny_gguf(path: str | Path, *, mean_pooling: bool = False) -> Path:
    """Write the model to ``path`` (the same bytes every time) and return the path."""
    import gguf

    path = Path(path)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("purpose-agent tiny deterministic test model")
    writer.add_context_length(N_CTX_TRAIN)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD)
    writer.add_rope_dimension_count(N_EMBD // N_HEAD)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(N_VOCAB)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)

    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(vocabulary())
    types = [gguf.TokenType.NORMAL] * 256 + [gguf.TokenType.CONTROL] * 3 + [gguf.TokenType.NORMAL]
    writer.add_token_types(types)
    writer.add_token_merges(["Ġ Ġ"])
    writer.add_bos_token_id(BOS)
    writer.add_eos_token_id(IM_END)
    writer.add_eot_token_id(IM_END)
    writer.add_pad_token_id(BOS)
    writer.add_add_bos_token(False)
    writer.add_add_eos_token(False)
    writer.add_chat_template(CHAT_TEMPLATE)
    if mean_pooling:  # an embedding server then returns one (mean) vector per input, not one per token
        writer.add_pooling_type(gguf.PoolingType.MEAN)

    for name, tensor in weights().items():
        writer.add_tensor(name, tensor)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def chatml_prompt(messages: Iterable[Mapping[str, str]]) -> str:
    """The prompt :data:`CHAT_TEMPLATE` (and llama-cpp-python's ChatML formats) render."""
    body = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return body + "<|im_start|>assistant\n"


def count_tokens(text: str) -> int:
    """How many tokens this vocabulary splits ``text`` (special tokens written out) into.

    One per special token and one per UTF-8 byte; text with a double space (the one merge,
    whose placement depends on the pre-tokenizer) is refused rather than guessed.
    """
    specials = sum(text.count(s) for s in SPECIALS.values())
    for special in SPECIALS.values():
        text = text.replace(special, "")
    if "  " in text:
        raise ValueError("count_tokens does not model the double-space merge; avoid double spaces")
    return specials + len(text.encode("utf-8"))


def chatml_prompt_tokens(messages: Iterable[Mapping[str, str]]) -> int:
    """The exact ``usage.prompt_tokens`` for a ChatML prompt of ``messages`` (no BOS is added)."""
    return count_tokens(chatml_prompt(messages))
