package io.kvcache.spring.chat;

import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.kvcache.core.SharedData;
import io.kvcache.core.kv.KvCacheConfig;
import io.kvcache.core.model.Model;
import io.kvcache.core.tensor.ComputePool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.client.AdvisorParams;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.client.ResponseEntity;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.converter.BeanOutputConverter;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Structured output that cannot fail to parse: a random-weight model (qwen2-tiny, 151k tokens),
 * sampling at temperature 1, answers {@code ChatClient...entity(Class)} 100 times out of 100 with
 * JSON that Spring AI converts and an independent validator accepts against the schema
 * {@code BeanOutputConverter} wrote, over records with a nested record, lists, an enum and numbers.
 */
class StructuredOutputTest {
    enum Colour { RED, GREEN, BLUE }

    record Item(String name, int count, Colour colour) {
    }

    record Box(Item item, List<Integer> sizes) {
    }

    record Reading(double value, List<String> notes) {
    }

    private static KvcacheEngine engine;
    private static ChatClient client;
    private static final SchemaRegistry SCHEMAS = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @BeforeAll
    static void start() {
        engine = new KvcacheEngine(Model.load(SharedData.require("models/synthetic/qwen2-tiny-Q8_0.gguf")),
                new ComputePool(2), KvCacheConfig.full(), 512, 1 << 22, Duration.ofMinutes(5));
        KvcacheChatModel chat = KvcacheChatModel.builder().engine(engine)
                .defaultOptions(KvcacheChatOptions.builder().temperature(1.0).topK(0).minP(0.0).topP(1.0).maxTokens(80)
                        .build()).build();
        client = ChatClient.builder(chat).defaultAdvisors(AdvisorParams.ENABLE_NATIVE_STRUCTURED_OUTPUT).build();
    }

    @AfterAll
    static void stop() {
        if (engine != null) {
            engine.close();
        }
    }

    /** 80 tokens leave room for the shortest document of each schema, which the constraint keeps. */
    @Test
    void everyGenerationParsesAndValidates() {
        int valid = 0;
        valid += generate(Item.class, 34);
        valid += generate(Box.class, 33);
        valid += generate(Reading.class, 33);
        assertThat(valid).isEqualTo(100);
    }

    private static <T> int generate(Class<T> type, int times) {
        Schema schema = SCHEMAS.getSchema(new BeanOutputConverter<>(type).getJsonSchema());
        int valid = 0;
        for (int i = 0; i < times; i++) {
            ResponseEntity<ChatResponse, T> answer = client.prompt().user("Describe one " + type.getSimpleName() + ".")
                    .call().responseEntity(type);
            String text = answer.response().getResult().getOutput().getText();
            assertThat(answer.entity()).as(text).isNotNull();
            assertThat(schema.validate(JSON.readTree(text))).as(text).isEmpty();
            valid++;
        }
        return valid;
    }

    @Test
    void aGrammarHoldsTheWholeReply() {
        String grammar = "root ::= (\"yes\" | \"no\") \", \" [0-9]{1,2} \" times\"";
        for (int i = 0; i < 5; i++) {
            String text = client.prompt().user("Shall we?").options(KvcacheChatOptions.builder().grammar(grammar))
                    .call().content();
            assertThat(text).matches("(yes|no), [0-9]{1,2} times");
        }
    }

    @Test
    void anUnsupportedSchemaKeywordIsNamed() {
        assertThatThrownBy(() -> client.prompt().user("x").options(KvcacheChatOptions.builder()
                .outputSchema("{\"type\": \"string\", \"pattern\": \"^a\"}")).call().content())
                .hasMessageContaining("\"pattern\"");
    }
}
