package io.kvcache.core.grammar;

import io.kvcache.core.tokenizer.TokenType;
import io.kvcache.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tool-call constraints on a small vocabulary of its own (the 256 bytes, one control token that is
 * a call marker, one that is not, one end of generation): a marker that is a control token may be
 * written as that token where the grammar asks for its text, and a constraint anchored at the start
 * of the reply starts only for a reply that opens with its trigger.
 */
class LazyCallConstraintTest {
    private static final int PYTHON_TAG = 256;
    private static final int IM_END = 257;
    private static final int EOT = 258;
    private static final Tokenizer VOCABULARY = new ByteVocabulary();

    @Test
    void aMarkerThatIsAControlTokenMayBeWrittenAsThatToken() {
        Grammar grammar = Grammar.parse("root ::= \"<|python_tag|>{}\" | \"<|im_end|>x\"");
        float[] logits = new float[VOCABULARY.vocabularySize()];
        new TokenGrammar(grammar, TokenTrie.of(VOCABULARY, Set.of("<|python_tag|>"))).start().mask(logits, 0, logits.length, 50);
        assertThat(logits[PYTHON_TAG]).as("the marker's control token").isZero();
        assertThat(logits['<']).as("the marker spelled in bytes").isZero();
        assertThat(logits[IM_END]).as("a control token that is not markup").isEqualTo(Float.NEGATIVE_INFINITY);

        float[] plain = new float[VOCABULARY.vocabularySize()];
        new TokenGrammar(grammar, TokenTrie.of(VOCABULARY)).start().mask(plain, 0, plain.length, 50);
        assertThat(plain[PYTHON_TAG]).as("without markup, control tokens stay out").isEqualTo(Float.NEGATIVE_INFINITY);
    }

    @Test
    void anAnchoredTriggerHoldsOnlyAReplyThatOpensWithIt() {
        TokenGrammar calls = new TokenGrammar(Grammar.parse("root ::= \"{\\\"name\\\": \\\"add\\\"}\""), TokenTrie.of(VOCABULARY));

        TokenConstraint call = calls.startAtBeginning("{\"name\": \"");
        feed(call, "\n {\"name\": \"");
        float[] logits = new float[VOCABULARY.vocabularySize()];
        call.mask(logits, 0, logits.length, 50);
        assertThat(logits['a']).as("the call goes on").isZero();
        assertThat(logits['x']).as("text the call does not allow").isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(call.isAccepting()).isFalse();
        feed(call, "add\"}");
        assertThat(call.isAccepting()).isTrue();

        TokenConstraint prose = calls.startAtBeginning("{\"name\": \"");
        feed(prose, "Use {\"name\": \"x\"} like this");
        float[] free = new float[VOCABULARY.vocabularySize()];
        prose.mask(free, 0, free.length, 50);
        assertThat(free).as("a brace later in prose is not a call").containsOnly(0f);
        assertThat(prose.isAccepting()).isTrue();
    }

    private static void feed(TokenConstraint constraint, String text) {
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            constraint.accept(b & 0xff);
        }
    }

    /** Token i < 256 is byte i; then {@code <|python_tag|>} and {@code <|im_end|>} (control), {@code <|eot_id|>} (end). */
    private static final class ByteVocabulary implements Tokenizer {
        private static final String[] SPECIAL = {"<|python_tag|>", "<|im_end|>", "<|eot_id|>"};

        @Override
        public byte[] tokenBytes(int id) {
            return id < 256 ? new byte[] {(byte) id} : SPECIAL[id - 256].getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public int vocabularySize() {
            return 256 + SPECIAL.length;
        }

        @Override
        public boolean isEndOfGeneration(int id) {
            return id == EOT;
        }

        @Override
        public TokenType tokenType(int id) {
            return id < 256 ? TokenType.BYTE : TokenType.CONTROL;
        }

        @Override
        public String tokenText(int id) {
            return new String(tokenBytes(id), StandardCharsets.UTF_8);
        }

        @Override
        public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
            throw new UnsupportedOperationException("not needed by the trie");
        }

        @Override
        public int[] encodeContinuation(String text, boolean parseSpecial) {
            throw new UnsupportedOperationException("not needed by the trie");
        }

        @Override
        public String markSpecialAsText(String text) {
            return text;
        }

        @Override
        public String decode(int[] ids) {
            StringBuilder out = new StringBuilder();
            for (int id : ids) {
                out.append(tokenText(id));
            }
            return out.toString();
        }

        @Override
        public int bosId() {
            return -1;
        }

        @Override
        public int eosId() {
            return EOT;
        }

        @Override
        public boolean addsBos() {
            return false;
        }

        @Override
        public boolean addsEos() {
            return false;
        }
    }
}
