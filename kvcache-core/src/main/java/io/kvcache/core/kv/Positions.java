package io.kvcache.core.kv;

import java.util.Arrays;

/**
 * The positions of one storage class's entries, in entry order, stored as the layout says: listed
 * (4 bytes an entry), or as runs of consecutive positions (8 bytes a run: its first position and
 * its first entry). A full cache holds positions 0 to n-1, one run, and a window the sinks and the
 * recent tokens, two: listing them costs more than a 4-bit key row of 8 values, runs nothing per
 * entry. Runs need not ascend one after the other, but {@link #countUpTo} assumes they do.
 */
final class Positions {
    private static final int INITIAL_CAPACITY = 64;

    private final boolean inRuns;
    /** Listed: the position of each entry. In runs: the first position of each run. */
    private int[] first;
    /** In runs: the entry each run starts at (ascending, entry 0 first); null when listed. */
    private int[] firstEntry;
    /** Listed: entries. In runs: runs. */
    private int used;
    private int size;

    /** Positions of a class, as runs or listed. */
    Positions(boolean inRuns) {
        this.inRuns = inRuns;
        this.first = new int[INITIAL_CAPACITY];
        this.firstEntry = inRuns ? new int[INITIAL_CAPACITY] : null;
    }

    private Positions(Positions other) {
        this.inRuns = other.inRuns;
        this.first = other.first.clone();
        this.firstEntry = other.firstEntry == null ? null : other.firstEntry.clone();
        this.used = other.used;
        this.size = other.size;
    }

    Positions copy() {
        return new Positions(this);
    }

    int size() {
        return size;
    }

    /** Runs held (entries when listed): what the bytes are counted in. */
    int runs() {
        return inRuns ? used : size;
    }

    int get(int entry) {
        if (!inRuns) {
            return first[entry];
        }
        int run = runOf(entry);
        return first[run] + entry - firstEntry[run];
    }

    /** The run holding {@code entry}: the last whose first entry is at most it. */
    private int runOf(int entry) {
        int lo = 0;
        int hi = used - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (firstEntry[mid] <= entry) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    void add(int position) {
        if (inRuns && used > 0 && first[used - 1] + size - firstEntry[used - 1] == position) {
            size++; // extends the last run
            return;
        }
        if (used == first.length) {
            first = Arrays.copyOf(first, used * 2);
            firstEntry = firstEntry == null ? null : Arrays.copyOf(firstEntry, used * 2);
        }
        first[used] = position;
        if (inRuns) {
            firstEntry[used] = size;
        }
        used++;
        size++;
    }

    /** Entries whose position is at most {@code position}, the positions ascending. */
    int countUpTo(int position) {
        int lo = 0;
        int hi = used;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (first[mid] <= position) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if (!inRuns || lo == 0) {
            return lo;
        }
        int run = lo - 1;
        int length = (run + 1 < used ? firstEntry[run + 1] : size) - firstEntry[run];
        return firstEntry[run] + Math.min(length, position - first[run] + 1);
    }

    /** Keeps the entries listed (ascending) in {@code kept[0..count)}. */
    void retain(int[] kept, int count) {
        if (!inRuns) {
            for (int i = 0; i < count; i++) {
                first[i] = first[kept[i]];
            }
            used = count;
            size = count;
        } else {
            int[] positions = new int[count];
            for (int i = 0; i < count; i++) {
                positions[i] = get(kept[i]);
            }
            clear();
            for (int p : positions) {
                add(p);
            }
        }
        shrink();
    }

    /** Replaces every position with {@code positions}. */
    void set(int[] positions) {
        clear();
        for (int p : positions) {
            add(p);
        }
    }

    private void clear() {
        used = 0;
        size = 0;
    }

    int[] toArray() {
        int[] out = new int[size];
        for (int e = 0; e < size; e++) {
            out[e] = get(e);
        }
        return out;
    }

    private void shrink() {
        // Give memory back once the arrays are less than a quarter full.
        if (used * 4 < first.length && first.length > INITIAL_CAPACITY) {
            int capacity = Math.max(INITIAL_CAPACITY, used * 2);
            first = Arrays.copyOf(first, capacity);
            firstEntry = firstEntry == null ? null : Arrays.copyOf(firstEntry, capacity);
        }
    }

    /** Bytes of the positions: 4 an entry listed, 8 a run. */
    long bytesHeld() {
        return inRuns ? 2L * Integer.BYTES * used : (long) Integer.BYTES * size;
    }

    long bytesAllocated() {
        return (long) Integer.BYTES * (first.length + (firstEntry == null ? 0 : firstEntry.length));
    }
}
