"""``@pa.tool``: turn a typed Python function into a tool the actor can call.

The function's signature becomes a pydantic model; the model's JSON schema is what the LLM sees,
and every call's arguments are validated against it before the function runs. Invalid arguments
and exceptions come back as a failed :class:`~purpose_agent.models.Observation` with a sentence
the model can act on — a tool never raises into the loop.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from ..models import Observation


class FunctionTool:
    """A tool backed by a Python function with type-annotated parameters."""

    def __init__(self, function: Callable[..., Any], *, name: str | None = None, description: str | None = None) -> None:
        self.function = function
        self.name = name or function.__name__
        self.description = (description or inspect.getdoc(function) or self.name).strip().splitlines()[0]
        self.arguments_model = _arguments_model(function, self.name)
        schema = self.arguments_model.model_json_schema()
        schema.pop("title", None)
        self.parameters: dict[str, Any] = schema

    def run(self, arguments: dict[str, Any]) -> Observation:
        """Validate ``arguments`` and call the function; failures become failed observations."""
        try:
            parsed = self.arguments_model.model_validate(arguments)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}" for err in exc.errors()
            )
            return Observation(ok=False, error=f"invalid arguments for tool '{self.name}': {problems}")
        try:
            result = self.function(**parsed.model_dump())
        except Exception as exc:
            return Observation(ok=False, error=f"tool '{self.name}' raised {type(exc).__name__}: {exc}")
        if isinstance(result, Observation):
            return result
        return Observation(ok=True, output=result if isinstance(result, str) else repr(result))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<tool {self.name}>"


def _arguments_model(function: Callable[..., Any], name: str) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    hints = inspect.get_annotations(function, eval_str=True)
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise TypeError(f"tool '{name}': *args and **kwargs cannot be described to a model; name each parameter")
        annotation = hints.get(parameter.name, Any)
        default = ... if parameter.default is parameter.empty else parameter.default
        fields[parameter.name] = (annotation, default)
    return create_model(f"{name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)


def tool(function: Callable[..., Any] | None = None, *, name: str | None = None, description: str | None = None) -> Any:
    """Decorate a function to make it a tool: ``@pa.tool`` or ``@pa.tool(name="search")``.

    The first line of the docstring is the description the model sees; parameters need type hints.
    """
    if function is None:
        return lambda f: FunctionTool(f, name=name, description=description)
    return FunctionTool(function, name=name, description=description)
