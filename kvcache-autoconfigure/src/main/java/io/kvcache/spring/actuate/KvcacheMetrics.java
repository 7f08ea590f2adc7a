package io.kvcache.spring.actuate;

import io.kvcache.core.generate.GenerationResult;
import io.kvcache.core.kv.KvMemoryReport;
import io.kvcache.spring.chat.KvcacheEngine;
import io.kvcache.spring.chat.SessionStoreStatus;
import io.kvcache.spring.chat.TurnObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.concurrent.TimeUnit;

/**
 * kvcache's own meters beside Spring AI's: time to first token, decode tokens/s, prompt tokens
 * reused from a stored conversation, KV bytes held and saved by the policy, session evictions, and
 * the heads the quality guardrail moved to a safer policy.
 */
public class KvcacheMetrics implements TurnObserver {
    private final Timer timeToFirstToken;
    private final DistributionSummary decodeSpeed;
    private final DistributionSummary reusedTokens;
    private final Counter guardrailMoves;

    public KvcacheMetrics(MeterRegistry registry, KvcacheEngine engine) {
        String policy = engine.policy().name();
        this.timeToFirstToken = Timer.builder("kvcache.time.to.first.token").description("Time from request to the first generated token")
                .tag("policy", policy).register(registry);
        this.decodeSpeed = DistributionSummary.builder("kvcache.decode.speed").baseUnit("tokens/s")
                .description("Tokens generated per second after the first").tag("policy", policy).register(registry);
        this.reusedTokens = DistributionSummary.builder("kvcache.prompt.reused").baseUnit("tokens")
                .description("Prompt tokens taken from a stored conversation instead of being evaluated").register(registry);
        Gauge.builder("kvcache.kv.bytes.held", engine, e -> e.memory().values().stream().mapToLong(KvMemoryReport::bytesHeld).sum())
                .description("KV-cache bytes held by all conversations").tag("policy", policy).baseUnit("bytes").register(registry);
        Gauge.builder("kvcache.kv.bytes.saved", engine, e -> e.memory().values().stream().mapToLong(KvMemoryReport::savedBytes).sum())
                .description("Bytes the policy saves against the full cache").tag("policy", policy).baseUnit("bytes").register(registry);
        Gauge.builder("kvcache.sessions.evictions", engine, KvcacheEngine::evictions)
                .description("Conversations evicted from the session store").register(registry);
        if (engine.sessionStore().isPresent()) {
            FunctionCounter.builder("kvcache.sessions.store.evictions", engine,
                            e -> e.sessionStore().map(SessionStoreStatus::evictions).orElse(0L))
                    .description("Conversations the shared store let go to keep kvcache.sessions.redis.max-bytes")
                    .register(registry);
            FunctionCounter.builder("kvcache.sessions.store.refusals", engine,
                            e -> e.sessionStore().map(SessionStoreStatus::refusals).orElse(0L))
                    .description("Conversations larger than the shared store's whole bound, kept on their replica only")
                    .register(registry);
        }
        this.guardrailMoves = Counter.builder("kvcache.guardrail.moves").baseUnit("heads")
                .description("KV heads the quality guardrail moved to keeping every entry, over all conversations")
                .tag("policy", policy).register(registry);
    }

    @Override
    public void guardrailMoved(int heads) {
        guardrailMoves.increment(heads);
    }

    @Override
    public void turnCompleted(long firstTokenNanos, GenerationResult result, int reused) {
        if (firstTokenNanos > 0) {
            timeToFirstToken.record(firstTokenNanos, TimeUnit.NANOSECONDS);
        }
        if (result.tokens().length > 1) {
            decodeSpeed.record(result.decodeTokensPerSecond());
        }
        reusedTokens.record(reused);
    }
}
