package io.kvcache.core.grammar;

import io.kvcache.core.tokenizer.TokenType;
import io.kvcache.core.tokenizer.Tokenizer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The vocabulary's tokens by their bytes, as a trie: tokens that share a prefix share its path, so
 * a grammar state checks each prefix once for all of them. Only tokens that spell text are in it;
 * end-of-generation tokens are kept apart (allowed where a document is whole), and other control,
 * unknown and unused tokens are never allowed (but for control tokens given as markup, see
 * {@link #of(Tokenizer, Set)}). Immutable; build one per tokenizer and share it.
 */
public final class TokenTrie {
    private final int vocabularySize;
    private final byte[][] bytes;
    /** Control tokens' text, which a lazy constraint's trigger may be spelled with (a tool-call marker). */
    private final byte[][] controlBytes;
    private final int[] endOfGeneration;
    /** Children of node n: {@code childByte/childNode[firstChild[n] .. firstChild[n + 1])}; node 0 is the root. */
    final int[] firstChild;
    final byte[] childByte;
    final int[] childNode;
    /** Tokens ending at node n: {@code tokens[firstToken[n] .. firstToken[n + 1])}. */
    final int[] firstToken;
    final int[] tokens;
    final int depth;

    private TokenTrie(Tokenizer tokenizer, Set<String> markup) {
        Set<ByteBuffer> markupBytes = new HashSet<>();
        markup.forEach(m -> markupBytes.add(ByteBuffer.wrap(m.getBytes(StandardCharsets.UTF_8))));
        vocabularySize = tokenizer.vocabularySize();
        bytes = new byte[vocabularySize][];
        controlBytes = new byte[vocabularySize][];
        List<Integer> ends = new ArrayList<>();
        // Build with growable per-node child lists, then lay them out flat, node by node.
        List<int[]> children = new ArrayList<>();
        List<List<Integer>> nodeTokens = new ArrayList<>();
        children.add(new int[0]);
        nodeTokens.add(new ArrayList<>());
        int deepest = 0;
        for (int id = 0; id < vocabularySize; id++) {
            if (tokenizer.isEndOfGeneration(id)) {
                ends.add(id);
                continue;
            }
            TokenType type = tokenizer.tokenType(id);
            byte[] b = tokenizer.tokenBytes(id);
            boolean spellsMarkup = type == TokenType.CONTROL && markupBytes.contains(ByteBuffer.wrap(b));
            if (!spellsMarkup && (type == TokenType.CONTROL || type == TokenType.UNKNOWN || type == TokenType.UNUSED
                    || b.length == 0)) {
                controlBytes[id] = b;
                continue;
            }
            bytes[id] = b;
            deepest = Math.max(deepest, b.length);
            int node = 0;
            for (byte value : b) {
                int[] list = children.get(node);
                int found = -1;
                for (int i = 0; i < list.length; i += 2) {
                    if (list[i] == value) {
                        found = list[i + 1];
                        break;
                    }
                }
                if (found < 0) {
                    found = children.size();
                    children.add(new int[0]);
                    nodeTokens.add(new ArrayList<>());
                    int[] grown = Arrays.copyOf(list, list.length + 2);
                    grown[list.length] = value;
                    grown[list.length + 1] = found;
                    children.set(node, grown);
                }
                node = found;
            }
            nodeTokens.get(node).add(id);
        }
        int nodes = children.size();
        firstChild = new int[nodes + 1];
        firstToken = new int[nodes + 1];
        for (int n = 0; n < nodes; n++) {
            firstChild[n + 1] = firstChild[n] + children.get(n).length / 2;
            firstToken[n + 1] = firstToken[n] + nodeTokens.get(n).size();
        }
        childByte = new byte[firstChild[nodes]];
        childNode = new int[firstChild[nodes]];
        tokens = new int[firstToken[nodes]];
        for (int n = 0; n < nodes; n++) {
            int[] list = children.get(n);
            for (int i = 0; i < list.length / 2; i++) {
                childByte[firstChild[n] + i] = (byte) list[2 * i];
                childNode[firstChild[n] + i] = list[2 * i + 1];
            }
            List<Integer> here = nodeTokens.get(n);
            for (int i = 0; i < here.size(); i++) {
                tokens[firstToken[n] + i] = here.get(i);
            }
        }
        endOfGeneration = ends.stream().mapToInt(Integer::intValue).toArray();
        depth = deepest;
    }

    /** The trie of {@code tokenizer}'s vocabulary. */
    public static TokenTrie of(Tokenizer tokenizer) {
        return new TokenTrie(tokenizer, Set.of());
    }

    /**
     * The trie of {@code tokenizer}'s vocabulary with the control tokens that spell one of
     * {@code markup} counted as that text: a tool-call marker that is a control token
     * ({@code <|python_tag|>}, {@code [TOOL_CALLS]}) may then be written as the model was trained to
     * write it, where the grammar asks for its text, instead of spelled out in text tokens.
     */
    public static TokenTrie of(Tokenizer tokenizer, Set<String> markup) {
        return new TokenTrie(tokenizer, markup);
    }

    public int vocabularySize() {
        return vocabularySize;
    }

    /** The token's bytes; null for a token that never spells document text (control, unknown, end of generation). */
    byte[] bytes(int token) {
        return token >= 0 && token < vocabularySize ? bytes[token] : null;
    }

    /** The bytes token {@code id} spells in output, control tokens included; empty for none. */
    byte[] textBytes(int token) {
        byte[] b = bytes(token);
        if (b == null && token >= 0 && token < vocabularySize) {
            b = controlBytes[token];
        }
        return b == null ? new byte[0] : b;
    }

    int[] endOfGeneration() {
        return endOfGeneration;
    }

    boolean isEndOfGeneration(int token) {
        return Arrays.binarySearch(endOfGeneration, token) >= 0;
    }
}
