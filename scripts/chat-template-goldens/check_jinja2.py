"""Re-renders tests/fixtures/chat_template/goldens.json with Jinja2 configured like
transformers (hf_jinja2.py), or with transformers itself (--transformers, e.g. on the
GPU machine), and reports every render where that reference and @huggingface/jinja
disagree. With --annotate, writes the Jinja2 result into goldens.json as
"jinja2_expected"/"jinja2_error" on the renders that disagree: our interpreter follows
Python's Jinja2 (what transformers runs), so the test prefers those.
"""
import argparse
import json
import os
import sys

import hf_jinja2

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
GOLDENS = os.path.join(REPO, "tests/fixtures/chat_template/goldens.json")


def resolve(rel, shared):
    if rel.startswith("shared/"):
        return os.path.join(shared, rel[len("shared/"):])
    return os.path.join(REPO, "tests/fixtures", rel[len("fixtures/"):])


def special_tokens(config):
    def content(t):
        if isinstance(t, str):
            return t
        if isinstance(t, dict) and isinstance(t.get("content"), str):
            return t["content"]
        return None

    out = {}
    for name in ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]:
        v = content(config.get(name))
        if v:
            out[name] = v
    if isinstance(config.get("additional_special_tokens"), list):
        out["additional_special_tokens"] = [c for c in map(content, config["additional_special_tokens"]) if c is not None]
    for k, v in (config.get("extra_special_tokens") or {}).items():
        if content(v):
            out[k] = content(v)
    return out


def check_features(use_transformers):
    from datetime import datetime

    path = os.path.join(REPO, "tests/fixtures/chat_template/features.json")
    cases = json.load(open(path, encoding="utf-8"))["cases"]
    differ = 0
    for c in cases:
        ctx = dict(c["context"])
        now = ctx.pop("_ax_now", None)
        if now and use_transformers:
            continue  # transformers' strftime_now reads the real clock
        now_dt = datetime.strptime(now, "%Y-%m-%dT%H:%M:%S") if now else None
        text, error = hf_jinja2.render(c["template"], ctx, use_transformers, now_dt)
        ok = (text == c.get("expected")) if text is not None else ("error" in c)
        if not ok:
            differ += 1
            print(f"DIFFER {c['name']}: fixture {c.get('expected', c.get('error'))!r} now {text if text is not None else error!r}")
    print(f"features: {len(cases) - differ} agree, {differ} differ")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--goldens", default=GOLDENS)
    ap.add_argument("--shared", default=os.environ.get("AX_SHARED_DIR", os.path.join(REPO, "..", "shared")))
    ap.add_argument("--transformers", action="store_true", help="use transformers' own template compiler")
    ap.add_argument("--annotate", action="store_true")
    ap.add_argument("--features", action="store_true", help="check features.json instead of goldens.json")
    args = ap.parse_args()
    if args.features:
        return check_features(args.transformers)

    goldens = json.load(open(args.goldens, encoding="utf-8"))
    contexts = {c["name"]: c["context"] for c in goldens["conversations"]}
    loaded = {}
    for name, rel in goldens["templates"].items():
        config = json.load(open(os.path.join(resolve(rel, args.shared), "tokenizer_config.json"), encoding="utf-8"))
        source = config["chat_template"]
        if isinstance(source, list):
            source = next(t["template"] for t in source if t["name"] == "default")
        loaded[name] = (source, special_tokens(config))

    agree = disagree = 0
    for r in goldens["renders"]:
        source, specials = loaded[r["template"]]
        context = {**specials, "tools": None, "documents": None, "add_generation_prompt": False, **contexts[r["conversation"]]}
        text, error = hf_jinja2.render(source, context, args.transformers)
        r.pop("jinja2_expected", None)
        r.pop("jinja2_error", None)
        same = (text == r.get("expected")) if text is not None else ("error" in r)
        if same:
            agree += 1
            continue
        disagree += 1
        print(f"DIFFER {r['template']}/{r['conversation']}:")
        print(f"  @huggingface/jinja: {r.get('expected', 'ERROR ' + str(r.get('error')))!r}"[:600])
        print(f"  jinja2:             {text if text is not None else 'ERROR ' + error!r}"[:600])
        if args.annotate:
            if text is not None:
                r["jinja2_expected"] = text
            else:
                r["jinja2_error"] = error
    print(f"{agree} renders agree, {disagree} differ ({'transformers' if args.transformers else 'jinja2 ' + hf_jinja2.jinja2.__version__})")
    if args.annotate:
        with open(args.goldens, "w", encoding="utf-8") as f:
            f.write(json.dumps(goldens, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
