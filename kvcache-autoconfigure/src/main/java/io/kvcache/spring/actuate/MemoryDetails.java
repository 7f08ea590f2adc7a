package io.kvcache.spring.actuate;

import io.kvcache.spring.chat.KvcacheEngine;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@code /actuator/kvcache} and the health indicator show of the memory limits: the context a
 * conversation may reach and what sets it, and with a budget, what the running turns reserved of it
 * and the headroom left.
 */
final class MemoryDetails {
    private MemoryDetails() {
    }

    static Map<String, Object> of(KvcacheEngine engine) {
        Map<String, Object> memory = new LinkedHashMap<>();
        memory.put("contextLength", engine.contextLength());
        memory.put("contextLimitedBy", engine.contextLimit());
        engine.memoryBudget().ifPresent(budget -> {
            long reserved = engine.reservedBytes();
            memory.put("budgetBytes", budget);
            memory.put("reservedBytes", reserved);
            memory.put("headroomBytes", budget - reserved);
        });
        return memory;
    }
}
