package io.kvcache.spring.actuate;

import io.kvcache.spring.chat.KvcacheEngine;
import io.kvcache.spring.chat.SessionStoreStatus;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

import java.util.Optional;

/**
 * Health {@code kvcache}: the model is loaded, the backend, the KV bytes held, the context a
 * conversation may reach with the memory budget's headroom (what running turns have not reserved),
 * and the heap headroom; with a store shared by replicas, how it is doing. While that store cannot
 * be reached the status is {@value #DEGRADED}: chats go on, with conversations kept on this replica
 * only. Boot's status aggregation leaves a status it does not order out, so the application's
 * health stays UP unless {@code management.endpoint.health.status.order} lists it.
 */
public class KvcacheHealthIndicator implements HealthIndicator {
    public static final String DEGRADED = "DEGRADED";

    private final KvcacheEngine engine;

    public KvcacheHealthIndicator(KvcacheEngine engine) {
        this.engine = engine;
    }

    @Override
    public Health health() {
        Runtime runtime = Runtime.getRuntime();
        long headroom = runtime.maxMemory() - (runtime.totalMemory() - runtime.freeMemory());
        long held = engine.memory().values().stream().mapToLong(r -> r.bytesHeld()).sum();
        Optional<SessionStoreStatus> store = engine.sessionStore();
        Health.Builder health = store.isPresent() && !store.get().reachable()
                ? Health.status(new Status(DEGRADED, "the " + store.get().store() + " session store cannot be reached; "
                + "conversations are kept on this replica only")) : Health.up();
        store.ifPresent(s -> health.withDetail("sessionStore", s));
        return health
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
