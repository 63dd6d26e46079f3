"""Typed command arguments.

A handler's parameters after `ctx` declare what the command takes; their annotations say
how to read each one:

- `str`: one word (or a "quoted group"); `int`: a whole number;
- `Rest`: everything left on the line, as typed;
- `Literal["fr", "en"]` or an `Enum`: one of the listed words, accents and case ignored;
- a class with `parse(raw, ctx)` (an `ArgType`): its own reading, e.g. `MatrixUser`;
- a default value makes the argument optional.

A value that does not fit raises `BadArgument` with a catalog key; the runtime answers with
that message and the command's usage."""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    ClassVar,
    Literal,
    Self,
    Union,
    get_args,
    get_origin,
)

from bot.errors import BadArgument
from bot.parsing import split_first
from bot.text import fold

if TYPE_CHECKING:
    from bot.context import Context
    from bot.i18n import Translator


class Greedy:
    """Marker: the parameter takes the rest of the line."""


Rest = Annotated[str, Greedy()]


class ArgType:
    """Base for argument types that read themselves."""

    greedy: ClassVar[bool] = False
    label: ClassVar[str] = ""  # catalog key of the usage label (args.<label>)

    @classmethod
    def parse(cls, raw: str, ctx: Context) -> Self:
        raise NotImplementedError


_MXID = re.compile(r"^@[^:\s]+:[^\s]+$")


class MatrixUser(str, ArgType):
    """A person: `@alice:example.org`, or a mention pill (which arrives as the ID)."""

    label = "personne"

    @classmethod
    def parse(cls, raw: str, ctx: Context) -> MatrixUser:
        value = raw.strip().rstrip(",:;")
        if not _MXID.match(value):
            raise BadArgument("args.not_user", value=raw)
        return cls(value)


Converter = Callable[[str, "Context"], Any]


@dataclass(frozen=True)
class Param:
    name: str
    label: str
    convert: Converter
    greedy: bool
    required: bool
    default: Any
    choices: tuple[str, ...] = ()

    def shown(self, tr: Translator) -> str:
        """The argument's name as usage lines show it (« numéro », not `id`)."""
        return tr.t(f"args.{self.label}") if tr.has(f"args.{self.label}") else self.label

    def usage(self, tr: Translator) -> str:
        label = self.shown(tr)
        if self.choices:
            label = "|".join(self.choices)
        return f"<{label}>" if self.required else f"[{label}]"


def _convert_str(raw: str, ctx: Context) -> str:
    return raw


def _convert_int(raw: str, ctx: Context) -> int:
    try:
        return int(raw.strip().lstrip("#"))
    except ValueError:
        raise BadArgument("args.not_integer", value=raw) from None


def _choice_converter(choices: tuple[str, ...], values: tuple[Any, ...]) -> Converter:
    folded = {fold(c): v for c, v in zip(choices, values, strict=True)}

    def convert(raw: str, ctx: Context) -> Any:
        key = fold(raw.strip())
        if key in folded:
            return folded[key]
        raise BadArgument("args.not_choice", value=raw, choices=", ".join(choices))

    return convert


def _unwrap_optional(tp: Any) -> Any:
    if get_origin(tp) in (Union, getattr(__import__("types"), "UnionType", None)):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def build_params(handler: Callable[..., Any]) -> list[Param]:
    """Read the handler's signature into parameters (the first one is the context)."""
    sig = inspect.signature(handler)
    hints = typing.get_type_hints(handler, include_extras=True)
    params: list[Param] = []
    for i, (name, p) in enumerate(sig.parameters.items()):
        if i == 0:
            continue
        tp = _unwrap_optional(hints.get(name, str))
        greedy = False
        label = name
        choices: tuple[str, ...] = ()
        if get_origin(tp) is Annotated:
            base, *meta = get_args(tp)
            greedy = any(isinstance(m, Greedy) for m in meta)
            tp = base
        if tp is str:
            convert: Converter = _convert_str
        elif tp is int:
            convert = _convert_int
        elif get_origin(tp) is Literal:
            choices = tuple(str(a) for a in get_args(tp))
            convert = _choice_converter(choices, get_args(tp))
        elif isinstance(tp, type) and issubclass(tp, Enum):
            choices = tuple(str(m.value) for m in tp)
            convert = _choice_converter(choices, tuple(tp))
        elif isinstance(tp, type) and issubclass(tp, ArgType):
            convert = tp.parse
            greedy = greedy or tp.greedy
            label = tp.label or name
        else:
            raise TypeError(f"{handler.__qualname__}: unsupported argument type for {name}: {tp}")
        required = p.default is inspect.Parameter.empty
        params.append(Param(name, label, convert, greedy, required, None if required else p.default, choices))
    return params


def parse_arguments(params: list[Param], text: str, ctx: Context) -> dict[str, Any]:
    """Apply the parameters to the argument text; raises BadArgument. An optional
    argument that does not fit is skipped (its default used) when later parameters may
    take the words: `(n: int = 1, texte: Rest)` reads « !cmd bonjour » as texte."""
    values: dict[str, Any] = {}
    rest = text.strip()
    for index, param in enumerate(params):
        if param.greedy:
            raw, after = rest, ""
        else:
            raw, after = split_first(rest)
        if not raw:
            if param.required:
                raise BadArgument("args.missing", name=param.shown(ctx.tr))
            values[param.name] = param.default
            continue
        try:
            values[param.name] = param.convert(raw, ctx)
        except BadArgument:
            if param.required or index == len(params) - 1:
                raise
            values[param.name] = param.default
            continue
        rest = after
    if rest:
        raise BadArgument("args.too_many", extra=rest)
    return values
