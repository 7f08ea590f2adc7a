#!/usr/bin/env python3
"""trim_vocab_gguf.py - shrink a vocab-only GGUF to what tokenizing its test vectors can consult.

llama.cpp's models/ggml-vocab-NAME.gguf files (1 to 16 MB each) come with test vectors
NAME.gguf.inp/.out. Tokenizing a text only ever looks up tokens and merge rules whose text is a
substring of that text in the tokenizer's working form (byte-level characters for "gpt2"
vocabularies, spaces as U+2581 for the SentencePiece-style ones), so a copy that keeps only those
entries tokenizes the vectors exactly as the full file does, at a small fraction of the size:

  - every token id stays where it was (the expected ids refer to them); a NORMAL token whose text is
    not a substring of any input is emptied and typed UNUSED (type 5), so it can never match;
  - every token of another type (control, user-defined, byte, unknown) and every one-character
    token is kept;
  - merge rules are kept in their order (only their relative rank matters) when the merged text is
    a substring of an input;
  - scores of emptied tokens become 0; every other metadata key is copied unchanged.

The result is written gzip-compressed (OUT.gguf.gz, about 1% of the original) with the .inp/.out
files copied beside it unchanged.

  python3 scripts/trim_vocab_gguf.py /work/llama.cpp/models/ggml-vocab-falcon.gguf \\
      kvcache-core/src/test/resources/vocab/ggml-vocab-falcon.gguf
"""

import gzip
import os
import shutil
import sys
import unicodedata

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "tools"))
import make_synthetic_gguf as g  # noqa: E402  (the shared GGUF reader/writer)

SEPARATOR = "\n__ggml_vocab_test__\n"
NORMAL, UNUSED = 1, 5


def byte_level_chars():
    """GPT-2's printable stand-in for each byte."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    chars = {}
    extra = 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


def working_forms(inputs, model):
    if model == "gpt2":
        table = byte_level_chars()
        return ["".join(table[b] for b in text.encode("utf-8")) for text in inputs]
    if model == "t5":
        # Unigram vocabularies normalize first (their precompiled charsmap is NFKC-like: "\u00bd" -> "1\u20442")
        inputs = inputs + [unicodedata.normalize("NFKC", text) for text in inputs]
    # SentencePiece and SentencePiece-style BPE: spaces are U+2581, and a prefix space may be added
    escaped = [text.replace(" ", "\u2581") for text in inputs]
    return escaped + ["\u2581" + text for text in escaped]


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: trim_vocab_gguf.py IN.gguf OUT.gguf")
    src, dst = argv
    with open(src + ".inp", encoding="utf-8", newline="") as f:
        inputs = f.read().split(SEPARATOR)
    _, kvs, n_tensors = g.read_gguf_metadata(src)
    if n_tensors:
        sys.exit("%s has tensors; expected a vocab-only file" % src)
    meta = {k: (t, v) for k, t, v in kvs}
    model = meta["tokenizer.ggml.model"][1]
    corpus = "\x00".join(working_forms(inputs, model))

    tokens = list(meta["tokenizer.ggml.tokens"][1][1])
    n = len(tokens)
    types = np.array(meta["tokenizer.ggml.token_type"][1][1]) if "tokenizer.ggml.token_type" in meta \
        else np.full(n, NORMAL, dtype=np.int32)
    kept = [types[i] != NORMAL or len(tokens[i]) <= 1 or tokens[i] in corpus for i in range(n)]

    out = []
    for key, vtype, value in kvs:
        if key == "tokenizer.ggml.tokens":
            value = (value[0], [t if kept[i] else "" for i, t in enumerate(tokens)])
        elif key == "tokenizer.ggml.token_type":
            value = (value[0], np.where(kept, types, UNUSED).astype(value[1].dtype))
        elif key == "tokenizer.ggml.scores":
            value = (value[0], np.where(kept, value[1], 0).astype(value[1].dtype))
        elif key == "tokenizer.ggml.merges":
            value = (value[0], [m for m in value[1] if merged(m) in corpus])
        out.append((key, vtype, value))
    if "tokenizer.ggml.token_type" not in meta:
        out.append(("tokenizer.ggml.token_type", g.T_ARR, (g.T_I32, np.where(kept, types, UNUSED).astype(np.int32))))
    g.write_gguf(dst, out, [])
    with open(dst, "rb") as plain, open(dst + ".gz", "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as packed:
            shutil.copyfileobj(plain, packed)
    os.remove(dst)
    for ext in (".inp", ".out"):
        shutil.copyfile(src + ext, dst + ext)
    print("%s.gz: %d of %d tokens kept, %d bytes" % (dst, sum(kept), n, os.path.getsize(dst + ".gz")))


def merged(rule):
    """A rule "left right" (split at the first space after the first character, as llama.cpp does) as one text."""
    cut = rule.find(" ", 1)
    return rule if cut < 0 else rule[:cut] + rule[cut + 1:]


if __name__ == "__main__":
    main(sys.argv[1:])
