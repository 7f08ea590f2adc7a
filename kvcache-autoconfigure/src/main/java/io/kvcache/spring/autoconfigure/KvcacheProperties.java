package io.kvcache.spring.autoconfigure;

import jakarta.validation.constraints.Min;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;


/**
 * The top-level {@code kvcache.*} properties: whether kvcache runs, on which backend and threads,
 * and the memory budget of the conversations generating at once. The model, the cache policy, the
 * sessions and the chat defaults have their own classes ({@link KvcacheModelProperties},
 * {@link KvcachePolicyProperties}, {@link KvcacheSessionsProperties}, {@link KvcacheChatProperties}).
 */
@ConfigurationProperties("kvcache")
@Validated
public class KvcacheProperties {
    /** Whether kvcache configures a model at all. */
    private boolean enabled = true;

    /** Where the model runs: auto (CUDA when a GPU is usable, else the CPU), cpu or cuda. */
    private Backend backend = Backend.AUTO;

    /** Compute threads of the CPU backend; 0 means one per available processor. */
    @Min(0)
    private int threads = 0;

    /**
     * Whether the engine runs a short throwaway forward pass at startup, so that the first request
     * does not pay for compiling the kernels and preparing the weights. Touches no conversation and
     * no memory budget; its time is logged.
     */
    private boolean warmUp = true;

    private final Memory memory = new Memory();

    public enum Backend {
        AUTO, CPU, CUDA
    }

    /** How much memory the KV caches of running conversations may take. */
    public static class Memory {
        /**
         * Most bytes the KV caches of the conversations generating at once may hold together, e.g. 512MB. A
         * conversation may reach the longest context whose cache, under the policy, fits this budget (never more
         * than model.context-length); a request waits while running ones hold the rest, and one that could never fit
         * is refused. Unset: no budget.
         */
        private DataSize budget;

        public DataSize getBudget() {
            return budget;
        }

        public void setBudget(DataSize budget) {
            this.budget = budget;
        }
    }

    public Memory getMemory() {
        return memory;
    }

    public boolean isWarmUp() {
        return warmUp;
    }

    public void setWarmUp(boolean warmUp) {
        this.warmUp = warmUp;
    }

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public Backend getBackend() {
        return backend;
    }

    public void setBackend(Backend backend) {
        this.backend = backend;
    }

    public int getThreads() {
        return threads;
    }

    public void setThreads(int threads) {
        this.threads = threads;
    }

}
