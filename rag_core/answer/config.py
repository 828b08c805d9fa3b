"""A whole playground setup as data: `PlaygroundConfig`, written and read as TOML or JSON, so a
person can send a colleague the exact setup and the CLI can run it (`--config FILE`).

Read it in three parts:

1. the dataclasses (`PlaygroundConfig` = index + chunking + retrieval + answer). The chunking
   and retrieval sections *are* the core's `ChunkingConfig` and `RetrievalSettings`: their
   fields are read from the dataclasses (`dataclasses.fields` + type hints), so a field added
   there (retrieval mode, fusion, alpha, MMR, neighbours ...) is exported, imported and
   validated with no change here;
2. `to_dict` / `from_dict` and the two formats (`dumps_toml`, `dumps_json`, `loads`, `load`):
   every problem in a file (unknown key, wrong type, number out of range, bad name) is
   collected into one ConfigError that lists them all; files are bounded (`MAX_BYTES`);
3. the CLI: `add_config_option` and `parse_args`, which put the file's values in front of the
   command's own flags, so explicit flags win (argparse keeps the last value given).

Secrets never belong here: there are no key or base-URL fields, an unknown key is an error,
and a value shaped like an API key is refused.

`None` in a file: JSON `null`, or the string "none" (TOML has no null); a `None` whose default
is `None` is simply left out. So an optional text field cannot hold the literal word "none".
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import stat
import sys
import types
import typing
from dataclasses import MISSING, dataclass, fields, replace
from pathlib import Path
from typing import Any, Sequence

from rag_core.core.errors import ConfigError
from rag_core.answer.prompts import DEFAULT_TEMPLATE
from rag_core.core.types import RETRIEVAL_BOUNDS, ChunkingConfig, RetrievalSettings
from rag_core.providers import redact
from rag_core.ingest import chunking
from rag_core.index.saved import check_name
from rag_core.answer.prompts import validate_template
from rag_core.retrieval import MODES
from rag_core.retrieval.fusion import NORMALISERS
from rag_core.retrieval.modes import FUSIONS
from rag_core.retrieval.rewrite import STRATEGIES
from rag_core.index.saved import index_dir

FORMAT_VERSION = 1
#: a configuration file is small: refuse anything bigger before parsing it
MAX_BYTES = 256 * 1024
MAX_TEXT = 64 * 1024  # the prompt template
MAX_NAME = 2048  # names, paths and URLs (a sources filter holds URLs)
MAX_ITEMS = 1000
#: (section, field) -> inclusive range; a dataclass field may also declare metadata={"min":, "max":}
BOUNDS: dict[tuple[str, str], tuple[float, float]] = {
    ("chunking", "size"): (1, 1_000_000),
    ("chunking", "overlap"): (0, 1_000_000),
    **{("retrieval", name): bounds for name, bounds in RETRIEVAL_BOUNDS.items()},
}
#: any other number must be finite and inside this
DEFAULT_BOUND = (-1_000_000_000, 1_000_000_000)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+\-]*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
NONE_WORD = "none"


@dataclass(frozen=True)
class IndexConfig:
    """Which index: its catalog `name` (app) or `dir` (CLI; default `<index root>/<name>`), and
    how it is built: the embedder and the vector store."""

    name: str = "demo"
    dir: str | None = None
    embedder: str = "local:all-MiniLM-L6-v2"
    store: str = "faiss"


@dataclass(frozen=True)
class AnswerConfig:
    """What answers, with which prompt: `template_name` is a label ("default" or "custom")."""

    answerer: str = "extractive"
    template_name: str = "default"
    template: str = DEFAULT_TEMPLATE


@dataclass(frozen=True)
class PlaygroundConfig:
    """One playground setup: everything needed to rebuild the index and ask the same way."""

    index: IndexConfig = IndexConfig()
    chunking: ChunkingConfig = ChunkingConfig()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerConfig = AnswerConfig()


#: section name -> its dataclass
SECTIONS: dict[str, type] = {f.name: type(f.default) for f in fields(PlaygroundConfig)}


# ---- dict form ----------------------------------------------------------------------------


def _default(f) -> Any:
    if f.default is not MISSING:
        return f.default
    return f.default_factory() if f.default_factory is not MISSING else MISSING


def to_dict(config: PlaygroundConfig, *, none: Any = None) -> dict[str, Any]:
    """Plain data (lists for tuples). A `None` equal to the default is left out; another `None`
    is written as `none` (JSON: null; TOML: "none")."""
    out: dict[str, Any] = {"version": FORMAT_VERSION}
    for section in SECTIONS:
        value = getattr(config, section)
        table: dict[str, Any] = {}
        for f in fields(value):
            item = getattr(value, f.name)
            if item is None:
                if _default(f) is not None:
                    table[f.name] = none
                continue
            table[f.name] = list(item) if isinstance(item, tuple) else item
        out[section] = table
    return out


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))


def _optional(hint: Any) -> tuple[bool, Any]:
    """(is Optional, the inner type)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) < len(typing.get_args(hint)):
            return True, args[0] if len(args) == 1 else typing.Union[tuple(args)]
    return False, hint


def _coerce(value: Any, hint: Any) -> Any:
    """`value` as `hint` (bool, int, float, str, tuple[X, ...], Optional[X]); ValueError says why."""
    optional, inner = _optional(hint)
    if optional and (value is None or value == NONE_WORD):
        return None
    if value is None:
        raise ValueError("must not be empty (null)")
    if inner is bool:
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false, not {_shown(value)}")
        return value
    if inner is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number, not {_shown(value)}")
        return value
    if inner is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"must be a number, not {_shown(value)}")
        return float(value)
    if inner is str:
        if not isinstance(value, str):
            raise ValueError(f"must be text, not {_shown(value)}")
        return value
    if typing.get_origin(inner) is tuple:
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"must be a list, not {_shown(value)}")
        if len(value) > MAX_ITEMS:
            raise ValueError(f"has {len(value)} items; at most {MAX_ITEMS}")
        item_hint = typing.get_args(inner)[0]
        return tuple(_coerce(v, item_hint) for v in value)
    raise ValueError(f"has a type this file format cannot hold ({inner})")


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_value(section: str, f, value: Any) -> str | None:
    """A range or text problem with one coerced value, or None."""
    if value is None:
        return None
    if isinstance(value, tuple):
        return next((p for p in (_check_value(section, f, v) for v in value) if p), None)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            return "must be a finite number"
        low, high = BOUNDS.get((section, f.name), (f.metadata.get("min"), f.metadata.get("max")))
        low = DEFAULT_BOUND[0] if low is None else low
        high = DEFAULT_BOUND[1] if high is None else high
        if not low <= value <= high:
            return f"is {value}; it must be between {low} and {high}"
    if isinstance(value, str):
        return _check_text(section, f.name, value)
    return None


def _check_text(section: str, name: str, value: str) -> str | None:
    if redact(value) != value:
        return "looks like an API key: keys never go in a configuration file"
    if (section, name) == ("answer", "template"):
        return f"is longer than {MAX_TEXT:,} characters" if len(value) > MAX_TEXT else None
    if len(value) > MAX_NAME or _CONTROL.search(value) or "\n" in value:
        return f"must be one line of at most {MAX_NAME} characters"
    if name in ("embedder", "store", "answerer", "reranker", "mode", "strategy", "encoding") and value \
            and not _NAME.match(value):
        return f"{_shown(value)} is not a valid name (letters, digits and . _ : / @ + -)"
    return None


def _section(cls: type, section: str, raw: Any, problems: list[str]) -> Any:
    """One section from its table; every problem is appended as `section.key: what is wrong`."""
    if not isinstance(raw, dict):
        problems.append(f"[{section}] must be a table of settings, not {_shown(raw)}")
        return cls()
    hints, known = _hints(cls), {f.name: f for f in fields(cls)}
    for key in raw:
        if key not in known:
            problems.append(f"{section}.{key}: unknown setting (known: {', '.join(known)})")
    values: dict[str, Any] = {}
    for name, f in known.items():
        if name not in raw:
            continue
        try:
            value = _coerce(raw[name], hints[name])
        except ValueError as exc:
            problems.append(f"{section}.{name} {exc}")
            continue
        problem = _check_value(section, f, value)
        if problem:
            problems.append(f"{section}.{name} {problem}")
        else:
            values[name] = value
    return cls(**values)


def from_dict(data: Any, origin: str = "the configuration") -> PlaygroundConfig:
    """Validate and build; ConfigError lists every problem found (not just the first)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{origin} must be a table of sections ({', '.join(SECTIONS)}), not {_shown(data)}")
    problems: list[str] = []
    for key in data:
        if key not in SECTIONS and key != "version":
            problems.append(f"{key}: unknown section (known: version, {', '.join(SECTIONS)})")
    if "version" in data and data["version"] != FORMAT_VERSION:
        problems.append(f"version: {_shown(data['version'])} is not supported; this app reads version {FORMAT_VERSION}")
    parts = {name: _section(cls, name, data.get(name, {}), problems) for name, cls in SECTIONS.items()}
    config = PlaygroundConfig(**parts)
    if not problems:
        problems.extend(_semantic_problems(config))
    if problems:
        raise ConfigError(f"{origin} is not valid: " + "; ".join(problems)
                          + ". Fix these settings and import it again")
    return config


def _semantic_problems(config: PlaygroundConfig) -> list[str]:
    """What the parts themselves reject: chunking, the template, the retrieval mode, the index name."""

    problems = []
    checks = [(lambda: chunking.validate(config.chunking)), (lambda: validate_template(config.answer.template)),
              (lambda: check_name(config.index.name)), (lambda: _check_mode(config.retrieval))]
    for check in checks:
        try:
            check()
        except ConfigError as exc:
            problems.append(str(exc))
    return problems


def _check_mode(settings: RetrievalSettings) -> None:
    mode = getattr(settings, "mode", None)
    if mode is None:
        return

    if mode not in MODES:
        raise ConfigError(f"retrieval.mode {mode!r} is unknown; known: {', '.join(MODES)}")

    for name, known in (("fusion", FUSIONS), ("normalise", NORMALISERS)):
        value = getattr(settings, name, None)
        if value is not None and value not in known:
            raise ConfigError(f"retrieval.{name} {_shown(value)} is unknown; known: {', '.join(known)}")
    rewrite = getattr(settings, "rewrite", None)
    if rewrite is not None:
        if str(rewrite).replace("-", "_") not in STRATEGIES:
            raise ConfigError(f"retrieval.rewrite {rewrite!r} is unknown; known: multi_query, hyde (or leave it out)")


# ---- TOML and JSON --------------------------------------------------------------------------


def dumps_json(config: PlaygroundConfig) -> str:
    return json.dumps(to_dict(config), indent=2, ensure_ascii=False) + "\n"


def _toml_string(text: str) -> str:
    def escape(ch: str) -> str:
        if ch == "\\":
            return "\\\\"
        if ch == '"':
            return '\\"'
        if ch == "\n":
            return "\\n"
        if ch == "\t":
            return "\\t"
        if ch == "\r":
            return "\\r"
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            return f"\\u{ord(ch):04x}"
        return ch

    if "\n" in text:  # a multi-line basic string reads naturally; its newlines stay literal
        body = "".join("\n" if ch == "\n" else escape(ch) for ch in text)
        return '"""\n' + body + '"""'
    return '"' + "".join(escape(ch) for ch in text) + '"'


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ConfigError(f"cannot write {type(value).__name__} to TOML")


def dumps_toml(config: PlaygroundConfig) -> str:
    """A tiny TOML writer (the config is one level of tables of scalars and lists)."""
    data = to_dict(config, none=NONE_WORD)
    lines = ["# RAG Playground configuration: python -m rag_core query --config THIS_FILE \"question\"",
             f"version = {data.pop('version')}"]
    for section, table in data.items():
        lines += ["", f"[{section}]"] + [f"{key} = {_toml_value(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n"


def dumps(config: PlaygroundConfig, fmt: str) -> str:
    if fmt not in ("toml", "json"):
        raise ConfigError(f"unknown configuration format {fmt!r}: use toml or json")
    return dumps_toml(config) if fmt == "toml" else dumps_json(config)


def loads(data: bytes | str, fmt: str | None = None, origin: str = "the configuration") -> PlaygroundConfig:
    """Parse TOML or JSON (`fmt`; None: JSON if it starts with `{`), bounded in size, validated."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"{origin} is {len(raw):,} bytes; a configuration file is at most {MAX_BYTES:,}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{origin} is not UTF-8 text: export it again from the app") from None
    fmt = fmt or ("json" if text.lstrip().startswith("{") else "toml")
    try:
        if fmt == "json":
            parsed = json.loads(text, object_pairs_hook=_refuse_duplicate_keys)
        else:
            import tomllib

            parsed = tomllib.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"{origin} is not valid {fmt.upper()} ({exc}); fix it or export it again") from None
    return from_dict(parsed, origin)


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """JSON objects with a key twice are refused, as TOML refuses them (the last would win silently)."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {_shown(key)} appears twice in one table")
        seen[key] = value
    return seen


def format_of(name: str) -> str | None:
    suffix = Path(name).suffix.lower()
    return {".toml": "toml", ".json": "json"}.get(suffix)


def load(path: str | Path) -> PlaygroundConfig:
    """Read a .toml or .json file (at most MAX_BYTES)."""
    path = Path(path)
    try:  # non-blocking: opening a FIFO named like a config file must not wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise ConfigError(f"the configuration file {path} is not a regular file (a FIFO, device or "
                                  "folder?): give a .toml or .json file")
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration file {path}: {exc.strerror or exc}") from None
    return loads(data, format_of(path.name), origin=f"configuration file {path}")


def retrieval_from(config: PlaygroundConfig | None, **given: Any) -> RetrievalSettings:
    """The file's retrieval settings (or the defaults) with `given` (from flags) on top: fields
    the flags do not cover (mode, fusion ...) come from the file."""
    base = config.retrieval if config is not None else RetrievalSettings()
    return replace(base, **given)


# ---- the CLI: --config FILE -----------------------------------------------------------------

CONFIG_HELP = ("a configuration file (.toml or .json, as exported by the app): its values are defaults; "
               "flags given here override them")


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help=CONFIG_HELP)


def _index_dir(config: PlaygroundConfig) -> str:
    if config.index.dir:
        return config.index.dir

    return str(index_dir(config.index.name))


#: the commands that take --config
CONFIG_COMMANDS = ("query", "eval", "ingest", "demo", "crawl")


def _flags_from(config: PlaygroundConfig, command: str) -> list[tuple[str, Any]]:
    """(flag, value) pairs the file supplies to `command`; None values are left to the flag's default."""
    r, c, i = config.retrieval, config.chunking, config.index
    build = [("--index", _index_dir(config)), ("--embedder", i.embedder), ("--store", i.store),
             ("--strategy", c.strategy), ("--chunk-size", c.size), ("--chunk-overlap", c.overlap)]
    ask = [("--index", _index_dir(config)), ("--top-k", r.top_k), ("--threshold", r.score_threshold),
           ("--reranker", r.reranker)]
    table = {"query": ask + [("--llm", config.answer.answerer)] + [("--source", s) for s in (r.sources or ())],
             "eval": ask, "ingest": build, "demo": build, "crawl": build}
    return [(flag, value) for flag, value in table.get(command, []) if value is not None]


def _command_at(argv: Sequence[str]) -> int | None:
    return next((n for n, token in enumerate(argv) if not token.startswith("-")), None)


def _config_path(argv: Sequence[str]) -> str | None:
    """The value of the last --config FILE / --config=FILE (a bare `--` ends the options)."""
    path = None
    for n, token in enumerate(argv):
        if token == "--":
            break
        if token == "--config" and n + 1 < len(argv):
            path = argv[n + 1]
        elif token.startswith("--config="):
            path = token.split("=", 1)[1]
    return path


def _given(argv: Sequence[str], flag: str) -> bool:
    return any(t == flag or t.startswith(flag + "=") for t in argv)


def expand_argv(argv: Sequence[str]) -> tuple[list[str], PlaygroundConfig | None]:
    """argv with the config file's values inserted right after the command, as `--flag=value`,
    for every flag not given explicitly (explicit flags then win whatever their position)."""
    argv = list(argv)
    path, at = _config_path(argv), _command_at(argv)
    if path is None or at is None or argv[at] not in CONFIG_COMMANDS:
        return argv, None  # (argparse says so if the command takes no --config)
    config = load(path)
    command = argv[at]
    extra = [f"{flag}={value}" for flag, value in _flags_from(config, command) if not _given(argv, flag)]
    return argv[: at + 1] + extra + argv[at + 1:], config


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """`parser.parse_args` with --config applied; `args.config` becomes the PlaygroundConfig (or None)."""
    expanded, config = expand_argv(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(expanded)
    if getattr(args, "config", None) and config is None:  # an abbreviation such as --conf FILE
        expanded, config = expand_argv([*expanded, f"--config={args.config}"])
        args = parser.parse_args(expanded)
    if hasattr(args, "config"):
        args.config = config
    return args


def template_from(args: argparse.Namespace) -> str | None:
    """--template FILE wins; else the file's template when it is not the default; else None."""
    if getattr(args, "template", None):
        with open(args.template, "rb") as handle:  # bounded: a template is a page of text
            raw = handle.read(MAX_TEXT + 1)
        if len(raw) > MAX_TEXT:
            raise ConfigError(f"--template {args.template} is over {MAX_TEXT:,} bytes; a prompt template is "
                              "at most that")
        template = raw.decode("utf-8", errors="replace")
        validate_template(template)
        return template
    config = getattr(args, "config", None)
    if isinstance(config, PlaygroundConfig) and config.answer.template != DEFAULT_TEMPLATE:
        return config.answer.template
    return None
