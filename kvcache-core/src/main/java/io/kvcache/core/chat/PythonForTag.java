package io.kvcache.core.chat;

import com.hubspot.jinjava.interpret.InterpretException;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateSyntaxException;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.util.ForLoop;
import com.hubspot.jinjava.util.LengthLimitingStringBuilder;
import com.hubspot.jinjava.util.ObjectTruthValue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Jinja's {@code for} tag, replacing Jinjava's, which lacks two things chat templates use: the
 * loop filter ({@code {% for tool in tools if tool.type == "function" %}}, which Jinjava reads as
 * part of the iterable and renders nothing for; filtered items are left out of {@code loop.index}
 * and {@code loop.length} too) and {@code loop.previtem}/{@code loop.nextitem} (Hermes and Qwen
 * open a run of tool answers only after a message of another role). A mapping iterates over its
 * keys, a pair ({@code dict.items()}) unpacks into two names; anything else that is not a
 * sequence is an error, as in llama.cpp, instead of Jinjava's loop over the single value.
 */
final class PythonForTag implements Tag {
    private static final long serialVersionUID = 1L;
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    @Override
    public String getName() {
        return "for";
    }

    @Override
    public String getEndTagName() {
        return "endfor";
    }

    @Override
    public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
        Header header = Header.parse(tagNode);
        List<Object> items = items(interpreter.resolveELExpression(header.iterable(), tagNode.getLineNumber()), tagNode);
        try (var scope = interpreter.enterScope()) {
            if (header.condition() != null) {
                List<Object> kept = new ArrayList<>();
                for (Object item : items) {
                    bind(header.names(), interpreter.wrap(item), interpreter, tagNode);
                    if (ObjectTruthValue.evaluate(interpreter.resolveELExpression(header.condition(), tagNode.getLineNumber()))) {
                        kept.add(item);
                    }
                }
                items = kept;
            }
            Loop loop = new Loop(items);
            interpreter.getContext().put("loop", loop);
            LengthLimitingStringBuilder out = new LengthLimitingStringBuilder(interpreter.getConfig().getMaxOutputSize());
            while (loop.hasNext()) {
                bind(header.names(), interpreter.wrap(loop.next()), interpreter, tagNode);
                for (Node child : tagNode.getChildren()) {
                    out.append(child.render(interpreter).getValue());
                    // {% continue %} and {% break %} end this pass through the body.
                    if (loop.isContinued()) {
                        break;
                    }
                }
            }
            return out.toString();
        }
    }

    /** What a loop walks over: a list's items, a mapping's keys; None or undefined is empty. */
    private static List<Object> items(Object iterable, TagNode tagNode) {
        return switch (iterable) {
            case null -> List.of();
            case Map<?, ?> map -> new ArrayList<>(map.keySet());
            case Collection<?> collection -> new ArrayList<>(collection);
            case Object[] array -> Arrays.asList(array);
            case Iterable<?> iterableValue -> {
                List<Object> list = new ArrayList<>();
                iterableValue.forEach(list::add);
                yield list;
            }
            default -> throw new InterpretException("for: cannot iterate over " + describe(iterable),
                    tagNode.getLineNumber(), tagNode.getStartPosition());
        };
    }

    private static String describe(Object value) {
        return value instanceof CharSequence ? "a string" : "a value of type " + value.getClass().getSimpleName();
    }

    /**
     * Sets the loop's names to an item: one name takes it whole, several unpack a pair or a list.
     * (A None item leaves the name unset in the loop's scope, as Jinjava stores None.)
     */
    private static void bind(List<String> names, Object item, JinjavaInterpreter interpreter, TagNode tagNode) {
        if (names.size() == 1) {
            interpreter.getContext().put(names.getFirst(), item);
            return;
        }
        List<?> parts = switch (item) {
            case Map.Entry<?, ?> entry -> Arrays.asList(entry.getKey(), entry.getValue());
            case List<?> list -> list;
            case Object[] array -> Arrays.asList(array);
            case null, default -> null;
        };
        if (parts == null || parts.size() != names.size()) {
            throw new InterpretException("for: cannot unpack " + (item == null ? "None" : describe(item)) + " into "
                    + names.size() + " names " + names, tagNode.getLineNumber(), tagNode.getStartPosition());
        }
        for (int i = 0; i < names.size(); i++) {
            interpreter.getContext().put(names.get(i), interpreter.wrap(parts.get(i)));
        }
    }

    /**
     * {@code names in iterable [if condition]}, split where {@code in} and {@code if} stand as words
     * outside strings and brackets.
     */
    private record Header(List<String> names, String iterable, String condition) {
        static Header parse(TagNode tagNode) {
            String helpers = tagNode.getHelpers();
            int in = keyword(helpers, "in", 0);
            if (in < 0) {
                throw syntax(tagNode, "expects 'names in iterable', got: " + helpers.strip());
            }
            List<String> names = Arrays.stream(helpers.substring(0, in).split(",", -1)).map(String::strip).toList();
            if (names.stream().anyMatch(n -> !NAME.matcher(n).matches())) {
                throw syntax(tagNode, "expects loop names before 'in', got: " + helpers.substring(0, in).strip());
            }
            int condition = keyword(helpers, "if", in + 2);
            String iterable = (condition < 0 ? helpers.substring(in + 2) : helpers.substring(in + 2, condition)).strip();
            if (iterable.isEmpty()) {
                throw syntax(tagNode, "expects an iterable after 'in', got: " + helpers.strip());
            }
            return new Header(names, iterable, condition < 0 ? null : helpers.substring(condition + 2).strip());
        }

        private static TemplateSyntaxException syntax(TagNode tagNode, String message) {
            return new TemplateSyntaxException(tagNode.getHelpers().strip(), "Tag 'for' " + message,
                    tagNode.getLineNumber(), tagNode.getStartPosition());
        }

        /** Where {@code word} first stands alone from {@code from} on, outside strings and brackets; -1 if nowhere. */
        private static int keyword(String text, String word, int from) {
            int depth = 0;
            char quote = 0;
            for (int i = from; i < text.length(); i++) {
                char c = text.charAt(i);
                if (quote != 0) {
                    if (c == '\\') {
                        i++;
                    } else if (c == quote) {
                        quote = 0;
                    }
                    continue;
                }
                switch (c) {
                    case '\'', '"' -> quote = c;
                    case '(', '[', '{' -> depth++;
                    case ')', ']', '}' -> depth--;
                    default -> {
                        if (depth == 0 && text.startsWith(word, i) && !wordChar(text, i - 1)
                                && !wordChar(text, i + word.length())) {
                            return i;
                        }
                    }
                }
            }
            return -1;
        }

        private static boolean wordChar(String text, int i) {
            return i >= 0 && i < text.length() && (Character.isLetterOrDigit(text.charAt(i)) || text.charAt(i) == '_');
        }
    }

    /** Jinjava's loop variable with Jinja's {@code previtem} and {@code nextitem} (undefined at the ends). */
    public static final class Loop extends ForLoop {
        private final List<Object> items;

        Loop(List<Object> items) {
            super(items.iterator(), items.size());
            this.items = items;
        }

        public Object getPrevitem() {
            int index = getIndex0();
            return index > 0 ? items.get(index - 1) : null;
        }

        public Object getNextitem() {
            int index = getIndex0();
            return index >= 0 && index + 1 < items.size() ? items.get(index + 1) : null;
        }
    }
}
