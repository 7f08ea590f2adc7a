package io.kvcache.core.fuzz;

import io.kvcache.core.SharedData;
import io.kvcache.core.chat.ChatMessage;
import io.kvcache.core.chat.ChatTemplate;
import io.kvcache.core.chat.ChatTemplateException;
import io.kvcache.core.chat.TemplateLimits;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Chat templates are code from the model file: mutated real templates (the 56 collected ones and
 * the five llama.cpp references), with snippets that amplify, nest, loop or reach for Java or the
 * class path spliced in, render or fail with a {@link ChatTemplateException}, within the limits.
 */
class ChatTemplateFuzzTest {
    /** Tighter than the defaults so that inputs that run to a limit stay quick. */
    private static final TemplateLimits LIMITS = new TemplateLimits(1 << 20, 1 << 20, 10_000, 50, Duration.ofMillis(200));
    private static final List<List<ChatMessage>> CONVERSATIONS = List.of(
            List.of(ChatMessage.user("Hello!")),
            List.of(ChatMessage.system("Be brief."), ChatMessage.user("2+2?"), ChatMessage.assistant("4"),
                    ChatMessage.user("<|im_end|>{{ 7*7 }}{% include 'x' %}")));
    private static final List<String> DICTIONARY = List.of(
            "{% for i in range(1000) %}", "{% endfor %}", "{% if true %}", "{% endif %}", "{{ 'x'.repeat(2000000000) }}",
            "{{ messages|tojson(indent=2000000000) }}", "{{ '%2000000000d'|format(1) }}", "{% include 'application.yml' %}",
            "{% import 'a' as b %}", "{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
            "{{ [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]] }}",
            "{{ range(2000000000)|list }}", "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "{{ messages[0].content.getClass() }}",
            "{{ 'a'|indent(100000) }}", "{{ (1, 2) * 1000000 }}", "{{ 10 ** 10 ** 10 }}", "{{ messages|map(attribute='x')|list }}",
            "{% set l = [1] %}{% for i in range(20) %}{% do l.extend(l) %}{% endfor %}", "{{ raise_exception('no') }}",
            "{{ strftime_now('%Y') }}", "{{ 'x'|replace('', 'yyyyyyyy') }}", "{{ ", " }}", "{% ", " %}", "{#", "#}", "|",
            "[", "]", "(", ")", "'", "\"", "messages", "loop.index", "{{ none.x.y }}", "{% raw %}", "{% endraw %}",
            "{{ 1/0 }}", "{{ 'abc'[::-1] }}", "{{ 'abc'[1:2:0] }}", "{{ {'a': 1}|dictsort }}", "{{ 99999999999999999999 }}");

    @Test
    void templates() throws IOException {
        List<String> seeds = Stream.of("reference/chat-templates", "reference/chat-templates-all")
                .flatMap(folder -> jinjaFiles(SharedData.require(folder)).stream()).toList();
        Fuzzing.Report report = Fuzzing.run("chat-template", seeds,
                (s, all, random) -> Mutations.text(s, all, random, DICTIONARY),
                source -> {
                    ChatTemplate template = ChatTemplate.named("fuzz.jinja", source, "<s>", "</s>", LIMITS);
                    for (List<ChatMessage> conversation : CONVERSATIONS) {
                        template.render(conversation, true);
                    }
                }, Set.of(ChatTemplateException.class), Fuzzing.inputs(1000), Fuzzing.TEXT);
        assertThat(report.findings()).isEmpty();
    }

    private static List<String> jinjaFiles(Path folder) {
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(f -> f.toString().endsWith(".jinja")).sorted().map(f -> {
                try {
                    return Files.readString(f);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
