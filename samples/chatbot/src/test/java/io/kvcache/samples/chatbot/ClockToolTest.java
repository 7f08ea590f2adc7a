package io.kvcache.samples.chatbot;

import org.junit.jupiter.api.Test;
import org.springframework.ai.support.ToolCallbacks;
import org.springframework.ai.tool.ToolCallback;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;

import static org.assertj.core.api.Assertions.assertThat;

/** The clock tool as Spring AI offers and runs it: a tool without arguments that answers the clock's time. */
class ClockToolTest {
    @Test
    void answersTheTimeOfItsClock() {
        Clock clock = Clock.fixed(Instant.parse("2025-06-01T12:03:04.5Z"), ZoneId.of("Europe/Paris"));
        ToolCallback[] callbacks = ToolCallbacks.from(new ClockTool(clock));
        assertThat(callbacks).hasSize(1);
        assertThat(callbacks[0].getToolDefinition().name()).isEqualTo("currentTime");
        assertThat(callbacks[0].call("{}")).isEqualTo("\"2025-06-01T14:03:04+02:00[Europe/Paris]\"");
    }
}
