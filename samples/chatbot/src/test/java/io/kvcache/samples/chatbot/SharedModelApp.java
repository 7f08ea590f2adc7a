package io.kvcache.samples.chatbot;

import io.kvcache.spring.chat.KvcacheEngine;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;

import java.nio.file.Path;

/**
 * The chatbot on a random port serving a model file from {@code ../shared}: what the tests that
 * start the application share. A test class names its model and its settings in its own
 * {@code @SpringBootTest}, skips with {@link SharedModels#require} in a {@code @BeforeAll}, and
 * hands the model to {@link #serve} from its {@code @DynamicPropertySource} method.
 */
abstract class SharedModelApp {
    @LocalServerPort
    int port;

    @Autowired
    KvcacheEngine engine;

    /** Points the application at {@code model} instead of the sample's default, which downloads. */
    static void serve(DynamicPropertyRegistry registry, Path model) {
        registry.add("kvcache.model.url", () -> "");
        registry.add("kvcache.model.path", model::toString);
    }

    String url(String path) {
        return "http://localhost:" + port + path;
    }
}
