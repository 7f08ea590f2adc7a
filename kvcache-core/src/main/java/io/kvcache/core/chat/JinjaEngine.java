package io.kvcache.core.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.TreeBuilder;
import jinjava.de.odysseus.el.tree.TreeBuilderException;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ExpressionFactory;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * Jinjava set up to render templates as Python's Jinja does (no autoescape, Python's operator
 * precedence and whitespace control), plus the Python methods, filters and functions chat
 * templates rely on. Sources are expected to have been through {@link JinjaSourceWhitespace}. One
 * engine is safe to share between threads.
 */
final class JinjaEngine {
    private final Jinjava jinjava;

    JinjaEngine(Clock clock) {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                // trim_blocks, lstrip_blocks and the trailing newline are JinjaSourceWhitespace's.
                .withKeepTrailingNewline(true)
                // Otherwise Jinjava renders template syntax found inside values: a user message
                // containing "{{ ... }}" would be executed.
                .withNestedInterpretationEnabled(false)
                .withLegacyOverrides(pythonSemantics())
                .withElResolver(resolver)
                .withDateTimeProvider(clock::millis)
                .withTimeZone(clock.getZone())
                .build();
        jinjava = new PythonJinjava(config);
        TemplateFunctions.register(jinjava.getGlobalContext());
        PythonFilters.register(jinjava.getGlobalContext());
    }

    /**
     * Every Jinjava fix towards Jinja's behaviour (operator precedence with filters, whitespace
     * control, backslash escapes, loop values...) except requiring spaces inside tags, which Jinja
     * does not require and which stops templates written as {@code {{'text'}}} from parsing.
     */
    private static LegacyOverrides pythonSemantics() {
        return LegacyOverrides.newBuilder()
                .withEvaluateMapKeys(true)
                .withIterateOverMapKeys(true)
                .withUsePyishObjectMapper(true)
                .withUseSnakeCasePropertyNaming(true)
                .withUseNaturalOperatorPrecedence(true)
                .withParseWhitespaceControlStrictly(true)
                .withAllowAdjacentTextNodes(true)
                .withUseTrimmingForNotesAndExpressions(true)
                .withKeepNullableLoopValues(true)
                .withHandleBackslashInQuotesOnly(true)
                .build();
    }

    /**
     * The first fault in the template's tag structure: an unclosed or unknown tag, an unclosed
     * expression or comment (Jinjava only warns about the last two; Jinja rejects them).
     */
    Optional<TemplateError> structureError(String source) {
        JinjavaInterpreter interpreter = jinjava.newInterpreter();
        interpreter.parse(source);
        return interpreter.getErrors().stream()
                .filter(e -> e.getReason() == TemplateError.ErrorReason.SYNTAX_ERROR)
                .findFirst();
    }

    Result render(String source, Map<String, ?> variables) {
        RenderResult result = jinjava.renderForResult(source, variables);
        List<TemplateError> fatal = result.getErrors().stream()
                .filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL)
                .toList();
        return new Result(result.getOutput(), fatal);
    }

    /** A render's output and its fatal errors, in template order. */
    record Result(String output, List<TemplateError> fatalErrors) {
        boolean failed() {
            return !fatalErrors.isEmpty();
        }

        /** The first error from an expression that does not parse (Jinjava parses expressions as it meets them). */
        Optional<TemplateError> expressionSyntaxError() {
            return fatalErrors.stream().filter(e -> cause(e, TreeBuilderException.class).isPresent()).findFirst();
        }

        /** The exception of the first raise_exception call. */
        Optional<TemplateFunctions.Raised> raised() {
            return fatalErrors.stream().flatMap(e -> cause(e, TemplateFunctions.Raised.class).stream()).findFirst();
        }

        private static <T extends Throwable> Optional<T> cause(TemplateError error, Class<T> type) {
            for (Throwable t = error.getException(); t != null; t = t.getCause()) {
                if (type.isInstance(t)) {
                    return Optional.of(type.cast(t));
                }
            }
            return Optional.empty();
        }
    }

    /** Jinjava whose expressions are parsed by {@link PythonExpressionParser}. */
    private static final class PythonJinjava extends Jinjava {
        private final ExpressionFactory expressions = new PythonExpressions();

        PythonJinjava(JinjavaConfig config) {
            super(config);
        }

        @Override
        public ExpressionFactory getExpressionFactory() {
            return expressions;
        }
    }

    /** Jinjava's expression factory (same type converter and parser features) with the Python parser. */
    private static final class PythonExpressions extends ExpressionFactoryImpl {
        PythonExpressions() {
            super(new Properties(), new TruthyTypeConverter());
        }

        @Override
        protected TreeBuilder createTreeBuilder(Properties properties, Builder.Feature... features) {
            return new PythonExpressionParser.SyntaxBuilder(features);
        }
    }
}
