"""Jinja2 configured the way transformers' apply_chat_template configures it.

transformers (utils/chat_template_utils.py, _compile_jinja_template) renders chat
templates with an ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
extensions=[AssistantTracker, jinja2.ext.loopcontrols]), a tojson filter that calls
json.dumps(x, ensure_ascii=False, indent=indent, separators=separators,
sort_keys=sort_keys), and globals raise_exception(msg) and strftime_now(fmt).
When the real transformers is importable (use_transformers=True), its own compiler is
used instead of this copy.
"""
import json
from datetime import datetime

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment


class GenerationTags(jinja2.ext.Extension):
    """{% generation %}...{% endgeneration %} renders its body (AssistantTracker without masks)."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.Scope(body, lineno=lineno)


def make_env(now=None):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return (now or datetime.now()).strftime(format)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTags, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def compile_template(source, use_transformers=False, now=None):
    if use_transformers:
        from transformers.utils.chat_template_utils import _compile_jinja_template

        return _compile_jinja_template(source)
    return make_env(now).from_string(source)


def render(source, context, use_transformers=False, now=None):
    """Returns (text, None) or (None, "ExceptionType: message")."""
    try:
        return compile_template(source, use_transformers, now).render(**context), None
    except Exception as e:  # noqa: BLE001 - any template failure is a result here
        return None, f"{type(e).__name__}: {e}"
