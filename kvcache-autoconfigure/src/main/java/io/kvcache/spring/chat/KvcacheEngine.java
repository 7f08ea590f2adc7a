package io.kvcache.spring.chat;

import io.kvcache.core.backend.Backend;
import io.kvcache.core.backend.ForwardPass;
import io.kvcache.core.cpu.CpuBackend;
import io.kvcache.core.kv.KvCache;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.kv.KvFootprint;
import io.kvcache.core.kv.KvMemoryReport;
import io.kvcache.core.kv.Sequence;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.kv.snapshot.ModelIdentity;
import io.kvcache.core.model.Model;
import io.kvcache.core.tensor.ComputePool;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The running model of an application: the loaded weights, the backend that runs them (the CPU's
 * threads or a CUDA GPU), the KV-cache policy, the memory budget of the conversations generating at
 * once (and the context it allows), and the conversations whose caches are kept between turns.
 */
public final class KvcacheEngine implements AutoCloseable {
    private final Model model;
    private final Backend backend;
    private final KvCacheConfig policy;
    private final TokenClasses classes;
    private final int contextLength;
    private final Conversations conversations;
    private final MemoryBudget budget;

    /** An engine on the CPU backend with {@code pool}'s threads (the engine closes the pool), without a memory budget. */
    public KvcacheEngine(Model model, ComputePool pool, KvCacheConfig policy, int contextLength, long sessionBytes,
                         Duration sessionExpiry) {
        this(model, new CpuBackend(model, pool), policy, contextLength, OptionalLong.empty(),
                new SessionSettings(sessionBytes, sessionExpiry, false), null);
    }

    /**
     * @param backend       runs the model; the engine closes it
     * @param contextLength most positions a conversation may reach, before the memory budget
     * @param memoryBudget  bytes the KV caches of the conversations generating at once may hold
     *                      together ({@code kvcache.memory.budget}), or empty for no budget
     * @param sessions      how conversations are kept between turns
     * @param store         the store conversations are shared through with other replicas (and
     *                      outlive this process in), or null to keep them in this process only
     */
    public KvcacheEngine(Model model, Backend backend, KvCacheConfig policy, int contextLength, OptionalLong memoryBudget,
                         SessionSettings sessions, ConversationStore store) {
        if (contextLength < 1 || contextLength > model.config().contextLength()) {
            throw new IllegalArgumentException("kvcache.model.context-length: " + contextLength
                    + " must be from 1 to the model's context length " + model.config().contextLength());
        }
        this.model = model;
        this.backend = backend;
        this.policy = policy;
        this.classes = TokenClasses.of(model.tokenizer());
        // A policy that does not fit the model (e.g. share groups past its last layer) fails now, not at the first request.
        KvFootprint footprint = new KvFootprint(model.config(), policy);
        this.budget = new MemoryBudget(memoryBudget, footprint, contextLength,
                contextLength == model.config().contextLength() ? "the model's context length" : "kvcache.model.context-length",
                policy.name());
        this.contextLength = budget.contextLength();
        this.conversations = new Conversations(sessions, this::newSequence, store == null ? null : shared(store, sessions));
    }

    private SharedConversations shared(ConversationStore store, SessionSettings sessions) {
        if (!(newSequence() instanceof KvCache)) {
            throw new IllegalArgumentException("kvcache.sessions.store=" + store.name() + ": the " + backend.name()
                    + " backend keeps its caches off the host, where they cannot be written to a store; "
                    + "use the cpu backend or the local store");
        }
        return new SharedConversations(store, ModelIdentity.of(model), policy, contextLength, classes, sessions.maxBytes(),
                sessions.storeTimeout());
    }

    public Model model() {
        return model;
    }

    public ForwardPass transformer() {
        return backend.forwardPass();
    }

    public Backend backend() {
        return backend;
    }

    public KvCacheConfig policy() {
        return policy;
    }

    /** Positions a conversation may reach: the configured context, or less where the memory budget holds less. */
    public int contextLength() {
        return contextLength;
    }

    /** What bounds {@link #contextLength()}: kvcache.memory.budget, kvcache.model.context-length, or the model. */
    public String contextLimit() {
        return budget.contextLimit();
    }

    /** Bytes the KV caches of the conversations generating at once may hold together, if there is a budget. */
    public OptionalLong memoryBudget() {
        return budget.budget();
    }

    /** Bytes of the budget the turns running now have reserved. */
    public long reservedBytes() {
        return budget.reserved();
    }

    MemoryBudget budget() {
        return budget;
    }

    /** An empty sequence for one conversation, held by the backend and run by the configured policy. */
    public Sequence newSequence() {
        return backend.forwardPass().newSequence(contextLength, policy, classes);
    }

    Conversations conversations() {
        return conversations;
    }

    /** The cache of conversation {@code id}, stored or running (a running turn is writing it). */
    public Optional<Sequence> conversation(String id) {
        return Optional.ofNullable(conversations.find(id));
    }

    /**
     * The memory report of every conversation, by id: a consistent snapshot, where a running
     * conversation reports its cache as its turn began.
     */
    public Map<String, KvMemoryReport> memory() {
        return conversations.memory();
    }

    /** The memory report of conversation {@code id}, as {@link #memory()} gives it. */
    public Optional<KvMemoryReport> memory(String id) {
        return Optional.ofNullable(conversations.memory(id));
    }

    /** Conversations the session store evicted for size or expiry. */
    public long evictions() {
        return conversations.evictions();
    }

    /** How the store shared by replicas is doing; empty when conversations are kept in this process only. */
    public Optional<SessionStoreStatus> sessionStore() {
        return conversations.storeStatus();
    }

    @Override
    public void close() {
        conversations.closeShared();
        conversations.clear();
        backend.close();
        model.close();
    }
}
