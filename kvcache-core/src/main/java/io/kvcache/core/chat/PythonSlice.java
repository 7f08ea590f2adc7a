package io.kvcache.core.chat;

import jinjava.de.odysseus.el.tree.Bindings;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstRightValue;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * {@code value[start:stop:step]} with Python's rules: any part may be omitted or None, negative
 * positions count from the end, out-of-range positions are clamped, and a negative step walks
 * backwards. Strings slice by code point, as Python's str does.
 */
final class PythonSlice extends AstRightValue {
    private final AstNode base;
    private final AstNode start;
    private final AstNode stop;
    private final AstNode step;

    PythonSlice(AstNode base, AstNode start, AstNode stop, AstNode step) {
        this.base = base;
        this.start = start;
        this.stop = stop;
        this.step = step;
    }

    @Override
    public Object eval(Bindings bindings, ELContext context) {
        Object value = base.eval(bindings, context);
        Integer first = position(start, bindings, context);
        Integer last = position(stop, bindings, context);
        Integer stride = position(step, bindings, context);
        if (value instanceof String s) {
            int[] codePoints = s.codePoints().toArray();
            StringBuilder out = new StringBuilder();
            for (int i : indices(codePoints.length, first, last, stride)) {
                out.appendCodePoint(codePoints[i]);
            }
            return out.toString();
        }
        List<?> items = items(value);
        List<Object> out = new ArrayList<>();
        for (int i : indices(items.size(), first, last, stride)) {
            out.add(items.get(i));
        }
        return out;
    }

    private List<?> items(Object value) {
        return switch (value) {
            case List<?> list -> list;
            case Object[] array -> Arrays.asList(array);
            case Iterable<?> iterable -> {
                List<Object> copy = new ArrayList<>();
                iterable.forEach(copy::add);
                yield copy;
            }
            case Map<?, ?> map -> new ArrayList<>(map.keySet());
            case null -> throw new ELException("cannot slice " + base + ": it is undefined or none");
            default -> throw new ELException("cannot slice " + base + ": " + value.getClass().getSimpleName()
                    + " is not a sequence");
        };
    }

    private static Integer position(AstNode node, Bindings bindings, ELContext context) {
        if (node == null) {
            return null;
        }
        Object value = node.eval(bindings, context);
        if (value == null) {
            return null;
        }
        if (!(value instanceof Number n) || n.doubleValue() != n.longValue()) {
            throw new ELException("slice positions must be integers or none, got '" + value + "'");
        }
        return Math.clamp(n.longValue(), Integer.MIN_VALUE, Integer.MAX_VALUE);
    }

    /** The positions {@code slice(start, stop, step).indices(length)} visits. */
    static int[] indices(int length, Integer start, Integer stop, Integer step) {
        int stride = step == null ? 1 : step;
        if (stride == 0) {
            throw new ELException("slice step cannot be zero");
        }
        int lower = stride > 0 ? 0 : -1;
        int upper = stride > 0 ? length : length - 1;
        int from = start == null ? (stride > 0 ? lower : upper) : clampPosition(start, length, lower, upper);
        int to = stop == null ? (stride > 0 ? upper : lower) : clampPosition(stop, length, lower, upper);
        int count = stride > 0 ? Math.max(0, (to - from + stride - 1) / stride)
                : Math.max(0, (from - to - stride - 1) / -stride);
        int[] out = new int[count];
        for (int k = 0; k < count; k++) {
            out[k] = from + k * stride;
        }
        return out;
    }

    private static int clampPosition(int position, int length, int lower, int upper) {
        long p = position < 0 ? (long) position + length : position;
        return Math.clamp(p, lower, upper);
    }

    @Override
    public void appendStructure(StringBuilder b, Bindings bindings) {
        base.appendStructure(b, bindings);
        b.append('[');
        appendPart(b, start, bindings);
        b.append(':');
        appendPart(b, stop, bindings);
        b.append(':');
        appendPart(b, step, bindings);
        b.append(']');
    }

    private static void appendPart(StringBuilder b, AstNode part, Bindings bindings) {
        if (part != null) {
            part.appendStructure(b, bindings);
        }
    }

    @Override
    public String toString() {
        return "[:]";
    }

    @Override
    public int getCardinality() {
        return children().size();
    }

    @Override
    public AstNode getChild(int i) {
        return children().get(i);
    }

    private List<AstNode> children() {
        List<AstNode> children = new ArrayList<>(List.of(base));
        for (AstNode part : new AstNode[] {start, stop, step}) {
            if (part != null) {
                children.add(part);
            }
        }
        return children;
    }
}
