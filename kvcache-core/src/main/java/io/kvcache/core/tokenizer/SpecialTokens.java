package io.kvcache.core.tokenizer;

import java.util.BitSet;

/** The vocabulary's BOS/EOS ids (-1 when absent), whether encoding adds them, and the end-of-generation set. */
record SpecialTokens(int bos, int eos, boolean addBos, boolean addEos, BitSet endOfGeneration) {
}
