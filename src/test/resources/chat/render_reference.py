#!/usr/bin/env python3
"""Renders each template in templates/ over the conversations below as Hugging Face transformers'
apply_chat_template does (jinja2's ImmutableSandboxedEnvironment with trim_blocks and lstrip_blocks, the loopcontrols
extension, its tojson filter and raise_exception / strftime_now functions (the date pinned to 3 Dec 2026), tools=None, the model's bos/eos texts).
Prints JSON: {template: [{"conversation", "add_generation_prompt", "output" | "error"}]}.
Usage: python3 render_reference.py > rendered.json (jinja2 3.1)."""
import datetime, json, os, sys
import jinja2, jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

# Each template's bos and eos texts, as the models' tokenizer configs give them.
TOKENS = {
    "gemma-2-2b-it": ("<bos>", "<eos>"),
    "gemma-3-4b-it": ("<bos>", "<eos>"),
    "phi-3.5-mini-instruct": ("<s>", "<|endoftext|>"),
    "llama-3.1-8b-instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "llama-3.2-3b-instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "qwen2.5-7b-instruct": ("", "<|im_end|>"),
    "qwen3-0.6b": ("", "<|im_end|>"),
    "mistral-nemo-instruct-2407": ("<s>", "</s>"),
}
CONVERSATIONS = {
    "system-and-turns": [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": "Hello"},
                         {"role": "assistant", "content": "Hi there!"}, {"role": "user", "content": "How are you?"}],
    "one-user": [{"role": "user", "content": "  What is 2+2?\n"}],
    "user-assistant": [{"role": "user", "content": "Tell me a story."},
                       {"role": "assistant", "content": "Once upon a time, there was a girl named Lily."}],
    "thinking-history": [{"role": "user", "content": "Hi"},
                         {"role": "assistant", "content": "<think>\nThe user greets.\n</think>\n\nHello!"},
                         {"role": "user", "content": "Bye"}],
    "two-users": [{"role": "user", "content": "Hello"}, {"role": "user", "content": "Again"}],
}

class RaisedException(Exception):
    pass

def raise_exception(message):
    raise RaisedException(message)

def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

# Pinned, so that the file does not change with the day it is made: the test renders with today's date and puts
# this one in its place.
TODAY = datetime.datetime(2026, 12, 3)

def strftime_now(fmt):
    return TODAY.strftime(fmt)

env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
env.globals["strftime_now"] = strftime_now
here = os.path.dirname(os.path.abspath(__file__))
out = {}
for name, (bos, eos) in TOKENS.items():
    template = env.from_string(open(os.path.join(here, "templates", name + ".jinja")).read())
    cases = []
    for conv, messages in CONVERSATIONS.items():
        for gen in (True, False):
            case = {"conversation": conv, "add_generation_prompt": gen}
            try:
                case["output"] = template.render(messages=messages, tools=None, add_generation_prompt=gen,
                                                 bos_token=bos, eos_token=eos)
            except RaisedException as e:
                case["error"] = str(e)
            cases.append(case)
    out[name] = {"bos": bos, "eos": eos, "cases": cases}
json.dump({"conversations": CONVERSATIONS, "templates": out}, sys.stdout, indent=1, ensure_ascii=False)
print()
