package io.kvcache.core.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed set of worker threads (daemon) for data-parallel loops. The calling thread takes part,
 * so a pool of {@code n} threads starts {@code n - 1} workers.
 *
 * <p>Decoding one token runs a few hundred loops of some tens of microseconds each, so handing
 * work over must cost far less than parking and unparking a thread (several microseconds): idle
 * workers spin for {@link #SPIN_NANOS} before they park, and so does the caller waiting for them.
 * After {@link #YIELD_AFTER_NANOS} the spinning threads also yield, so that a pool with more
 * threads than free cores does not starve the thread everyone waits for. For the same reason a
 * range is not tied to a thread: each participant claims ranges until none is left, so when a
 * worker has been descheduled the caller runs its range instead of waiting for it to wake up.
 *
 * <p>Calls from several threads are serialized; a call made from inside a loop body (on the
 * caller or on a worker) runs inline on that thread instead of deadlocking.
 */
public final class ComputePool implements AutoCloseable {
    private static final long SPIN_NANOS = 1_000_000;
    private static final long YIELD_AFTER_NANOS = 20_000;

    private final int threads;
    private final Worker[] workers;
    private final ReentrantLock lock = new ReentrantLock();
    /** The current job's generation (high 32 bits) and the next unclaimed range (low 32 bits). */
    private final AtomicLong claims = new AtomicLong();
    private final AtomicInteger finished = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    // The job is published to the workers by the volatile write of generation.
    private RangeBody body;
    private int size;
    private volatile long generation;
    private volatile Thread waitingCaller;
    private volatile boolean closed;

    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    public ComputePool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].start();
        }
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over [0, n) split into contiguous ranges, one per thread, and returns when
     * all are done. The first exception thrown by any range is rethrown here, with the others
     * attached as suppressed.
     */
    public void parallelFor(int n, RangeBody body) {
        if (closed) {
            throw new IllegalStateException("the compute pool is closed");
        }
        if (n <= 0) {
            return;
        }
        if (threads == 1 || n == 1 || lock.isHeldByCurrentThread()
                || Thread.currentThread() instanceof Worker w && w.pool() == this) {
            body.run(0, n);
            return;
        }
        lock.lock();
        try {
            runShared(n, body);
        } finally {
            lock.unlock();
        }
    }

    private void runShared(int n, RangeBody job) {
        long next = generation + 1;
        this.body = job;
        this.size = n;
        failure.set(null);
        finished.set(0);
        claims.set(next << 32);
        generation = next;
        for (Worker worker : workers) {
            if (worker.parked) {
                LockSupport.unpark(worker);
            }
        }
        runClaimedRanges(next, job, n);
        awaitRanges();
        this.body = null;
        Throwable thrown = failure.getAndSet(null);
        if (thrown instanceof RuntimeException e) {
            throw e;
        }
        if (thrown instanceof Error e) {
            throw e;
        }
        if (thrown != null) {
            throw new IllegalStateException("a parallel range failed", thrown);
        }
    }

    /** Claims and runs ranges of job {@code gen} until none is left (or the job is no longer current). */
    private void runClaimedRanges(long gen, RangeBody job, int n) {
        while (true) {
            long current = claims.get();
            int index = (int) current;
            if (current >>> 32 != (gen & 0xFFFFFFFFL) || index >= threads) {
                return;
            }
            if (!claims.compareAndSet(current, current + 1)) {
                continue;
            }
            runRange(index, job, n);
            if (finished.incrementAndGet() == threads) {
                Thread caller = waitingCaller;
                if (caller != null) {
                    LockSupport.unpark(caller);
                }
            }
        }
    }

    private void runRange(int index, RangeBody job, int n) {
        int from = (int) ((long) n * index / threads);
        int to = (int) ((long) n * (index + 1) / threads);
        if (from == to) {
            return;
        }
        try {
            job.run(from, to);
        } catch (Throwable t) {
            if (!failure.compareAndSet(null, t)) {
                failure.get().addSuppressed(t);
            }
        }
    }

    private void awaitRanges() {
        long spinStart = System.nanoTime();
        int spins = 0;
        while (finished.get() != threads) {
            if (keepSpinning(++spins, spinStart)) {
                continue;
            }
            waitingCaller = Thread.currentThread();
            if (finished.get() != threads) {
                LockSupport.park(this);
            }
            waitingCaller = null;
        }
    }

    /** Waits one step; false once it is time to park. */
    private static boolean keepSpinning(int spins, long spinStart) {
        if ((spins & 255) != 0) {
            Thread.onSpinWait();
            return true;
        }
        long waited = System.nanoTime() - spinStart;
        if (waited > YIELD_AFTER_NANOS) {
            Thread.yield();
        }
        return waited < SPIN_NANOS;
    }

    /** Stops the workers; later calls to {@link #parallelFor} throw. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            for (Worker worker : workers) {
                LockSupport.unpark(worker);
            }
        } finally {
            lock.unlock();
        }
    }

    private final class Worker extends Thread {
        volatile boolean parked;

        Worker(int index) {
            super("kvcache-compute-" + index);
            setDaemon(true);
        }

        ComputePool pool() {
            return ComputePool.this;
        }

        @Override
        public void run() {
            long seen = 0;
            while (true) {
                seen = awaitJob(seen);
                if (closed) {
                    return;
                }
                // Read before claiming: a successful claim proves these still belong to job `seen`.
                RangeBody job = body;
                int n = size;
                runClaimedRanges(seen, job, n);
            }
        }

        private long awaitJob(long seen) {
            long spinStart = System.nanoTime();
            int spins = 0;
            while (true) {
                long current = generation;
                if (current != seen || closed) {
                    return current;
                }
                if (keepSpinning(++spins, spinStart)) {
                    continue;
                }
                // Announce the park before re-checking, so the caller either sees the flag or we see its job.
                parked = true;
                if (generation == seen && !closed) {
                    LockSupport.park(this);
                }
                parked = false;
            }
        }
    }
}
