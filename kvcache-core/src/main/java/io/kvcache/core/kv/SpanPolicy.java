package io.kvcache.core.kv;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code span}: the sinks and recent tokens as computed; older tokens merged span by span into
 * attention-weighted means of their keys and values, with a log(span length) logit bias so a
 * merged entry draws the attention its tokens drew together.
 *
 * @param sinks   first tokens kept
 * @param length  tokens per closed span
 * @param entries merged entries a span becomes (divides {@code length})
 * @param recent  recent tokens never merged
 */
public record SpanPolicy(int sinks, int length, int entries, int recent) implements KvPolicy {
    public static final int DEFAULT_LENGTH = 8;
    public static final int DEFAULT_ENTRIES = 1;
    public static final int DEFAULT_RECENT = 64;
    public static final SpanPolicy DEFAULT = new SpanPolicy(DEFAULT_SINKS, DEFAULT_LENGTH, DEFAULT_ENTRIES, DEFAULT_RECENT);

    public SpanPolicy {
        PolicyChecks.sinks(sinks);
        PolicyChecks.integer("span.length", length, 2, 1 << 16);
        PolicyChecks.integer("span.entries", entries, 1, length - 1);
        if (length % entries != 0) {
            throw new IllegalArgumentException("kvcache.span.entries: " + entries + " must divide span.length " + length);
        }
        PolicyChecks.integer("span.recent", recent, 0, 1 << 24);
    }

    public SpanPolicy withSinks(int sinks) {
        return new SpanPolicy(sinks, length, entries, recent);
    }

    public SpanPolicy withLength(int length) {
        return new SpanPolicy(sinks, length, entries, recent);
    }

    public SpanPolicy withEntries(int entries) {
        return new SpanPolicy(sinks, length, entries, recent);
    }

    public SpanPolicy withRecent(int recent) {
        return new SpanPolicy(sinks, length, entries, recent);
    }

    @Override
    public String name() {
        return "span";
    }

    @Override
    public StorageLayout layout() {
        return StorageLayout.FULL.positionsIn(0).trackingAttention().merging();
    }

    @Override
    public HeadPolicy initialHeadPolicy() {
        return HeadPolicy.evicting(name(), recent, 0, 0, new HeadPolicy.Rest.Merge(length, entries));
    }

    @Override
    public Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("sinks", Integer.toString(sinks));
        s.put("span.length", Integer.toString(length));
        s.put("span.entries", Integer.toString(entries));
        s.put("span.recent", Integer.toString(recent));
        return s;
    }

    /** Closed spans never reopen, so growing step by step merges exactly the spans one call would. */
    @Override
    public EntryCounts entriesAt(int tokens) {
        int unmerged = (int) Math.min(tokens, (long) sinks + recent);
        int spans = (tokens - unmerged) / length;
        return new EntryCounts(tokens - spans * length, 0, spans * entries);
    }

    @Override
    public int sizingPeriod() {
        return length;
    }
}
