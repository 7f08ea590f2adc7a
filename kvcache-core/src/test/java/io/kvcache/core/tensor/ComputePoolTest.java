package io.kvcache.core.tensor;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ComputePoolTest {

    @Test
    void rangesCoverEveryIndexExactlyOnce() {
        for (int threads = 1; threads <= 4; threads++) {
            try (ComputePool pool = new ComputePool(threads)) {
                for (int n : new int[] {1, 2, 3, 7, 64, 1000}) {
                    for (int repeat = 0; repeat < 50; repeat++) {
                        AtomicIntegerArray hits = new AtomicIntegerArray(n);
                        pool.parallelFor(n, (from, to) -> {
                            for (int i = from; i < to; i++) {
                                hits.incrementAndGet(i);
                            }
                        });
                        for (int i = 0; i < n; i++) {
                            assertEquals(1, hits.get(i), "threads " + threads + ", n " + n + ", index " + i);
                        }
                    }
                }
            }
        }
    }

    @Test
    void rangesAreContiguousOnePerThread() {
        try (ComputePool pool = new ComputePool(3)) {
            AtomicInteger calls = new AtomicInteger();
            pool.parallelFor(9, (from, to) -> {
                calls.incrementAndGet();
                assertEquals(3, to - from);
            });
            assertEquals(3, calls.get());
            assertEquals(3, pool.threads());
        }
    }

    @Test
    void workerExceptionReachesTheCaller() {
        try (ComputePool pool = new ComputePool(2)) {
            IllegalStateException boom = new IllegalStateException("boom");
            // The last index belongs to the worker's range, not the caller's.
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> pool.parallelFor(100, (from, to) -> {
                if (to == 100) {
                    throw boom;
                }
            }));
            assertSame(boom, thrown);
            // The pool still works afterwards.
            AtomicInteger sum = new AtomicInteger();
            pool.parallelFor(100, (from, to) -> sum.addAndGet(to - from));
            assertEquals(100, sum.get());
        }
    }

    @Test
    void callerExceptionWaitsForWorkersAndPropagates() {
        try (ComputePool pool = new ComputePool(2)) {
            AtomicInteger finished = new AtomicInteger();
            assertThrows(ArithmeticException.class, () -> pool.parallelFor(10, (from, to) -> {
                if (from == 0) {
                    throw new ArithmeticException();
                }
                finished.incrementAndGet();
            }));
            assertEquals(1, finished.get());
        }
    }

    @Test
    void nestedCallRunsInline() {
        try (ComputePool pool = new ComputePool(2)) {
            AtomicInteger total = new AtomicInteger();
            pool.parallelFor(4, (from, to) -> pool.parallelFor(10, (f, t) -> total.addAndGet(t - f)));
            assertEquals(20, total.get());
        }
    }

    @Test
    void closedPoolRefusesWork() {
        ComputePool pool = new ComputePool(2);
        pool.close();
        assertThrows(IllegalStateException.class, () -> pool.parallelFor(4, (from, to) -> { }));
        assertThrows(IllegalArgumentException.class, () -> new ComputePool(0));
    }
}
