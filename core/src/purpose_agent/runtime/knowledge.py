"""A team's knowledge: standing instructions, and document sources it searches and cites.

``pa.purpose(..., knowledge=...)`` takes strings (standing instructions, as before), directories
(a ``str`` naming an existing directory, or a ``Path``: the kernel's ``knowledge`` role turns it
into a searchable source, ``purpose-agent-vault`` by default) and source objects (a ``Vault``).

:func:`answer_with_citations` is ``team.ask()`` for a team with sources: it retrieves passages,
shows the model only those relevant enough to support an answer, marked as data, and checks that
what the model cites is among them; with nothing relevant it says so instead of answering.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..models import ChatRequest, Message, TextOrigin

#: What the model replies when the passages do not answer the question.
NO_SUPPORT_REPLY = "NO SUPPORT"
#: A citation as answers write it: ``file:start-end`` (square brackets optional).
CITATION = re.compile(r"\[?([^\s\[\]()<>\"'`,;]+:\d+-\d+)\]?")


def split_knowledge(knowledge: Any, kernel: Any) -> tuple[list[str], list[Any]]:
    """``(standing instructions, knowledge sources)`` from a team's ``knowledge=`` argument."""
    if knowledge is None:
        return [], []
    items = [knowledge] if isinstance(knowledge, str | os.PathLike) or hasattr(knowledge, "search") else list(knowledge)
    instructions: list[str] = []
    sources: list[Any] = []
    for item in items:
        if isinstance(item, os.PathLike) or (isinstance(item, str) and _names_a_directory(item)):
            path = Path(item).expanduser()
            if not path.is_dir():
                raise ValueError(f"knowledge entry {str(item)!r} is not a directory; give an existing directory "
                                 "of documents, or the text of a standing instruction")
            sources.append(kernel.knowledge(str(path)))
        elif isinstance(item, str):
            instructions.append(item)
        elif hasattr(item, "search") and hasattr(item, "as_tool"):
            sources.append(item)
        else:
            raise TypeError(f"knowledge entries are texts, directories or sources with search() and as_tool(), "
                            f"not {type(item).__name__}")
    return instructions, sources


def _names_a_directory(text: str) -> bool:
    """Whether a knowledge string is meant as a directory: it exists as one, or it is one short
    path-like word (``./docs/``, ``~/notes``) that does not exist (then an error says so)."""
    if "\n" in text or len(text) > 4096:
        return False
    if os.path.isdir(os.path.expanduser(text)):
        return True
    return " " not in text and (text.startswith(("./", "../", "~/", "/")) and text.endswith("/"))


def source_tools(sources: Sequence[Any]) -> list[Any]:
    """One search tool per source: ``search_documents``, then ``search_documents_2``, …"""
    return [source.as_tool(name="search_documents" if n == 1 else f"search_documents_{n}")
            for n, source in enumerate(sources, start=1)]


class CitedAnswer(str):
    """``team.ask()``'s answer: the text, and what supports it.

    ``supported`` is false when the documents held nothing relevant (or the model found no answer
    in them, or cited none of them); ``citations`` are the ``file:start-end`` it cited that were
    among the passages it was shown; ``dropped`` those it cited that were not (removed from the
    text); ``passages`` what it was shown.
    """

    supported: bool
    citations: tuple[str, ...]
    dropped: tuple[str, ...]
    passages: tuple[Any, ...]

    def __new__(cls, text: str, *, supported: bool, citations: Sequence[str] = (), dropped: Sequence[str] = (),
                passages: Sequence[Any] = ()) -> CitedAnswer:
        answer = super().__new__(cls, text)
        answer.supported = supported
        answer.citations = tuple(citations)
        answer.dropped = tuple(dropped)
        answer.passages = tuple(passages)
        return answer


def answer_with_citations(question: str, sources: Sequence[Any], *, backend: Any, purpose: str,
                          instructions: Sequence[str] = (), spotlight: str = "delimit", k: int = 5) -> CitedAnswer:
    """Answer ``question`` from the sources' relevant passages with citations, or say there is no support."""
    from .untrusted import Spotlight

    found = sorted((p for source in sources for p in source.search(question, k=k)),
                   key=lambda p: p.relevance if p.relevance is not None else 0.0, reverse=True)
    relevant = [p for p in found if p.relevant][:k]
    if not relevant:
        return CitedAnswer(_no_support(question, found), supported=False, passages=found)
    boundary = Spotlight(mode="datamark" if spotlight == "datamark" else "delimit")
    system = (
        f"You answer questions for a team whose purpose is: {purpose}.\n"
        "Answer only from the passages in the user's message. After each statement, cite the passage it comes "
        "from by its location in square brackets exactly as written before the passage, like [guide.md:10-24]. "
        f"If the passages do not answer the question, reply exactly {NO_SUPPORT_REPLY} and nothing else; "
        "never answer from memory.\n" + boundary.rule())
    if instructions:
        system += "\nWhat the team knows:\n" + "\n".join(f"- {k}" for k in instructions)
    shown = "\n\n".join(
        f"[{p.citation}]" + (f" {p.heading}" if p.heading else "") + "\n"
        + boundary.wrap(p.text, TextOrigin(kind="document", name=p.citation)) for p in relevant)
    request = ChatRequest(messages=[Message(role="system", content=system),
                                    Message(role="user", content=f"Question: {question}\n\nPassages:\n\n{shown}")])
    reply = (backend.complete(request).message.content or "").strip()
    return check_citations(reply, relevant, question)


def check_citations(reply: str, shown: Sequence[Any], question: str) -> CitedAnswer:
    """The model's reply as a :class:`CitedAnswer`: citations of passages it was not shown are
    removed; a reply that says there is no support, or cites nothing it was shown, is no support."""
    allowed = {p.citation for p in shown}
    if reply.strip().strip(".").upper() == NO_SUPPORT_REPLY or not reply.strip():
        return CitedAnswer(_no_support(question, shown, looked=True), supported=False, passages=shown)
    cited = [m.group(1) for m in CITATION.finditer(reply)]
    kept = list(dict.fromkeys(c for c in cited if c in allowed))
    dropped = list(dict.fromkeys(c for c in cited if c not in allowed))
    if not kept:
        why = "it cited none of the passages it was shown" if not dropped else \
            f"it cited only locations it was not shown ({', '.join(dropped[:3])})"
        return CitedAnswer(f"No supported answer: the documents were searched, but the model's answer was not used "
                           f"because {why}. Closest passages: {_closest(shown)}.",
                           supported=False, dropped=dropped, passages=shown)
    text = reply
    for citation in dropped:
        text = re.sub(r"\s*\[?" + re.escape(citation) + r"\]?", "", text)
    if dropped:
        text += f"\n\n(Removed citations of passages the model was not shown: {', '.join(dropped)}.)"
    return CitedAnswer(text, supported=True, citations=kept, dropped=dropped, passages=shown)


def _no_support(question: str, passages: Sequence[Any], *, looked: bool = False) -> str:
    if not passages:
        return "The documents hold nothing that answers this: no passage matches the question."
    if looked:
        return f"The documents do not answer this: the closest passages ({_closest(passages)}) do not say."
    return f"The documents hold nothing that answers this: the closest passages ({_closest(passages)}) are not about it."


def _closest(passages: Sequence[Any], limit: int = 3) -> str:
    return ", ".join(p.citation for p in passages[:limit]) or "none"


class Vault:
    """``pa.Vault.from_directory("./docs/")``: a vault from the installed knowledge plugin.

    The kernel imports no plugin by name, so this asks the ``knowledge`` role
    (``purpose-agent-vault`` by default); the object returned is the plugin's own
    (``purpose_agent_vault.Vault``: ``search``, ``refresh``, ``flagged``, ``as_tool``).
    """

    def __init__(self) -> None:
        raise TypeError("build a vault with pa.Vault.from_directory(path, pattern=...)")

    @staticmethod
    def from_directory(path: str | os.PathLike[str], pattern: str | Sequence[str] | None = None, *,
                       kernel: Any = None, name: str | None = None, **options: Any) -> Any:
        """The vault of the directory ``path`` (files matching ``pattern``), indexed up to date."""
        if kernel is None:
            from ..kernel import Kernel

            kernel = Kernel.load()
        if not Path(path).expanduser().is_dir():
            raise ValueError(f"{path} is not a directory; give the directory that holds your documents")
        source = kernel.knowledge(str(path), name, pattern=pattern, **options)
        refresh = getattr(source, "refresh", None)
        if refresh is not None:
            refresh()
        return source
