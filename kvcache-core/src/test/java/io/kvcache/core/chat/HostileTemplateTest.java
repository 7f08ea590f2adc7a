package io.kvcache.core.chat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Templates come from model files: each of these would, without the limits, allocate gigabytes,
 * hang start-up, overflow the stack or read the class path. Every one must end in a
 * {@link ChatTemplateException} that names the template and the limit, within the timeout.
 */
@Timeout(30)
class HostileTemplateTest {
    private static final List<ChatMessage> HELLO = List.of(ChatMessage.user("hello"));

    private static ChatTemplate load(String source) {
        return ChatTemplate.named("hostile.jinja", source, "<s>", "</s>");
    }

    private static void assertStopped(String source, String limit) {
        assertThatThrownBy(() -> load(source).render(HELLO, true))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("hostile.jinja")
                .hasMessageContaining(limit);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{{ 'x'.repeat(2000000000) }}",
            "{{ messages[0].content.getClass() }}",
            "{{ 'abc'.toCharArray() }}"})
    void javaMethodsAreNotCallable(String source) {
        assertStopped(source, "is not available to templates");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{{ messages|tojson(indent=2000000000) }}",
            "{{ 'a\\nb'|indent(2000000000) }}",
            "{{ 'a'|indent('2000000000') }}"})
    void hugeWidthsAreRefusedBeforeAllocating(String source) {
        assertStopped(source, "TemplateLimits.maxStringChars");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{{ '%2000000000d'|format(1) }}", "{{ 'x'|render }}", "{{ 'x'|fromyaml }}"})
    void filtersOutsideTheAllowListAreUnknown(String source) {
        assertThatThrownBy(() -> load(source).render(HELLO, true))
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("hostile.jinja");
    }

    @Test
    void stringDoublingStopsAtTheOutputLimit() {
        assertStopped("{% set ns = namespace(s='xxxxxxxxxxxxxxxx') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
                "TemplateLimits.max");
    }

    @Test
    void listDoublingStopsAtTheItemLimit() {
        assertStopped("{% set ns = namespace(l=[1, 2, 3, 4]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|length }}",
                "TemplateLimits.maxItems");
    }

    @Test
    void listExtendingItselfStopsAtTheItemLimit() {
        assertStopped("{% set l = [1, 2, 3, 4] %}{% for i in range(40) %}{% do l.extend(l) %}{% endfor %}{{ l|length }}",
                "TemplateLimits.maxItems");
    }

    @Test
    void tojsonOfDeeplyNestedDataStopsAtTheNestingLimit() {
        // Ten times deeper than the limit: deep enough to show the limit, quick enough to finish far
        // inside the deadline on a loaded machine (100,000 levels took seconds and met the deadline first).
        assertStopped("{% set ns = namespace(l=[]) %}{% for i in range(1000) %}{% set ns.l = [ns.l] %}{% endfor %}"
                + "{{ ns.l|tojson }}", "TemplateLimits.maxNesting");
    }

    @Test
    void tojsonOfManyReferencesToOneLargeListStopsAtTheStringLimit() {
        assertStopped("{% set big = range(50000)|list %}{% set l = [] %}{% for i in range(20) %}{% do l.append(big) %}{% endfor %}"
                + "{{ l|tojson|length }}", "TemplateLimits.maxStringChars");
    }

    @Test
    void nestedLoopsStopAtTheDeadline() {
        TemplateLimits quick = new TemplateLimits(1 << 20, 1 << 20, 1000, 100, Duration.ofMillis(200));
        long start = System.nanoTime();
        assertThatThrownBy(() -> ChatTemplate.named("hostile.jinja",
                "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}{{ c }}{% endfor %}{% endfor %}{% endfor %}",
                "<s>", "</s>", quick))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("hostile.jinja")
                .hasMessageContaining("TemplateLimits.timeout");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    }

    @ParameterizedTest
    @ValueSource(strings = {"{% for a in range(2000000000) %}{% endfor %}", "{{ range(0, 9000000000000000000, 2)|length }}",
            "{{ range(-2000000000, 0)|length }}"})
    void rangeLongerThanTheItemLimitIsRefused(String source) {
        assertStopped(source, "TemplateLimits.maxItems");
    }

    @Test
    void deeplyNestedTagsAreRefusedAtLoad() {
        String source = "{% if true %}".repeat(5000) + "x" + "{% endif %}".repeat(5000);
        assertThatThrownBy(() -> load(source))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("hostile.jinja")
                .hasMessageContaining("TemplateLimits.maxNesting");
    }

    @ParameterizedTest
    @ValueSource(ints = {101, 1000})
    void deeplyNestedExpressionsAreRefused(int depth) {
        assertStopped("{{ " + "[".repeat(depth) + "]".repeat(depth) + " }}", "TemplateLimits.maxNesting");
        assertStopped("{{ " + "(".repeat(depth) + "1" + ")".repeat(depth) + " }}", "TemplateLimits.maxNesting");
        assertStopped("{{ 1" + " + 1".repeat(depth) + " }}", "TemplateLimits.maxNesting");
        assertStopped("{{ " + "not ".repeat(depth) + "true }}", "TemplateLimits.maxNesting");
    }

    @Test
    void longFlatExpressionsAreRefusedBeforeParsing() {
        assertStopped("{{ (" + "1, ".repeat(100_000) + "1) }}", "characters outside its strings");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{% include 'application.yml' %}", "{% import 'application.yml' as x %}",
            "{% from 'application.yml' import x %}", "{% extends 'application.yml' %}",
            "{%- include \"META-INF/MANIFEST.MF\" -%}"})
    void templatesMayNotLoadFiles(String source) {
        assertThatThrownBy(() -> load(source))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("hostile.jinja")
                .hasMessageContaining("may not load other templates");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{%}", "x{%}y", "{%%}", "a{% if x %}{%%}{% endif %}"})
    void malformedTagsJinjavaThrowsOnAreNamedParseErrors(String source) {
        assertThatThrownBy(() -> load(source))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("hostile.jinja does not parse");
    }

    @Test
    void macroRecursionStopsAtTheNestingLimit() {
        assertStopped("{% macro down(n) %}{{ down(n + 1) }}{% endmacro %}{{ down(0) }}", "TemplateLimits.maxNesting");
    }

    @Test
    void outputPastTheLimitIsRefused() {
        TemplateLimits small = new TemplateLimits(1000, 1000, 1000, 100, Duration.ofSeconds(2));
        assertThatThrownBy(() -> ChatTemplate.named("hostile.jinja", "{% for i in range(900) %}xy{% endfor %}", "", "", small)
                .render(HELLO, true))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("hostile.jinja");
    }

    @Test
    void ordinaryTemplatesStillRender() {
        assertThat(load("{% for m in messages %}<|{{ m.role }}|>{{ m.content.strip()|trim }}{% endfor %}"
                + "{{ messages|length }}{{ {'a': 1}.get('a') }}{% for k, v in {'b': 2}.items() %}{{ k }}{{ v }}{% endfor %}")
                .render(HELLO, true)).isEqualTo("<|user|>hello11b2");
    }
}
