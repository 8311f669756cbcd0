"""Static checks on a strategy's Rust source (spec §7.1): a small Rust lexer, the safe-source and server-side
rules applied on every compile, and the metadata the validation operations report.

The lexer skips comments (nested block comments too), string, byte-string and raw-string literals and char
literals, so `unsafe` inside a comment or a string is not a token, as in a `syn` token stream.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from recipes.base import RecipeError

#: Macros that read files or the build environment at compile time, or inject raw machine code.
BANNED_MACROS = ("include", "include_str", "include_bytes", "env", "option_env", "global_asm", "asm")

_IDENT = re.compile(r"r#[A-Za-z_][A-Za-z0-9_]*|[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[0-9][0-9A-Za-z_]*(\.[0-9][0-9A-Za-z_]*)?")
_RAW_STRING = re.compile(r'(b|c)?r(#*)"')


@dataclass(frozen=True, slots=True)
class Token:
    """One lexed token: kind is 'ident', 'punct', 'str' (value unescaped loosely), 'char', 'num' or 'lifetime'."""

    kind: str
    text: str
    line: int
    depth: int  # brace depth before the token


def _skip_block_comment(src: str, i: int) -> int:
    depth = 0
    while i < len(src):
        if src.startswith("/*", i):
            depth += 1
            i += 2
        elif src.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    raise RecipeError("source check failed: unterminated block comment")


def _string_end(src: str, i: int) -> int:
    # i points just after the opening quote of a (byte) string with escapes.
    while i < len(src):
        c = src[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        else:
            i += 1
    raise RecipeError("source check failed: unterminated string literal")


def _unescape(body: str) -> str:
    return body.replace('\\"', '"').replace("\\\\", "\\").replace("\\n", "\n").replace("\\t", "\t")


def tokenize(src: str) -> list[Token]:
    """The token stream of `src`.

    Raises:
        RecipeError: an unterminated comment or literal.
    """
    tokens: list[Token] = []
    i, line, depth = 0, 1, 0
    n = len(src)
    while i < n:
        c = src[i]
        start = i
        if c == "\n":
            line += 1
            i += 1
            continue
        if c.isspace():
            i += 1
            continue
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
            continue
        if src.startswith("/*", i):
            i = _skip_block_comment(src, i)
        elif m := _RAW_STRING.match(src, i):
            close = '"' + m.group(2)
            j = src.find(close, m.end())
            if j < 0:
                raise RecipeError("source check failed: unterminated raw string literal")
            tokens.append(Token("str", src[m.end() : j], line, depth))
            i = j + len(close)
        elif c == '"' or (c in "bc" and src.startswith('"', i + 1)):
            body_start = i + (1 if c == '"' else 2)
            i = _string_end(src, body_start)
            tokens.append(Token("str", _unescape(src[body_start : i - 1]), line, depth))
        elif c == "'" or (c == "b" and src.startswith("'", i + 1)):
            q = i if c == "'" else i + 1
            if src.startswith("\\", q + 1):
                j = src.find("'", q + 3)
                i = n if j < 0 else j + 1
                tokens.append(Token("char", src[q:i], line, depth))
            elif q + 2 < n and src[q + 2] == "'":
                i = q + 3
                tokens.append(Token("char", src[q:i], line, depth))
            else:
                m = _IDENT.match(src, q + 1)
                i = m.end() if m else q + 1
                tokens.append(Token("lifetime", src[q:i], line, depth))
        elif m := _IDENT.match(src, i):
            i = m.end()
            tokens.append(Token("ident", m.group(0), line, depth))
        elif m := _NUMBER.match(src, i):
            i = m.end()
            tokens.append(Token("num", m.group(0), line, depth))
        else:
            i += 1
            if c == "}":
                depth -= 1
            tokens.append(Token("punct", c, line, depth))
            if c == "{":
                depth += 1
        line += src.count("\n", start, i)
    return tokens


def _top_level_fn(tokens: list[Token], name: str) -> bool:
    return any(
        a.kind == "ident" and a.text == "fn" and b.text == name and a.depth == 0
        for a, b in zip(tokens, tokens[1:], strict=False)
    )


def check_source(src: str) -> list[Token]:
    """Apply the safe-source and server-side rules; returns the tokens.

    Raises:
        RecipeError: the first rule the source breaks, named, with its line.
    """
    tokens = tokenize(src)
    for k, tok in enumerate(tokens):
        nxt = tokens[k + 1] if k + 1 < len(tokens) else None
        if tok.kind != "ident":
            continue
        if tok.text == "unsafe":
            raise RecipeError(f"source check failed: `unsafe` is not allowed (line {tok.line})")
        if tok.text in BANNED_MACROS and nxt is not None and nxt.text == "!":
            raise RecipeError(f"source check failed: `{tok.text}!` is not allowed (line {tok.line})")
        if tok.text == "extern" and nxt is not None and nxt.text == "crate":
            raise RecipeError(f"source check failed: `extern crate` is not allowed (line {tok.line})")
        if tok.text == "mod" and nxt is not None and k + 2 < len(tokens) and tokens[k + 2].text == ";":
            raise RecipeError(
                f"source check failed: external module file `mod {nxt.text};` is not allowed (line {tok.line}); "
                "submit a single lib.rs"
            )
    if not _top_level_fn(tokens, "compute_swap"):
        raise RecipeError("source check failed: no top-level `fn compute_swap(data: &[u8]) -> u64`")
    return tokens


def has_after_swap(tokens: list[Token]) -> bool:
    """Whether the source defines a top-level `fn after_swap`."""
    return _top_level_fn(tokens, "after_swap")


def _const_str(tokens: list[Token], name: str) -> str | None:
    # `const NAME: &str = "..."` or `&'static str`; returns the literal.
    for k, tok in enumerate(tokens[:-1]):
        if tok.text == "const" and tokens[k + 1].text == name:
            for t in tokens[k + 2 : k + 10]:
                if t.kind == "str":
                    return t.text
                if t.text == ";":
                    break
    return None


@dataclass(frozen=True, slots=True)
class Metadata:
    """NAME, MODEL_USED and `get_model_used` as the source declares them."""

    name: str | None
    model_used: str | None
    has_get_model_used: bool

    def problems(self) -> list[str]:
        """What the metadata check reports missing (empty: it passes)."""
        out = []
        if not self.name:
            out.append('const NAME: &str = "<non-empty>" is missing or empty')
        if not self.model_used:
            out.append('const MODEL_USED: &str = "<non-empty>" is missing or empty')
        if not self.has_get_model_used:
            out.append("fn get_model_used is missing")
        return out


def metadata(tokens: list[Token]) -> Metadata:
    """The strategy's metadata."""
    has_fn = any(a.text == "fn" and b.text == "get_model_used" for a, b in zip(tokens, tokens[1:], strict=False))
    return Metadata(_const_str(tokens, "NAME"), _const_str(tokens, "MODEL_USED"), has_fn)
