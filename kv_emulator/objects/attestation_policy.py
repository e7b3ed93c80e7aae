"""The part of Microsoft Azure Attestation's policy language the emulator evaluates.

A policy is ``version=1.0;`` and up to three sections of rules, ``authorizationrules {…};``,
``issuancerules {…};`` and ``configurationrules {…};``; a rule is ``conditions => action;``. The emulator
reads conditions that are ``&&``-joined claim matches (``c:[type=="x-ms-sgx-is-debuggable", value==true]``,
or empty) and the actions ``permit()``, ``deny()``, ``issue(type=…, value=…)`` and ``add(type=…, value=…)``
with a literal value or a bound claim's ``c.value``. That covers the policies of the Azure SDKs' samples and
tests and of the service's documentation examples; anything else is refused when the policy is set, naming
the rule, rather than evaluated wrongly. Configuration rules are read and ignored.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

__all__ = ["DEFAULT_SGX_POLICY", "Policy", "PolicyError", "parse_policy"]

# Microsoft Azure Attestation's default policy for SGX enclaves (learn.microsoft.com "Examples of an
# attestation policy", 2022): permit every enclave and copy its measurements into the short claim names.
DEFAULT_SGX_POLICY = """version= 1.0;
authorizationrules
{
    => permit();
};
issuancerules
{
    c:[type=="x-ms-sgx-is-debuggable"] => issue(type="is-debuggable", value=c.value);
    c:[type=="x-ms-sgx-mrsigner"] => issue(type="sgx-mrsigner", value=c.value);
    c:[type=="x-ms-sgx-mrenclave"] => issue(type="sgx-mrenclave", value=c.value);
    c:[type=="x-ms-sgx-product-id"] => issue(type="product-id", value=c.value);
    c:[type=="x-ms-sgx-svn"] => issue(type="svn", value=c.value);
    c:[type=="x-ms-attestation-type"] => issue(type="tee", value=c.value);
};
"""

_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][\w-]*)'
    r"|(?P<op>=>|==|!=|&&|[\[\](){},;:=.]))"
)
_SECTIONS = ("authorizationrules", "issuancerules", "configurationrules")


class PolicyError(ValueError):
    """A policy the emulator cannot read: the text says where."""


@dataclasses.dataclass(frozen=True)
class _Match:
    """One ``name:[type==…, value==…]``: the claim it binds (``name``) and what the claim must be."""

    name: str | None
    tests: tuple[tuple[str, str, Any], ...]  # (field, operator, literal)

    def holds(self, claim: tuple[str, Any]) -> bool:
        for field, operator, literal in self.tests:
            actual = claim[0] if field == "type" else claim[1]
            if (actual == literal) != (operator == "=="):
                return False
        return True


@dataclasses.dataclass(frozen=True)
class _Rule:
    matches: tuple[_Match, ...]
    action: str  # permit, deny, issue, add
    claim_type: str = ""
    value: Any = None  # a literal, or _Bound for ``c.value``


@dataclasses.dataclass(frozen=True)
class _Bound:
    name: str


@dataclasses.dataclass(frozen=True)
class Policy:
    """A parsed policy: its rules per section, and the text it came from."""

    text: str
    authorization: tuple[_Rule, ...]
    issuance: tuple[_Rule, ...]

    def evaluate(self, incoming: list[tuple[str, Any]]) -> tuple[bool, dict[str, Any]]:
        """Whether the evidence is permitted, and the claims the issuance rules issue."""
        claims = list(incoming)
        permitted = False
        for rule in self.authorization:
            bindings = _bind(rule.matches, claims)
            if bindings is None:
                continue
            if rule.action == "deny":
                return False, {}
            if rule.action == "permit":
                permitted = True
            elif rule.action == "add":
                claims.append((rule.claim_type, _value(rule, bindings)))
        issued: dict[str, Any] = {}
        for rule in self.issuance:
            bindings = _bind(rule.matches, claims)
            if bindings is None or rule.action not in ("issue", "add"):
                continue
            value = _value(rule, bindings)
            claims.append((rule.claim_type, value))
            if rule.action == "issue":
                issued[rule.claim_type] = value
        return permitted, issued


def _bind(matches: tuple[_Match, ...], claims: list[tuple[str, Any]]) -> dict[str, Any] | None:
    """The value each named match binds (the first claim that fits), or None when one fits no claim."""
    bindings: dict[str, Any] = {}
    for match in matches:
        found = next((claim for claim in claims if match.holds(claim)), None)
        if found is None:
            return None
        if match.name:
            bindings[match.name] = found[1]
    return bindings


def _value(rule: _Rule, bindings: dict[str, Any]) -> Any:
    return bindings[rule.value.name] if isinstance(rule.value, _Bound) else rule.value


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        position = 0
        text = re.sub(r"//[^\n]*|/\*.*?\*/", " ", text, flags=re.S)
        while position < len(text.rstrip()):
            found = _TOKEN.match(text, position)
            if not found or found.lastgroup is None:
                raise PolicyError(f"Unexpected text in the policy at: {text[position : position + 40].strip()!r}")
            self.tokens.append((found.lastgroup, found.group(found.lastgroup)))
            position = found.end()
        self.at = 0

    def peek(self) -> str:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.at >= len(self.tokens):
            raise PolicyError(f"The policy ends where {expected or 'more'} was expected")
        token = self.tokens[self.at]
        if expected is not None and token[1].lower() != expected:
            raise PolicyError(f"Expected {expected!r} in the policy, found {token[1]!r}")
        self.at += 1
        return token

    def literal(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            try:
                return json.loads(text)
            except ValueError:
                raise PolicyError(f"The string {text} is not well formed") from None
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "name" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise PolicyError(f"Expected a value in the policy, found {text!r}")


def parse_policy(text: str) -> Policy:
    """Parse ``text`` (raises :class:`PolicyError` saying what the emulator cannot read)."""
    parser = _Parser(text)
    parser.take("version")
    parser.take("=")
    if parser.take()[0] != "number":
        raise PolicyError("The policy's version must be a number, as in version=1.0;")
    parser.take(";")
    sections: dict[str, tuple[_Rule, ...]] = {}
    while parser.peek():
        kind, name = parser.take()
        if kind != "name" or name.lower() not in _SECTIONS:
            raise PolicyError(f"Unknown policy section {name!r}")
        parser.take("{")
        rules = []
        while parser.peek() != "}":
            if name.lower() == "configurationrules":  # read past, not evaluated
                parser.take()
                continue
            rules.append(_rule(parser))
        parser.take("}")
        parser.take(";")
        sections[name.lower()] = tuple(rules)
    return Policy(text, sections.get("authorizationrules", ()), sections.get("issuancerules", ()))


def _rule(parser: _Parser) -> _Rule:
    start = parser.at
    try:
        matches: list[_Match] = []
        while parser.peek() != "=>":
            if matches:
                parser.take("&&")
            matches.append(_match(parser))
        parser.take("=>")
        action = parser.take()[1].lower()
        parser.take("(")
        if action in ("permit", "deny"):
            parser.take(")")
            rule = _Rule(tuple(matches), action)
        elif action in ("issue", "add"):
            rule = _issue(parser, tuple(matches), action)
        else:
            raise PolicyError(f"the action {action!r} is not one the emulator evaluates")
        parser.take(";")
        return rule
    except PolicyError as exc:
        shown = " ".join(text for _, text in parser.tokens[start : parser.at + 1])
        raise PolicyError(f"The emulator cannot evaluate the policy rule near {shown!r}: {exc}") from None


def _match(parser: _Parser) -> _Match:
    name = None
    if parser.peek() != "[":
        name = parser.take()[1]
        parser.take(":")
    parser.take("[")
    tests = []
    while True:
        field = parser.take()[1].lower()
        if field not in ("type", "value"):
            raise PolicyError(f"a claim condition on {field!r}")
        operator = parser.take()[1]
        if operator not in ("==", "!="):
            raise PolicyError(f"the operator {operator!r}")
        tests.append((field, operator, parser.literal()))
        if parser.take()[1] == "]":
            return _Match(name, tuple(tests))


def _issue(parser: _Parser, matches: tuple[_Match, ...], action: str) -> _Rule:
    parser.take("type")
    parser.take("=")
    claim_type = parser.literal()
    parser.take(",")
    parser.take("value")
    parser.take("=")
    value: Any
    if parser.tokens[parser.at][0] == "name" and parser.peek().lower() not in ("true", "false"):
        value = _Bound(parser.take()[1])
        parser.take(".")
        parser.take("value")
        if value.name not in {match.name for match in matches}:
            raise PolicyError(f"{value.name}.value names no claim the conditions bind")
    else:
        value = parser.literal()
    parser.take(")")
    return _Rule(matches, action, str(claim_type), value)
