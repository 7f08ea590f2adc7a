package io.kvcache.samples.chatbot;

import org.junit.jupiter.api.BeforeAll;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.nio.file.Path;

/**
 * The chatbot on a random port running TinyStories-656K from {@code ../shared} (a base model
 * without a chat template: the reply continues the conversation's text). The test classes share
 * this one application context, so the model loads once. Skips where {@code ../shared} is absent.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"kvcache.chat.max-tokens=200", "kvcache.chat.seed=7", "kvcache.sessions.max-active=2",
                "spring.security.user.name=" + TinyModelApp.OPERATOR, "spring.security.user.password=" + TinyModelApp.PASSWORD})
abstract class TinyModelApp extends SharedModelApp {
    static final String OPERATOR = "operator";
    static final String PASSWORD = "test-operator-password";
    static final Path MODEL = SharedModels.path("models/tiny/tinystories-656k.gguf");

    @BeforeAll
    static void requireModel() {
        SharedModels.require(MODEL);
    }

    @DynamicPropertySource
    static void model(DynamicPropertyRegistry registry) {
        serve(registry, MODEL);
    }

    /** Cells the heatmap must draw: one per layer and KV head of the running model. */
    int layersTimesKvHeads() {
        return engine.model().config().layers() * engine.model().config().kvHeads();
    }
}
