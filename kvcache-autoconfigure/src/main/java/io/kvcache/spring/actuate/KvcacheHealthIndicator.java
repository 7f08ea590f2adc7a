package io.kvcache.spring.actuate;

import io.kvcache.spring.chat.KvcacheEngine;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Health {@code kvcache}: the model is loaded, the backend, the KV bytes held, the context a
 * conversation may reach with the memory budget's headroom (what running turns have not reserved),
 * and the heap headroom.
 */
public class KvcacheHealthIndicator implements HealthIndicator {
    private final KvcacheEngine engine;

    public KvcacheHealthIndicator(KvcacheEngine engine) {
        this.engine = engine;
    }

    @Override
    public Health health() {
        Runtime runtime = Runtime.getRuntime();
        long headroom = runtime.maxMemory() - (runtime.totalMemory() - runtime.freeMemory());
        long held = engine.memory().values().stream().mapToLong(r -> r.bytesHeld()).sum();
        return Health.up()
                .withDetail("model", engine.model().config().name())
                .withDetail("backend", engine.backend().name())
                .withDetail("device", engine.backend().device())
                .withDetails(engine.backend().details())
                .withDetail("conversations", engine.memory().size())
                .withDetail("kvBytesHeld", held)
                .withDetail("memory", MemoryDetails.of(engine))
                .withDetail("heapHeadroomBytes", headroom)
                .build();
    }
}
