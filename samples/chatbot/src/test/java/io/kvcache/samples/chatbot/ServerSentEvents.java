package io.kvcache.samples.chatbot;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Reads an event-stream body event by event, as it arrives (the test's stand-in for the page's parser). */
final class ServerSentEvents implements AutoCloseable {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** One event: its name and its JSON data. */
    record Event(String name, JsonNode data) {
    }

    private final BufferedReader reader;

    ServerSentEvents(InputStream body) {
        this.reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
    }

    /** The next event, or null at the end of the stream. */
    Event next() throws IOException {
        String name = "message";
        List<String> data = new ArrayList<>();
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
            if (line.isEmpty()) {
                if (!data.isEmpty()) {
                    return new Event(name, JSON.readTree(String.join("\n", data)));
                }
            } else if (line.startsWith("event:")) {
                name = line.substring("event:".length()).trim();
            } else if (line.startsWith("data:")) {
                data.add(line.substring("data:".length()));
            }
        }
        return null;
    }

    /** Every remaining event. */
    List<Event> rest() throws IOException {
        List<Event> events = new ArrayList<>();
        for (Event e = next(); e != null; e = next()) {
            events.add(e);
        }
        return events;
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }
}
