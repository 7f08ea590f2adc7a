package io.kvcache.core.kv;

import java.util.Map;

/** {@code full}: every entry as computed, in fp16; the baseline every saving is measured against. */
public record FullPolicy() implements KvPolicy {
    public static final FullPolicy INSTANCE = new FullPolicy();

    @Override
    public String name() {
        return "full";
    }

    @Override
    public int sinks() {
        return 0;
    }

    @Override
    public StorageLayout layout() {
        return StorageLayout.FULL;
    }

    @Override
    public HeadPolicy initialHeadPolicy() {
        return HeadPolicy.keepAll("full");
    }

    @Override
    public Map<String, String> settings() {
        return Map.of();
    }

    @Override
    public EntryCounts entriesAt(int length) {
        return new EntryCounts(length, 0, 0, Math.min(length, 1));
    }
}
