#!/usr/bin/env python3
"""make_vocab_vectors.py - tokenizer test vectors for a llama.cpp vocabulary that ships none.

llama.cpp's models/ folder has a few ggml-vocab-NAME.gguf files without NAME.gguf.inp/.out. This
writes them: the inputs are the ones the other vocabularies share (llama-bpe's .inp), and each is
tokenized by llama.cpp's own test-tokenizer-0 (built from its tests/ target), one run per input in
its text-file mode, without BOS and without special-token parsing, as its vector mode does. The
.out lines follow llama.cpp's layout (each id preceded by a space).

  python3 scripts/make_vocab_vectors.py --bin /work/llama.cpp/build/bin \\
      --inp /work/llama.cpp/models/ggml-vocab-llama-bpe.gguf.inp \\
      /work/llama.cpp/models/ggml-vocab-aquila.gguf OUT_DIR

writes OUT_DIR/ggml-vocab-aquila.gguf.inp/.out; scripts/trim_vocab_gguf.py then makes the small copy
of the vocabulary the tests read.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

SEPARATOR = "\n__ggml_vocab_test__\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True, help="llama.cpp's build/bin (with test-tokenizer-0)")
    parser.add_argument("--inp", required=True, help="a .inp file whose inputs to use")
    parser.add_argument("vocab", help="the ggml-vocab-NAME.gguf file")
    parser.add_argument("out_dir")
    args = parser.parse_args()

    with open(args.inp, encoding="utf-8", newline="") as f:
        raw = f.read()
    # every input is followed by a separator
    inputs = raw.split(SEPARATOR)
    if inputs[-1] != "":
        sys.exit("%s does not end with a separator" % args.inp)
    inputs = inputs[:-1]

    tool = os.path.join(args.bin, "test-tokenizer-0")
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        text_file = os.path.join(tmp, "input.txt")
        for i, text in enumerate(inputs):
            with open(text_file, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            run = subprocess.run([tool, args.vocab, text_file], capture_output=True, text=True)
            if run.returncode != 0:
                sys.exit("test-tokenizer-0 failed on input %d:\n%s" % (i, run.stderr[-2000:]))
            with open(text_file + ".tokcpp") as f:
                ids = f.read().split()
            lines.append("".join(" " + t for t in ids))

    name = os.path.basename(args.vocab)
    os.makedirs(args.out_dir, exist_ok=True)
    shutil.copyfile(args.inp, os.path.join(args.out_dir, name + ".inp"))
    with open(os.path.join(args.out_dir, name + ".out"), "w", encoding="utf-8", newline="") as f:
        f.write("".join(line + "\n" for line in lines))
    print("%s: %d vectors" % (name, len(lines)))


if __name__ == "__main__":
    main()
