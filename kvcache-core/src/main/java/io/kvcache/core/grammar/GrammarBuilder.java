package io.kvcache.core.grammar;


import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Rules as they are read, then checked and flattened into a {@link Grammar}: every rule used is
 * defined, none is left-recursive, each can end, and the whole stays within
 * {@link Grammar#MAX_ELEMENTS}.
 */
final class GrammarBuilder {
    sealed interface Element permits Terminal, Reference {
    }

    record Terminal(ByteSet bytes) implements Element {
    }

    record Reference(int rule) implements Element {
    }

    private final List<String> names = new ArrayList<>();
    private final Map<String, Integer> ids = new HashMap<>();
    private final List<List<List<Element>>> bodies = new ArrayList<>();
    private int elements;

    /** The id of rule {@code name}, created undefined on first use. */
    int rule(String name) {
        Integer id = ids.get(name);
        if (id != null) {
            return id;
        }
        names.add(name);
        bodies.add(null);
        ids.put(name, names.size() - 1);
        return names.size() - 1;
    }

    boolean isDefined(int rule) {
        return bodies.get(rule) != null;
    }

    void define(int rule, List<List<Element>> alternatives) {
        for (List<Element> alternative : alternatives) {
            count(alternative.size() + 1);
        }
        bodies.set(rule, alternatives.stream().map(List::copyOf).toList());
    }

    /** A new rule for part of {@code owner} (a group, a repetition, a character class). */
    int fresh(String owner, List<List<Element>> alternatives) {
        int id = rule(owner + "-" + names.size());
        define(id, alternatives);
        return id;
    }

    /** {@code item} repeated from {@code min} to {@code max} times ({@code max} -1: without bound). */
    List<Element> repeat(String owner, List<Element> item, int min, int max) {
        long copies = (long) min + (max < 0 ? 1 : max - min);
        if (copies * (item.size() + 2) > Grammar.MAX_ELEMENTS - elements) {
            throw new GrammarException("a repetition in rule " + GrammarException.quoted(owner) + " expands past the "
                    + Grammar.MAX_ELEMENTS + " elements a grammar may hold");
        }
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < min; i++) {
            out.addAll(item);
        }
        if (max < 0) {
            // x* as a rule that ends in itself: the automaton reads it as a loop, its stack does not grow.
            int loop = rule(owner + "-" + names.size());
            List<Element> again = new ArrayList<>(item);
            again.add(new Reference(loop));
            define(loop, List.of(again, List.of()));
            out.add(new Reference(loop));
        } else if (max > min) {
            // x{0,3} as (x (x (x)?)?)?: one way to read each count, so the automaton tracks one parse.
            int inner = -1;
            for (int i = max - min; i > 0; i--) {
                List<Element> some = new ArrayList<>(item);
                if (inner >= 0) {
                    some.add(new Reference(inner));
                }
                inner = fresh(owner, List.of(some, List.of()));
            }
            out.add(new Reference(inner));
        }
        count(out.size());
        return out;
    }

    /** The code point ranges as bytes: one set where they are all ASCII, else a rule of UTF-8 sequences. */
    List<Element> characters(String owner, List<int[]> ranges) {
        ByteSet single = null;
        List<List<Element>> alternatives = new ArrayList<>();
        for (int[] range : ranges) {
            for (Utf8Ranges.Sequence s : Utf8Ranges.of(range[0], range[1])) {
                if (s.lo().length == 1) {
                    ByteSet b = ByteSet.range(s.lo()[0], s.hi()[0]);
                    single = single == null ? b : single.union(b);
                } else {
                    List<Element> bytes = new ArrayList<>();
                    for (int i = 0; i < s.lo().length; i++) {
                        bytes.add(new Terminal(ByteSet.range(s.lo()[i], s.hi()[i])));
                    }
                    alternatives.add(bytes);
                }
            }
        }
        if (alternatives.isEmpty()) {
            return List.of(new Terminal(single));
        }
        if (single != null) {
            alternatives.addFirst(List.of(new Terminal(single)));
        }
        return List.of(new Reference(fresh(owner, alternatives)));
    }

    private void count(int n) {
        elements += n;
        if (elements > Grammar.MAX_ELEMENTS) {
            throw new GrammarException("the grammar expands to more than the " + Grammar.MAX_ELEMENTS
                    + " elements a grammar may hold");
        }
    }

    Grammar build(String rootName, String source) {
        Integer root = ids.get(rootName);
        if (root == null) {
            throw new GrammarException("the grammar has no rule named " + rootName + ", where documents start");
        }
        for (int r = 0; r < names.size(); r++) {
            if (bodies.get(r) == null) {
                throw new GrammarException("rule " + GrammarException.quoted(names.get(r)) + " is used but never defined");
            }
        }
        int[] fewest = fewestBytes();
        for (int r = 0; r < names.size(); r++) {
            if (fewest[r] >= Grammar.NEVER) {
                throw new GrammarException("rule " + GrammarException.quoted(names.get(r)) + " can never end: each of its "
                        + "alternatives refers back to it");
            }
        }
        checkNoLeftRecursion(fewest);
        List<ByteSet> sets = new ArrayList<>();
        Map<ByteSet, Integer> setIds = new HashMap<>();
        int[] code = new int[elements + names.size()];
        int[] minRest = new int[code.length];
        int[][] alternatives = new int[names.size()][];
        int at = 0;
        for (int r = 0; r < names.size(); r++) {
            List<List<Element>> body = bodies.get(r);
            alternatives[r] = new int[body.size()];
            for (int a = 0; a < body.size(); a++) {
                alternatives[r][a] = at;
                int start = at;
                for (Element e : body.get(a)) {
                    code[at++] = switch (e) {
                        case Terminal t -> setIds.computeIfAbsent(t.bytes(), b -> {
                            sets.add(b);
                            return sets.size() - 1;
                        });
                        case Reference ref -> -2 - ref.rule();
                    };
                }
                code[at] = Grammar.END;
                minRest[at] = 0;
                for (int p = at - 1; p >= start; p--) {
                    minRest[p] = Math.min(Grammar.NEVER, minRest[p + 1] + (code[p] >= 0 ? 1 : fewest[-2 - code[p]]));
                }
                at++;
            }
        }
        return new Grammar(Arrays.copyOf(code, at), sets.toArray(ByteSet[]::new), alternatives,
                names.toArray(String[]::new), root, Arrays.copyOf(minRest, at), source);
    }

    /** Per rule, the fewest bytes a match of it has ({@link Grammar#NEVER} when it cannot end), to a fixed point. */
    private int[] fewestBytes() {
        int[] fewest = new int[names.size()];
        Arrays.fill(fewest, Grammar.NEVER);
        boolean changed = true;
        while (changed) {
            changed = false;
            for (int r = 0; r < names.size(); r++) {
                for (List<Element> alternative : bodies.get(r)) {
                    long sum = 0;
                    for (Element e : alternative) {
                        sum += e instanceof Reference ref ? fewest[ref.rule()] : 1;
                    }
                    if (sum < fewest[r]) {
                        fewest[r] = (int) sum;
                        changed = true;
                    }
                }
            }
        }
        return fewest;
    }

    /** Refuses a rule that can reach itself without reading a byte: the automaton would expand it forever. */
    private void checkNoLeftRecursion(int[] fewest) {
        int n = names.size();
        List<List<Integer>> first = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            List<Integer> edges = new ArrayList<>();
            for (List<Element> alternative : bodies.get(r)) {
                for (Element e : alternative) {
                    if (!(e instanceof Reference ref)) {
                        break;
                    }
                    edges.add(ref.rule());
                    if (fewest[ref.rule()] != 0) {
                        break;
                    }
                }
            }
            first.add(edges);
        }
        int[] color = new int[n];
        for (int start = 0; start < n; start++) {
            if (color[start] != 0) {
                continue;
            }
            // Iterative depth-first search: a grammar may nest rules deeper than the Java stack.
            Deque<int[]> stack = new ArrayDeque<>();
            stack.push(new int[] {start, 0});
            color[start] = 1;
            while (!stack.isEmpty()) {
                int[] top = stack.peek();
                List<Integer> edges = first.get(top[0]);
                if (top[1] < edges.size()) {
                    int next = edges.get(top[1]++);
                    if (color[next] == 1) {
                        throw new GrammarException("rule " + GrammarException.quoted(names.get(next)) + " is left-recursive: "
                                + "it can refer to itself before reading a character");
                    }
                    if (color[next] == 0) {
                        color[next] = 1;
                        stack.push(new int[] {next, 0});
                    }
                } else {
                    color[top[0]] = 2;
                    stack.pop();
                }
            }
        }
    }
}
