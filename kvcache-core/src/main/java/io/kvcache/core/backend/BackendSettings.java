package io.kvcache.core.backend;

/**
 * What a backend is opened for.
 *
 * @param threads       compute threads of the CPU backend
 * @param contextLength positions one sequence may reach
 * @param sequences     sequences evaluated at the same time (conversations generating at once)
 */
public record BackendSettings(int threads, int contextLength, int sequences) {

    public BackendSettings {
        if (threads < 1 || contextLength < 1 || sequences < 1) {
            throw new IllegalArgumentException("threads, context length and sequences must be >= 1, got "
                    + threads + ", " + contextLength + ", " + sequences);
        }
    }
}
