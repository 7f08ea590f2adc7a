package io.kvcache.core.model;

import io.kvcache.core.ModelFormatException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The Jinja chat template of a Hugging Face model folder, from where transformers keeps it:
 * chat_template.jinja (what recent versions save, and what wins when both exist), else the
 * {@code chat_template} of tokenizer_config.json, a string or a list of named templates of which
 * transformers uses "default".
 */
final class HuggingFaceChatTemplate {
    private HuggingFaceChatTemplate() {
    }

    /** The template source, or null when the folder has none. */
    static String read(Path folder) {
        Path jinja = folder.resolve("chat_template.jinja");
        try {
            if (Files.isRegularFile(jinja)) {
                return Files.readString(jinja);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + jinja, e);
        }
        Path config = folder.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(config)) {
            return null;
        }
        JsonNode template = readJson(config).path("chat_template");
        if (template.isString()) {
            return template.asString();
        }
        for (JsonNode named : template.values()) {
            if (named.path("name").asString("").equals("default") && named.path("template").isString()) {
                return named.path("template").asString();
            }
        }
        return null;
    }

    private static JsonNode readJson(Path file) {
        try {
            return JsonMapper.shared().readTree(file);
        } catch (JacksonException e) {
            throw new ModelFormatException(file + ": cannot read JSON: " + e.getOriginalMessage(), e);
        }
    }
}
