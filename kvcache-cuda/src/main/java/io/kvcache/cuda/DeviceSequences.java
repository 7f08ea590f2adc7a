package io.kvcache.cuda;

import io.kvcache.core.kv.Sequence;

import java.lang.ref.WeakReference;

/**
 * Which sequence each of the device's KV-cache slots holds. A {@link Sequence} is the host's record
 * of a sequence (its length and token ids); the device keeps the keys and values of up to
 * {@code slots} sequences. A sequence that comes back after its slot went to another is evaluated
 * again from its token ids into the least recently used slot, which on a GPU costs one prefill.
 */
final class DeviceSequences {

    /** One slot: the sequence it holds, how many of its positions are on the device, and the token sampled after them. */
    static final class Slot {
        final int index;
        private WeakReference<Sequence> owner = new WeakReference<>(null);
        /** Positions of the owner held on the device. */
        int length;
        private long lastUse;
        /** The position whose token the device sampler wrote last, and that token (-1: none). */
        int sampledAt = -1;
        int sampledToken;

        Slot(int index) {
            this.index = index;
        }
    }

    private final Slot[] slots;
    private long clock;

    DeviceSequences(int count) {
        slots = new Slot[count];
        for (int i = 0; i < count; i++) {
            slots[i] = new Slot(i);
        }
    }

    /**
     * The slot of {@code cache}, taking the least recently used one when it has none. Its
     * {@code length} says how many of the cache's positions the device holds: the caller evaluates
     * the rest ({@code cache.length() - length} positions) from the cache's token ids.
     */
    Slot slotFor(Sequence cache) {
        Slot chosen = null;
        for (Slot slot : slots) {
            if (slot.owner.get() == cache) {
                chosen = slot;
                break;
            }
        }
        if (chosen == null) {
            chosen = vacant();
            chosen.owner = new WeakReference<>(cache);
            chosen.length = 0;
            chosen.sampledAt = -1;
        }
        // A cache truncated on the host (a conversation rewound to a shared prefix) keeps its leading positions.
        chosen.length = Math.min(chosen.length, cache.length());
        chosen.lastUse = ++clock;
        return chosen;
    }

    /** A slot whose sequence is gone (its cache was collected), else the least recently used. */
    private Slot vacant() {
        Slot oldest = slots[0];
        for (Slot slot : slots) {
            if (slot.owner.get() == null) {
                return slot;
            }
            if (slot.lastUse < oldest.lastUse) {
                oldest = slot;
            }
        }
        return oldest;
    }
}
