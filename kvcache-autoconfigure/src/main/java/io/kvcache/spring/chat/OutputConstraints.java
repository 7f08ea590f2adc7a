package io.kvcache.spring.chat;

import io.kvcache.core.chat.ToolCallFormat;
import io.kvcache.core.chat.ToolDefinition;
import io.kvcache.core.grammar.Grammar;
import io.kvcache.core.grammar.JsonSchemaGrammar;
import io.kvcache.core.grammar.TokenConstraint;
import io.kvcache.core.grammar.TokenGrammar;
import io.kvcache.core.grammar.TokenTrie;
import io.kvcache.core.tokenizer.Tokenizer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a turn's reply is held to, from its options: tool calls when they are required (the call
 * format of the model's family, each call's arguments held to its tool's parameter schema), the
 * output schema's documents (or, with tools offered, calls or such a document), or the grammar
 * given. With tools offered and nothing else asked, the constraint is lazy: the reply is free until
 * a call opens (the family's markup, or a reply that starts as a bare JSON call), and the call from
 * there on is held to the format and the tools' schemas. Tool-call markers that are control tokens
 * may be written as those tokens. Compiled grammars are kept by their text ({@value #KEPT} most recently used), with what
 * they learnt about the vocabulary, so a schema used again costs nothing to set up; the
 * vocabulary's trie is built at the first constrained turn.
 */
final class OutputConstraints {
    static final int KEPT = 32;

    private final Tokenizer tokenizer;
    private TokenTrie trie;
    private final Map<String, TokenGrammar> compiled = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, TokenGrammar> eldest) {
            return size() > KEPT;
        }
    };

    OutputConstraints(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /**
     * The constraint of a turn, if any.
     *
     * @param format            how the model writes tool calls (null when no tools are offered)
     * @param afterToolResults  whether the turn answers tool results (required calls are then over)
     * @throws io.kvcache.core.grammar.GrammarException when the schema or grammar cannot be compiled
     */
    Optional<TokenConstraint> forTurn(KvcacheChatOptions options, List<ToolDefinition> tools, ToolCallFormat format,
                                      boolean afterToolResults) {
        if (options.getGrammar() != null) {
            return Optional.of(grammar(options.getGrammar()).start());
        }
        boolean callsRequired = !tools.isEmpty() && options.getToolChoice() == KvcacheChatOptions.ToolChoice.REQUIRED
                && !afterToolResults;
        String schema = options.getOutputSchema();
        if (!callsRequired && schema == null) {
            if (tools.isEmpty()) {
                return Optional.empty();
            }
            JsonSchemaGrammar calls = new JsonSchemaGrammar();
            calls.addRule("root", format.addCallRule(calls, tools));
            TokenGrammar lazy = grammar(calls.gbnf());
            ToolCallFormat.CallOpening opening = format.callOpening();
            return Optional.of(opening.atReplyStart() ? lazy.startAtBeginning(opening.text()) : lazy.startAt(opening.text()));
        }
        JsonSchemaGrammar rules = new JsonSchemaGrammar();
        if (callsRequired) {
            rules.addRule("root", format.addCallRule(rules, tools));
        } else if (tools.isEmpty()) {
            rules.addSchema("root", schema, JsonSchemaGrammar.Spacing.FREE);
        } else {
            String answer = rules.addSchema("answer", schema, JsonSchemaGrammar.Spacing.FREE);
            rules.addRule("root", format.addCallRule(rules, tools) + " | " + answer);
        }
        return Optional.of(grammar(rules.gbnf()).start());
    }

    private synchronized TokenGrammar grammar(String gbnf) {
        TokenGrammar kept = compiled.get(gbnf);
        if (kept == null) {
            if (trie == null) {
                trie = TokenTrie.of(tokenizer, ToolCallFormat.markup());
            }
            kept = new TokenGrammar(Grammar.parse(gbnf), trie);
            compiled.put(gbnf, kept);
        }
        return kept;
    }
}
