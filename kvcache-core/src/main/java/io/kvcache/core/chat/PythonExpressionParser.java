package io.kvcache.core.chat;

import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.ext.AdditionOperator;
import com.hubspot.jinjava.el.ext.AstNamedParameter;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import jinjava.de.odysseus.el.misc.TypeConverter;
import jinjava.de.odysseus.el.tree.Bindings;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.Parser.ExtensionPoint;
import jinjava.de.odysseus.el.tree.impl.Scanner.ScanException;
import jinjava.de.odysseus.el.tree.impl.Scanner.Symbol;
import jinjava.de.odysseus.el.tree.impl.Scanner.Token;
import jinjava.de.odysseus.el.tree.impl.ast.AstBinary;
import jinjava.de.odysseus.el.tree.impl.ast.AstDot;
import jinjava.de.odysseus.el.tree.impl.ast.AstIdentifier;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstParameters;
import jinjava.de.odysseus.el.tree.impl.ast.AstProperty;
import jinjava.de.odysseus.el.tree.impl.ast.AstUnary;
import jinjava.javax.el.ELContext;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static jinjava.de.odysseus.el.tree.impl.Scanner.Symbol.COLON;
import static jinjava.de.odysseus.el.tree.impl.Scanner.Symbol.COMMA;
import static jinjava.de.odysseus.el.tree.impl.Scanner.Symbol.DOT;
import static jinjava.de.odysseus.el.tree.impl.Scanner.Symbol.EXTENSION;
import static jinjava.de.odysseus.el.tree.impl.Scanner.Symbol.IDENTIFIER;
import static jinjava.de.odysseus.el.tree.impl.Scanner.Symbol.LBRACK;
import static jinjava.de.odysseus.el.tree.impl.Scanner.Symbol.LPAREN;
import static jinjava.de.odysseus.el.tree.impl.Scanner.Symbol.MINUS;
import static jinjava.de.odysseus.el.tree.impl.Scanner.Symbol.NOT;
import static jinjava.de.odysseus.el.tree.impl.Scanner.Symbol.PLUS;
import static jinjava.de.odysseus.el.tree.impl.Scanner.Symbol.RBRACK;

/**
 * Jinjava's expression parser with the Python rules it gets wrong, all used by real chat templates:
 * <ul>
 *   <li>A keyword argument's value is a whole expression. Jinjava parses {@code name=value} as an
 *       operator binding tighter than {@code +} and {@code -}, so Qwen3's
 *       {@code namespace(last_query_index=messages|length - 1)} subtracted 1 from the argument
 *       itself and failed.</li>
 *   <li>Subscripts may be slices with a step: {@code messages[::-1]} (Qwen3 walks the conversation
 *       backwards). Jinjava only parses {@code [start:stop]}; every slice here becomes a
 *       {@link PythonSlice}.</li>
 *   <li>A string plus None is the string ({@link Addition}); {@code n+1} adds (see {@link #add}).</li>
 *   <li>{@code not} applies to a whole comparison or test (see {@link #unary}).</li>
 * </ul>
 * The parser expects Jinjava's natural operator precedence (filters bind tighter than arithmetic,
 * as in Jinja), which {@link JinjaEngine} turns on. Expressions nest no deeper than
 * {@link TemplateLimits#maxNesting()}, counting brackets, unary operators and chains of binary ones
 * (a chain of n additions is evaluated n calls deep): parsing and evaluation are recursive, and a
 * deep list literal would otherwise overflow the stack.
 */
final class PythonExpressionParser extends ExtendedParser {
    private final int maxNesting;
    /** How deep each operator node built so far evaluates. */
    private final Map<AstNode, Integer> depths = new IdentityHashMap<>();
    private int parseDepth;

    PythonExpressionParser(Builder builder, String input, int maxNesting) {
        super(builder, checkedShape(input, maxNesting));
        this.maxNesting = maxNesting;
    }

    /**
     * The longest expression, not counting its string literals: the parser looks ahead through a
     * linked list of tokens (quadratic in the tokens of one bracket), so this bounds its time. The
     * longest in the 56 collected templates is well under a tenth of it.
     */
    static final int MAX_EXPRESSION_CODE = 16_384;

    /**
     * Refuses, before any parsing, brackets nested deeper than {@code maxNesting} and expressions
     * longer than {@link #MAX_EXPRESSION_CODE}, counted outside string literals.
     */
    private static String checkedShape(String input, int maxNesting) {
        int depth = 0;
        int code = 0;
        char quote = 0;
        for (int i = 0; i < input.length(); i++) {
            char c = input.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
                continue;
            }
            code++;
            switch (c) {
                case '\'', '"' -> quote = c;
                case '(', '[', '{' -> {
                    if (++depth > maxNesting) {
                        throw new TemplateLimitException("an expression nests brackets deeper than " + maxNesting
                                + " (TemplateLimits.maxNesting)");
                    }
                }
                case ')', ']', '}' -> depth--;
                default -> {
                }
            }
        }
        if (code > MAX_EXPRESSION_CODE) {
            throw new TemplateLimitException("an expression is longer than " + MAX_EXPRESSION_CODE
                    + " characters outside its strings");
        }
        return input;
    }

    @Override
    protected AstNode expr(boolean required) throws ScanException, ParseException {
        enter();
        try {
            return super.expr(required);
        } finally {
            parseDepth--;
        }
    }


    private void enter() {
        if (++parseDepth > maxNesting) {
            throw tooDeep();
        }
    }

    /**
     * Jinjava's scanner reads a "+" before a digit as its unary abs operator, so {@code n+1} did not
     * parse (Kimi K2 slices {@code messages[:ns.index+1]}); after an operand it adds, as in Python.
     */
    @Override
    protected AstNode add(boolean required) throws ScanException, ParseException {
        AstNode v = mul(required);
        if (v == null) {
            return null;
        }
        while (true) {
            Token token = getToken();
            if (token.getSymbol() == PLUS || token.getSymbol() == EXTENSION && "+".equals(token.getImage())) {
                consumeToken();
                v = createAstBinary(v, mul(true), AdditionOperator.OP);
            } else if (token.getSymbol() == MINUS) {
                consumeToken();
                v = createAstBinary(v, mul(true), AstBinary.SUB);
            } else if (token.getSymbol() == EXTENSION && getExtensionHandler(token).getExtensionPoint() == ExtensionPoint.ADD) {
                v = getExtensionHandler(consumeToken()).createAstNode(v, mul(true));
            } else {
                return v;
            }
        }
    }

    /** A variable's value counts as read by the template ({@link ValueReads}). */
    @Override
    protected AstIdentifier createAstIdentifier(String name, int index) {
        return new AstIdentifier(name, index, context.isEnabled(Builder.Feature.IGNORE_RETURN_TYPE)) {
            @Override
            public Object eval(Bindings bindings, ELContext elContext) {
                return ValueReads.note(super.eval(bindings, elContext));
            }
        };
    }

    @Override
    protected AstBinary createAstBinary(AstNode left, AstNode right, AstBinary.Operator operator) {
        AstBinary.Operator python = operator == AdditionOperator.OP ? Addition.OP : operator;
        return deeper(super.createAstBinary(left, right, python), left, right);
    }

    /**
     * {@code +} where a string meets None or an undefined value gives the string, as in llama.cpp
     * (Command R adds a parameter's description that may be missing); Jinjava would add "null".
     */
    private static final class Addition extends AdditionOperator {
        static final Addition OP = new Addition();

        @Override
        protected Object apply(TypeConverter converter, Object o1, Object o2) {
            if (o1 == null && o2 instanceof String) {
                return o2;
            }
            if (o2 == null && o1 instanceof String) {
                return o1;
            }
            return super.apply(converter, o1, o2);
        }
    }

    @Override
    protected AstUnary createAstUnary(AstNode child, AstUnary.Operator operator) {
        return deeper(super.createAstUnary(child, operator), child, child);
    }

    private <T extends AstNode> T deeper(T node, AstNode a, AstNode b) {
        int depth = Math.max(depths.getOrDefault(a, 0), depths.getOrDefault(b, 0)) + 1;
        if (depth > maxNesting) {
            throw tooDeep();
        }
        depths.put(node, depth);
        return node;
    }

    private TemplateLimitException tooDeep() {
        return new TemplateLimitException("an expression nests deeper than " + maxNesting + " (TemplateLimits.maxNesting)");
    }

    @Override
    protected AstParameters params(Symbol left, Symbol right) throws ScanException, ParseException {
        consumeToken(left);
        List<AstNode> arguments = new ArrayList<>();
        AstNode first = argument(false);
        if (first != null) {
            arguments.add(first);
            while (getToken().getSymbol() == COMMA) {
                consumeToken();
                arguments.add(argument(true));
            }
        }
        consumeToken(right);
        return createAstParameters(arguments);
    }

    private AstNode argument(boolean required) throws ScanException, ParseException {
        Token next = lookahead(0);
        if (getToken().getSymbol() == IDENTIFIER && next.getSymbol() == EXTENSION && next.getImage().equals("=")) {
            AstIdentifier name = identifier(consumeToken().getImage());
            consumeToken();
            return new AstNamedParameter(name, expr(true));
        }
        return expr(required);
    }

    /**
     * Python's {@code not} binds looser than comparisons and tests: {@code not tools is defined}
     * is {@code not (tools is defined)} (Llama 3.x), where Jinjava read {@code (not tools) is defined},
     * always true.
     */
    @Override
    protected AstNode unary(boolean required) throws ScanException, ParseException {
        enter();
        try {
            if (getToken().getSymbol() == NOT) {
                consumeToken();
                return createAstUnary(eq(true), AstUnary.NOT);
            }
            return super.unary(required);
        } finally {
            parseDepth--;
        }
    }

    @Override
    protected AstNode value() throws ScanException, ParseException {
        boolean lvalue = true;
        AstNode v = nonliteral();
        if (v == null) {
            v = literal();
            if (v == null) {
                return null;
            }
            lvalue = false;
        }
        while (true) {
            if (getToken().getSymbol() == DOT) {
                consumeToken();
                AstDot dot = createAstDot(v, consumeToken(IDENTIFIER).getImage(), lvalue);
                v = callIfFollowed(dot);
            } else if (getToken().getSymbol() == LBRACK) {
                v = subscript(v, lvalue);
            } else {
                return v;
            }
        }
    }

    private AstNode subscript(AstNode base, boolean lvalue) throws ScanException, ParseException {
        consumeToken(LBRACK);
        AstNode start = expr(false);
        if (getToken().getSymbol() != COLON) {
            if (start == null) {
                fail("an index or a slice");
            }
            consumeToken(RBRACK);
            return callIfFollowed(createAstBracket(base, start, lvalue, !context.isEnabled(Builder.Feature.NULL_PROPERTIES)));
        }
        consumeToken(COLON);
        AstNode stop = expr(false);
        AstNode step = null;
        if (getToken().getSymbol() == COLON) {
            consumeToken();
            step = expr(false);
        }
        consumeToken(RBRACK);
        return new PythonSlice(base, start, stop, step);
    }

    /** {@code x.name(...)} and {@code x[key](...)} are method calls. */
    private AstNode callIfFollowed(AstProperty property) throws ScanException, ParseException {
        if (getToken().getSymbol() == LPAREN && context.isEnabled(Builder.Feature.METHOD_INVOCATIONS)) {
            return createAstMethod(property, params());
        }
        return property;
    }

    /** Makes Jinjava's expression factory build this parser. */
    static final class SyntaxBuilder extends ExtendedSyntaxBuilder {
        private static final long serialVersionUID = 1L;

        private final int maxNesting;

        SyntaxBuilder(int maxNesting, Feature... features) {
            super(features);
            this.maxNesting = maxNesting;
        }

        @Override
        protected Parser createParser(String expression) {
            return new PythonExpressionParser(this, expression, maxNesting);
        }
    }
}
