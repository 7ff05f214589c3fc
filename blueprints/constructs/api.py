"""What every public construct of blueprints does on the way in: it explains itself and checks its arguments.

jsii's metaclass hides a construct's signature (``inspect.signature`` and ``help()`` show ``(*args, **kwargs)``)
and lets a wrong type through to a deep ``AttributeError`` (``'int' object has no attribute 'to_seconds'``).
:func:`explain` is applied once to every public construct class (in ``blueprints/__init__.py``):

- the class gets its ``__init__``'s real signature (``__signature__``, with readable defaults such as
  ``Duration.minutes(30)``) and a docstring made of the class's and ``__init__``'s;
- each call checks the arguments given against the annotations before the construct's own code runs, so
  before any resource exists, and raises ``TypeError`` naming the construct, the argument and the expected type;
- an argument annotated with a blueprints enum accepts the member or its value string (``mode="replace"``);
  any other string is refused with the accepted values listed.
"""

from __future__ import annotations

import collections.abc
import enum
import functools
import inspect
import pathlib
import types
import typing
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch

#: Arguments renamed in 0.x, so that the old keyword gets a message saying what to use instead.
RENAMED = {"alarm_topic": "notification_topic", "data": "removal_policy"}

_SEQUENCES = {
    collections.abc.Sequence,
    collections.abc.MutableSequence,
    collections.abc.Collection,
    collections.abc.Iterable,
    list,
    tuple,
}
_MAPPINGS = {collections.abc.Mapping, collections.abc.MutableMapping, dict}
_UNITS = (("days", 86400), ("hours", 3600), ("minutes", 60), ("seconds", 1))


class _Shown:
    """A default as it reads in a signature (``Duration.minutes(30)``, not ``<aws_cdk.Duration object ...>``)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def duration_text(value: Duration) -> str:
    """``Duration.minutes(30)`` for a 30-minute duration: the largest unit that divides it."""
    seconds = value.to_seconds()
    for unit, size in _UNITS:
        if seconds % size == 0:
            return f"Duration.{unit}({int(seconds // size)})"
    return f"Duration.seconds({seconds})"  # pragma: no cover - Duration.seconds takes whole numbers only


def _shown(default: object) -> object:
    if isinstance(default, Duration):
        return _Shown(duration_text(default))
    if isinstance(default, enum.Enum):
        return _Shown(f"{type(default).__name__}.{default.name}")
    return default


def _jsii_types(value: object) -> set[str]:
    """The jsii type names ``value`` is or implements (its classes, their interfaces and theirs)."""
    delegates = getattr(value, "_delegates", None)
    objects = delegates if type(value).__name__ == "InterfaceDynamicProxy" and delegates else [value]
    names: set[str] = set()
    for obj in objects:
        for cls in type(obj).__mro__:
            name = cls.__dict__.get("__jsii_type__")
            if name:
                names.add(name)
            for iface in cls.__dict__.get("__jsii_ifaces__", ()):
                names.update(i.__dict__["__jsii_type__"] for i in iface.__mro__ if "__jsii_type__" in i.__dict__)
    return names


def _is_jsii_interface(hint: object) -> bool:
    return isinstance(hint, type) and getattr(hint, "_is_protocol", False) and "__jsii_type__" in hint.__dict__


def type_text(hint: object) -> str:
    """A type as a user writes it: ``Duration``, ``Sequence[str]``, ``ec2.IVpc | None``."""
    if hint is type(None):
        return "None"
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_text(arg) for arg in typing.get_args(hint))
    if origin is not None:
        args = ", ".join("..." if arg is Ellipsis else type_text(arg) for arg in typing.get_args(hint))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if isinstance(hint, type):
        module = hint.__module__
        if module.startswith("aws_cdk.aws_"):
            return f"{module.split('.')[1].removeprefix('aws_')}.{hint.__name__}"
        return hint.__name__
    return str(hint)


def _blueprints_enums(hint: object) -> list[type[enum.Enum]]:
    members = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    return [
        m for m in members if isinstance(m, type) and issubclass(m, enum.Enum) and m.__module__.startswith("blueprints")
    ]


def enum_member(owner: str, name: str, value: object, enum_type: type[enum.Enum]) -> enum.Enum:
    """``value`` as a member of ``enum_type``: the member itself or its value string."""
    if isinstance(value, enum_type):
        return value
    for member in enum_type:
        if isinstance(value, str) and member.value == value:
            return member
    accepted = ", ".join(f"{enum_type.__name__}.{m.name} or {m.value!r}" for m in enum_type)
    raise ValueError(f"{owner}: argument {name!r} must be one of {accepted}; got {value!r}")


def problem(value: object, hint: object) -> str | None:
    """Why ``value`` does not match ``hint`` (None: it does). Checks every item of a sequence or mapping."""
    if hint is Any or hint is object or isinstance(hint, (typing.TypeVar, str)):
        return None
    if hint is None or hint is type(None):
        return None if value is None else f"got {type(value).__name__} {value!r}"
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        reasons = [problem(value, arg) for arg in args]
        if any(reason is None for reason in reasons):
            return None
        real = [reason for arg, reason in zip(args, reasons, strict=True) if arg is not type(None)]
        return real[0] if len(real) == 1 else f"got {type(value).__name__} {value!r}"
    if origin is typing.Literal:
        return None if value in args else f"got {value!r}"
    if origin in _SEQUENCES:
        if isinstance(value, (str, bytes)):
            return f"got the single string {value!r}, not a sequence: wrap it in a list, [{value!r}]"
        if not isinstance(value, collections.abc.Iterable) or isinstance(value, collections.abc.Mapping):
            return f"got {type(value).__name__} {value!r}"
        item = args[0] if args and (len(args) == 1 or args[-1] is Ellipsis) else Any
        for index, element in enumerate(value):
            reason = problem(element, item)
            if reason is not None:
                return f"got {type(value).__name__} whose item {index} is not {type_text(item)}: {reason}"
        return None
    if origin in _MAPPINGS:
        if not isinstance(value, collections.abc.Mapping):
            return f"got {type(value).__name__} {value!r}"
        key_hint, item_hint = args if len(args) == 2 else (Any, Any)
        for key, element in value.items():
            reason = problem(key, key_hint) or problem(element, item_hint)
            if reason is not None:
                return f"got a mapping whose item {key!r} does not match: {reason}"
        return None
    if origin is not None:
        hint = origin
    if origin is collections.abc.Callable or hint is collections.abc.Callable:
        return None if callable(value) else f"got {type(value).__name__} {value!r}"
    if _is_jsii_interface(hint):
        if hint.__dict__["__jsii_type__"] in _jsii_types(value):
            return None
        return f"got {type(value).__name__} {value!r}"
    if not isinstance(hint, type):
        return None
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return None
    if hint is int and isinstance(value, bool):
        return f"got bool {value!r}"
    if hint is pathlib.Path and isinstance(value, pathlib.PurePath):
        return None
    if isinstance(value, hint):
        return None
    return f"got {type(value).__name__} {value!r}"


@functools.cache
def _hints(init: Any) -> dict[str, object]:
    """The annotations of ``init``, each resolved on its own (one that cannot be resolved is not checked)."""
    namespace = dict(init.__globals__)
    hints: dict[str, object] = {}
    for name, annotation in inspect.get_annotations(init).items():
        if name == "return":
            continue
        try:
            hints[name] = eval(annotation, namespace) if isinstance(annotation, str) else annotation  # noqa: S307
        except Exception:  # noqa: S112 - an annotation only a type checker can read is left unchecked
            continue
    return hints


def checked_arguments(owner: str, init: Any, args: tuple[object, ...], kwargs: dict[str, object]) -> dict[str, object]:
    """Check the arguments given to ``init`` against its annotations; return the keywords with enums coerced."""
    signature = inspect.signature(init)
    accepted = [p for p in signature.parameters if p not in ("self", "scope", "id")]
    for key in kwargs:
        if key not in signature.parameters and not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            renamed = f" ({key} was renamed {RENAMED[key]})" if key in RENAMED else ""
            raise TypeError(f"{owner} got an unexpected argument {key!r}{renamed}; it accepts {', '.join(accepted)}")
    try:
        bound = signature.bind_partial(None, *args, **kwargs)
    except TypeError as err:
        raise TypeError(f"{owner}: {err}") from err
    hints = _hints(init)
    coerced = dict(kwargs)
    for name, value in bound.arguments.items():
        hint = hints.get(name)
        if hint is None or signature.parameters[name].kind in (
            inspect.Parameter.VAR_KEYWORD,
            inspect.Parameter.VAR_POSITIONAL,
        ):
            continue
        enums = _blueprints_enums(hint)
        if enums and isinstance(value, str):
            value = enum_member(owner, name, value, enums[0])
            if name in coerced:
                coerced[name] = value
        reason = problem(value, hint)
        if reason is not None:
            raise TypeError(f"{owner}: argument {name!r} must be {type_text(hint)}; {reason}")
    return coerced


def _doc(cls: type) -> str:
    parts = [inspect.cleandoc(cls.__dict__.get("__doc__") or "")]
    init = cls.__dict__.get("__init__")
    if init is not None and init.__doc__:
        parts.append(inspect.cleandoc(init.__doc__))
    return "\n\n".join(p for p in parts if p)


def explain(cls: type) -> type:
    """Give ``cls`` its real signature and docstring, and check its arguments on every call (see the module)."""
    if getattr(cls, "__blueprints_explained__", None) is cls:
        return cls
    init = cls.__dict__.get("__init__")
    if init is not None:

        @functools.wraps(init)
        def checked_init(self: object, *args: object, **kwargs: object) -> None:
            kwargs = checked_arguments(cls.__name__, init, args, kwargs)
            init(self, *args, **kwargs)

        cls.__init__ = checked_init  # type: ignore[misc]
    signature = inspect.signature(cls.__init__)  # type: ignore[misc]
    parameters = list(signature.parameters.values())[1:]
    cls.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p.replace(default=_shown(p.default)) for p in parameters]
    )
    cls.__doc__ = _doc(cls)
    cls.__blueprints_explained__ = cls  # type: ignore[attr-defined]
    return cls


#: The CloudWatch namespace every handler of blueprints publishes to (``POWERTOOLS_METRICS_NAMESPACE``).
METRIC_NAMESPACE = "Blueprints"


def handler_metric(
    metric_name: str,
    dimensions: dict[str, str],
    *,
    statistic: str,
    period: Duration | None = None,
    label: str | None = None,
) -> cloudwatch.Metric:
    """A ``cloudwatch.Metric`` in the ``Blueprints`` namespace, with exactly the dimensions a handler sends.

    CloudWatch matches a metric on its whole set of dimensions, so these are all of them: Powertools' ``service``
    plus those the handler adds.
    """
    return cloudwatch.Metric(
        namespace=METRIC_NAMESPACE,
        metric_name=metric_name,
        dimensions_map=dimensions,
        statistic=statistic,
        period=period or Duration.minutes(5),
        label=label,
    )
