package io.kvcache.spring.chat;

import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.model.tool.DefaultToolCallingChatOptions;
import org.springframework.ai.model.tool.StructuredOutputChatOptions;
import org.springframework.ai.model.tool.ToolCallingChatOptions;
import org.springframework.ai.tool.ToolCallback;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The options of a kvcache chat request: Spring AI's portable ones (temperature, top-p, top-k, max
 * tokens, stop sequences), the engine's own sampling settings (min-p, repetition penalty, seed),
 * the conversation the turn continues, and the tools the model may call (their definitions go into
 * the prompt through the model's chat template; a {@code ChatClient}'s tool-calling advisor runs
 * the calls the model makes and sends their results back), whether the model must call them, and
 * what the reply is held to: a JSON schema (Spring AI's native structured output, which
 * {@code ChatClient...entity(Class)} fills in with
 * {@code AdvisorParams.ENABLE_NATIVE_STRUCTURED_OUTPUT}) or a GBNF grammar, enforced token by
 * token. Each request's options are laid over the chat model's defaults ({@link #overlay}); a
 * {@code ChatClient} builds them from {@link #mutate()}, so the engine's own settings survive its
 * merging. Frequency and presence penalties are not supported by the engine and are ignored.
 */
public final class KvcacheChatOptions implements ToolCallingChatOptions, StructuredOutputChatOptions {
    /** Whether the model must call a tool. */
    public enum ToolChoice {
        /** The model chooses between answering and calling (default). */
        AUTO,
        /**
         * A reply to the user's message is tool calls, held by constrained decoding to the call
         * format of the model's family and each tool's parameter schema; a reply to tool results
         * is free (or held to the output schema), so the tool round ends.
         */
        REQUIRED
    }

    public static final double DEFAULT_TEMPERATURE = 0.7;
    public static final double DEFAULT_TOP_P = 0.95;
    public static final int DEFAULT_TOP_K = 40;
    public static final double DEFAULT_MIN_P = 0.05;
    public static final int DEFAULT_MAX_TOKENS = 512;
    public static final double DEFAULT_REPETITION_PENALTY = 1.0;

    private final String model;
    private final Double temperature;
    private final Double topP;
    private final Integer topK;
    private final Double minP;
    private final Integer maxTokens;
    private final List<String> stopSequences;
    private final Long seed;
    private final Double repetitionPenalty;
    private final String conversationId;
    private final List<ToolCallback> toolCallbacks;
    private final Map<String, Object> toolContext;
    private final ToolChoice toolChoice;
    private final String outputSchema;
    private final String grammar;

    private KvcacheChatOptions(Builder b) {
        this.model = b.model();
        this.temperature = b.temperature();
        this.topP = b.topP();
        this.topK = b.topK();
        this.minP = b.minP;
        this.maxTokens = b.maxTokens();
        this.stopSequences = b.stopSequences() == null ? null : List.copyOf(b.stopSequences());
        this.seed = b.seed;
        this.repetitionPenalty = b.repetitionPenalty;
        this.conversationId = b.conversationId;
        this.toolCallbacks = b.callbacks() == null ? List.of() : List.copyOf(b.callbacks());
        this.toolContext = b.context() == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(b.context()));
        this.toolChoice = b.toolChoice;
        this.outputSchema = b.outputSchema;
        this.grammar = b.grammar;
        if (outputSchema != null && grammar != null) {
            throw new IllegalArgumentException("a request may hold its reply to a JSON schema (output schema) or to a "
                    + "grammar, not both");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Every sampling setting at its default: temperature 0.7, top-p 0.95, top-k 40, min-p 0.05, at
     * most 512 tokens, no repetition penalty, no stop sequences, a new seed per request.
     */
    public static KvcacheChatOptions defaults() {
        return builder().temperature(DEFAULT_TEMPERATURE).topP(DEFAULT_TOP_P).topK(DEFAULT_TOP_K).minP(DEFAULT_MIN_P)
                .maxTokens(DEFAULT_MAX_TOKENS).repetitionPenalty(DEFAULT_REPETITION_PENALTY).build();
    }

    @Override
    public String getModel() {
        return model;
    }

    @Override
    public Double getTemperature() {
        return temperature;
    }

    @Override
    public Double getTopP() {
        return topP;
    }

    @Override
    public Integer getTopK() {
        return topK;
    }

    /** Tokens below this fraction of the most likely one's probability are dropped. */
    public Double getMinP() {
        return minP;
    }

    @Override
    public Integer getMaxTokens() {
        return maxTokens;
    }

    @Override
    public List<String> getStopSequences() {
        return stopSequences;
    }

    /** The sampling seed; null for a different one per request. */
    public Long getSeed() {
        return seed;
    }

    /** Penalty on tokens already in the conversation; 1 for none. */
    public Double getRepetitionPenalty() {
        return repetitionPenalty;
    }

    /**
     * The conversation this turn continues: the id of its last {@code ChatResponse}
     * ({@code response.getMetadata().getId()}), or an application's own id for a new one. Whoever
     * knows the id continues that conversation, so an application sets it from its own session,
     * never from what a user sends. Null: the turn continues a stored conversation only if its
     * prompt extends that conversation's whole text. Never taken from the defaults.
     */
    public String getConversationId() {
        return conversationId;
    }

    /** Not supported by the engine: always null. */
    @Override
    public Double getFrequencyPenalty() {
        return null;
    }

    /** Not supported by the engine: always null. */
    @Override
    public Double getPresencePenalty() {
        return null;
    }

    /** The tools the model may call in this turn; none by default. */
    @Override
    public List<ToolCallback> getToolCallbacks() {
        return toolCallbacks;
    }

    /** What tool callbacks receive besides the model's arguments (Spring AI's tool context). */
    @Override
    public Map<String, Object> getToolContext() {
        return toolContext;
    }

    /** Whether the model must call one of the tools; null (the default) for {@link ToolChoice#AUTO}. */
    public ToolChoice getToolChoice() {
        return toolChoice;
    }

    /**
     * The JSON schema the reply is held to, token by token, so it always parses and validates
     * (within max tokens: near the limit the document is closed); null for free text. With tools
     * offered, the reply is either tool calls or this document.
     */
    @Override
    public String getOutputSchema() {
        return outputSchema;
    }

    /** A GBNF grammar (as llama.cpp's and Ollama's {@code format}) the whole reply is held to; null for none. */
    public String getGrammar() {
        return grammar;
    }

    @Override
    public Builder mutate() {
        return new Builder().from(this);
    }

    /**
     * {@code request}'s options where it sets them, these elsewhere. A request of another
     * {@link ChatOptions} type carries only the portable options.
     */
    public KvcacheChatOptions overlay(ChatOptions request) {
        if (request == null) {
            return conversationId == null ? this : mutate().conversationId(null).build();
        }
        Builder merged = mutate();
        if (request.getModel() != null) {
            merged.model(request.getModel());
        }
        if (request.getTemperature() != null) {
            merged.temperature(request.getTemperature());
        }
        if (request.getTopP() != null) {
            merged.topP(request.getTopP());
        }
        if (request.getTopK() != null) {
            merged.topK(request.getTopK());
        }
        if (request.getMaxTokens() != null) {
            merged.maxTokens(request.getMaxTokens());
        }
        if (request.getStopSequences() != null && !request.getStopSequences().isEmpty()) {
            merged.stopSequences(request.getStopSequences());
        }
        if (request instanceof ToolCallingChatOptions tools) {
            merged.toolCallbacks(ToolCallingChatOptions.mergeToolCallbacks(tools.getToolCallbacks(), toolCallbacks));
            merged.toolContext(ToolCallingChatOptions.mergeToolContext(tools.getToolContext(), toolContext));
        }
        if (request instanceof StructuredOutputChatOptions structured && structured.getOutputSchema() != null) {
            merged.outputSchema(structured.getOutputSchema()).grammar(null);
        }
        if (request instanceof KvcacheChatOptions own) {
            merged.minP(own.minP != null ? own.minP : minP);
            merged.seed(own.seed != null ? own.seed : seed);
            merged.repetitionPenalty(own.repetitionPenalty != null ? own.repetitionPenalty : repetitionPenalty);
            merged.toolChoice(own.toolChoice != null ? own.toolChoice : toolChoice);
            if (own.grammar != null) {
                merged.grammar(own.grammar).outputSchema(null);
            }
        }
        // A conversation is the request's own: the defaults never name one.
        merged.conversationId(request instanceof KvcacheChatOptions own ? own.conversationId : null);
        return merged.build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KvcacheChatOptions other && Objects.equals(model, other.model)
                && Objects.equals(temperature, other.temperature) && Objects.equals(topP, other.topP)
                && Objects.equals(topK, other.topK) && Objects.equals(minP, other.minP)
                && Objects.equals(maxTokens, other.maxTokens) && Objects.equals(stopSequences, other.stopSequences)
                && Objects.equals(seed, other.seed) && Objects.equals(repetitionPenalty, other.repetitionPenalty)
                && Objects.equals(conversationId, other.conversationId)
                && Objects.equals(toolCallbacks, other.toolCallbacks) && Objects.equals(toolContext, other.toolContext)
                && toolChoice == other.toolChoice && Objects.equals(outputSchema, other.outputSchema)
                && Objects.equals(grammar, other.grammar);
    }

    @Override
    public int hashCode() {
        return Objects.hash(model, temperature, topP, topK, minP, maxTokens, stopSequences, seed, repetitionPenalty,
                conversationId, toolCallbacks, toolContext, toolChoice, outputSchema, grammar);
    }

    @Override
    public String toString() {
        return "KvcacheChatOptions[model=" + model + ", temperature=" + temperature + ", topP=" + topP + ", topK=" + topK
                + ", minP=" + minP + ", maxTokens=" + maxTokens + ", stopSequences=" + stopSequences + ", seed=" + seed
                + ", repetitionPenalty=" + repetitionPenalty + ", conversationId=" + conversationId + ", tools="
                + toolCallbacks.stream().map(t -> t.getToolDefinition().name()).toList() + ", toolChoice=" + toolChoice
                + ", outputSchema=" + (outputSchema != null) + ", grammar=" + (grammar != null) + "]";
    }

    /** Builds {@link KvcacheChatOptions}; Spring AI's builder for the portable options and tools, plus the engine's own. */
    public static final class Builder extends DefaultToolCallingChatOptions.Builder<Builder>
            implements StructuredOutputChatOptions.Builder<Builder> {
        private Double minP;
        private Long seed;
        private Double repetitionPenalty;
        private String conversationId;
        private ToolChoice toolChoice;
        private String outputSchema;
        private String grammar;

        public Builder minP(Double minP) {
            this.minP = minP;
            return this;
        }

        public Builder seed(Long seed) {
            this.seed = seed;
            return this;
        }

        public Builder repetitionPenalty(Double repetitionPenalty) {
            this.repetitionPenalty = repetitionPenalty;
            return this;
        }

        /** The conversation to continue: see {@link KvcacheChatOptions#getConversationId()}. */
        public Builder conversationId(String conversationId) {
            this.conversationId = conversationId;
            return this;
        }

        /** Whether the model must call a tool: see {@link KvcacheChatOptions#getToolChoice()}. */
        public Builder toolChoice(ToolChoice toolChoice) {
            this.toolChoice = toolChoice;
            return this;
        }

        /** The JSON schema the reply is held to: see {@link KvcacheChatOptions#getOutputSchema()}. */
        @Override
        public Builder outputSchema(String outputSchema) {
            this.outputSchema = outputSchema;
            return this;
        }

        /** The GBNF grammar the reply is held to: see {@link KvcacheChatOptions#getGrammar()}. */
        public Builder grammar(String grammar) {
            this.grammar = grammar;
            return this;
        }

        Builder from(KvcacheChatOptions o) {
            model(o.model).temperature(o.temperature).topP(o.topP).topK(o.topK).maxTokens(o.maxTokens)
                    .stopSequences(o.stopSequences);
            this.minP = o.minP;
            this.seed = o.seed;
            this.repetitionPenalty = o.repetitionPenalty;
            this.conversationId = o.conversationId;
            this.toolChoice = o.toolChoice;
            this.outputSchema = o.outputSchema;
            this.grammar = o.grammar;
            // Spring AI's builder adds to these in place.
            this.toolCallbacks = new ArrayList<>(o.toolCallbacks);
            this.toolContext = new HashMap<>(o.toolContext);
            return this;
        }

        String model() {
            return model;
        }

        Double temperature() {
            return temperature;
        }

        Double topP() {
            return topP;
        }

        Integer topK() {
            return topK;
        }

        Integer maxTokens() {
            return maxTokens;
        }

        List<String> stopSequences() {
            return stopSequences;
        }

        List<ToolCallback> callbacks() {
            return toolCallbacks;
        }

        Map<String, Object> context() {
            return toolContext;
        }

        /** Spring AI's merge of builders, keeping the engine's own settings where {@code other} sets them. */
        @Override
        public Builder combineWith(org.springframework.ai.chat.prompt.ChatOptions.Builder<?> other) {
            super.combineWith(other);
            if (other instanceof Builder own) {
                minP = own.minP != null ? own.minP : minP;
                seed = own.seed != null ? own.seed : seed;
                repetitionPenalty = own.repetitionPenalty != null ? own.repetitionPenalty : repetitionPenalty;
                conversationId = own.conversationId != null ? own.conversationId : conversationId;
                toolChoice = own.toolChoice != null ? own.toolChoice : toolChoice;
                if (own.outputSchema != null || own.grammar != null) {
                    outputSchema = own.outputSchema;
                    grammar = own.grammar;
                }
            }
            return this;
        }

        @Override
        public KvcacheChatOptions build() {
            return new KvcacheChatOptions(this);
        }
    }
}
