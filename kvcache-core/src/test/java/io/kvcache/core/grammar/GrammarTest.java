package io.kvcache.core.grammar;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** GBNF read and compiled to bytes: hand-worked documents and prefixes, and the errors a bad grammar gets. */
class GrammarTest {
    @Test
    void alternativesRepetitionsAndPrefixes() {
        Grammar g = Grammar.parse("""
                # a comment
                root ::= "ab" | "a" digit+   # trailing comment
                digit ::= [0-9]
                """);
        assertThat(g.matches("ab")).isTrue();
        assertThat(g.matches("a1234")).isTrue();
        assertThat(g.matches("a")).isFalse();
        assertThat(g.isPrefix("a")).isTrue();
        assertThat(g.isPrefix("ac")).isFalse();
        assertThat(g.matches("ab1")).isFalse();
        assertThat(g.shortestDocument()).isEqualTo(2);
    }

    @Test
    void boundedRepetitionCountsExactly() {
        Grammar g = Grammar.parse("root ::= \"x\"{2,3} (\"y\" | \"z\"){0,1} \"!\"{2,}");
        assertThat(g.matches("xx!!")).isTrue();
        assertThat(g.matches("xxxz!!!")).isTrue();
        assertThat(g.matches("x!!")).isFalse();
        assertThat(g.matches("xxxx!!")).isFalse();
        assertThat(g.matches("xxyz!!")).isFalse();
        assertThat(g.matches("xx!")).isFalse();
        assertThat(Grammar.parse("root ::= [a-c]{3}").matches("cab")).isTrue();
        assertThat(Grammar.parse("root ::= [a-c]{3}").matches("ca")).isFalse();
    }

    @Test
    void escapesInLiteralsAndClasses() {
        Grammar g = Grammar.parse("root ::= \"\\x41\\n\\u00e9\\\"\" [\\]\\-] \"\\U0001F600\"");
        assertThat(g.matches("A\né\"]😀")).isTrue();
        assertThat(g.matches("A\né\"-😀")).isTrue();
        assertThat(g.matches("A\né\"x😀")).isFalse();
    }

    @Test
    void negatedClassesSpanMultiByteCharacters() {
        Grammar g = Grammar.parse("root ::= [^a]");
        assertThat(g.matches("b")).isTrue();
        assertThat(g.matches("é")).isTrue();   // 2 bytes
        assertThat(g.matches("€")).isTrue();   // 3 bytes
        assertThat(g.matches("😀")).isTrue();  // 4 bytes
        assertThat(g.matches("a")).isFalse();
        assertThat(g.matches("bb")).isFalse();
        assertThat(Grammar.parse("root ::= .").matches("\u0000")).isTrue();
    }

    /** A class of random code point ranges accepts the code points inside and refuses those outside, in UTF-8. */
    @Test
    void characterRangesMatchExactlyTheirCodePoints() {
        SplittableRandom random = new SplittableRandom(13);
        int[] edges = {0, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFF, 0x10000, 0x10FFFF};
        for (int trial = 0; trial < 200; trial++) {
            int a = random.nextBoolean() ? edges[random.nextInt(edges.length)] : random.nextInt(0x110000);
            int b = random.nextBoolean() ? edges[random.nextInt(edges.length)] : random.nextInt(0x110000);
            int lo = Math.min(a, b);
            int hi = Math.max(a, b);
            if (lo >= 0xD800 && hi <= 0xDFFF) {
                continue;
            }
            Grammar g = Grammar.parse(String.format("root ::= [\\U%08X-\\U%08X]", validAbove(lo), validBelow(hi)));
            for (int probe = 0; probe < 40; probe++) {
                int cp = switch (probe % 4) {
                    case 0 -> lo + (hi > lo ? random.nextInt(hi - lo + 1) : 0);
                    case 1 -> random.nextInt(0x110000);
                    case 2 -> Math.max(0, lo - 1 - random.nextInt(3));
                    default -> Math.min(0x10FFFF, hi + 1 + random.nextInt(3));
                };
                if (cp >= 0xD800 && cp <= 0xDFFF) {
                    continue;
                }
                boolean inside = cp >= validAbove(lo) && cp <= validBelow(hi);
                assertThat(g.matches(new String(Character.toChars(cp))))
                        .as("U+%X in [U+%X, U+%X]", cp, lo, hi).isEqualTo(inside);
            }
        }
    }

    private static int validAbove(int cp) {
        return cp >= 0xD800 && cp <= 0xDFFF ? 0xE000 : cp;
    }

    private static int validBelow(int cp) {
        return cp >= 0xD800 && cp <= 0xDFFF ? 0xD7FF : cp;
    }

    @Test
    void recursiveRulesNest() {
        Grammar g = Grammar.parse("""
                root ::= list
                list ::= "[" ( item ( "," item )* )? "]"
                item ::= [0-9] | list
                """);
        assertThat(g.matches("[1,[2,[]],3]")).isTrue();
        assertThat(g.matches("[1,[2,[]],3")).isFalse();
        assertThat(g.isPrefix("[1,[2,[]],3")).isTrue();
        assertThat(g.matches("[,]")).isFalse();
    }

    @Test
    void badGrammarsAreRefusedByName() {
        assertThatThrownBy(() -> Grammar.parse("start ::= \"a\"")).isInstanceOf(GrammarException.class)
                .hasMessageContaining("no rule named root");
        assertThatThrownBy(() -> Grammar.parse("root ::= thing")).isInstanceOf(GrammarException.class)
                .hasMessageContaining("\"thing\" is used but never defined");
        assertThatThrownBy(() -> Grammar.parse("root ::= root \"a\" | \"b\"")).isInstanceOf(GrammarException.class)
                .hasMessageContaining("left-recursive");
        assertThatThrownBy(() -> Grammar.parse("root ::= \"a\" root")).isInstanceOf(GrammarException.class)
                .hasMessageContaining("can never end");
        assertThatThrownBy(() -> Grammar.parse("root ::= \"a\"\nx ::= \"abc")).isInstanceOf(GrammarException.class)
                .hasMessageContaining("line 2").hasMessageContaining("not closed");
        assertThatThrownBy(() -> Grammar.parse("root ::= \"a\"\nroot ::= \"b\"")).isInstanceOf(GrammarException.class)
                .hasMessageContaining("defined twice");
        assertThatThrownBy(() -> Grammar.parse("root ::= [z-a]")).isInstanceOf(GrammarException.class)
                .hasMessageContaining("runs backwards");
        assertThatThrownBy(() -> Grammar.parse("root ::= \"a\"{3,2}")).isInstanceOf(GrammarException.class)
                .hasMessageContaining("maximum below its minimum");
        assertThatThrownBy(() -> Grammar.parse("   ")).isInstanceOf(GrammarException.class).hasMessageContaining("empty");
    }

    @Test
    void hugeGrammarsAreRefusedBeforeTheyAreBuilt() {
        assertThatThrownBy(() -> Grammar.parse("root ::= \"abcdefgh\"{999999}")).isInstanceOf(GrammarException.class)
                .hasMessageContaining("elements");
        assertThatThrownBy(() -> Grammar.parse("root ::= ((\"ab\"{999}){999})")).isInstanceOf(GrammarException.class)
                .hasMessageContaining("elements");
        assertThatThrownBy(() -> Grammar.parse("root ::= \"" + "a".repeat(Grammar.MAX_SOURCE_CHARS) + "\""))
                .isInstanceOf(GrammarException.class).hasMessageContaining("characters");
    }
}
