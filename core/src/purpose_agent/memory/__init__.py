"""The memory pipeline's shared parts: retrieval, usefulness, lifecycle and transfer.

Submodules, each importable on its own (this package imports nothing at import time, so a
plugin that needs one piece does not pay for the others, nor for pydantic):

* :mod:`purpose_agent.memory.usefulness`: the usefulness value (Q with decay and an
  exploration bonus) and how one use updates it;
* :mod:`purpose_agent.memory.retrieval`: relevance first, usefulness second, a minimum score, a
  token budget and K as a ceiling; works with any :class:`~purpose_agent.interfaces.MemoryStore`;
* :mod:`purpose_agent.memory.lifecycle`: status transitions and rollback;
* :mod:`purpose_agent.memory.transfer`: lossless JSONL export and import, history included;
* :mod:`purpose_agent.memory.errors`: the errors the above raise.

See docs/memory.md for the formulas and the policies.
"""
