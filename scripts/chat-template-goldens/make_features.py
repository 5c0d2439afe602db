"""Writes tests/fixtures/chat_template/features.json: small templates, one language
feature each, with the output (or the failure) of Jinja2 configured like transformers
(hf_jinja2.py). tests/chat_template/features_test.cc renders each with our interpreter.

    python3 make_features.py            # needs Jinja2 >= 3.1 (pip/apt python3-jinja2)

A context may hold "_ax_now": "YYYY-MM-DDTHH:MM:SS", the clock strftime_now() reads.
"""
import json
import os
from datetime import datetime

import hf_jinja2

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests/fixtures/chat_template/features.json")

MSGS = [{"role": "system", "content": "S"}, {"role": "user", "content": "U1"}, {"role": "assistant", "content": "A1"},
        {"role": "user", "content": "U2"}]
D = {"b": 2, "a": 1, "c": {"x": [1, 2, {"y": "deep"}]}}
PEOPLE = [{"name": "bob", "age": 31, "tags": ["x"]}, {"name": "Alice", "age": 25}, {"name": "carol", "age": 31, "admin": True}]

CASES = [
    # ---- output, text, whitespace control -------------------------------------------
    ("text_only", "Hello, world!", {}),
    ("trailing_newline_dropped", "line\n", {}),
    ("two_trailing_newlines", "line\n\n", {}),
    ("crlf_normalized", "a\r\nb\rc", {}),
    ("expr_output", "{{ 'a' }}{{ 1 }}{{ 1.5 }}{{ true }}{{ none }}", {}),
    ("undefined_renders_empty", "[{{ nope }}]", {}),
    ("strip_before_and_after", "a  \n  {{- 'b' -}}  \n  c", {}),
    ("block_strip", "x\n  {%- if true -%}\n  y  \n{%- endif %}\nz", {}),
    ("trim_blocks", "{% if true %}\nyes\n{% endif %}\nend", {}),
    ("lstrip_blocks", "start\n    {% if true %}\n    body\n    {% endif %}\nend", {}),
    ("lstrip_not_for_expressions", "a\n    {{ 'x' }}\n", {}),
    ("lstrip_mid_line_kept", "a {% if true %}b{% endif %} c", {}),
    ("plus_disables_lstrip", "a\n    {%+ if true %}b{% endif %}", {}),
    ("comment", "a{# hidden #}b", {}),
    ("comment_trim_and_strip", "a\n  {# c #}\nb {#- c -#}  c", {}),
    ("comment_multiline", "a{# one\ntwo {{ x }} #}b", {}),
    ("raw_block", "{% raw %}{{ not evaluated }}{% endraw %}", {}),
    ("whitespace_only_lines", "{% for i in [1,2] %}\n  {{ i }}\n{% endfor %}\n", {}),
    ("tuple_output", "{{ 1, 'a' }}", {}),
    # ---- literals and operators -------------------------------------------------------
    ("string_escapes", "{{ 'tab\\there\\nnew \\'q\\' \\\\ \\u00e9 \\x41' }}", {}),
    ("string_concat_implicit", "{{ 'a' 'b' \"c\" }}", {}),
    ("numbers", "{{ 1_000 }} {{ 0x1F }} {{ 2.5e3 }} {{ 1e-7 }} {{ 10 / 4 }} {{ 10 // 4 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7.5 % 2 }}", {}),
    ("power_left_assoc", "{{ 2 ** 3 ** 2 }} {{ 2 ** -1 }} {{ (-2) ** 2 }}", {}),
    ("float_repr", "{{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ 3.0 }} {{ -0.0 }} {{ 1/3 }}", {}),
    ("arith_mixed", "{{ 1 + 2.0 }} {{ true + 1 }} {{ 3 * 'ab' }} {{ [1] * 2 }} {{ [1] + [2] }} {{ 'a' ~ 1 ~ none ~ true }}", {}),
    ("unary", "{{ -x }} {{ +x }} {{ not x }} {{ - 2 | abs }}", {"x": 3}),
    ("comparisons", "{{ 1 < 2 }} {{ 2 <= 2 }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ 1 != '1' }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}", {}),
    ("list_compare", "{{ [1, 2] < [1, 3] }} {{ [1] == [1] }} {{ {'a': 1} == {'a': 1} }}", {}),
    ("in_operator", "{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'a' in {'a': 1} }} {{ 'z' not in 'abc' }} {{ 1 in nope }}", {}),
    ("and_or_values", "{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ '' and 'b' }}|{{ none or [] }}|{{ not [] }}", {}),
    ("ternary", "{{ 'y' if x else 'n' }} {{ 'y' if not x else 'n' }} [{{ 'only' if false }}]", {"x": 1}),
    ("ternary_chain", "{{ 'a' if n == 1 else 'b' if n == 2 else 'c' }}", {"n": 2}),
    ("precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 * 3 ~ 4 }} {{ not 1 == 2 }} {{ -2 ** 2 }}", {}),
    ("truthiness", "{% for v in [0, 1, '', 'a', [], [0], {}, none, 0.0] %}{{ 'T' if v else 'F' }}{% endfor %}", {}),
    ("dict_literal", "{% set d = {'k': 1, 'j': [1, 2], 'n': {'m': none}} %}{{ d.k }} {{ d['j'][1] }} {{ d.n.m }}", {}),
    ("list_literal_trailing_comma", "{{ [1, 2,] | length }} {{ (1,) | length }} {{ () | length }}", {}),
    # ---- attribute / subscript / slicing ---------------------------------------------
    ("attr_and_item", "{{ d.a }} {{ d['b'] }} {{ d.c.x[2].y }} {{ d.c.x.0 }} [{{ d.missing }}]", {"d": D}),
    ("negative_index", "{{ xs[-1] }} {{ xs[-2] }} [{{ xs[10] }}] {{ 'héllo'[1] }} {{ 'abc'[-1] }}", {"xs": [1, 2, 3]}),
    ("slices", "{{ xs[1:] }} {{ xs[:2] }} {{ xs[::-1] }} {{ xs[::2] }} {{ xs[-2:] }} {{ xs[1:-1] }} {{ xs[5:] }} {{ xs[:-5] }}", {"xs": [1, 2, 3, 4]}),
    ("string_slices", "{{ s[1:3] }} {{ s[::-1] }} {{ s[-3:] }} {{ s[:0] }}", {"s": "héllo🙂"}),
    ("missing_attr_defined", "{{ d.nope is defined }} {{ d.a is defined }} {{ none.x is defined }} {{ 's'.x is defined }}", {"d": D}),
    ("dict_method_shadows_key", "{{ d['items'] }} {{ d.items() | list }}", {"d": {"items": 5}}),
    # ---- statements ------------------------------------------------------------------
    ("if_elif_else", "{% for n in [1, 2, 3] %}{% if n == 1 %}one{% elif n == 2 %}two{% else %}many{% endif %} {% endfor %}", {}),
    ("for_loop_vars", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}", {}),
    ("for_prev_next", "{% for x in [1, 2, 3] %}{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }} {% endfor %}", {}),
    ("for_else", "{% for x in [] %}x{% else %}empty{% endfor %}{% for x in [1] %}{{ x }}{% else %}no{% endfor %}", {}),
    ("for_unpack_items", "{% for k, v in d.items() %}{{ k }}={{ v }},{% endfor %}", {"d": {"z": 1, "y": 2}}),
    ("for_unpack_tuples", "{% for a, b in [(1, 2), [3, 4]] %}{{ a + b }} {% endfor %}", {}),
    ("for_dict_iterates_keys", "{% for k in d %}{{ k }}{% endfor %}", {"d": {"q": 1, "p": 2}}),
    ("for_filter_clause", "{% for x in range(10) if x is odd %}{{ x }}{{ ',' if not loop.last }}{% endfor %}", {}),
    ("for_nested_loop", "{% for a in [1, 2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}", {}),
    ("for_break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("loop_cycle", "{% for x in range(5) %}{{ loop.cycle('a', 'b') }}{% endfor %}", {}),
    ("for_undefined_iterable", "[{% for x in nope %}{{ x }}{% endfor %}]", {}),
    ("set_scoping_loop", "{% set x = 0 %}{% for i in [1, 2, 3] %}{{ x }}{% set x = i %}{{ x }};{% endfor %}{{ x }}", {}),
    ("set_in_if_leaks", "{% if true %}{% set y = 5 %}{% endif %}{{ y }}", {}),
    ("set_tuple", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c, d = [3, 4] %}{{ c }}{{ d }}", {}),
    ("set_block", "{% set block %}  Hello {{ name }}!  {% endset %}[{{ block }}]", {"name": "Ann"}),
    ("set_block_filter", "{% set block | trim | upper %}  Hello  {% endset %}[{{ block }}]", {}),
    ("namespace", "{% set ns = namespace(n=0, found=false) %}{% for x in [1, 2, 3] %}{% set ns.n = ns.n + x %}{% if x == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.n }} {{ ns.found }}", {}),
    ("namespace_from_dict", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{{ ns['a'] }}[{{ ns.c }}]", {}),
    ("with_block", "{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}]", {}),
    ("filter_block", "{% filter upper %}hello {{ 'x' }}{% endfilter %}", {}),
    ("macro_defaults", "{% macro greet(name, greeting='Hello', punct='!') %}{{ greeting }}, {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', 'Hi') }} {{ greet('C', punct='?') }}", {}),
    ("macro_missing_arg", "{% macro m(a, b) %}[{{ a }}|{{ b }}]{% endmacro %}{{ m(1) }}", {}),
    ("macro_sees_outer_at_call", "{% macro m() %}{{ q }}{% endmacro %}{% set q = 1 %}{{ m() }}{% set q = 2 %}{{ m() }}", {}),
    ("macro_recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1) | int }}{% endif %}{% endmacro %}{{ fact(5) }}", {}),
    ("macro_varargs_kwargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, k='v') }}", {}),
    ("call_block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ 1 + 1 }}{% endcall %}", {}),
    ("call_block_args", "{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(item) each([1, 2]) %}<{{ item }}>{% endcall %}", {}),
    ("generation_block", "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% else %}{{ m.content }}{% endif %}{% endfor %}", {"messages": MSGS}),
    # ---- filters -----------------------------------------------------------------------
    ("filter_trim", "[{{ '  a b  ' | trim }}][{{ 'xxaxx' | trim('x') }}][{{ nope | trim }}]", {}),
    ("filter_case", "{{ 'hello wORLD-foo(bar' | title }} {{ 'hELLO' | capitalize }} {{ 'Straße' | upper }} {{ 'ÀÉ' | lower }}", {}),
    ("filter_length", "{{ 'héllo' | length }} {{ [1, 2] | length }} {{ {'a': 1} | length }} {{ nope | length }} {{ 'x' | count }}", {}),
    ("filter_default", "{{ nope | default('d') }} {{ '' | default('d') }} {{ '' | default('d', true) }} {{ none | d('x') }} {{ 0 | default(5, boolean=true) }} [{{ nope | default }}]", {}),
    ("filter_join", "{{ [1, 2, 3] | join }} {{ ['a', 'b'] | join(', ') }} {{ people | join('/', attribute='name') }} {{ 'abc' | join('-') }}", {"people": PEOPLE}),
    ("filter_first_last", "{{ [1, 2, 3] | first }} {{ [1, 2, 3] | last }} {{ 'abc' | first }} {{ 'abc' | last }} [{{ [] | first }}]", {}),
    ("filter_list_string", "{{ 'ab' | list }} {{ {'k': 1} | list }} {{ 12 | string }} {{ [1, 'a'] | string }} {{ none | string }}", {}),
    ("filter_int_float", "{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ '0x1A' | int(0, 16) }} {{ '2.5' | float }} {{ 'y' | float }} {{ 3 | float }} {{ true | int }}", {}),
    ("filter_abs_round", "{{ -3 | abs }} {{ -2.5 | abs }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 2.1 | round(0, 'ceil') }} {{ 2.9 | round(method='floor') }} {{ 7 | round }}", {}),
    ("filter_replace", "{{ 'aaa' | replace('a', 'b') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ 'x.y' | replace('.', '') }}", {}),
    ("filter_items", "{% for k, v in d | items %}{{ k }}:{{ v }} {% endfor %}[{% for i in nope | items %}{% endfor %}]", {"d": {"b": 1, "a": 2}}),
    ("filter_selectattr", "{{ people | selectattr('admin') | map(attribute='name') | list }} {{ people | selectattr('age', 'equalto', 31) | map(attribute='name') | join(',') }} {{ people | rejectattr('admin') | map(attribute='name') | list }}", {"people": PEOPLE}),
    ("filter_selectattr_defined", "{{ people | selectattr('tags', 'defined') | list | length }} {{ people | rejectattr('tags', 'defined') | map(attribute='name') | list }}", {"people": PEOPLE}),
    ("filter_select_reject", "{{ range(6) | select('odd') | list }} {{ range(6) | reject('odd') | list }} {{ [0, 1, '', 'a'] | select | list }} {{ ['a', 'b', 'code'] | reject('equalto', 'code') | list }} {{ range(10) | select('divisibleby', 3) | list }}", {}),
    ("filter_map", "{{ people | map(attribute='name') | list }} {{ ['a', 'b'] | map('upper') | join }} {{ people | map(attribute='admin', default=false) | list }} {{ [1.5, 2.5] | map('round') | list }}", {"people": PEOPLE}),
    ("filter_unique", "{{ ['a', 'A', 'b', 'a'] | unique | list }} {{ ['a', 'A'] | unique(case_sensitive=true) | list }} {{ people | unique(attribute='age') | map(attribute='name') | list }}", {"people": PEOPLE}),
    ("filter_reverse", "{{ [1, 2, 3] | reverse | list }} {{ 'abc' | reverse }}", {}),
    ("filter_sort", "{{ [3, 1, 2] | sort }} {{ ['b', 'A', 'c'] | sort }} {{ ['b', 'A', 'c'] | sort(case_sensitive=true) }} {{ [3, 1, 2] | sort(reverse=true) }} {{ people | sort(attribute='age') | map(attribute='name') | list }} {{ people | sort(attribute='age,name') | map(attribute='name') | list }}", {"people": PEOPLE}),
    ("filter_dictsort", "{{ d | dictsort }} {{ d | dictsort(reverse=true) }} {{ {'b': 1, 'a': 2} | dictsort(by='value') }} {{ {'B': 1, 'a': 2} | dictsort }}", {"d": {"b": 1, "a": 2, "c": 0}}),
    ("filter_min_max_sum", "{{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }} {{ ['b', 'A'] | min }} {{ people | max(attribute='age') | attr('name') }} {{ [1, 2, 3] | sum }} {{ people | sum(attribute='age') }} {{ [1, 2] | sum(start=10) }}", {"people": PEOPLE}),
    ("filter_indent", "{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(2, blank=true) }}|{{ 'x\\ny' | indent('> ') }}", {}),
    ("filter_escape_safe", "{{ '<a href=\"x\">&\\'</a>' | e }} {{ '<b>' | escape }} {{ '<b>' | safe }}", {}),
    ("filter_format", "{{ '%s-%s' | format('a', 1) }} {{ '%d%%' | format(50) }} {{ '%.2f' | format(3.14159) }} {{ '%(x)s!' | format(x='y') }} {{ '%5s|%-5s|' | format('ab', 'cd') }}", {}),
    ("filter_wordcount_center", "{{ 'hello big world' | wordcount }} [{{ 'ab' | center(6) }}]", {}),
    ("filter_attr", "{{ d | attr('a') }} [{{ d | attr('zz') }}]", {"d": {"a": 1}}),
    ("filter_chain_on_expression", "{{ (messages | length - 1) }} {{ messages | map(attribute='role') | unique | list | length }}", {"messages": MSGS}),
    # ---- tojson ----------------------------------------------------------------------------
    ("tojson_basic", "{{ v | tojson }}", {"v": {"s": "é\"\\/\n\t\u0001", "i": 1, "f": 0.5, "b": True, "n": None, "l": [1, "x"], "e": {}, "el": []}}),
    ("tojson_key_order_kept", "{{ v | tojson }}", {"v": {"z": 1, "a": 2, "m": {"y": 1, "b": 2}}}),
    ("tojson_indent", "{{ v | tojson(indent=2) }}", {"v": {"a": [1, 2], "b": {}, "c": [], "d": {"e": None}}}),
    ("tojson_indent4_tool", "{{ tools[0] | tojson(indent=4) }}", {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}}}]}),
    ("tojson_options", "{{ v | tojson(sort_keys=true) }} {{ v | tojson(separators=(',', ':')) }} {{ v | tojson(ensure_ascii=true) }}", {"v": {"b": "ü🙂", "a": [1, 2]}}),
    ("tojson_scalars", "{{ 'x' | tojson }} {{ 1 | tojson }} {{ 1.25 | tojson }} {{ none | tojson }} {{ true | tojson }} {{ [1, (2, 3)] | tojson }}", {}),
    ("tojson_float_in_context", "{{ v | tojson }}", {"v": [1.0, 2.5, 1e20, 1e-7, -0.0]}),
    # ---- tests -------------------------------------------------------------------------------
    ("tests_defined", "{{ x is defined }} {{ nope is defined }} {{ nope is undefined }} {{ x is not defined }}", {"x": 1}),
    ("tests_types", "{{ 's' is string }} {{ 1 is string }} {{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ 1 is integer }} {{ true is integer }} {{ 1.0 is float }} {{ true is boolean }} {{ none is none }} {{ 0 is none }}", {}),
    ("tests_containers", "{{ {} is mapping }} {{ [] is mapping }} {{ [] is iterable }} {{ 's' is iterable }} {{ 1 is iterable }} {{ nope is iterable }} {{ [] is sequence }} {{ {} is sequence }} {{ 1 is sequence }}", {}),
    ("tests_true_false", "{{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }}", {}),
    ("tests_numbers", "{{ 3 is odd }} {{ 3 is even }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(2) }}", {}),
    ("tests_compare", "{{ 1 is eq 1 }} {{ 1 is equalto 2 }} {{ 2 is gt 1 }} {{ 2 is lt 1 }} {{ 2 is ge 2 }} {{ 1 is ne 1 }} {{ 'a' is in 'abc' }} {{ 3 is in [1, 2] }}", {}),
    ("tests_misc", "{{ none is sameas none }} {{ 'abc' is lower }} {{ 'ABC' is upper }} {{ range is callable }} {{ 'x' is callable }} {{ 'upper' is filter }} {{ 'odd' is test }} {{ 'nope' is filter }}", {}),
    ("test_in_condition", "{% if messages[0].role == 'system' and messages[0].content is string %}sys{% endif %}", {"messages": MSGS}),
    # ---- methods -------------------------------------------------------------------------------
    ("str_methods_case", "{{ 'aB'.upper() }} {{ 'aB'.lower() }} {{ 'hello world'.title() }} {{ \"they're\".title() }} {{ 'hELLO'.capitalize() }}", {}),
    ("str_strip", "[{{ '  x  '.strip() }}][{{ '\\n\\nx\\n'.lstrip('\\n') }}][{{ 'xxhixx'.rstrip('x') }}][{{ ' a '.lstrip() }}]", {}),
    ("str_split", "{{ 'a,b,,c'.split(',') }} {{ '  a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a-b-c'.rsplit('-', 1) }} {{ 'x</think>y'.split('</think>')[-1] }} {{ 'l1\\nl2\\r\\nl3'.splitlines() }}", {}),
    ("str_starts_ends", "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith('lo') }} {{ 'hello'.startswith(('x', 'h')) }} {{ ''.startswith('') }}", {}),
    ("str_replace_find_count", "{{ 'a-b-c'.replace('-', '+') }} {{ 'a-b-c'.replace('-', '', 1) }} {{ 'héllo'.find('l') }} {{ 'abc'.find('z') }} {{ 'banana'.count('an') }} {{ 'abc'.rfind('c') }}", {}),
    ("str_join_format", "{{ ', '.join(['a', 'b']) }} {{ '{} and {}'.format('x', 'y') }} {{ '{0}{1}{0}'.format('a', 'b') }} {{ '{n}!'.format(n=3) }}", {}),
    ("str_predicates", "{{ '123'.isdigit() }} {{ 'abc'.isalpha() }} {{ 'a1'.isalnum() }} {{ ' \\t'.isspace() }} {{ 'abc'.islower() }} {{ 'ABC'.isupper() }} {{ ''.isdigit() }}", {}),
    ("dict_methods", "{{ d.keys() | list }} {{ d.values() | list }} {{ d.items() | list }} {{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 'dflt') }}", {"d": {"a": 1, "b": 2}}),
    ("list_methods", "{{ [1, 2, 2].count(2) }} {{ ['a', 'b'].index('b') }}", {}),
    # ---- globals -------------------------------------------------------------------------------
    ("range", "{{ range(3) | list }} {{ range(1, 4) | list }} {{ range(10, 0, -3) | list }} {{ range(0) | list }}", {}),
    ("dict_global", "{{ dict(a=1, b='x') }} {{ dict({'k': 1}) }}", {}),
    ("strftime_now", "{{ strftime_now('%Y-%m-%d %H:%M') }} {{ strftime_now('%d %b %Y') }} {{ strftime_now('%B %A %j') }}", {"_ax_now": "2024-07-26T09:05:00"}),
    ("context_shadows_global", "{{ range }}", {"range": "mine"}),
    ("str_of_containers", "{{ [1, 'a', none, true, 1.5, [2]] }} {{ {'k': 'v', 'n': {'x': 1}} }} {{ ('a',) }} {{ ['it\\'s'] }} {{ [\"q\\\"\"] }}", {}),
    # ---- chat-template idioms ----------------------------------------------------------------
    ("idiom_loop_messages", "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set sys = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% endif %}{{ sys }}|{% for m in loop_messages %}{{ m['role'][0] }}{{ loop.index0 % 2 == 0 }} {% endfor %}", {"messages": MSGS}),
    ("idiom_reversed_scan", "{% set ns = namespace(last=-1) %}{% for m in messages[::-1] %}{% set i = (messages | length - 1) - loop.index0 %}{% if ns.last == -1 and m.role == 'user' %}{% set ns.last = i %}{% endif %}{% endfor %}{{ ns.last }}", {"messages": MSGS}),
    ("idiom_content_parts", "{% for m in messages %}{% if m.content is string %}{{ m.content }}{% else %}{% for p in m.content %}{% if p.type == 'text' %}{{ p.text }}{% endif %}{% endfor %}{% endif %};{% endfor %}", {"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image"}, {"type": "text", "text": "b"}]}, {"role": "assistant", "content": "c"}]}),
    ("idiom_tool_call_args", "{% for tc in calls %}{% if tc.function is defined %}{% set tc = tc.function %}{% endif %}{{ tc.name }}:{% if tc.arguments is string %}{{ tc.arguments }}{% else %}{{ tc.arguments | tojson }}{% endif %} {% endfor %}", {"calls": [{"function": {"name": "a", "arguments": {"x": 1}}}, {"name": "b", "arguments": "{\"y\": 2}"}]}),
    ("idiom_raise_alternation", "{% for m in messages %}{% if (m.role == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate') }}{% endif %}{{ m.role }}{% endfor %}", {"messages": [{"role": "user"}, {"role": "assistant"}]}),
    ("idiom_bos_eos", "{{ bos_token }}x{{ eos_token }}", {"bos_token": "<s>", "eos_token": "</s>"}),
    ("idiom_items_python_tag", "{% for k, v in args | items %}{{ k + '=\"' + v + '\"' }}{% if not loop.last %}, {% endif %}{% endfor %}", {"args": {"query": "weather", "lang": "en"}}),
]

# Templates that must fail (the message is informational; the test only requires failure).
ERROR_CASES = [
    ("err_raise_exception", "{{ raise_exception('custom failure') }}", {}),
    ("err_undefined_attribute_of_undefined", "{{ nope.attr }}", {}),
    ("err_missing_key_chain", "{{ d.x.y }}", {"d": {}}),
    ("err_call_undefined", "{{ nope() }}", {}),
    ("err_str_plus_int", "{{ 'a' + 1 }}", {}),
    ("err_compare_types", "{{ 1 < 'a' }}", {}),
    ("err_division_by_zero", "{{ 1 / 0 }}", {}),
    ("err_iterate_none", "{% for x in none %}{% endfor %}", {}),
    ("err_in_none", "{{ 'a' in none }}", {}),
    ("err_length_of_int", "{{ 5 | length }}", {}),
    ("err_range_too_big", "{{ range(1000000) | length }}", {}),
    ("err_assign_attr_non_namespace", "{% set d = {} %}{% set d.x = 1 %}", {}),
    ("err_unpack_mismatch", "{% for a, b in [[1, 2, 3]] %}{% endfor %}", {}),
    ("err_items_of_list", "{{ [1] | items | list }}", {}),
    ("err_list_append_unsafe", "{{ [].append(1) }}", {}),
    ("err_tojson_undefined", "{{ nope | tojson }}", {}),
    ("err_int_overflow_like", "{{ 'x' * none }}", {}),
    ("err_strip_int", "{{ 'abc'.strip(1) }}", {}),
    ("err_split_empty_sep", "{{ 'abc'.split('') }}", {}),
]


def main():
    out = []
    for name, template, context in CASES + ERROR_CASES:
        ctx = dict(context)
        now = ctx.pop("_ax_now", None)
        now_dt = datetime.strptime(now, "%Y-%m-%dT%H:%M:%S") if now else None
        text, error = hf_jinja2.render(template, ctx, now=now_dt)
        entry = {"name": name, "template": template, "context": context}
        if error is None:
            entry["expected"] = text
        else:
            entry["error"] = error
        expect_error = name.startswith("err_")
        if expect_error != (error is not None):
            raise SystemExit(f"{name}: unexpected {'success' if error is None else error}")
        out.append(entry)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(json.dumps({"generator": f"scripts/chat-template-goldens/make_features.py, Jinja2 {hf_jinja2.jinja2.__version__} configured like transformers", "cases": out}, indent=1, ensure_ascii=False) + "\n")
    print(f"{OUT}: {len(out)} cases")


if __name__ == "__main__":
    main()
