package io.kvcache.core.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.el.JinjavaProcessors;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.interpret.CollectionTooBigException;
import com.hubspot.jinjava.interpret.errorcategory.BasicTemplateErrorCategory;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpretException;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.OutputTooBigException;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.interpret.TemplateSyntaxException;
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
import java.util.Set;

/**
 * Jinjava set up to render templates as Python's Jinja does (no autoescape, Python's operator
 * precedence and whitespace control), plus the Python methods, filters and functions chat
 * templates rely on, held to {@link TemplateLimits} and to what {@link TemplateSandbox} allows.
 * Sources are expected to have been through {@link JinjaSourceWhitespace}. One engine is safe to
 * share between threads.
 */
final class JinjaEngine {
    /** What Jinjava registers by itself, to be disabled where the sandbox does not allow it. */
    private static final Map<Context.Library, Set<String>> DISABLED = TemplateSandbox.disabled(new Jinjava().getGlobalContext());

    private final Jinjava jinjava;
    private final TemplateDeadline deadline;
    private final Clock clock;

    JinjaEngine(Clock clock, TemplateLimits limits) {
        this.clock = clock;
        deadline = new TemplateDeadline(limits.timeout());
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new TemplateSandbox.MethodGuard());
        resolver.add(new PythonStringMethods(limits));
        resolver.add(ValueReads.noting(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY));
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
                .withMaxOutputSize(limits.maxOutputChars())
                .withMaxStringLength(limits.maxStringChars())
                .withMaxListSize(limits.maxItems())
                .withMaxMapSize(limits.maxItems())
                .withRangeLimit(limits.maxItems())
                // Templates render JSON schemas and tool arguments with macros that call themselves
                // (GigaChat, Kimi); each call is a level of nesting.
                .withEnableRecursiveMacroCalls(true)
                .withMaxMacroRecursionDepth(limits.maxNesting())
                .withDisabled(DISABLED)
                .withProcessors(JinjavaProcessors.newBuilder().withNodePreProcessor(deadline).build())
                .build();
        jinjava = new PythonJinjava(config, limits.maxNesting());
        jinjava.setResourceLocator(new TemplateSandbox.NoLoading());
        jinjava.getGlobalContext().registerTag(new PythonForTag());
        jinjava.getGlobalContext().registerTag(new GenerationTag());
        jinjava.getGlobalContext().registerTag(new FilterBlockTag());
        TemplateFunctions.register(jinjava.getGlobalContext());
        PythonFilters.register(jinjava.getGlobalContext(), limits);
        TemplateSandbox.guardFilters(jinjava.getGlobalContext(), limits);
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

    /** The clock {@code strftime_now} reads. */
    Clock clock() {
        return clock;
    }

    /**
     * The first fault in the template's tag structure: an unclosed or unknown tag, an unclosed
     * expression or comment (Jinjava only warns about the last two; Jinja rejects them).
     */
    Optional<TemplateError> structureError(String source) {
        JinjavaInterpreter interpreter = jinjava.newInterpreter();
        try {
            interpreter.parse(source);
        } catch (InterpretException e) {
            // Most faults are recorded as errors; a few (a bare "{%}") are thrown.
            return Optional.of(TemplateError.fromSyntaxError(e));
        } catch (IndexOutOfBoundsException e) {
            // Jinjava's tag scanner cuts malformed tags ("{%%}", "{%-%}" in some places) past their ends.
            return Optional.of(TemplateError.fromException(new TemplateSyntaxException("",
                    "a malformed tag that Jinjava cannot scan", 0, 0)));
        }
        return interpreter.getErrors().stream()
                .filter(e -> e.getReason() == TemplateError.ErrorReason.SYNTAX_ERROR)
                .findFirst();
    }

    /**
     * Renders; a limit passed ends the render with {@link Result#limit()} set. Jinjava records most
     * failures as errors and renders on, but lets ours through; a stack overflow in a template too
     * deep for the checks before it is reported as a limit too, never escaping as an Error.
     */
    Result render(String source, Map<String, ?> variables) {
        try {
            RenderResult result = deadline.during(() -> jinjava.renderForResult(source, variables));
            List<TemplateError> fatal = result.getErrors().stream()
                    .filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL)
                    .toList();
            Optional<TemplateLimitException> limit = fatal.stream().flatMap(e -> limitPassed(e).stream()).findFirst()
                    .or(() -> macroTooDeep(result.getErrors()));
            return new Result(result.getOutput(), fatal, limit);
        } catch (TemplateLimitException e) {
            return new Result("", List.of(), Optional.of(e));
        } catch (OutputTooBigException e) {
            return new Result("", List.of(), Optional.of(new TemplateLimitException(e.getMessage()
                    + " (TemplateLimits.maxOutputChars)")));
        } catch (InterpretException e) {
            return new Result("", List.of(TemplateError.fromSyntaxError(e)), Optional.empty());
        } catch (StackOverflowError e) {
            return new Result("", List.of(), Optional.of(new TemplateLimitException(
                    "the template nests too deeply for the stack (TemplateLimits.maxNesting)")));
        }
    }

    /**
     * Jinjava only warns when a macro passes the recursion limit, and renders the call as nothing:
     * a silently wrong prompt, so it is a limit passed here.
     */
    private static Optional<TemplateLimitException> macroTooDeep(List<TemplateError> errors) {
        return errors.stream().filter(e -> e.getCategory() == BasicTemplateErrorCategory.CYCLE_DETECTED).findFirst()
                .map(e -> new TemplateLimitException((e.getLineno() > 0 ? "line " + e.getLineno() + ": " : "")
                        + e.getMessage() + " (TemplateLimits.maxNesting)"));
    }

    /** Ours, or one of Jinjava's own limits (which it records as errors), named by our limit. */
    private static Optional<TemplateLimitException> limitPassed(TemplateError error) {
        return cause(error, TemplateLimitException.class)
                .or(() -> cause(error, OutputTooBigException.class).map(e -> new TemplateLimitException(
                        e.getMessage() + " (TemplateLimits.maxOutputChars)")))
                .or(() -> cause(error, CollectionTooBigException.class).map(e -> new TemplateLimitException(
                        e.getMessage() + " (TemplateLimits.maxItems)")));
    }

    private static <T extends Throwable> Optional<T> cause(TemplateError error, Class<T> type) {
        for (Throwable t = error.getException(); t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return Optional.of(type.cast(t));
            }
        }
        return Optional.empty();
    }

    /** A render's output, its fatal errors in template order, and the limit it passed if it did. */
    record Result(String output, List<TemplateError> fatalErrors, Optional<TemplateLimitException> limit) {
        boolean failed() {
            return !fatalErrors.isEmpty() || limit.isPresent();
        }

        /** The first error from an expression that does not parse (Jinjava parses expressions as it meets them). */
        Optional<TemplateError> expressionSyntaxError() {
            return fatalErrors.stream().filter(e -> cause(e, TreeBuilderException.class).isPresent()).findFirst();
        }

        /** The exception of the first raise_exception call. */
        Optional<TemplateFunctions.Raised> raised() {
            return fatalErrors.stream().flatMap(e -> cause(e, TemplateFunctions.Raised.class).stream()).findFirst();
        }
    }

    /** Jinjava whose expressions are parsed by {@link PythonExpressionParser}. */
    private static final class PythonJinjava extends Jinjava {
        private final ExpressionFactory expressions;

        PythonJinjava(JinjavaConfig config, int maxNesting) {
            super(config);
            expressions = new PythonExpressions(maxNesting);
        }

        @Override
        public ExpressionFactory getExpressionFactory() {
            return expressions;
        }
    }

    /** Jinjava's expression factory (same type converter and parser features) with the Python parser. */
    private static final class PythonExpressions extends ExpressionFactoryImpl {
        /** The super constructor calls createTreeBuilder before any field is set; the limit travels in its properties. */
        private static final String MAX_NESTING = "kvcache.maxNesting";

        PythonExpressions(int maxNesting) {
            super(nesting(maxNesting), new TruthyTypeConverter());
        }

        private static Properties nesting(int maxNesting) {
            Properties properties = new Properties();
            properties.setProperty(MAX_NESTING, Integer.toString(maxNesting));
            return properties;
        }

        @Override
        protected TreeBuilder createTreeBuilder(Properties properties, Builder.Feature... features) {
            return new PythonExpressionParser.SyntaxBuilder(Integer.parseInt(properties.getProperty(MAX_NESTING)), features);
        }
    }
}
