package io.kvcache.core.grammar;


import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Reads GBNF text into a {@link GrammarBuilder}; errors name the line and column. */
final class GbnfParser {
    private final String text;
    private final GrammarBuilder rules = new GrammarBuilder();
    private int at;

    GbnfParser(String text) {
        if (text == null || text.isBlank()) {
            throw new GrammarException("the grammar is empty: give at least a rule named root");
        }
        if (text.length() > Grammar.MAX_SOURCE_CHARS) {
            throw new GrammarException("the grammar has " + text.length() + " characters, more than the "
                    + Grammar.MAX_SOURCE_CHARS + " accepted");
        }
        this.text = text;
    }

    Grammar parse() {
        skipSpace();
        while (at < text.length()) {
            int start = at;
            String name = identifier();
            skipSpace();
            if (!text.startsWith("::=", at)) {
                throw error("expected ::= after the rule name " + GrammarException.quoted(name));
            }
            at += 3;
            int id = rules.rule(name);
            if (rules.isDefined(id)) {
                at = start;
                throw error("rule " + GrammarException.quoted(name) + " is defined twice");
            }
            rules.define(id, alternatives(name));
            skipSpace();
        }
        return rules.build("root", text);
    }

    private List<List<GrammarBuilder.Element>> alternatives(String rule) {
        List<List<GrammarBuilder.Element>> alternatives = new ArrayList<>();
        alternatives.add(sequence(rule));
        while (at < text.length() && text.charAt(at) == '|') {
            at++;
            alternatives.add(sequence(rule));
        }
        return alternatives;
    }

    private List<GrammarBuilder.Element> sequence(String rule) {
        List<GrammarBuilder.Element> sequence = new ArrayList<>();
        while (true) {
            skipSpace();
            if (at >= text.length() || text.charAt(at) == '|' || text.charAt(at) == ')' || atRuleStart()) {
                return sequence;
            }
            List<GrammarBuilder.Element> item = primary(rule);
            skipSpace();
            sequence.addAll(postfix(rule, item));
        }
    }

    private List<GrammarBuilder.Element> primary(String rule) {
        char c = text.charAt(at);
        switch (c) {
            case '"' -> {
                at++;
                List<GrammarBuilder.Element> bytes = new ArrayList<>();
                while (true) {
                    if (at >= text.length()) {
                        throw error("a string literal is not closed");
                    }
                    if (text.charAt(at) == '"') {
                        at++;
                        return bytes;
                    }
                    for (byte b : utf8(character())) {
                        bytes.add(new GrammarBuilder.Terminal(ByteSet.of(b & 0xFF)));
                    }
                }
            }
            case '[' -> {
                at++;
                return characterClass(rule);
            }
            case '.' -> {
                at++;
                return rules.characters(rule, List.of(new int[] {0, 0x10FFFF}));
            }
            case '(' -> {
                at++;
                List<List<GrammarBuilder.Element>> group = alternatives(rule);
                skipSpace();
                if (at >= text.length() || text.charAt(at) != ')') {
                    throw error("a group opened with ( is not closed");
                }
                at++;
                return group.size() == 1 ? group.getFirst() : List.of(new GrammarBuilder.Reference(rules.fresh(rule, group)));
            }
            default -> {
                if (isNameCharacter(c)) {
                    return List.of(new GrammarBuilder.Reference(rules.rule(identifier())));
                }
                throw error("unexpected character " + GrammarException.quoted(String.valueOf(c)));
            }
        }
    }

    private List<GrammarBuilder.Element> postfix(String rule, List<GrammarBuilder.Element> item) {
        if (at >= text.length()) {
            return item;
        }
        switch (text.charAt(at)) {
            case '*' -> {
                at++;
                return rules.repeat(rule, item, 0, -1);
            }
            case '+' -> {
                at++;
                return rules.repeat(rule, item, 1, -1);
            }
            case '?' -> {
                at++;
                return rules.repeat(rule, item, 0, 1);
            }
            case '{' -> {
                at++;
                skipSpace();
                int min = number();
                int max = min;
                skipSpace();
                if (at < text.length() && text.charAt(at) == ',') {
                    at++;
                    skipSpace();
                    max = at < text.length() && Character.isDigit(text.charAt(at)) ? number() : -1;
                    skipSpace();
                }
                if (at >= text.length() || text.charAt(at) != '}') {
                    throw error("expected } to close a repetition {m,n}");
                }
                at++;
                if (max >= 0 && max < min) {
                    throw error("the repetition {" + min + "," + max + "} has its maximum below its minimum");
                }
                return rules.repeat(rule, item, min, max);
            }
            default -> {
                return item;
            }
        }
    }

    private List<GrammarBuilder.Element> characterClass(String rule) {
        boolean negated = at < text.length() && text.charAt(at) == '^';
        if (negated) {
            at++;
        }
        List<int[]> ranges = new ArrayList<>();
        while (true) {
            if (at >= text.length()) {
                throw error("a character class opened with [ is not closed");
            }
            if (text.charAt(at) == ']') {
                at++;
                break;
            }
            int lo = character();
            int hi = lo;
            if (at + 1 < text.length() && text.charAt(at) == '-' && text.charAt(at + 1) != ']') {
                at++;
                hi = character();
                if (hi < lo) {
                    throw error("the range " + GrammarException.quoted(new String(Character.toChars(lo)) + "-"
                            + new String(Character.toChars(hi))) + " runs backwards");
                }
            }
            ranges.add(new int[] {lo, hi});
        }
        if (negated) {
            ranges = complement(ranges);
        }
        if (ranges.isEmpty()) {
            throw error("the character class matches no character");
        }
        return rules.characters(rule, ranges);
    }

    private static List<int[]> complement(List<int[]> ranges) {
        List<int[]> sorted = new ArrayList<>(ranges);
        sorted.sort((a, b) -> Integer.compare(a[0], b[0]));
        List<int[]> out = new ArrayList<>();
        int next = 0;
        for (int[] r : sorted) {
            if (r[0] > next) {
                out.add(new int[] {next, r[0] - 1});
            }
            next = Math.max(next, r[1] + 1);
        }
        if (next <= 0x10FFFF) {
            out.add(new int[] {next, 0x10FFFF});
        }
        return out;
    }

    /** One character of a literal or a class, with its escape resolved. */
    private int character() {
        int c = text.codePointAt(at);
        at += Character.charCount(c);
        if (c >= 0xD800 && c <= 0xDFFF) {
            at -= 1;
            throw error("a lone surrogate names no character");
        }
        if (c != '\\') {
            return c;
        }
        if (at >= text.length()) {
            throw error("the grammar ends inside an escape");
        }
        char e = text.charAt(at++);
        return switch (e) {
            case 'n' -> '\n';
            case 'r' -> '\r';
            case 't' -> '\t';
            case '\\', '"', '[', ']', '-', '^', '/' -> e;
            case 'x' -> hex(2);
            case 'u' -> hex(4);
            case 'U' -> hex(8);
            default -> {
                at -= 2;
                throw error("unknown escape \\" + GrammarException.quoted(String.valueOf(e)));
            }
        };
    }

    private int hex(int digits) {
        if (at + digits > text.length()) {
            throw error("expected " + digits + " hex digits");
        }
        int value = 0;
        for (int i = 0; i < digits; i++) {
            int d = Character.digit(text.charAt(at + i), 16);
            if (d < 0) {
                throw error("expected " + digits + " hex digits");
            }
            value = value << 4 | d;
        }
        if (value > 0x10FFFF || value >= 0xD800 && value <= 0xDFFF) {
            throw error("the escape names no character: " + Integer.toHexString(value));
        }
        at += digits;
        return value;
    }

    private int number() {
        int start = at;
        while (at < text.length() && Character.isDigit(text.charAt(at)) && at - start < 7) {
            at++;
        }
        if (at == start) {
            throw error("expected a number in a repetition {m,n}");
        }
        if (at < text.length() && Character.isDigit(text.charAt(at))) {
            throw error("the repetition count is too large");
        }
        return Integer.parseInt(text, start, at, 10);
    }

    private String identifier() {
        int start = at;
        while (at < text.length() && isNameCharacter(text.charAt(at))) {
            at++;
        }
        if (at == start) {
            throw error("expected a rule name");
        }
        return text.substring(start, at);
    }

    /** Whether a new rule ({@code name ::=}) begins here, which ends the rule before it. */
    private boolean atRuleStart() {
        int saved = at;
        try {
            if (!isNameCharacter(text.charAt(at))) {
                return false;
            }
            identifier();
            skipSpace();
            return text.startsWith("::=", at);
        } finally {
            at = saved;
        }
    }

    private void skipSpace() {
        while (at < text.length()) {
            char c = text.charAt(at);
            if (c == '#') {
                while (at < text.length() && text.charAt(at) != '\n') {
                    at++;
                }
            } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                at++;
            } else {
                return;
            }
        }
    }

    private static boolean isNameCharacter(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_';
    }

    private static byte[] utf8(int codePoint) {
        return new String(Character.toChars(codePoint)).getBytes(StandardCharsets.UTF_8);
    }

    private GrammarException error(String what) {
        int line = 1;
        int column = 1;
        for (int i = 0; i < Math.min(at, text.length()); i++) {
            if (text.charAt(i) == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        return new GrammarException("grammar line " + line + ", column " + column + ": " + what);
    }
}
