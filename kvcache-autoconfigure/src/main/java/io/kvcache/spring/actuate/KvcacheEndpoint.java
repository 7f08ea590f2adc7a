package io.kvcache.spring.actuate;

import io.kvcache.core.kv.HeadMemory;
import io.kvcache.core.kv.KvMemoryReport;
import io.kvcache.core.model.ModelConfig;
import io.kvcache.spring.chat.KvcacheEngine;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /actuator/kvcache}: the model, the backend, the KV-cache policy and its settings, the
 * context a conversation may reach and the memory budget, and the memory of the open
 * conversations (totals, and per layer and KV head the policy, entries, bytes and the quality
 * guardrail's moves, summed over conversations); {@code /actuator/kvcache/{conversation}} for one. Never any prompt or
 * completion text.
 */
@Endpoint(id = "kvcache")
public class KvcacheEndpoint {
    private final KvcacheEngine engine;

    public KvcacheEndpoint(KvcacheEngine engine) {
        this.engine = engine;
    }

    @ReadOperation
    public Map<String, Object> kvcache() {
        Map<String, Object> out = new LinkedHashMap<>();
        ModelConfig c = engine.model().config();
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("name", engine.model().config().name());
        model.put("architecture", c.architecture().ggufName());
        model.put("layers", c.layers());
        model.put("heads", c.heads());
        model.put("kvHeads", c.kvHeads());
        model.put("headDim", c.headDim());
        model.put("contextLength", engine.contextLength());
        model.put("quantization", engine.model().weights().layers().getFirst().query().type().name());
        out.put("model", model);
        Map<String, Object> backend = new LinkedHashMap<>();
        backend.put("type", engine.backend().name());
        backend.put("device", engine.backend().device());
        backend.putAll(engine.backend().details());
        out.put("backend", backend);
        out.put("policy", engine.policy().describe());
        out.put("memory", MemoryDetails.of(engine));
        Map<String, KvMemoryReport> reports = engine.memory();
        out.put("conversations", reports.size());
        out.put("evictions", engine.evictions());
        out.put("totals", totals(reports.values()));
        out.put("heads", headsSummed(reports.values()));
        return out;
    }

    @ReadOperation
    public Map<String, Object> conversation(@Selector String conversation) {
        return engine.memory(conversation).map(report -> {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("conversation", conversation);
            out.put("tokens", report.tokens());
            out.put("totals", totals(List.of(report)));
            out.put("heads", headsSummed(List.of(report)));
            return out;
        }).orElse(null);
    }

    private static Map<String, Object> totals(Iterable<KvMemoryReport> reports) {
        long full = 0;
        long held = 0;
        long moves = 0;
        for (KvMemoryReport r : reports) {
            full += r.fullBytes();
            held += r.bytesHeld();
            moves += r.guardrailMoves();
        }
        Map<String, Object> totals = new LinkedHashMap<>();
        totals.put("fullBytes", full);
        totals.put("heldBytes", held);
        totals.put("savedBytes", full - held);
        totals.put("ratio", full == 0 ? 1.0 : (double) held / full);
        totals.put("guardrailMoves", moves);
        return totals;
    }

    /** Per layer and KV head, summed over the conversations; the policy of the last one seen (adaptive heads may differ). */
    private static List<Map<String, Object>> headsSummed(Iterable<KvMemoryReport> reports) {
        Map<String, Map<String, Object>> heads = new LinkedHashMap<>();
        for (KvMemoryReport report : reports) {
            for (HeadMemory h : report.heads()) {
                Map<String, Object> head = heads.computeIfAbsent(h.layer() + "/" + h.kvHead(), key -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("layer", h.layer());
                    m.put("kvHead", h.kvHead());
                    m.put("sharedWith", h.sharedWith());
                    m.put("entries", 0L);
                    m.put("lowPrecision", 0L);
                    m.put("merged", 0L);
                    m.put("heldBytes", 0L);
                    m.put("fullBytes", 0L);
                    m.put("guardrailMoves", 0L);
                    return m;
                });
                head.put("policy", h.policy());
                head.merge("entries", (long) h.entries(), (a, b) -> (long) a + (long) b);
                head.merge("lowPrecision", (long) h.lowPrecision(), (a, b) -> (long) a + (long) b);
                head.merge("merged", (long) h.merged(), (a, b) -> (long) a + (long) b);
                head.merge("heldBytes", h.bytesHeld(), (a, b) -> (long) a + (long) b);
                head.merge("fullBytes", h.fullBytes(), (a, b) -> (long) a + (long) b);
                head.merge("guardrailMoves", (long) h.moves(), (a, b) -> (long) a + (long) b);
            }
        }
        return new ArrayList<>(heads.values());
    }
}
