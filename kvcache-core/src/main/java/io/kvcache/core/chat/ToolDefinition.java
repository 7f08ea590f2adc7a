package io.kvcache.core.chat;

import java.util.Objects;

/**
 * A tool the model may call: its name, what it does, and the JSON schema of its arguments (an
 * object schema's text), rendered into the prompt by the model's chat template.
 */
public record ToolDefinition(String name, String description, String parametersSchema) {
    public ToolDefinition {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(parametersSchema, "parametersSchema");
    }
}
