"""The kernel's public contract for plugins (:class:`KernelServices`) is typed and the kernel meets it."""

from __future__ import annotations

import inspect
import typing

from purpose_agent.interfaces import ComponentContext, KernelServices
from purpose_agent.kernel import Kernel


def test_component_context_type_hints_resolve_to_the_kernel_services_contract() -> None:
    # Tools that read annotations (docs, settings validators, IDEs) call get_type_hints; it used to
    # raise NameError because the annotation named Kernel, imported only for type checking.
    hints = typing.get_type_hints(ComponentContext)
    assert hints["kernel"] is KernelServices


def test_kernel_offers_every_service_with_the_same_parameters() -> None:
    services = [
        name for name, member in vars(KernelServices).items()
        if callable(member) and not name.startswith("_")
    ]
    assert "backend" in services and "scan_many" in services
    for name in services:
        contract = inspect.signature(getattr(KernelServices, name))
        offered = inspect.signature(getattr(Kernel, name))
        assert list(contract.parameters) == list(offered.parameters), name


def test_kernel_accessors_return_what_the_contract_promises() -> None:
    # The kernel's accessors once returned Any where the contract named a protocol, so a plugin
    # typed against Kernel lost every check mypy could make on what it was handed.
    services = [
        name for name, member in vars(KernelServices).items()
        if callable(member) and not name.startswith("_")
    ]
    for name in services:
        promised = inspect.signature(getattr(KernelServices, name)).return_annotation
        returned = inspect.signature(getattr(Kernel, name)).return_annotation
        assert "Any" not in str(promised), f"KernelServices.{name} returns {promised}"
        assert returned == promised, f"Kernel.{name} returns {returned}, the contract promises {promised}"

