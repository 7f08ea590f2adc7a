package io.kvcache.samples.chatbot;

import org.springframework.ai.tool.annotation.Tool;
import org.springframework.stereotype.Component;

import java.time.Clock;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/**
 * The chatbot's tool: the current date and time where the server runs, which a model cannot know
 * on its own. Offered to models whose chat template can describe tools; Spring AI's tool-calling
 * advisor runs it when the model calls it and sends the answer back for the reply.
 */
@Component
class ClockTool {
    private final Clock clock;

    ClockTool() {
        this(Clock.systemDefaultZone());
    }

    ClockTool(Clock clock) {
        this.clock = clock;
    }

    @Tool(description = "The current date, time and time zone (ISO 8601, e.g. 2025-06-01T14:03:00+02:00[Europe/Paris])")
    String currentTime() {
        return ZonedDateTime.now(clock).withNano(0).format(DateTimeFormatter.ISO_ZONED_DATE_TIME);
    }
}
