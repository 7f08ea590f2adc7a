package io.kvcache.core.kv.snapshot;

import io.kvcache.core.kv.EntryClass;
import io.kvcache.core.kv.HeadCache;
import io.kvcache.core.kv.HeadPolicy;
import io.kvcache.core.kv.KeyBalance;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.StoredEntries;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.model.ModelConfig;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * A conversation's compressed KV cache as bytes, and back: what lets a conversation outlive the
 * process that computed it (a store shared by replicas, a restart). A restored cache holds the
 * same tokens, entries, statistics and per-head policies bit for bit, so it continues exactly as
 * the saved one would have, and accounts the same bytes.
 *
 * <p>Format, version {@value #VERSION}, little-endian throughout:
 * <ol>
 * <li>magic {@code KVCS}, version (u16);</li>
 * <li>the model: its 32-byte fingerprint ({@link ModelIdentity}), architecture (string), layers,
 *     KV heads, key and value head widths and vocabulary size (i32 each);</li>
 * <li>the cache config: the {@code kvcache.policy} value (string), then its settings as
 *     {@link KvCacheConfig#describe()} gives them (u16 count, then key and value strings);</li>
 * <li>the sequence: its token ids (i32 count, i32 each); the conversation's text (i32 byte length,
 *     UTF-8) and the token ids that spell it (i32 count, i32 each);</li>
 * <li>for each layer holding its own cache, for each KV head: the index of its per-head policy in
 *     {@link KvCacheConfig#headPolicies()} (u8); where the quality guardrail watches the cache, the
 *     moving mean of the head's exposed attention (f32) and the forward calls it has watched (i32);
 *     where the layout balances keys, the
 *     key factors (f32 each); then for each entry class its layout has (as computed, low precision,
 *     merged, in that order): the count (i32), the positions (i32 each; where the layout stores the
 *     kept entries' positions as runs, as {@code full} and {@code window} do, the runs instead: their
 *     count, then each run's first position and length, i32 each), the attention received
 *     where tracked and the logit biases of merged entries (f32 each), and the key then the value
 *     rows as stored (fp16, or the low-bit rows with their group scales, and minimums in the low-precision class, as the
 *     {@code kv-type} setting and the policy's low-precision settings say; under a quantized
 *     kv-type the as-computed rows are the quantized ones then the fp16 residual, the last
 *     min({@code kv-residual}, count) entries, each group's scale one byte under
 *     {@code kv-scale=e5m3}; keys as the cache holds them, Hadamard-rotated);</li>
 * <li>CRC-32C of every byte before it (u32).</li>
 * </ol>
 * Strings are a u16 byte length then UTF-8. The entries are the bytes the policy accounts plus
 * nothing per entry, so a snapshot is the cache's {@code bytesHeld} plus the token ids, the text and
 * a header of some hundred bytes.
 *
 * <p>Reading treats the bytes as untrusted: a count is checked against the bytes left before
 * anything is allocated for it, every value against what the model, the policy and the sequence
 * allow, and anything else is a {@link SnapshotFormatException} naming what was wrong.
 */
public final class CacheSnapshot {
    /**
     * 2: the settings may carry {@code kv-type} and {@code kv-residual}, whose as-computed rows are
     * then codes and an fp16 residual (keys rotated); {@code mixed-precision.high-bits} is gone; each
     * head carries the quality guardrail's moves and watched mean. 3: the kv-type's codes carry a
     * scale per group alone (symmetric), no minimum; the full and window policies' kept positions
     * are runs.
     */
    public static final int VERSION = 3;
    private static final byte[] MAGIC = {'K', 'V', 'C', 'S'};
    private static final int HEADER_BYTES = MAGIC.length + 2;
    private static final int CHECKSUM_BYTES = 4;
    private static final EntryClass[] CLASSES = EntryClass.values();

    /**
     * A cache restored from a snapshot, with the conversation's text.
     *
     * @param cache      the cache, ready to continue
     * @param text       the text the conversation's tokens stand for
     * @param textTokens the token ids that spell {@code text}
     */
    public record Restored(KvCache cache, String text, int[] textTokens) {
    }

    private CacheSnapshot() {
    }

    /**
     * The snapshot of {@code cache}, computed with {@code model}, whose conversation reads
     * {@code text}, spelled by {@code textTokens}. The cache must not change while it is written.
     *
     * @throws IllegalArgumentException when the cache is not of that model's shape, or its config
     *                                  has no string form that reads back the same
     */
    public static byte[] write(KvCache cache, ModelIdentity model, String text, int[] textTokens) {
        ModelConfig shape = model.config();
        if (cache.layers() != shape.layers() || cache.kvHeads() != shape.kvHeads()) {
            throw new IllegalArgumentException("the cache has " + cache.layers() + " layers of " + cache.kvHeads()
                    + " KV heads, the model " + shape.layers() + " of " + shape.kvHeads());
        }
        KvCacheConfig config = cache.config();
        Map<String, String> settings = new LinkedHashMap<>(config.describe());
        String policy = settings.remove("policy");
        if (!KvCacheConfig.parse(policy, settings).equals(config)) {
            throw new IllegalArgumentException("kvcache.policy " + policy + " " + settings + " does not read back as this cache's config");
        }
        SnapshotOutput out = new SnapshotOutput((int) Math.min(Integer.MAX_VALUE - 8,
                cache.bytesHeld() + 4L * cache.length() + 4L * textTokens.length + 3L * text.length() + 1024));
        out.bytes(MAGIC);
        out.u16(VERSION);
        out.bytes(model.fingerprint());
        out.string(shape.architecture().name(), false);
        out.i32(shape.layers());
        out.i32(shape.kvHeads());
        out.i32(shape.headDim());
        out.i32(shape.valueDim());
        out.i32(shape.vocabularySize());
        out.string(policy, false);
        out.u16(settings.size());
        settings.forEach((key, value) -> {
            out.string(key, false);
            out.string(value, false);
        });
        int[] tokens = new int[cache.length()];
        for (int p = 0; p < tokens.length; p++) {
            tokens[p] = cache.token(p);
        }
        out.i32(tokens.length);
        out.ints(tokens);
        out.string(text, true);
        out.i32(textTokens.length);
        out.ints(textTokens);
        List<HeadPolicy> headPolicies = config.headPolicies();
        for (int layer = 0; layer < cache.layers(); layer++) {
            if (!cache.ownsLayer(layer)) {
                continue;
            }
            for (int h = 0; h < cache.kvHeads(); h++) {
                HeadCache head = cache.head(layer, h);
                int index = headPolicies.indexOf(cache.headPolicy(layer, h));
                if (index < 0) {
                    throw new IllegalStateException("head " + layer + "/" + h + " runs " + cache.headPolicy(layer, h).name()
                            + ", which " + config.policy().name() + " does not list");
                }
                out.u8(index);
                if (config.watched()) {
                    out.i32(Float.floatToRawIntBits(cache.exposure(layer, h)));
                    out.i32(cache.watchedCalls(layer, h));
                }
                KeyBalance balance = head.keyBalance();
                if (head.layout().balancesKeys()) {
                    for (int c = 0; c < balance.width(); c++) {
                        out.i32(Float.floatToRawIntBits(balance.factor(c)));
                    }
                }
                for (EntryClass which : CLASSES) {
                    if (head.has(which)) {
                        StoredEntries entries = head.stored(which);
                        out.i32(entries.count());
                        if (inRuns(head, which)) {
                            writeRuns(out, entries.positions());
                        } else {
                            out.ints(entries.positions());
                        }
                        if (entries.attention() != null) {
                            out.floats(entries.attention());
                        }
                        if (entries.bias() != null) {
                            out.floats(entries.bias());
                        }
                        out.bytes(entries.keys());
                        out.bytes(entries.values());
                    }
                }
            }
        }
        CRC32C crc = new CRC32C();
        crc.update(out.array(), 0, out.size());
        out.i32((int) crc.getValue());
        return out.toBytes();
    }

    /**
     * The cache a snapshot holds, for {@code model}, as a sequence that may reach {@code capacity}
     * positions, classing tokens by {@code classes}.
     *
     * @throws SnapshotFormatException when the bytes are no snapshot of this version, are corrupt,
     *                                 or were written for another model
     */
    public static Restored read(byte[] bytes, ModelIdentity model, int capacity, TokenClasses classes) {
        if (bytes.length < HEADER_BYTES + CHECKSUM_BYTES || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new SnapshotFormatException("not a kvcache cache snapshot (no KVCS magic)");
        }
        int version = (bytes[4] & 0xFF) | (bytes[5] & 0xFF) << 8;
        if (version != VERSION) {
            throw new SnapshotFormatException("snapshot format version " + version + "; this build reads version " + VERSION);
        }
        int body = bytes.length - CHECKSUM_BYTES;
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, body);
        int stored = (bytes[body] & 0xFF) | (bytes[body + 1] & 0xFF) << 8 | (bytes[body + 2] & 0xFF) << 16 | bytes[body + 3] << 24;
        if ((int) crc.getValue() != stored) {
            throw new SnapshotFormatException("corrupt: the checksum does not match the bytes");
        }
        SnapshotInput in = new SnapshotInput(bytes, body);
        in.bytes(HEADER_BYTES, "header");
        try {
            return read(in, model, capacity, classes);
        } catch (IllegalArgumentException | IllegalStateException | ArithmeticException e) {
            throw new SnapshotFormatException("the snapshot does not fit: " + e.getMessage(), e);
        }
    }

    private static Restored read(SnapshotInput in, ModelIdentity model, int capacity, TokenClasses classes) {
        ModelConfig shape = model.config();
        byte[] fingerprint = in.bytes(ModelIdentity.FINGERPRINT_BYTES, "model fingerprint");
        String architecture = in.string("architecture", false);
        int[] dims = {in.i32("layers"), in.i32("KV heads"), in.i32("key width"), in.i32("value width"), in.i32("vocabulary size")};
        int[] expected = {shape.layers(), shape.kvHeads(), shape.headDim(), shape.valueDim(), shape.vocabularySize()};
        if (!Arrays.equals(fingerprint, model.fingerprint()) || !architecture.equals(shape.architecture().name())
                || !Arrays.equals(dims, expected)) {
            throw new SnapshotFormatException("written for another model (" + architecture + " " + Arrays.toString(dims)
                    + ", fingerprint " + java.util.HexFormat.of().formatHex(fingerprint) + "), not " + shape.name()
                    + " (" + model.hex() + ")");
        }
        String policy = in.string("policy", false);
        int settingCount = in.u16("settings");
        Map<String, String> settings = new LinkedHashMap<>();
        for (int i = 0; i < settingCount; i++) {
            settings.put(in.string("setting name", false), in.string("setting value", false));
        }
        KvCacheConfig config = KvCacheConfig.parse(policy, settings);
        int length = in.count("tokens", Integer.BYTES);
        if (length > capacity) {
            throw new SnapshotFormatException(length + " tokens, more than the " + capacity + " a conversation may reach");
        }
        int[] tokens = tokenIds(in.ints(length, "tokens"), shape.vocabularySize(), "token");
        String text = in.string("text", true);
        int textLength = in.count("text tokens", Integer.BYTES);
        int[] textTokens = tokenIds(in.ints(textLength, "text tokens"), shape.vocabularySize(), "text token");
        KvCache cache = new KvCache(shape, capacity, config, classes);
        for (int token : tokens) {
            cache.advance(token);
        }
        List<HeadPolicy> headPolicies = config.headPolicies();
        for (int layer = 0; layer < cache.layers(); layer++) {
            if (!cache.ownsLayer(layer)) {
                continue;
            }
            for (int h = 0; h < cache.kvHeads(); h++) {
                String where = "head " + layer + "/" + h;
                int index = in.u8(where + " policy");
                if (index >= headPolicies.size()) {
                    throw new SnapshotFormatException(where + ": policy " + index + " of " + headPolicies.size());
                }
                cache.restoreHeadPolicy(layer, h, headPolicies.get(index));
                if (config.watched()) {
                    float exposure = in.floats(1, where + " exposure")[0];
                    cache.restoreWatch(layer, h, exposure, in.i32(where + " watched calls"));
                }
                HeadCache head = cache.head(layer, h);
                if (head.layout().balancesKeys()) {
                    head.setKeyBalance(KeyBalance.of(in.floats(head.keyDim(), where + " key factors")));
                }
                for (EntryClass which : CLASSES) {
                    if (head.has(which)) {
                        head.restore(which, entries(in, head, which, where), length);
                    }
                }
            }
        }
        if (in.remaining() != 0) {
            throw new SnapshotFormatException(in.remaining() + " bytes after the last head");
        }
        return new Restored(cache, text, textTokens);
    }

    private static StoredEntries entries(SnapshotInput in, HeadCache head, EntryClass which, String where) {
        String what = where + " " + which + " entries";
        boolean tracks = head.layout().tracksAttention();
        boolean biased = which == EntryClass.MERGED;
        boolean inRuns = inRuns(head, which);
        // a bound before anything is allocated (every entry has at least a byte of rows); the rows'
        // bytes are checked once the count is known
        long entryBytes = (inRuns ? 1 : Integer.BYTES) + (tracks ? Float.BYTES : 0) + (biased ? Float.BYTES : 0);
        int count = in.count(what, entryBytes);
        int[] positions = inRuns ? readRuns(in, count, head.layout().positionRuns(), what) : in.ints(count, what + " positions");
        float[] attention = tracks ? in.floats(count, what + " attention") : null;
        float[] bias = biased ? in.floats(count, what + " biases") : null;
        byte[] keys = in.bytes(head.storedBytesOf(which, true, count), what + " keys");
        byte[] values = in.bytes(head.storedBytesOf(which, false, count), what + " values");
        return new StoredEntries(positions, attention, bias, keys, values);
    }

    /** Whether the class stores its positions as runs (the kept entries of a layout that says so). */
    private static boolean inRuns(HeadCache head, EntryClass which) {
        return which == EntryClass.KEPT && head.layout().positionRuns() > 0;
    }

    /** Positions as runs of consecutive ones: the count, then each run's first position and length. */
    private static void writeRuns(SnapshotOutput out, int[] positions) {
        int runs = 0;
        for (int e = 0; e < positions.length; e++) {
            runs += e == 0 || positions[e] != positions[e - 1] + 1 ? 1 : 0;
        }
        out.i32(runs);
        for (int e = 0; e < positions.length; ) {
            int end = e + 1;
            while (end < positions.length && positions[end] == positions[end - 1] + 1) {
                end++;
            }
            out.i32(positions[e]);
            out.i32(end - e);
            e = end;
        }
    }

    /** {@code count} positions from at most {@code most} runs, which must cover exactly that many entries. */
    private static int[] readRuns(SnapshotInput in, int count, int most, String what) {
        int runs = in.count(what + " position runs", 2L * Integer.BYTES);
        if (runs > most || (runs == 0) != (count == 0)) {
            throw new SnapshotFormatException(what + ": " + runs + " position runs for " + count
                    + " entries; this policy keeps at most " + most);
        }
        int[] positions = new int[count];
        int at = 0;
        for (int r = 0; r < runs; r++) {
            int first = in.i32(what + " run first position");
            int length = in.i32(what + " run length");
            if (length < 1 || length > count - at || first < 0 || first > Integer.MAX_VALUE - length) {
                throw new SnapshotFormatException(what + ": run " + r + " of " + length + " positions from " + first
                        + " does not fit " + count + " entries");
            }
            for (int i = 0; i < length; i++) {
                positions[at++] = first + i;
            }
        }
        if (at != count) {
            throw new SnapshotFormatException(what + ": the position runs cover " + at + " of " + count + " entries");
        }
        return positions;
    }

    private static int[] tokenIds(int[] ids, int vocabularySize, String what) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabularySize) {
                throw new SnapshotFormatException(what + " " + i + " is " + ids[i] + ", outside the vocabulary of " + vocabularySize);
            }
        }
        return ids;
    }
}
