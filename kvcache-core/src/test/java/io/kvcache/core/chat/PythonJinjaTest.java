package io.kvcache.core.chat;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Templates see Python's Jinja: Python str methods, slices, keyword arguments, filters and whitespace rules. */
class PythonJinjaTest {
    private static String render(String template, String... contents) {
        List<ChatMessage> messages = java.util.Arrays.stream(contents).map(ChatMessage::user).toList();
        return ChatTemplate.of(template, "<s>", "</s>").render(messages, false);
    }

    @Test
    void stripFamilyTakesOptionalCharacters() {
        assertThat(render("{{ messages[0].content.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '\\n\\nhi\\n'.lstrip('\\n') }}"
                + "|{{ messages[0].content.rstrip() }}|", "\u00a0 a b \n")).isEqualTo("a b|a|hi\n|\u00a0 a b|");
    }

    @Test
    void splitIsLiteralAndKeepsEmptyParts() {
        assertThat(render("{{ messages[0].content.split('</think>')[-1] }}|{{ 'a.,b.,'.split('.,') | length }}"
                + "|{{ ' a  b '.split() | join('+') }}|{{ 'a b c'.split(' ', 1)[1] }}", "x</think>y</think>z"))
                .isEqualTo("z|3|a+b|b c");
    }

    @Test
    void prefixSuffixAndCaseMethods() {
        assertThat(render("{% if messages[0].content.startswith('<tool') and messages[0].content.endswith(('>', '!')) %}yes{% endif %}"
                + "|{{ 'hello world'.title() }}|{{ 'hELLO'.capitalize() }}|{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}", "<tool>"))
                .isEqualTo("yes|Hello World|Hello|ABab");
    }

    @Test
    void replaceIsLiteralWithOptionalCount() {
        assertThat(render("{{ 'a.b.a'.replace('a', 'x') }}|{{ 'aaa'.replace('a', 'b', 2) }}|{{ 'a+b'.replace('+', '') }}"))
                .isEqualTo("x.b.x|bba|ab");
    }

    @Test
    void slicesFollowPython() {
        assertThat(render("{{ 'abcdef'[1:4] }}|{{ 'abcdef'[::-1] }}|{{ 'abcdef'[::2] }}|{{ 'abcdef'[-2:] }}|{{ 'abc'[5:] }}|"
                + "{% for m in messages[::-1] %}{{ m.content }}{% endfor %}|{% for m in messages[1:] %}{{ m.content }}{% endfor %}",
                "1", "2", "3")).isEqualTo("bcd|fedcba|ace|ef||321|23");
    }

    @Test
    void keywordArgumentsAreWholeExpressions() {
        assertThat(render("{% set ns = namespace(last=messages|length - 1, found=false) %}"
                + "{% for m in messages %}{% if m.content == 'b' %}{% set ns.found = true %}{% endif %}{% endfor %}"
                + "{{ ns.last }}{% if ns.found %} found{% endif %}", "a", "b", "c")).isEqualTo("2 found");
    }

    @Test
    void tojsonWritesPythonJson() {
        assertThat(render("{{ {'a': 1, 'b': [true, none, 'x\"y']} | tojson }}|{{ messages[0] | tojson }}",
                "line\nbreak")).isEqualTo("{\"a\": 1, \"b\": [true, null, \"x\\\"y\"]}|{\"role\": \"user\", \"content\": \"line\\nbreak\"}");
        assertThat(render("{{ {'a': [1, 2], 'b': {} } | tojson(indent=2) }}"))
                .isEqualTo("{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}");
    }

    @Test
    void itemsLoopsAndTests() {
        assertThat(render("{% for k, v in {'x': 1, 'y': 2}.items() %}{{ k }}={{ v }};{% endfor %}"
                + "{% for m in messages %}{{ loop.index }}/{{ loop.length }}{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %} {% endfor %}"
                + "{% if messages[0].content is iterable and messages[0].content is string %}S{% endif %}"
                + "{% if messages[0] is mapping %}M{% endif %}", "a", "b"))
                .isEqualTo("x=1;y=2;1/2F 2/2L SM");
    }

    @Test
    void trimStripsUnicodeWhitespace() {
        assertThat(render("[{{ messages[0].content | trim }}]", "\u00a0 x \n")).isEqualTo("[x]");
    }

    @Test
    void trimAndLstripBlocksAsHuggingFaceConfiguresThem() {
        assertThat(render("  {% if true %}\n    x\n  {# note #}\n  {% endif %}\ny {{- ' z' }}")).isEqualTo("    x\ny z");
        assertThat(render("a {% if true %}b{% endif %} c\n\t{% if true %}d{% endif %}")).isEqualTo("a b c\nd");
        assertThat(render("  {%+ if true %}x{% endif +%}\ny")).isEqualTo("  x\ny");
        assertThat(render("{% raw %}  {% if %}{{ x }}{% endraw %}")).isEqualTo("  {% if %}{{ x }}");
    }

    @Test
    void onlyTheSourcesTrailingNewlineIsDropped() {
        assertThat(render("x\n")).isEqualTo("x");
        assertThat(render("x\n\n")).isEqualTo("x\n");
        assertThat(render("{{ 'kept\\n' }}\n")).isEqualTo("kept\n");
    }

    @Test
    void strftimeNowReadsTheClockWithPythonFormats() {
        Clock clock = Clock.fixed(Instant.parse("2025-03-07T23:30:00Z"), ZoneOffset.UTC);
        ChatTemplate template = ChatTemplate.of("{% if strftime_now is defined %}{{ strftime_now('%d %b %Y, %B %-d, %H:%M') }}"
                + "|{{ strftime_now('today') }}{% endif %}", "", "").withClock(clock);
        assertThat(template.render(List.of(), false)).isEqualTo("07 Mar 2025, March 7, 23:30|today");
        assertThat(template.withClock(clock.withZone(ZoneOffset.ofHours(2))).render(List.of(), false))
                .startsWith("08 Mar 2025");
    }

    @Test
    void notAppliesToAWholeTest() {
        assertThat(render("{% if not messages is defined %}undefined{% else %}defined{% endif %}"
                + "|{% if not nothing is defined %}undefined{% endif %}|{{ not 1 == 2 }}|{{ not true and false }}", "a"))
                .isEqualTo("defined|undefined|true|false");
    }

    @Test
    void macrosMayCallThemselves() {
        assertThat(render("{% macro count(n) %}{% if n > 0 %}{{ count(n - 1) }}{{ n }}{% endif %}{% endmacro %}{{ count(3) }}"))
                .isEqualTo("123");
    }

    @Test
    void loopsFilterTheirItemsAndSeeTheirNeighbours() {
        assertThat(render("{% for x in [1, 2, 3, 4, 5] if x is odd %}{{ loop.index }}/{{ loop.length }}:{{ x }} {% endfor %}|"
                + "{% for m in messages %}{{ loop.previtem.content if loop.previtem else '-' }}<{{ m.content }}>"
                + "{{ loop.nextitem.content if loop.nextitem else '-' }} {% endfor %}|"
                + "{% for k, v in {'a': 1, 'b': none, 'c': 3}.items() if v is not none %}{{ k }}={{ v }}{% endfor %}", "a", "b"))
                .isEqualTo("1/3:1 2/3:3 3/3:5 |-<a>b a<b>- |a=1c=3");
        assertThatThrownBy(() -> render("{% for x in 5 %}{{ x }}{% endfor %}"))
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("cannot iterate over a value of type");
    }

    @Test
    void stringFilterIsPythonsStr() {
        assertThat(render("{{ {'type': 'function', 'enum': ['a', \"it's\"], 'n': none, 'ok': true, 'x': 1.5}|string }}|"
                + "{{ 'plain'|string }}|{{ [1, [2]]|string }}"))
                .isEqualTo("{'type': 'function', 'enum': ['a', \"it's\"], 'n': None, 'ok': True, 'x': 1.5}|plain|[1, [2]]");
    }

    @Test
    void indentTakesFirstAndBlankAndKeepsTheFinalNewline() {
        assertThat(render("[{{ 'a\nb\n\nc\n'|indent(2) }}]{{ '{\n'|indent(4, first=true) }}[{{ 'a\n\nb'|indent(2, true, true) }}]"))
                .isEqualTo("[a\n  b\n\n  c\n]    {\n[  a\n  \n  b]");
    }

    @Test
    void formatFillsEmptyFieldsInOrder() {
        assertThat(render("{{ '<|{}:{}|>'.format('tok', 2) }}")).isEqualTo("<|tok:2|>");
        assertThatThrownBy(() -> render("{{ '{0}'.format('x') }}")).isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("only '{}' fields are supported");
    }

    @Test
    void aStringPlusNoneIsTheString() {
        assertThat(render("[{{ 'a' + none }}|{{ nothing + 'b' }}|{{ 'c' ~ none }}]")).isEqualTo("[a|b|c]");
    }

    @Test
    void generationBlocksRenderTheirBody() {
        assertThat(render("{% for m in messages %}<{% generation %}{{ m.content }}{% endgeneration %}>{% endfor %}", "a", "b"))
                .isEqualTo("<a><b>");
    }

    @Test
    void filterBlocksFilterTheirText() {
        assertThat(render("[{% filter trim %}\n  {{ messages[0].content }}  \n{% endfilter %}]"
                + "[{% filter upper|replace('B', 'c') %}ab{% endfilter %}]", "x")).isEqualTo("[x][Ac]");
    }

    @Test
    void plusBeforeADigitAdds() {
        assertThat(render("{% set n = 1 %}{{ n+1 }}|{{ [1, 2, 3, 4][:n+1] }}|{{ [1, 2, 3, 4][n+1:] }}")).isEqualTo("2|[1, 2]|[3, 4]");
    }
}
